package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// callersExtension is the full name of the method option that says which
// kinds of caller an RPC answers (proto/ipn/disputes/annotations/v1).
const callersExtension = "ipn.disputes.annotations.v1.callers"

// httpBody is the message whose RPCs answer with a body of their own type
// rather than JSON.
const httpBody = "google.api.HttpBody"

// protos is what the converter reads from the protos themselves, beyond what
// protoc-gen-openapiv2 writes: who may call each RPC, and which fields of
// which message are messages (so null when unset) or members of a oneof.
type protos struct {
	files *protoregistry.Files
	// methods are the RPCs by the operation id protoc-gen-openapiv2 gives
	// their first HTTP binding, `Service_Method`.
	methods map[string]method
}

// method is one RPC.
type method struct {
	desc protoreflect.MethodDescriptor
	// callers is the RPC's callers option; nil when it declares none.
	callers protoreflect.Message
}

// loadProtos reads a buf image (`buf build -o`), a FileDescriptorSet with
// every import, and finds the callers option of each RPC. The option's
// message is read dynamically, from the image itself, so that the tools
// module need not link the project's generated code.
func loadProtos(path string) (*protos, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read descriptor image: %w", err)
	}
	// Twice: first to build the registry, then again with the registry as
	// the resolver, so that the options' extensions are parsed rather than
	// left as unknown bytes.
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("parse descriptor image: %w", err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("link descriptor image: %w", err)
	}
	types := dynamicpb.NewTypes(files)
	set.Reset()
	if err := (proto.UnmarshalOptions{Resolver: types}).Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("parse descriptor image with its extensions: %w", err)
	}
	if files, err = protodesc.NewFiles(&set); err != nil {
		return nil, fmt.Errorf("link descriptor image: %w", err)
	}
	xt, err := types.FindExtensionByName(callersExtension)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", callersExtension, err)
	}
	p := &protos{files: files, methods: map[string]method{}}
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				md := sd.Methods().Get(j)
				m := method{desc: md}
				// Found by name: the options hold the extension as the
				// resolver parsed it.
				md.Options().ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
					if fd.IsExtension() && fd.FullName() == xt.TypeDescriptor().FullName() {
						m.callers = v.Message()
						return false
					}
					return true
				})
				id := string(sd.Name()) + "_" + string(md.Name())
				if prev, dup := p.methods[id]; dup {
					err = fmt.Errorf("operation id %s names both %s and %s", id, prev.desc.FullName(), md.FullName())
					return false
				}
				p.methods[id] = m
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// bindingSuffix is the number protoc-gen-openapiv2 appends to the operation
// id of an RPC's additional HTTP bindings.
var bindingSuffix = regexp.MustCompile(`[0-9]+$`)

// method is the RPC of an operation id.
func (p *protos) method(operationID string) (method, error) {
	m, ok := p.methods[operationID]
	if !ok {
		m, ok = p.methods[bindingSuffix.ReplaceAllString(operationID, "")]
	}
	if !ok {
		return method{}, fmt.Errorf("operation %s matches no RPC in the protos", operationID)
	}
	return m, nil
}

// flag is a boolean field of the callers option.
func (m method) flag(name protoreflect.Name) bool {
	if m.callers == nil {
		return false
	}
	fd := m.callers.Descriptor().Fields().ByName(name)
	return fd != nil && m.callers.Get(fd).Bool()
}

// anonymous reports whether the RPC answers callers without credentials.
func (m method) anonymous() bool { return m.flag("anonymous") }

// credentialed reports whether the RPC answers any caller with credentials
// that a REST client may hold.
func (m method) credentialed() bool {
	for _, f := range []protoreflect.Name{"client", "member", "admin", "link_group", "operator", "federation_peer"} {
		if m.flag(f) {
			return true
		}
	}
	return false
}

// callerWords says, for people, who may call the RPC over REST. Services
// call each other over gRPC and are left out.
func (m method) callerWords() string {
	var who []string
	for _, c := range []struct {
		flag  protoreflect.Name
		words string
	}{
		{"anonymous", "anyone, without credentials"},
		{"client", "the client, with a client session"},
		{"member", "a group's members"},
		{"admin", "a group's admins"},
		{"link_group", "a link group, with a token its group issued"},
		{"operator", "the deployment's operator"},
		{"federation_peer", "a peer deployment, with the credential it was given"},
	} {
		if m.flag(c.flag) {
			who = append(who, c.words)
		}
	}
	switch len(who) {
	case 0:
		return ""
	case 1:
		return who[0]
	}
	return strings.Join(who[:len(who)-1], "; ") + "; and " + who[len(who)-1]
}

// schemaOption is the full name of protoc-gen-openapiv2's message option.
const schemaOption = "grpc.gateway.protoc_gen_openapiv2.options.openapiv2_schema"

// requestExample is the example the RPC's request message declares in its
// openapiv2_schema option, or "".
func (m method) requestExample() string {
	example := ""
	m.desc.Input().Options().ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.IsExtension() && fd.FullName() == schemaOption {
			if f := v.Message().Descriptor().Fields().ByName("example"); f != nil {
				example = v.Message().Get(f).String()
			}
			return false
		}
		return true
	})
	return example
}

// httpOption is the full name of the method option of an RPC's HTTP
// binding.
const httpOption = "google.api.http"

// bodyMessage is the message a REST request's body holds: the request
// message for `body: "*"`, else the message of the field the body names.
func (m method) bodyMessage() (protoreflect.MessageDescriptor, error) {
	body := ""
	m.desc.Options().ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.IsExtension() && fd.FullName() == httpOption {
			if f := v.Message().Descriptor().Fields().ByName("body"); f != nil {
				body = v.Message().Get(f).String()
			}
			return false
		}
		return true
	})
	in := m.desc.Input()
	switch body {
	case "":
		return nil, fmt.Errorf("%s has no body", m.desc.FullName())
	case "*":
		return in, nil
	}
	fd := in.Fields().ByName(protoreflect.Name(body))
	if fd == nil || fd.Message() == nil {
		return nil, fmt.Errorf("%s: the body %q is no message field of %s", m.desc.FullName(), body, in.FullName())
	}
	return fd.Message(), nil
}

// answersHTTPBody reports whether the RPC answers with a google.api.HttpBody:
// a body of its own content type, not JSON.
func (m method) answersHTTPBody() bool {
	return m.desc.Output().FullName() == httpBody
}

// message is the message or enum of a full name.
func (p *protos) descriptor(name string) (protoreflect.Descriptor, error) {
	d, err := p.files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", name, err)
	}
	return d, nil
}

// bodyMessage is the request message of a body definition that
// protoc-gen-openapiv2 makes for a `body: "*"` binding with path
// parameters, named `package.Service.MethodBody`: its fields are the
// request's, less those in the path.
func (p *protos) bodyMessage(name string) (protoreflect.MessageDescriptor, bool) {
	trimmed, ok := strings.CutSuffix(name, "Body")
	if !ok {
		return nil, false
	}
	d, err := p.files.FindDescriptorByName(protoreflect.FullName(trimmed))
	if err != nil {
		return nil, false
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return nil, false
	}
	return md.Input(), true
}
