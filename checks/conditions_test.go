package checks

import (
	"slices"
	"testing"

	"fmt"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/parser"
)

// conditions splits a check expression into the conditions it combines, so
// the corpus test can demand a fail case for each: the operands of a
// top-level &&, of !(A || B), and of the predicate of xs.all(x, A && B)
// (as xs.all(x, A) and xs.all(x, B)). Anything else is one condition. The
// returned strings are CEL source, compiled later in the check's scope.
func conditions(expr string) ([]string, error) {
	env, err := cel.NewEnv(cel.ClearMacros())
	if err != nil {
		return nil, err
	}
	a, iss := env.Parse(expr)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	native := a.NativeRep()
	return splitConditions(native.Expr(), native.SourceInfo())
}

func splitConditions(e celast.Expr, info *celast.SourceInfo) ([]string, error) {
	whole := func() ([]string, error) {
		s, err := parser.Unparse(e, info)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	if e.Kind() != celast.CallKind {
		return whole()
	}
	call := e.AsCall()
	args := call.Args()
	switch {
	case call.FunctionName() == "_&&_" && len(args) == 2:
		return splitBoth(args[0], args[1], info, func(s string) string { return s })
	case call.FunctionName() == "!_" && len(args) == 1 && args[0].Kind() == celast.CallKind &&
		args[0].AsCall().FunctionName() == "_||_":
		return negatedDisjuncts(args[0], info)
	case call.FunctionName() == "all" && call.IsMemberFunction() && len(args) == 2 &&
		args[0].Kind() == celast.IdentKind:
		preds, err := splitConditions(args[1], info)
		if err != nil || len(preds) < 2 {
			if err != nil {
				return nil, err
			}
			return whole()
		}
		target, err := parser.Unparse(call.Target(), info)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(preds))
		for i, p := range preds {
			out[i] = fmt.Sprintf("(%s).all(%s, %s)", target, args[0].AsIdent(), p)
		}
		return out, nil
	}
	return whole()
}

func splitBoth(a, b celast.Expr, info *celast.SourceInfo, wrap func(string) string) ([]string, error) {
	var out []string
	for _, side := range []celast.Expr{a, b} {
		parts, err := splitConditions(side, info)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			out = append(out, wrap(p))
		}
	}
	return out, nil
}

// negatedDisjuncts turns !(A || B || C) into !(A), !(B), !(C).
func negatedDisjuncts(e celast.Expr, info *celast.SourceInfo) ([]string, error) {
	if e.Kind() == celast.CallKind && e.AsCall().FunctionName() == "_||_" && len(e.AsCall().Args()) == 2 {
		var out []string
		for _, side := range e.AsCall().Args() {
			parts, err := negatedDisjuncts(side, info)
			if err != nil {
				return nil, err
			}
			out = append(out, parts...)
		}
		return out, nil
	}
	s, err := parser.Unparse(e, info)
	if err != nil {
		return nil, err
	}
	return []string{"!(" + s + ")"}, nil
}

func TestConditions(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`a.b`, []string{`a.b`}},
		{`a || b`, []string{`a || b`}},
		{`a && b && (c || d)`, []string{`a`, `b`, `c || d`}},
		{`!(a || b || c.d)`, []string{`!(a)`, `!(b)`, `!(c.d)`}},
		{`!(a && b)`, []string{`!(a && b)`}},
		{`x.y.all(n, n.p && !n.q) && z`, []string{`(x.y).all(n, n.p)`, `(x.y).all(n, !n.q)`, `z`}},
		{`x.all(n, n.p)`, []string{`x.all(n, n.p)`}},
		{`has(h.o) && h.o.exists(k, k == "x")`, []string{`has(h.o)`, `h.o.exists(k, k == "x")`}},
	} {
		got, err := conditions(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("conditions(%s) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}
