package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// inputSuffix names the request's copy of a schema that requests and
// answers share.
const inputSuffix = "Input"

// schemaPrefix begins a reference to a component schema.
const schemaPrefix = "#/components/schemas/"

// splitDirections makes each message schema say what holds in the direction
// it is used in. A request's schema keeps the limits a caller must keep to
// (maxLength, maxItems) and the fields it must send (required); an answer's
// schema promises instead that every field is present (required: every
// field but the members of a oneof, which the gateway leaves out when
// unset), and no limit: an answer may be longer than what a caller may send
// (a text with a withheld detail replaced by a longer marker). A schema
// that both requests and answers use is copied for the requests, as
// `<name>Input`.
//
// oneofs holds, for each message schema, the properties that are members
// of a oneof.
func splitDirections(doc *openapi3.T, oneofs map[string]map[string]bool) error {
	schemas := doc.Components.Schemas
	var inRequests, inAnswers []*openapi3.SchemaRef
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					inRequests = append(inRequests, mt.Schema)
				}
			}
			for _, resp := range op.Responses.Map() {
				if resp.Ref != "" || resp.Value == nil {
					continue // the error answers, which are closed already
				}
				for _, mt := range resp.Value.Content {
					inAnswers = append(inAnswers, mt.Schema)
				}
			}
		}
	}
	requests, answers := reachable(schemas, inRequests), reachable(schemas, inAnswers)

	// The requests' copies of the shared messages.
	shared := map[string]string{}
	for name := range requests {
		if answers[name] && schemas[name].Value != nil && len(schemas[name].Value.Properties) > 0 {
			shared[name] = name + inputSuffix
			if _, taken := schemas[name+inputSuffix]; taken {
				return fmt.Errorf("schema %s%s exists already", name, inputSuffix)
			}
		}
	}
	for name, input := range shared {
		raw, err := json.Marshal(schemas[name].Value)
		if err != nil {
			return fmt.Errorf("copy schema %s: %w", name, err)
		}
		var copied openapi3.Schema
		if err := json.Unmarshal(raw, &copied); err != nil {
			return fmt.Errorf("copy schema %s: %w", name, err)
		}
		copied.Description = strings.TrimSpace(copied.Description + "\n\nAs a request sends it; answers use " + name + ".")
		schemas[input] = copied.NewRef()
	}
	// Requests refer to the copies.
	retarget := func(ref *openapi3.SchemaRef) {
		walkRefs(ref, func(r *openapi3.SchemaRef) {
			if input, ok := shared[strings.TrimPrefix(r.Ref, schemaPrefix)]; ok {
				r.Ref, r.Value = schemaPrefix+input, nil
			}
		})
	}
	for _, ref := range inRequests {
		retarget(ref)
	}
	for name := range requests {
		if input, ok := shared[name]; ok {
			name = input
		}
		if s := schemas[name].Value; s != nil {
			retarget(&openapi3.SchemaRef{Value: s})
		}
	}
	// Answers promise every field and no limit.
	for name := range answers {
		s := schemas[name].Value
		if s == nil || len(s.Properties) == 0 || oneofs[name] == nil {
			continue // an enum, or a schema that is no message of ours
		}
		s.Required = nil
		for prop, p := range s.Properties {
			if !oneofs[name][prop] {
				s.Required = append(s.Required, prop)
			}
			dropLimits(p)
		}
		sort.Strings(s.Required)
	}
	return nil
}

// reachable is the component schemas the given schemas refer to, directly
// or through others.
func reachable(schemas openapi3.Schemas, from []*openapi3.SchemaRef) map[string]bool {
	seen := map[string]bool{}
	var visit func(ref *openapi3.SchemaRef)
	visit = func(ref *openapi3.SchemaRef) {
		walkRefs(ref, func(r *openapi3.SchemaRef) {
			name := strings.TrimPrefix(r.Ref, schemaPrefix)
			if seen[name] || schemas[name] == nil {
				return
			}
			seen[name] = true
			visit(&openapi3.SchemaRef{Value: schemas[name].Value})
		})
	}
	for _, ref := range from {
		visit(ref)
	}
	return seen
}

// walkRefs calls f on each reference within a schema, not following them.
func walkRefs(ref *openapi3.SchemaRef, f func(*openapi3.SchemaRef)) {
	if ref == nil {
		return
	}
	if ref.Ref != "" {
		f(ref)
		return
	}
	s := ref.Value
	if s == nil {
		return
	}
	for _, p := range s.Properties {
		walkRefs(p, f)
	}
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, r := range list {
			walkRefs(r, f)
		}
	}
	walkRefs(s.Items, f)
	walkRefs(s.Not, f)
	walkRefs(s.AdditionalProperties.Schema, f)
}

// dropLimits removes the limits of a caller's input from an inline schema
// and the inline schemas within it.
func dropLimits(ref *openapi3.SchemaRef) {
	if ref == nil || ref.Ref != "" || ref.Value == nil {
		return
	}
	s := ref.Value
	s.MaxLength, s.MaxItems = nil, nil
	dropLimits(s.Items)
	dropLimits(s.AdditionalProperties.Schema)
}
