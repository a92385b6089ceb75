package main

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// catalogue is the list of the REST API's error answers, per HTTP status,
// with the ErrorInfo reasons each may carry
// (proto/ipn/disputes/apidoc/v1/errors.yaml).
type catalogue struct {
	// Description is added to the document's own: how errors look and
	// how far the lists go.
	Description string `yaml:"description"`
	// Domain is the ErrorInfo domain of every error.
	Domain   string        `yaml:"domain"`
	Statuses []statusEntry `yaml:"statuses"`
	// FromCodes are reasons no string in the code spells: the gateway
	// makes them from a gRPC code's name when a status comes without an
	// ErrorInfo.
	FromCodes []string `yaml:"fromCodes"`
	// NotOperations are reasons the code gives that no operation of the
	// document answers: those of RPCs only services call over gRPC, and
	// the gateway's answer to a method no route has.
	NotOperations []string `yaml:"notOperations"`
}

// statusEntry is one HTTP status.
type statusEntry struct {
	Status int `yaml:"status"`
	// Name names the status's answer in the document's components.
	Name string `yaml:"name"`
	// Default makes it the operations' `default` answer: any status not
	// listed.
	Default     bool          `yaml:"default"`
	Description string        `yaml:"description"`
	RetryAfter  bool          `yaml:"retryAfter"`
	Example     any           `yaml:"example"`
	Reasons     []reasonEntry `yaml:"reasons"`
}

// reasonEntry is one ErrorInfo reason.
type reasonEntry struct {
	Reason      string `yaml:"reason"`
	Description string `yaml:"description"`
}

// loadCatalogue reads the error catalogue and checks its form.
func loadCatalogue(path string) (*catalogue, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read error catalogue: %w", err)
	}
	var cat catalogue
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&cat); err != nil {
		return nil, fmt.Errorf("parse error catalogue %s: %w", path, err)
	}
	seen := map[int]bool{}
	defaults := 0
	for _, st := range cat.Statuses {
		if seen[st.Status] || http.StatusText(st.Status) == "" || st.Name == "" || st.Example == nil || len(st.Reasons) == 0 {
			return nil, fmt.Errorf("error catalogue %s: status %d needs a known, unique status, a name, an example and its reasons", path, st.Status)
		}
		seen[st.Status] = true
		if st.Default {
			defaults++
		}
		for _, r := range st.Reasons {
			if !reasonName.MatchString(r.Reason) || r.Description == "" {
				return nil, fmt.Errorf("error catalogue %s: status %d: reason %q needs an UPPER_SNAKE_CASE name and a description", path, st.Status, r.Reason)
			}
		}
	}
	if defaults != 1 {
		return nil, fmt.Errorf("error catalogue %s: exactly one status must be the default answer, not %d", path, defaults)
	}
	return &cat, nil
}

// typeURL is the @type of a google.rpc detail in an error's JSON.
func typeURL(name string) string { return "type.googleapis.com/google.rpc." + name }

// addErrors adds the error answers of the catalogue to the document's
// components: for each status, a response whose google.rpc.Status schema
// says which ErrorInfo reasons it carries, with a table of them in its
// description and an example. The details schemas are google.rpc's
// ErrorInfo, BadRequest and RetryInfo, the only details the system sends.
func addErrors(doc *openapi3.T, cat *catalogue) error {
	schemas := doc.Components.Schemas
	str := func(desc string) *openapi3.SchemaRef {
		s := openapi3.NewStringSchema()
		s.Description = desc
		return s.NewRef()
	}
	typeOf := func(name string) *openapi3.SchemaRef {
		s := openapi3.NewStringSchema()
		s.Enum = []any{typeURL(name)}
		s.Description = "The detail's type."
		return s.NewRef()
	}
	closed := func(desc string, props openapi3.Schemas) *openapi3.Schema {
		s := openapi3.NewObjectSchema()
		s.Description = desc
		s.Properties = props
		for name := range props {
			s.Required = append(s.Required, name)
		}
		sort.Strings(s.Required)
		s.AdditionalProperties = openapi3.AdditionalProperties{Has: openapi3.Ptr(false)}
		return s
	}
	errorInfo := func(desc string, reason *openapi3.SchemaRef) *openapi3.Schema {
		metadata := openapi3.NewObjectSchema()
		metadata.Description = "Facts about the error that are safe to show, for example the name of the resource that was not found."
		metadata.AdditionalProperties = openapi3.AdditionalProperties{Schema: openapi3.NewStringSchema().NewRef()}
		return closed(desc, openapi3.Schemas{
			"@type":    typeOf("ErrorInfo"),
			"reason":   reason,
			"domain":   str("Always `" + cat.Domain + "`."),
			"metadata": metadata.NewRef(),
		})
	}
	schemas["ErrorInfo"] = errorInfo("google.rpc.ErrorInfo: why the request failed, as a reason a client can branch on.",
		str("The reason, UPPER_SNAKE_CASE; the error answers of each operation list those of each status.")).NewRef()
	// Inline rather than a reference: OpenAPI 3.0 reads nullable beside a
	// type only, and an allOf around a reference would not let null pass
	// a strict validator.
	localizedRef := closed("google.rpc.LocalizedMessage: unused; always null.", openapi3.Schemas{
		"locale":  str("A BCP 47 locale."),
		"message": str("The message in that locale."),
	})
	localizedRef.Nullable = true
	violation := closed("One field that is not valid.", openapi3.Schemas{
		"field":            str("The field, as the JSON body spells it (`clientName`, `contact.email`, `members[2].email`), or as the path or query names it."),
		"description":      str("What is wrong with it, and what to send instead."),
		"reason":           str("Unused; always empty."),
		"localizedMessage": localizedRef.NewRef(),
	})
	schemas["BadRequest.FieldViolation"] = violation.NewRef()
	violations := openapi3.NewArraySchema()
	violations.Items = &openapi3.SchemaRef{Ref: "#/components/schemas/BadRequest.FieldViolation"}
	schemas["BadRequest"] = closed("google.rpc.BadRequest: the fields of the request that are not valid (with INVALID_FIELDS).", openapi3.Schemas{
		"@type":           typeOf("BadRequest"),
		"fieldViolations": violations.NewRef(),
	}).NewRef()
	schemas["RetryInfo"] = closed("google.rpc.RetryInfo: how long to wait before trying again (with 429 and 503; the Retry-After header says the same in whole seconds).", openapi3.Schemas{
		"@type":      typeOf("RetryInfo"),
		"retryDelay": str("A duration, in seconds with an `s` suffix: `\"2s\"`, `\"0.5s\"`."),
	}).NewRef()
	status := func(desc, errorInfo string) *openapi3.Schema {
		details := openapi3.NewArraySchema()
		details.Description = "Details: an ErrorInfo always; BadRequest with INVALID_FIELDS; RetryInfo when the caller should come back later."
		details.Items = &openapi3.SchemaRef{Value: &openapi3.Schema{AnyOf: openapi3.SchemaRefs{
			{Ref: "#/components/schemas/" + errorInfo},
			{Ref: "#/components/schemas/BadRequest"},
			{Ref: "#/components/schemas/RetryInfo"},
		}}}
		code := openapi3.NewInt32Schema()
		code.Description = "The gRPC status code (google.rpc.Code): 3 INVALID_ARGUMENT, 5 NOT_FOUND, …"
		return closed(desc, openapi3.Schemas{
			"code":    code.NewRef(),
			"message": str("What went wrong, in words for people: safe to show to the caller."),
			"details": details.NewRef(),
		})
	}
	schemas["Status"] = status("google.rpc.Status: an error answer.", "ErrorInfo").NewRef()

	if doc.Components.Responses == nil {
		doc.Components.Responses = openapi3.ResponseBodies{}
	}
	for _, st := range cat.Statuses {
		var reasons []any
		var table strings.Builder
		table.WriteString("| Reason | When |\n| --- | --- |\n")
		for _, r := range st.Reasons {
			reasons = append(reasons, r.Reason)
			fmt.Fprintf(&table, "| `%s` | %s |\n", r.Reason, strings.ReplaceAll(strings.TrimSpace(r.Description), "\n", " "))
		}
		reason := openapi3.NewStringSchema()
		reason.Description = "The reason; see the table of the answer."
		reason.Enum = reasons
		infoName, statusName := st.Name+"ErrorInfo", st.Name+"Status"
		schemas[infoName] = errorInfo(fmt.Sprintf("google.rpc.ErrorInfo of a %d answer.", st.Status), reason.NewRef()).NewRef()
		schemas[statusName] = status(fmt.Sprintf("google.rpc.Status of a %d answer.", st.Status), infoName).NewRef()
		desc := strings.TrimSpace(st.Description) + "\n\n" + table.String()
		resp := &openapi3.Response{
			Description: &desc,
			Content: openapi3.Content{"application/json": &openapi3.MediaType{
				Schema:  &openapi3.SchemaRef{Ref: "#/components/schemas/" + statusName},
				Example: st.Example,
			}},
		}
		if st.RetryAfter {
			after := openapi3.NewIntegerSchema()
			after.Min = openapi3.Ptr(0.0)
			resp.Headers = openapi3.Headers{"Retry-After": &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: "How many seconds to wait before trying again.",
				Required:    true,
				Schema:      after.NewRef(),
			}}}}
		}
		doc.Components.Responses[st.Name] = &openapi3.ResponseRef{Value: resp}
	}
	return nil
}
