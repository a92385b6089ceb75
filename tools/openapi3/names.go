package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// swagger2 is the Swagger 2.0 document with its schemas renamed, as JSON and
// as a tree: the tree keeps what kin-openapi drops on reading (the
// description and readOnly written beside a $ref).
type swagger2 struct {
	raw  []byte
	defs map[string]any
}

// property is the Swagger 2.0 schema of a definition's property, as written.
func (s *swagger2) property(def, prop string) map[string]any {
	d, _ := s.defs[def].(map[string]any)
	props, _ := d["properties"].(map[string]any)
	p, _ := props[prop].(map[string]any)
	return p
}

// shortenNames renames the document's definitions from the fully qualified
// proto names protoc-gen-openapiv2 gives them (openapi_naming_strategy=fqn,
// so that each names its message) to names for people: the name within its
// package (`Concern`, `Case.Outcome`, `Status`), or the full name where two
// packages' would be the same. It returns the renamed document and, for
// each new name, the proto full name.
func shortenNames(raw []byte) (*swagger2, map[string]string, error) {
	var tree map[string]any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, nil, fmt.Errorf("parse Swagger document: %w", err)
	}
	defs, _ := tree["definitions"].(map[string]any)
	full := make([]string, 0, len(defs))
	for name := range defs {
		full = append(full, name)
	}
	sort.Strings(full)
	short := map[string]string{}
	count := map[string]int{}
	for _, name := range full {
		short[name] = withinPackage(name)
		count[short[name]]++
	}
	names := map[string]string{}
	renamed := map[string]any{}
	for _, name := range full {
		if count[short[name]] > 1 {
			short[name] = name
		}
		names[short[name]] = name
		renamed[short[name]] = defs[name]
	}
	tree["definitions"] = renamed
	const prefix = "#/definitions/"
	var walk func(v any) error
	walk = func(v any) error {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				target, ok := strings.CutPrefix(ref, prefix)
				if !ok || short[target] == "" {
					return fmt.Errorf("reference %s names no definition", ref)
				}
				x["$ref"] = prefix + short[target]
			}
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(tree); err != nil {
		return nil, nil, err
	}
	out, err := json.Marshal(tree)
	if err != nil {
		return nil, nil, fmt.Errorf("rename schemas: %w", err)
	}
	return &swagger2{raw: out, defs: renamed}, names, nil
}

// withinPackage is a proto full name less its package: the name's segments
// from the first that starts with a capital letter (packages are lower
// case, by buf's lint rules and Google's).
func withinPackage(full string) string {
	parts := strings.Split(full, ".")
	for i, p := range parts {
		if p != "" && p[0] >= 'A' && p[0] <= 'Z' {
			return strings.Join(parts[i:], ".")
		}
	}
	return full
}
