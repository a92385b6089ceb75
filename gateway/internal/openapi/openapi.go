// Package openapi holds the OpenAPI 3 document of the REST API.
// disputes.openapi.json is generated from the protos by `make generate`:
// protoc-gen-openapiv2 writes a Swagger 2.0 document, and tools/openapi3
// converts it and completes it from the protos and the error catalogue
// (proto/ipn/disputes/apidoc/v1/errors.yaml). Never edit it by hand.
package openapi

import _ "embed"

// Document is the OpenAPI 3 document, as JSON.
//
//go:embed disputes.openapi.json
var Document []byte
