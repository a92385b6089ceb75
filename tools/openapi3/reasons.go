package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// A reasonUse is an ErrorInfo reason the code gives, where it gives it, and
// the fault kind it gives it with, when the code says so where it names the
// reason ("" when it does not: a reason passed on to a helper, or one of the
// gateway's own).
type reasonUse struct {
	reason string
	kind   string
	at     string
}

// reasonName is the form of an ErrorInfo reason.
var reasonName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)

// scanReasons finds the ErrorInfo reasons that the Go code under the roots
// gives its callers, by reading its syntax (tests, generated code and
// testdata left out). A reason is a string constant that the code
//   - passes as fault.New's reason or fault.NotFoundf's first argument;
//   - gives as the Reason of a composite literal (fault.Error,
//     errdetails.ErrorInfo);
//   - assigns to a variable or constant whose name is or ends in `reason`
//     (`reason, message = "X", …`, `const ReasonX = "X"`);
//   - passes to a function of the same package as its parameter `reason`.
//
// Where the same call or literal names the kind (fault.PermissionDenied),
// the use records it, so that the check can say under which HTTP status
// the reason belongs.
func scanReasons(roots []string) ([]reasonUse, error) {
	type pkgFile struct {
		file *ast.File
		pkg  string
	}
	fset := token.NewFileSet()
	var files []pkgFile
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if name := d.Name(); name == "testdata" || name == "node_modules" || (strings.HasPrefix(name, ".") && path != root) {
					return filepath.SkipDir
				}
				return nil
			}
			name := d.Name()
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, ".pb.go") || strings.HasSuffix(name, ".pb.gw.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
			if err != nil {
				return fmt.Errorf("parse %s: %w", path, err)
			}
			files = append(files, pkgFile{file: f, pkg: f.Name.Name})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", root, err)
		}
	}

	// First pass: the string constants (for reasons named by a constant)
	// and, per package, the functions that take a `reason` parameter and
	// the kind they give it, if one.
	consts := map[string]string{} // constant name -> value, across packages
	type helper struct {
		index int
		kind  string
	}
	helpers := map[string]helper{} // package name + "." + func name
	for _, pf := range files {
		for _, decl := range pf.file.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				if d.Tok != token.CONST {
					continue
				}
				for _, spec := range d.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if i < len(vs.Values) {
							if s, ok := stringLit(vs.Values[i]); ok {
								consts[name.Name] = s
							}
						}
					}
				}
			case *ast.FuncDecl:
				index := 0
				for _, field := range d.Type.Params.List {
					for _, name := range field.Names {
						if name.Name == "reason" {
							if d.Recv == nil {
								helpers[pf.pkg+"."+d.Name.Name] = helper{index: index, kind: kindPassed(d.Body)}
							}
						}
						index++
					}
					if len(field.Names) == 0 {
						index++
					}
				}
			}
		}
	}
	value := func(e ast.Expr) (string, bool) {
		if s, ok := stringLit(e); ok {
			return s, reasonName.MatchString(s)
		}
		var name string
		switch x := e.(type) {
		case *ast.Ident:
			name = x.Name
		case *ast.SelectorExpr:
			name = x.Sel.Name
		default:
			return "", false
		}
		s, ok := consts[name]
		return s, ok && reasonName.MatchString(s)
	}

	var uses []reasonUse
	add := func(e ast.Expr, kind string) {
		if s, ok := value(e); ok {
			p := fset.Position(e.Pos())
			uses = append(uses, reasonUse{reason: s, kind: kind, at: fmt.Sprintf("%s:%d", p.Filename, p.Line)})
		}
	}
	for _, pf := range files {
		ast.Inspect(pf.file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				switch callee(x.Fun) {
				case "fault.New":
					if len(x.Args) >= 2 {
						add(x.Args[1], faultKind(x.Args[0]))
					}
				case "fault.NotFoundf":
					if len(x.Args) >= 1 {
						add(x.Args[0], "NotFound")
					}
				default:
					name := callee(x.Fun)
					if id, ok := x.Fun.(*ast.Ident); ok {
						name = pf.pkg + "." + id.Name
					}
					if h, ok := helpers[name]; ok && h.index < len(x.Args) {
						add(x.Args[h.index], h.kind)
					}
				}
			case *ast.CompositeLit:
				var reason ast.Expr
				kind := ""
				for _, elt := range x.Elts {
					kv, ok := elt.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					key, ok := kv.Key.(*ast.Ident)
					if !ok {
						continue
					}
					switch key.Name {
					case "Reason":
						reason = kv.Value
					case "Kind":
						kind = faultKind(kv.Value)
					}
				}
				if reason != nil {
					add(reason, kind)
				}
			case *ast.AssignStmt:
				if len(x.Lhs) == len(x.Rhs) {
					for i, lhs := range x.Lhs {
						if id, ok := lhs.(*ast.Ident); ok && namesReason(id.Name) {
							add(x.Rhs[i], "")
						}
					}
				}
			case *ast.ValueSpec:
				for i, name := range x.Names {
					if namesReason(name.Name) && i < len(x.Values) {
						add(x.Values[i], "")
					}
				}
			}
			return true
		})
	}
	sort.Slice(uses, func(i, j int) bool {
		if uses[i].reason != uses[j].reason {
			return uses[i].reason < uses[j].reason
		}
		return uses[i].at < uses[j].at
	})
	return uses, nil
}

// namesReason reports whether a variable or constant's name says it holds a
// reason: `reason`, or `ReasonX` for a named one.
func namesReason(name string) bool {
	return name == "reason" || strings.HasPrefix(name, "Reason")
}

// stringLit is the value of a string literal.
func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// callee names a called function as `pkg.Func`.
func callee(e ast.Expr) string {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok {
		return ""
	}
	return pkg.Name + "." + sel.Sel.Name
}

// faultKind is the name of a fault kind, `fault.PermissionDenied`, or ""
// for anything else.
func faultKind(e ast.Expr) string {
	if sel, ok := e.(*ast.SelectorExpr); ok {
		if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "fault" {
			return sel.Sel.Name
		}
	}
	return ""
}

// kindPassed is the fault kind a helper gives the reason it is passed, when
// its body makes the error with fault.New(kind, reason, …) or
// &fault.Error{Kind: kind, Reason: reason}.
func kindPassed(body *ast.BlockStmt) string {
	kind := ""
	if body == nil {
		return kind
	}
	isReason := func(e ast.Expr) bool {
		id, ok := e.(*ast.Ident)
		return ok && id.Name == "reason"
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			if callee(x.Fun) == "fault.New" && len(x.Args) >= 2 && isReason(x.Args[1]) {
				kind = faultKind(x.Args[0])
			}
		case *ast.CompositeLit:
			var k string
			var passed bool
			for _, elt := range x.Elts {
				if kv, ok := elt.(*ast.KeyValueExpr); ok {
					if key, ok := kv.Key.(*ast.Ident); ok {
						switch key.Name {
						case "Kind":
							k = faultKind(kv.Value)
						case "Reason":
							passed = isReason(kv.Value)
						}
					}
				}
			}
			if passed {
				kind = k
			}
		}
		return true
	})
	return kind
}

// kindStatus is the HTTP status of each fault kind, as the platform gives
// it a gRPC code (platform/grpcserver) and grpc-gateway an HTTP status.
var kindStatus = map[string]int{
	"InvalidArgument":    400,
	"FailedPrecondition": 400,
	"Unauthenticated":    401,
	"PermissionDenied":   403,
	"NotFound":           404,
	"AlreadyExists":      409,
	"Aborted":            409,
	"ResourceExhausted":  429,
	"Unavailable":        503,
	"Internal":           500,
}

// checkReasons holds the catalogue to the code: every reason the code gives
// is listed, under its kind's status where the code says the kind, and
// every reason listed is one the code gives (or one the catalogue says the
// gateway makes from a gRPC code, which no string in the code spells).
func checkReasons(cat *catalogue, uses []reasonUse) error {
	listed := map[string][]int{}
	for _, st := range cat.Statuses {
		for _, r := range st.Reasons {
			listed[r.Reason] = append(listed[r.Reason], st.Status)
		}
	}
	var problems []string
	seen := map[string]bool{}
	for _, u := range uses {
		seen[u.reason] = true
		if slices.Contains(cat.NotOperations, u.reason) {
			continue
		}
		statuses, ok := listed[u.reason]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: reason %s is not in the catalogue", u.at, u.reason))
			continue
		}
		if want, ok := kindStatus[u.kind]; ok && want != 500 && !slices.Contains(statuses, want) {
			problems = append(problems, fmt.Sprintf("%s: reason %s is given with fault.%s (HTTP %d) but the catalogue lists it under %v", u.at, u.reason, u.kind, want, statuses))
		}
	}
	for reason := range listed {
		if !seen[reason] && !slices.Contains(cat.FromCodes, reason) {
			problems = append(problems, fmt.Sprintf("the catalogue lists reason %s, which no code gives", reason))
		}
	}
	for _, reason := range cat.NotOperations {
		if !seen[reason] {
			problems = append(problems, fmt.Sprintf("the catalogue's notOperations lists reason %s, which no code gives", reason))
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return fmt.Errorf("the error catalogue does not match the code:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}
