// Package openapi holds the OpenAPI (Swagger 2.0) document of the REST API.
// disputes.swagger.json is generated from the protos by `buf generate`
// (`make generate`); never edit it by hand.
package openapi

import _ "embed"

// Document is the OpenAPI document, as JSON.
//
//go:embed disputes.swagger.json
var Document []byte
