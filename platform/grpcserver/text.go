package grpcserver

import (
	"context"
	"fmt"
	"log/slog"
	"unicode/utf8"

	"github.com/ipnmediation/disputes/platform/fault"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// CheckText applies the text rule to every string in a request, however
// deeply nested, whether or not the field is declared: it must be valid
// UTF-8 and hold no C0 control character (tab, CR and LF are allowed in a
// field declared multiline). Where the contract declares a field's
// max_length (in characters) or a repeated field's max_items, those bound it
// too. Each broken rule is a field violation naming the field, for example
// `concern.description` or `slots[2].location`.
//
// It runs on every request before any handler, in every service, and in the
// gateway before a request is marshalled (a string that is not UTF-8 cannot
// even be sent over gRPC).
func CheckText(msg proto.Message) []fault.FieldViolation {
	var v fault.Violations
	checkTextIn(msg.ProtoReflect(), "", &v)
	if v.Len() == 0 {
		return nil
	}
	err, _ := fault.As(v.Err())
	return err.Violations
}

func checkTextIn(m protoreflect.Message, prefix string, v *fault.Violations) {
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		rule := textRuleOf(fd)
		path := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			list := val.List()
			if rule.maxItems > 0 && uint64(list.Len()) > rule.maxItems {
				v.Addf(path, "must have at most %d items (it has %d)", rule.maxItems, list.Len())
			}
			for i := 0; i < list.Len(); i++ {
				checkTextValue(fd, rule, list.Get(i), fmt.Sprintf("%s[%d]", path, i), v)
			}
		case fd.IsMap():
			val.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				key := k.String()
				if fd.MapKey().Kind() == protoreflect.StringKind {
					checkString(textRule{}, key, path+" key", v)
				}
				checkTextValue(fd.MapValue(), rule, mv, fmt.Sprintf("%s[%q]", path, key), v)
				return true
			})
		default:
			checkTextValue(fd, rule, val, path, v)
		}
		return true
	})
}

func checkTextValue(fd protoreflect.FieldDescriptor, rule textRule, val protoreflect.Value, path string, v *fault.Violations) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		checkString(rule, val.String(), path, v)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		checkTextIn(val.Message(), path+".", v)
	}
}

// checkString reports the first thing wrong with s, if anything: one
// violation per field is enough to say what to fix.
func checkString(rule textRule, s, path string, v *fault.Violations) {
	if !utf8.ValidString(s) {
		v.Add(path, "must be valid UTF-8 text")
		return
	}
	n := 0
	for _, r := range s {
		n++
		if r >= 0x20 || (rule.multiline && (r == '\t' || r == '\n' || r == '\r')) {
			continue
		}
		if rule.multiline {
			v.Addf(path, "must not contain the control character U+%04X (only tab and line breaks are allowed)", r)
		} else {
			v.Addf(path, "must be one line without control characters (it contains U+%04X)", r)
		}
		return
	}
	if rule.maxLength > 0 && uint64(n) > rule.maxLength {
		v.Addf(path, "must be at most %d characters (it has %d)", rule.maxLength, n)
	}
}

// textRule is what the text rule takes from a field's declaration.
type textRule struct {
	maxLength, maxItems uint64
	multiline           bool
}

func textRuleOf(fd protoreflect.FieldDescriptor) textRule {
	d := DeclaredField(fd)
	return textRule{maxLength: d.MaxLength, maxItems: d.MaxItems, multiline: d.Text.GetMultiline()}
}

// TextRuleClientInterceptor applies CheckText to every request a client
// sends, before it is marshalled, and answers a broken rule as the server
// would: INVALID_ARGUMENT with a field violation. The gateway uses it, so
// that a value a REST client sent that gRPC cannot carry (a path segment
// that is not UTF-8) is refused as bad input rather than failing as an
// internal error.
func TextRuleClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if m, ok := req.(proto.Message); ok {
			if violations := CheckText(m); len(violations) > 0 {
				return ToStatus(ctx, slog.Default(), method, validationError(violations))
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
