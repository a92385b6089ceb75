// Command openapi3 writes the REST API's OpenAPI 3 document. It converts the
// Swagger 2.0 document that protoc-gen-openapiv2 generates from the protos
// with kin-openapi's openapi2conv, then completes it from what the protos
// declare and Swagger 2.0 cannot say (see complete):
//
//   - each operation's security, from the RPC's callers option: the bearer
//     scheme, or none for a public operation;
//   - each operation's error answers, with the google.rpc.Status schema, the
//     ErrorInfo reasons each HTTP status may carry and an example, from the
//     error catalogue (proto/ipn/disputes/apidoc/v1/errors.yaml), which it
//     first holds to the code: it refuses to write a document while the code
//     gives a reason the catalogue does not list, or the catalogue lists one
//     no code gives;
//   - a google.api.HttpBody answer as the content type it is (text/calendar);
//   - closed objects (additionalProperties: false) for the messages, and
//     nullable message fields, which the gateway writes as null when unset.
//
// `make generate` runs it after `buf generate`; `make check-generated` runs
// it again and compares. Run it from the tools module with GOWORK=off.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// sources are the roots given with -source, the code whose error reasons
// the catalogue must match.
type sources []string

func (s *sources) String() string     { return strings.Join(*s, ",") }
func (s *sources) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var (
		swagger = flag.String("swagger", "", "the Swagger 2.0 document protoc-gen-openapiv2 wrote (merged, fully qualified schema names)")
		image   = flag.String("image", "", "a buf image of the protos, with imports (buf build -o)")
		errs    = flag.String("errors", "", "the error catalogue (YAML)")
		out     = flag.String("out", "", "where to write the OpenAPI 3 document")
		roots   sources
	)
	flag.Var(&roots, "source", "a folder of Go code whose error reasons the catalogue must list (repeatable)")
	flag.Parse()
	if *swagger == "" || *image == "" || *errs == "" || *out == "" || len(roots) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*swagger, *image, *errs, *out, roots); err != nil {
		fmt.Fprintln(os.Stderr, "openapi3:", err)
		os.Exit(1)
	}
}

func run(swaggerPath, imagePath, errorsPath, outPath string, roots []string) error {
	p, err := loadProtos(imagePath)
	if err != nil {
		return err
	}
	cat, err := loadCatalogue(errorsPath)
	if err != nil {
		return err
	}
	uses, err := scanReasons(roots)
	if err != nil {
		return err
	}
	if err := checkReasons(cat, uses); err != nil {
		return err
	}
	raw, err := os.ReadFile(swaggerPath)
	if err != nil {
		return fmt.Errorf("read Swagger document: %w", err)
	}
	doc, err := build(raw, p, cat)
	if err != nil {
		return err
	}
	if err := os.WriteFile(outPath, doc, 0o644); err != nil {
		return fmt.Errorf("write OpenAPI 3 document: %w", err)
	}
	return nil
}

// build converts and completes the document and returns it as indented
// JSON, after checking it is a valid OpenAPI 3 document whose examples fit
// their schemas.
func build(swagger []byte, p *protos, cat *catalogue) ([]byte, error) {
	v2, names, err := shortenNames(swagger)
	if err != nil {
		return nil, err
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(v2.raw, &doc2); err != nil {
		return nil, fmt.Errorf("parse Swagger document: %w", err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("convert to OpenAPI 3: %w", err)
	}
	if err := complete(doc, v2, names, p, cat); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write OpenAPI 3 document: %w", err)
	}
	// Loaded again from its JSON, as its readers will.
	loader := openapi3.NewLoader()
	check, err := loader.LoadFromData(out)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI 3 document written: %w", err)
	}
	if err := check.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("the OpenAPI 3 document written is not valid: %w", err)
	}
	var b bytes.Buffer
	b.Write(out)
	b.WriteByte('\n')
	return b.Bytes(), nil
}
