package grpcserver_test

// The operations contract, which every service serves, held to the same
// rules as the services' own by TestContractDeclaresEveryRPCAndField.
import _ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/operations/v1"
