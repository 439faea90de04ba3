package flows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlowsHoldWhatTheyUse reads the package's source: only the engine
// (engine.go, conv.go: routing, commands, the user's records) reaches into
// a conversation's engine (Conv.e). A flow or job holds the parts it uses
// (the catalog, the deadlines, the router, the menu...), given to it when
// the engine is built, so what each one depends on is written in its type.
func TestFlowsHoldWhatTheyUse(t *testing.T) {
	engineFiles := map[string]bool{"engine.go": true, "conv.go": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || engineFiles[name] {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "e" {
				t.Errorf("%s: reaches into the engine (.e): hold the part instead", fset.Position(sel.Pos()))
			}
			return true
		})
	}
}
