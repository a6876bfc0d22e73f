package checks

import (
	"strconv"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
)

// Cost limits for baseline expressions. A baseline is code that runs over
// data an attacker may shape (the number of VMs, NICs, options), so neither
// a careless nor a hostile expression may run unbounded: a five-deep
// comprehension once ran past a minute.
const (
	// MaxEstimatedCost refuses an expression at load whose worst case, in
	// CEL's cost units (about one per operation), exceeds it, with every
	// list and map assumed to hold up to assumedEntries entries and every
	// string up to assumedStringLen bytes. Three nested comprehensions
	// with a short body fit (10^9 steps at most); four do not. The shipped
	// baseline's costliest expression is about 2·10^6.
	MaxEstimatedCost uint64 = 10_000_000_000
	// MaxSteps ends one evaluation after this many comprehension steps
	// over an object's real data (a fraction of a second); that finding
	// becomes error. Counting steps keeps the outcome the same on every
	// machine, which a time budget would not. (CEL's own runtime cost
	// tracker is not used: it grows quadratically with the steps of a
	// comprehension.)
	MaxSteps uint64 = 1_000_000
	// interruptEvery is how many steps pass between checks of the run's
	// context (cancellation, --timeout).
	interruptEvery = 64
)

const (
	assumedEntries   = 1000
	assumedStringLen = 4096
)

// costEstimator bounds the sizes the checker cannot know: every list and
// map in the model or params holds at most assumedEntries entries, every
// string (or dyn value) at most assumedStringLen bytes. Function costs are
// CEL's own.
type costEstimator struct{}

func (costEstimator) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	t := n.Type()
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case types.ListKind, types.MapKind:
		return &checker.SizeEstimate{Min: 0, Max: assumedEntries}
	case types.StringKind, types.BytesKind, types.DynKind:
		// A dyn value (a map entry of host options, a param) is a string,
		// a list or a scalar: the string bound covers them all.
		return &checker.SizeEstimate{Min: 0, Max: assumedStringLen}
	}
	return nil
}

// EstimateCallCost bounds split's result, whose size the checker cannot
// know; every other call costs what CEL says.
func (costEstimator) EstimateCallCost(function, _ string, _ *checker.AstNode, _ []checker.AstNode) *checker.CallEstimate {
	if function == "split" {
		return &checker.CallEstimate{
			CostEstimate: checker.CostEstimate{Min: 1, Max: assumedStringLen / 10},
			ResultSize:   &checker.SizeEstimate{Min: 0, Max: assumedEntries},
		}
	}
	return nil
}

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
		est, err := env.EstimateCost(ast, costEstimator{})
		if err != nil {
			errs = append(errs, c.errorf(key, "%s: estimating its cost: %v", key, err))
			return nil
		}
		if est.Max > MaxEstimatedCost {
			errs = append(errs, c.errorf(key, "%s: estimated cost %s exceeds the limit of %d (with lists of up to %d entries): nest fewer comprehensions, or derive the fact in the collector",
				key, costString(est.Max), MaxEstimatedCost, assumedEntries))
			return nil
		}
		// InterruptCheckFrequency makes every comprehension step ask the
		// activation for "#interrupted": that is where steps are counted
		// and the context is checked (activation.ResolveName).
		prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.InterruptCheckFrequency(1))
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

// costString prints a cost; an overflowed estimate is "unbounded".
func costString(c uint64) string {
	if c == ^uint64(0) {
		return "unbounded"
	}
	return strconv.FormatUint(c, 10)
}
