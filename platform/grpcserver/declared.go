package grpcserver

import (
	"slices"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2/options"
	annotationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/annotations/v1"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Declared is what the contract declares about one field a caller sends.
type Declared struct {
	// MaxLength is the most characters (code points) a string may hold
	// and MaxItems the most items a repeated field may hold, from the
	// field's openapiv2_field option; 0 when it declares none.
	MaxLength, MaxItems uint64
	// Text is the field's text declaration: its kind, whether it may span
	// lines and its format. Never nil; empty when it declares none.
	Text *annotationsv1.Text
	// OutputOnly says the services ignore what a caller sends in it.
	OutputOnly bool
	// Required says a request must set it.
	Required bool
}

var fieldDeclarations sync.Map // protoreflect.FullName of the field -> Declared

// DeclaredField reads what the contract declares about fd: the one place
// that reads the field options the text rule, the gateway's body bounds
// and the contract's tests go by.
func DeclaredField(fd protoreflect.FieldDescriptor) Declared {
	if d, ok := fieldDeclarations.Load(fd.FullName()); ok {
		return d.(Declared)
	}
	d := Declared{Text: &annotationsv1.Text{}}
	if opts := fd.Options(); opts != nil {
		if schema, ok := proto.GetExtension(opts, options.E_Openapiv2Field).(*options.JSONSchema); ok && schema != nil {
			d.MaxLength, d.MaxItems = schema.GetMaxLength(), schema.GetMaxItems()
		}
		if text, ok := proto.GetExtension(opts, annotationsv1.E_Text).(*annotationsv1.Text); ok && text != nil {
			d.Text = text
		}
		behaviors, _ := proto.GetExtension(opts, annotations.E_FieldBehavior).([]annotations.FieldBehavior)
		d.OutputOnly = slices.Contains(behaviors, annotations.FieldBehavior_OUTPUT_ONLY)
		d.Required = slices.Contains(behaviors, annotations.FieldBehavior_REQUIRED)
	}
	fieldDeclarations.Store(fd.FullName(), d)
	return d
}
