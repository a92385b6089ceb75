package grpcserver

import "google.golang.org/protobuf/protoadapt"

func toProtoV1(details []any) []protoadapt.MessageV1 {
	out := make([]protoadapt.MessageV1, 0, len(details))
	for _, d := range details {
		if m, ok := d.(protoadapt.MessageV2); ok {
			out = append(out, protoadapt.MessageV1Of(m))
		}
	}
	return out
}
