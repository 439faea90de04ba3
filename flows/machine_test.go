package flows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestStateChangesOnlyByEvents reads the package's source: a flow's state
// is assigned only where Conv enters, moves or leaves a flow (fire: an
// event of the flow's machine; Begin, End and park), or where the engine
// wraps a state in the "resume or discard?" pause (resumePrefix) and
// unwraps it (aside unwraps it around a command). Every other step a flow takes must be an event in its
// transition table, where the reason for it is written.
func TestStateChangesOnlyByEvents(t *testing.T) {
	allowed := map[string]bool{"fire": true, "Begin": true, "End": true, "park": true, "aside": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				as, ok := n.(*ast.AssignStmt)
				if !ok {
					return true
				}
				for i, lhs := range as.Lhs {
					sel, ok := lhs.(*ast.SelectorExpr)
					if !ok || sel.Sel.Name != "State" {
						continue
					}
					if inner, ok := sel.X.(*ast.SelectorExpr); !ok || inner.Sel.Name != "Session" {
						continue
					}
					checked++
					if allowed[fn.Name.Name] || i < len(as.Rhs) && mentions(as.Rhs[i], "resumePrefix") {
						continue
					}
					t.Errorf("%s: %s sets Session.State directly: fire an event of the flow's machine instead",
						fset.Position(as.Pos()), fn.Name.Name)
				}
				return true
			})
		}
	}
	if checked == 0 {
		t.Fatal("no assignment to Session.State found: the test reads nothing")
	}
}

// mentions reports whether the expression uses the identifier.
func mentions(e ast.Expr, ident string) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == ident {
			found = true
		}
		return !found
	})
	return found
}
