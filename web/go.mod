module github.com/ipnmediation/disputes/web

go 1.26.0

require (
	github.com/ipnmediation/disputes/platform v0.0.0
	github.com/ipnmediation/disputes/proto/gen/go v0.0.0
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261019180522-ce908d29299b
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.33.0 // indirect
	golang.org/x/net v0.61.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261026165753-2ffab32bce7e // indirect
	google.golang.org/grpc v1.85.0 // indirect
)

replace (
	github.com/ipnmediation/disputes/platform => ../platform
	github.com/ipnmediation/disputes/proto/gen/go => ../proto/gen/go
)
