package checks

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// AdvisoryInfo is the `advisories` CEL variable: how current the advisory
// data is for the products the target runs.
type AdvisoryInfo struct {
	// AsOf and AgeDays: the day the data was last edited (information only).
	AsOf    *time.Time `json:"as_of,omitempty"`
	AgeDays *int64     `json:"age_days,omitempty"`
	// Products: per product the target runs, its complete_through and age.
	Products []ProductFreshness `json:"products"`
	// Stalest is the product whose complete_through is oldest; absent when
	// a product the target runs is not in the data at all.
	Stalest *ProductFreshness `json:"stalest,omitempty"`
}

// Scopes a check may have, which are also the CEL variable of its object.
var Scopes = []string{inventory.KindTarget, inventory.KindHost, inventory.KindVM, inventory.KindNetwork}

// Platforms a check may name; "any" runs on every platform.
var Platforms = []string{inventory.PlatformESXi, inventory.PlatformKVM, inventory.PlatformHyperV, "any"}

// modelSchemas are the CEL schemas of the inventory model and of the values
// the engine derives (patch assessment, advisory age). They are built once;
// the model's Go types do not change at run time.
var modelSchemas = func() *schemaSet {
	ss := newSchemaSet()
	for _, v := range []any{
		inventory.Target{}, inventory.Host{}, inventory.VM{}, inventory.Network{},
		PatchAssessment{}, AdvisoryInfo{},
	} {
		if _, err := ss.add(reflect.TypeOf(v)); err != nil {
			// The model is compiled in; a type the bridge cannot map is a
			// programming error caught by every test run.
			panic("checks: " + err.Error())
		}
	}
	return ss
}()

func modelType(v any) *types.Type { return modelSchemas.byGo[reflect.TypeOf(v)].typ }

var baseEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(cel.OptionalTypes(), ext.Strings())
})

// scopeVars lists the variables each scope's expressions may read. The
// object variables of other scopes are left undeclared so that, say, a vm
// check reading host.* fails at load.
func scopeVars(scope string, paramsType *types.Type) []cel.EnvOption {
	opts := []cel.EnvOption{
		cel.Variable(inventory.KindTarget, modelType(inventory.Target{})),
		cel.Variable("params", paramsType),
		cel.Variable("advisories", modelType(AdvisoryInfo{})),
		cel.Variable("now", types.TimestampType),
	}
	switch scope {
	case inventory.KindTarget:
		opts = append(opts, cel.Variable("patch", modelType(PatchAssessment{})))
	case inventory.KindHost:
		opts = append(opts,
			cel.Variable(inventory.KindHost, modelType(inventory.Host{})),
			cel.Variable("patch", modelType(PatchAssessment{})))
	case inventory.KindVM:
		opts = append(opts,
			cel.Variable(inventory.KindVM, modelType(inventory.VM{})),
			cel.Variable("patch", modelType(PatchAssessment{})))
	case inventory.KindNetwork:
		opts = append(opts, cel.Variable(inventory.KindNetwork, modelType(inventory.Network{})))
	}
	return opts
}

// newScopeEnvs builds one CEL environment per scope for a baseline whose
// params have the given schema.
func newScopeEnvs(params *schema) (map[string]*cel.Env, error) {
	base, err := baseEnv()
	if err != nil {
		return nil, err
	}
	schemas := make(map[string]*schema, len(modelSchemas.byName)+1)
	for k, v := range modelSchemas.byName {
		schemas[k] = v
	}
	schemas[params.name] = params
	prov := &provider{base: base.CELTypeProvider(), schemas: schemas}
	envs := make(map[string]*cel.Env, len(Scopes))
	for _, sc := range Scopes {
		opts := append([]cel.EnvOption{cel.CustomTypeProvider(prov)}, scopeVars(sc, params.typ)...)
		env, err := base.Extend(opts...)
		if err != nil {
			return nil, err
		}
		envs[sc] = env
	}
	return envs, nil
}

// paramsSchema types a baseline's [params] table so params.typo fails to
// compile and params.max_snapshot_age_days is an int.
func paramsSchema(params map[string]any) (*schema, error) {
	const name = typePrefix + "Params"
	s := &schema{name: name, typ: types.NewObjectType(name), fields: map[string]*field{}}
	for k, v := range params {
		t, err := tomlCELType(v)
		if err != nil {
			return nil, fmt.Errorf("params.%s: %w", k, err)
		}
		s.fields[k] = &field{name: k, celType: t}
		s.names = append(s.names, k)
	}
	sort.Strings(s.names)
	return s, nil
}

// tomlCELType is the CEL type of a value decoded from TOML.
func tomlCELType(v any) (*types.Type, error) {
	switch t := v.(type) {
	case string:
		return types.StringType, nil
	case int64:
		return types.IntType, nil
	case float64:
		return types.DoubleType, nil
	case bool:
		return types.BoolType, nil
	case time.Time:
		return types.TimestampType, nil
	case []any:
		var et *types.Type
		for _, e := range t {
			ct, err := tomlCELType(e)
			if err != nil {
				return nil, err
			}
			if et == nil {
				et = ct
			} else if !et.IsExactType(ct) {
				et = types.DynType
			}
		}
		if et == nil {
			et = types.DynType
		}
		return types.NewListType(et), nil
	case map[string]any:
		return types.NewMapType(types.StringType, types.DynType), nil
	}
	return nil, fmt.Errorf("unsupported value %v (%T)", v, v)
}

// assignable reports whether a tailored value v may replace a param of
// type want: the same type, or for lists, elements of the list's type.
func assignable(want *types.Type, v any) bool {
	got, err := tomlCELType(v)
	if err != nil {
		return false
	}
	if want.IsExactType(got) {
		return true
	}
	if want.Kind() != types.ListKind || got.Kind() != types.ListKind {
		return false
	}
	we := want.Parameters()[0]
	if we.Kind() == types.DynKind {
		return true
	}
	for _, e := range v.([]any) {
		et, err := tomlCELType(e)
		if err != nil || !we.IsExactType(et) {
			return false
		}
	}
	return true
}

// paramsVal is the run-time `params` value.
type paramsVal struct {
	s    *schema
	vals map[string]ref.Val
	raw  map[string]any
}

var (
	_ traits.Indexer     = (*paramsVal)(nil)
	_ traits.FieldTester = (*paramsVal)(nil)
)

func newParamsVal(s *schema, params map[string]any) *paramsVal {
	p := &paramsVal{s: s, vals: make(map[string]ref.Val, len(params)), raw: params}
	for k, v := range params {
		p.vals[k] = tomlToVal(v)
	}
	return p
}

// tomlToVal converts a TOML value keeping its declared type (a TOML float
// stays a double, unlike JSON numbers).
func tomlToVal(v any) ref.Val {
	switch t := v.(type) {
	case float64:
		return types.Double(t)
	case []any:
		elems := make([]ref.Val, len(t))
		for i, e := range t {
			elems[i] = tomlToVal(e)
		}
		return types.NewRefValList(types.DefaultTypeAdapter, elems)
	case map[string]any:
		m := make(map[ref.Val]ref.Val, len(t))
		for k, e := range t {
			m[types.String(k)] = tomlToVal(e)
		}
		return types.NewRefValMap(types.DefaultTypeAdapter, m)
	}
	return jsonToVal(v, "params")
}

func (p *paramsVal) ConvertToNative(t reflect.Type) (any, error) {
	if reflect.TypeOf(p.raw).AssignableTo(t) {
		return p.raw, nil
	}
	return nil, fmt.Errorf("params cannot be converted to %s", t)
}

func (p *paramsVal) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return p.s.typ
	}
	return types.NewErr("type conversion error from params to '%s'", t.TypeName())
}

func (p *paramsVal) Equal(other ref.Val) ref.Val { return types.Bool(other == p) }
func (p *paramsVal) Type() ref.Type              { return p.s.typ }
func (p *paramsVal) Value() any                  { return p.raw }

func (p *paramsVal) IsSet(key ref.Val) ref.Val {
	k, ok := key.(types.String)
	if !ok {
		return types.NewErr("no such overload")
	}
	_, found := p.vals[string(k)]
	return types.Bool(found)
}

func (p *paramsVal) Get(key ref.Val) ref.Val {
	k, ok := key.(types.String)
	if !ok {
		return types.NewErr("no such overload")
	}
	if v, found := p.vals[string(k)]; found {
		return v
	}
	return types.NewErr("no such param '%s'", string(k))
}

// renderParam formats a param for `expected` text.
func renderParam(v any) string {
	switch t := v.(type) {
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = renderParam(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case time.Time:
		return t.Format("2006-01-02T15:04:05Z07:00")
	}
	return fmt.Sprint(v)
}
