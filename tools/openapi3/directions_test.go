package main

import (
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestSplitDirections: a message schema that a request and an answer share
// is copied for the request, which keeps the limits and the fields it must
// send; the answer's promises every field but a oneof's members, and no
// limit. A schema only requests use is left as it is.
func TestSplitDirections(t *testing.T) {
	t.Parallel()
	text := func(max uint64) *openapi3.SchemaRef {
		s := openapi3.NewStringSchema()
		s.MaxLength = &max
		return s.NewRef()
	}
	thing := openapi3.NewObjectSchema()
	thing.Properties = openapi3.Schemas{"a": text(5), "b": text(5), "part": {Ref: "#/components/schemas/Part"}}
	thing.Required = []string{"a"}
	part := openapi3.NewObjectSchema()
	part.Properties = openapi3.Schemas{"c": text(7)}
	body := openapi3.NewObjectSchema()
	body.Properties = openapi3.Schemas{"thing": {Ref: "#/components/schemas/Thing"}, "d": text(9)}
	doc := &openapi3.T{
		Components: &openapi3.Components{Schemas: openapi3.Schemas{
			"Thing": thing.NewRef(), "Part": part.NewRef(), "Body": body.NewRef(),
		}},
		Paths: openapi3.NewPaths(),
	}
	create := openapi3.NewOperation()
	create.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithJSONSchemaRef(&openapi3.SchemaRef{Ref: "#/components/schemas/Body"})}
	create.AddResponse(200, openapi3.NewResponse().WithJSONSchemaRef(&openapi3.SchemaRef{Ref: "#/components/schemas/Thing"}))
	doc.AddOperation("/things", "POST", create)

	oneofs := map[string]map[string]bool{"Thing": {"b": true}, "Part": {}, "Body": {}}
	if err := splitDirections(doc, oneofs); err != nil {
		t.Fatal(err)
	}
	schemas := doc.Components.Schemas
	input := schemas["ThingInput"]
	if input == nil || schemas["PartInput"] == nil {
		t.Fatalf("no request copies: %v", keys(schemas))
	}
	if schemas["BodyInput"] != nil {
		t.Error("a schema only requests use was copied")
	}
	if got := schemas["Body"].Value.Properties["thing"].Ref; got != "#/components/schemas/ThingInput" {
		t.Errorf("the request body's thing refers to %s, want ThingInput", got)
	}
	if got := input.Value.Properties["part"].Ref; got != "#/components/schemas/PartInput" {
		t.Errorf("ThingInput's part refers to %s, want PartInput", got)
	}
	if input.Value.Properties["a"].Value.MaxLength == nil || !slices.Equal(input.Value.Required, []string{"a"}) {
		t.Errorf("the request copy lost its limits or required fields: %+v", input.Value)
	}
	answer := schemas["Thing"].Value
	if !slices.Equal(answer.Required, []string{"a", "part"}) {
		t.Errorf("the answer requires %v, want every field but the oneof member b", answer.Required)
	}
	if answer.Properties["a"].Value.MaxLength != nil || schemas["Part"].Value.Properties["c"].Value.MaxLength != nil {
		t.Error("an answer's schema keeps a request's limit")
	}
	if ref := create.Responses.Status(200).Value.Content.Get("application/json").Schema.Ref; ref != "#/components/schemas/Thing" {
		t.Errorf("the answer refers to %s, want Thing", ref)
	}
}

func keys(s openapi3.Schemas) []string {
	var out []string
	for k := range s {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
