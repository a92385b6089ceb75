//go:build tools

// Package tools pins the code generators and development servers the project
// installs with `make tools`. It is kept out of go.work on purpose: the generators need a
// newer protobuf than the services use, and a workspace would force it on them.
package tools

import (
	_ "github.com/axllent/mailpit"
	_ "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway"
	_ "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2"
	_ "github.com/nats-io/nats-server/v2"
	_ "google.golang.org/grpc/cmd/protoc-gen-go-grpc"
	_ "google.golang.org/protobuf/cmd/protoc-gen-go"
)
