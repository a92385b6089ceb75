package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// bearerScheme is the name of the document's one security scheme.
const bearerScheme = "bearer"

// openMessages are the messages whose JSON may hold any member: their
// objects are not closed.
var openMessages = map[string]bool{
	"google.protobuf.Any":       true,
	"google.protobuf.Struct":    true,
	"google.protobuf.Value":     true,
	"google.protobuf.ListValue": true,
}

// replaced are the messages whose schema the converter writes itself (see
// addErrors): protoc-gen-openapiv2 describes google.rpc.Status from a copy
// of its own, not from the protos.
var replaced = map[string]bool{"google.rpc.Status": true}

// complete adds to the converted document what the protos declare and
// Swagger 2.0 cannot say; see the package comment.
func complete(doc *openapi3.T, v2 *swagger2, names map[string]string, p *protos, cat *catalogue) error {
	// Relative: the gateway that serves the document answers its
	// operations.
	doc.Servers = openapi3.Servers{{URL: "/", Description: "The gateway that serves this document."}}
	doc.Info.Description = strings.TrimSpace(doc.Info.Description) + "\n\n" + cat.Description
	doc.Components.SecuritySchemes = openapi3.SecuritySchemes{
		bearerScheme: &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
			Type:        "http",
			Scheme:      "bearer",
			Description: "The caller's token, as `Authorization: Bearer <token>`: a member's personal access token, a link group's token, a client session's token (from CreateClientSession), or the operator's.",
		}},
	}
	oneofs, err := closeSchemas(doc, v2, names, p)
	if err != nil {
		return err
	}
	if err := addErrors(doc, cat); err != nil {
		return err
	}
	for path, item := range doc.Paths.Map() {
		for verb, op := range item.Operations() {
			m, err := p.method(op.OperationID)
			if err != nil {
				return err
			}
			if err := completeOperation(doc, verb, path, op, m, cat); err != nil {
				return fmt.Errorf("%s %s: %w", verb, path, err)
			}
		}
	}
	singularParams(doc)
	if err := splitDirections(doc, oneofs); err != nil {
		return err
	}
	dropUnused(doc)
	return nil
}

// completeOperation gives an operation its security, its error answers and
// the content type of an HttpBody answer.
func completeOperation(doc *openapi3.T, verb, path string, op *openapi3.Operation, m method, cat *catalogue) error {
	// protoc-gen-openapiv2 makes an RPC's comment the summary when it is
	// one paragraph: the summary becomes its first sentence, the
	// description the whole.
	if op.Description == "" {
		op.Description = op.Summary
	}
	op.Summary = summary(op.Description, op.OperationID)
	who := m.callerWords()
	if who == "" {
		return fmt.Errorf("%s declares no callers that REST reaches", m.desc.FullName())
	}
	switch {
	case m.anonymous() && m.credentialed():
		// Open to anyone; a token, if sent, may show the caller more.
		op.Security = &openapi3.SecurityRequirements{{}, {bearerScheme: []string{}}}
		op.Extensions = withExtension(op.Extensions, "x-public", true)
		op.Description = paragraph(op.Description, "**Public**: no credentials needed. Who may call: "+who+". A token, when sent, is checked.")
	case m.anonymous():
		op.Security = &openapi3.SecurityRequirements{}
		op.Extensions = withExtension(op.Extensions, "x-public", true)
		op.Description = paragraph(op.Description, "**Public**: no credentials needed.")
	default:
		op.Security = &openapi3.SecurityRequirements{{bearerScheme: []string{}}}
		op.Description = paragraph(op.Description, "Who may call: "+who+".")
	}
	if m.answersHTTPBody() {
		ok := op.Responses.Status(http.StatusOK)
		if ok == nil || ok.Value == nil {
			return fmt.Errorf("%s answers an HttpBody but has no 200 answer", m.desc.FullName())
		}
		ok.Value.Content = openapi3.Content{
			"text/calendar": &openapi3.MediaType{
				Schema: openapi3.NewStringSchema().NewRef(),
				Example: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//IPN//disputes//EN\r\n" +
					"BEGIN:VEVENT\r\nUID:…\r\nDTSTART:20260302T100000Z\r\nDTEND:20260302T110000Z\r\nSUMMARY:…\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
			},
		}
		desc := "The meeting as an iCalendar file (RFC 5545), `text/calendar; charset=utf-8`, to add to a calendar."
		ok.Value.Description = &desc
	}
	hasBody := op.RequestBody != nil
	if hasBody {
		if err := closeInlineBody(op, m); err != nil {
			return err
		}
		if err := requestExample(op, m); err != nil {
			return err
		}
	}
	for _, st := range cat.Statuses {
		if st.Status == http.StatusUnsupportedMediaType && !hasBody {
			continue
		}
		ref := &openapi3.ResponseRef{Ref: "#/components/responses/" + st.Name}
		if st.Default {
			op.Responses.Set("default", ref)
			continue
		}
		op.Responses.Set(fmt.Sprint(st.Status), ref)
	}
	return nil
}

// closeInlineBody closes a request body that protoc-gen-openapiv2 wrote
// inline rather than as a definition: the message of a `body: "field"`
// binding less the fields the path holds (an Update's resource).
func closeInlineBody(op *openapi3.Operation, m method) error {
	if op.RequestBody.Value == nil {
		return nil
	}
	for _, mt := range op.RequestBody.Value.Content {
		if mt.Schema == nil || mt.Schema.Ref != "" || mt.Schema.Value == nil || len(mt.Schema.Value.Properties) == 0 {
			continue
		}
		md, err := m.bodyMessage()
		if err != nil {
			return err
		}
		if _, err := closeMessage(op.OperationID+" body", mt.Schema.Value, md, func(string) map[string]any { return nil }); err != nil {
			return err
		}
	}
	return nil
}

// requestExample makes the example that the RPC's request message declares
// (its openapiv2_schema option's example, which is the REST body as sent)
// the example of the operation's request body.
func requestExample(op *openapi3.Operation, m method) error {
	example := m.requestExample()
	if example == "" || op.RequestBody.Value == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(example), &v); err != nil {
		return fmt.Errorf("the example of %s is not JSON: %w", m.desc.Input().FullName(), err)
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil {
		return fmt.Errorf("%s has an example but no JSON body", m.desc.FullName())
	}
	mt.Example = v
	return nil
}

// iesItem is a path parameter for an item of a collection whose plural
// ends in -ies, as protoc-gen-openapiv2 names it: the plural less its s
// (`deliveries/{deliverie}`).
var iesItem = regexp.MustCompile(`/([A-Za-z]+)ies/\{([A-Za-z]+)ie\}`)

// singularParams names those parameters in the singular
// (`deliveries/{delivery}`), in the path and in its operations.
func singularParams(doc *openapi3.T) {
	for path, item := range doc.Paths.Map() {
		renamed := path
		names := map[string]string{}
		for _, m := range iesItem.FindAllStringSubmatch(path, -1) {
			if m[1] != m[2] {
				continue
			}
			names[m[2]+"ie"] = m[2] + "y"
			renamed = strings.Replace(renamed, "{"+m[2]+"ie}", "{"+m[2]+"y}", 1)
		}
		if renamed == path {
			continue
		}
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.In == openapi3.ParameterInPath && names[p.Value.Name] != "" {
					p.Value.Name = names[p.Value.Name]
				}
			}
		}
		doc.Paths.Delete(path)
		doc.Paths.Set(renamed, item)
	}
}

// summaryEnd ends the first sentence of an RPC's comment.
var summaryEnd = regexp.MustCompile(`[.:;]\s`)

// summary is a short line for an operation: the first sentence of its
// description, which the protos' comments write as "Method does …".
func summary(description, operationID string) string {
	s := strings.Join(strings.Fields(description), " ")
	if loc := summaryEnd.FindStringIndex(s + " "); loc != nil {
		s = s[:loc[0]]
	}
	if s == "" {
		return operationID
	}
	return s
}

// paragraph appends a paragraph to a description.
func paragraph(description, p string) string {
	if description == "" {
		return p
	}
	return strings.TrimRight(description, "\n") + "\n\n" + p
}

func withExtension(ext map[string]any, key string, value any) map[string]any {
	if ext == nil {
		ext = map[string]any{}
	}
	ext[key] = value
	return ext
}

// closeSchemas closes the objects of the protos' messages
// (additionalProperties: false), so that an answer or a request with a
// member the document does not describe breaks the contract, and marks the
// fields that the gateway writes as null when unset: message fields outside
// a oneof (members of a oneof, and optional scalars, are left out instead).
// A property that refers to another schema is written as `allOf` around the
// reference, so that it keeps its description, readOnly and nullable, which
// OpenAPI 3.0 ignores beside a $ref.
//
// It returns, for each message schema, its properties that are members of a
// oneof.
func closeSchemas(doc *openapi3.T, v2 *swagger2, names map[string]string, p *protos) (map[string]map[string]bool, error) {
	oneofs := map[string]map[string]bool{}
	for name, ref := range doc.Components.Schemas {
		full := names[name]
		s := ref.Value
		if s == nil || full == "" {
			continue
		}
		if replaced[full] || openMessages[full] {
			continue
		}
		md, ok := p.bodyMessage(full)
		if !ok {
			d, err := p.descriptor(full)
			if err != nil {
				return nil, err
			}
			if md, ok = d.(protoreflect.MessageDescriptor); !ok {
				continue // an enum
			}
		}
		members, err := closeMessage(name, s, md, func(prop string) map[string]any { return v2.property(name, prop) })
		if err != nil {
			return nil, err
		}
		oneofs[name] = members
	}
	return oneofs, nil
}

// closeMessage closes the object schema of a message md and marks its
// nullable fields (see closeSchemas); written gives the Swagger 2.0 schema
// of a property as protoc-gen-openapiv2 wrote it, or nil. It returns the
// properties that are members of a oneof.
func closeMessage(name string, s *openapi3.Schema, md protoreflect.MessageDescriptor, written func(prop string) map[string]any) (map[string]bool, error) {
	if s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
		s.AdditionalProperties = openapi3.AdditionalProperties{Has: openapi3.Ptr(false)}
	}
	if s.Type == nil {
		s.Type = &openapi3.Types{openapi3.TypeObject}
	}
	oneofs := map[string]bool{}
	for prop, pref := range s.Properties {
		fd := md.Fields().ByJSONName(prop)
		if fd == nil {
			return nil, fmt.Errorf("schema %s: property %s is no field of %s", name, prop, md.FullName())
		}
		if fd.ContainingOneof() != nil {
			oneofs[prop] = true
		}
		nullable := fd.Message() != nil && !fd.IsList() && !fd.IsMap() && fd.ContainingOneof() == nil
		if pref.Ref == "" {
			if nullable {
				pref.Value.Nullable = true
			}
			continue
		}
		wrapped := &openapi3.Schema{AllOf: openapi3.SchemaRefs{{Ref: pref.Ref}}}
		if nullable {
			// OpenAPI 3.0 reads nullable only beside a type.
			wrapped.Nullable, wrapped.Type = true, &openapi3.Types{openapi3.TypeObject}
		}
		if w := written(prop); w != nil {
			wrapped.Description, _ = w["description"].(string)
			wrapped.Title, _ = w["title"].(string)
			wrapped.ReadOnly, _ = w["readOnly"].(bool)
			if ex, ok := w["example"]; ok {
				wrapped.Example = ex
			}
		}
		if !nullable && wrapped.Description == "" && wrapped.Title == "" && !wrapped.ReadOnly && wrapped.Example == nil {
			continue // nothing to say beside the reference
		}
		s.Properties[prop] = &openapi3.SchemaRef{Value: wrapped}
	}
	return oneofs, nil
}

// dropUnused removes the schemas nothing refers to any more (the HttpBody
// and Any that a calendar's answer had).
func dropUnused(doc *openapi3.T) {
	for {
		raw, _ := json.Marshal(doc)
		used := map[string]bool{}
		for _, m := range schemaRef.FindAllSubmatch(raw, -1) {
			used[string(m[1])] = true
		}
		var unused []string
		for name := range doc.Components.Schemas {
			// A schema refers to itself by name only from elsewhere.
			if !used[name] {
				unused = append(unused, name)
			}
		}
		if len(unused) == 0 {
			return
		}
		sort.Strings(unused)
		for _, name := range unused {
			delete(doc.Components.Schemas, name)
		}
	}
}

var schemaRef = regexp.MustCompile(`"#/components/schemas/([^"]+)"`)
