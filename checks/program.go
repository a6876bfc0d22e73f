package checks

import (
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
)

// program is a check's compiled expressions.
type program struct {
	applies  cel.Program // nil when the check always applies
	expr     cel.Program
	evidence []evidenceProg
	// usesPatch: applies or expr reads the patch assessment, so the
	// finding must say when that assessment rests on unverified data.
	usesPatch bool
}

type evidenceProg struct {
	path string
	prog cel.Program
}

// compileCheck parses, type-checks and plans a check's expressions in its
// scope's environment.
func compileCheck(env *cel.Env, c *Check) (*program, error) {
	p := &program{}
	var errs []error
	compile := func(key, src string, wantBool bool) cel.Program {
		ast, iss := env.Compile(src)
		if iss != nil && iss.Err() != nil {
			msgs := make([]string, 0, len(iss.Errors()))
			for _, e := range iss.Errors() {
				msgs = append(msgs, e.Message)
			}
			errs = append(errs, c.errorf(key, "%s: %s", key, strings.Join(msgs, "; ")))
			return nil
		}
		if wantBool {
			if t := ast.OutputType(); !t.IsExactType(types.BoolType) && t.Kind() != types.DynKind {
				errs = append(errs, c.errorf(key, "%s: must be a bool expression, is %s", key, t))
				return nil
			}
			for _, r := range ast.NativeRep().ReferenceMap() {
				if r.Name == "patch" {
					p.usesPatch = true
				}
			}
		}
		prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
		if err != nil {
			errs = append(errs, c.errorf(key, "%s: %v", key, err))
			return nil
		}
		return prg
	}
	if strings.TrimSpace(c.Applies) != "" {
		p.applies = compile("applies", c.Applies, true)
	}
	p.expr = compile("expr", c.Expr, true)
	for _, ev := range c.Evidence {
		if prg := compile("evidence", ev, false); prg != nil {
			p.evidence = append(p.evidence, evidenceProg{path: ev, prog: prg})
		}
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	return p, nil
}
