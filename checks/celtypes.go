package checks

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// This file bridges the inventory's Go types and CEL.
//
// Statically, a schema is derived from the Go types by reflection over their
// json tags and served to the type checker through a types.Provider, so a
// misspelt field fails when the baseline loads rather than at audit time.
//
// At run time each object is wrapped lazily in an objectVal: a field is
// converted only when an expression selects it, and selecting a nil pointer,
// slice or map yields an AbsentError naming the full path. That is how
// "unknown is not false" is enforced: an absent value is never null and never
// a zero value, and the evaluation error carries the path the engine needs to
// look up the collector's Gap.

// typePrefix namespaces the object types the checker sees ("hvaudit.VM").
const typePrefix = "hvaudit."

// AbsentError is the evaluation error raised when an expression selects a
// value the collector did not read.
type AbsentError struct {
	// Path is the model path, list indices included ("vm.nics[2].on_management_network").
	Path string
}

func (e *AbsentError) Error() string { return e.Path + " was not collected" }

// field describes one json-tagged field of a schema.
type field struct {
	name    string
	index   int
	celType *types.Type
	// nilable fields (pointer, slice, map) are absent when nil.
	nilable bool
}

// schema is the CEL view of one Go struct type.
type schema struct {
	name   string
	typ    *types.Type
	fields map[string]*field
	names  []string
}

// schemaSet holds the schemas reachable from the root types, keyed by CEL
// type name.
type schemaSet struct {
	byName map[string]*schema
	byGo   map[reflect.Type]*schema
}

func newSchemaSet() *schemaSet {
	return &schemaSet{byName: map[string]*schema{}, byGo: map[reflect.Type]*schema{}}
}

var timeType = reflect.TypeOf(time.Time{})

// add registers t (a struct type) and everything it reaches.
func (ss *schemaSet) add(t reflect.Type) (*schema, error) {
	if s, ok := ss.byGo[t]; ok {
		return s, nil
	}
	name := typePrefix + t.Name()
	if _, dup := ss.byName[name]; dup {
		return nil, fmt.Errorf("two model types are both named %s", t.Name())
	}
	s := &schema{name: name, typ: types.NewObjectType(name), fields: map[string]*field{}}
	// Register before descending so recursive types terminate.
	ss.byGo[t], ss.byName[name] = s, s
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		fname, _, _ := strings.Cut(tag, ",")
		if fname == "-" {
			continue
		}
		if fname == "" {
			fname = sf.Name
		}
		ct, err := ss.celType(sf.Type)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), sf.Name, err)
		}
		k := sf.Type.Kind()
		s.fields[fname] = &field{
			name: fname, index: i, celType: ct,
			nilable: k == reflect.Pointer || k == reflect.Slice || k == reflect.Map || k == reflect.Interface,
		}
		s.names = append(s.names, fname)
	}
	sort.Strings(s.names)
	return s, nil
}

// celType maps a Go type to its CEL type (see the package comment).
func (ss *schemaSet) celType(t reflect.Type) (*types.Type, error) {
	if t == timeType {
		return types.TimestampType, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return ss.celType(t.Elem())
	case reflect.Bool:
		return types.BoolType, nil
	case reflect.String:
		return types.StringType, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// All integers are CEL int so baselines compare them with plain
		// literals (policy == 5, not 5u).
		return types.IntType, nil
	case reflect.Float32, reflect.Float64:
		return types.DoubleType, nil
	case reflect.Slice:
		et, err := ss.celType(t.Elem())
		if err != nil {
			return nil, err
		}
		return types.NewListType(et), nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key %s is not a string", t.Key())
		}
		if t.Elem().Kind() == reflect.Interface {
			return types.NewMapType(types.StringType, types.DynType), nil
		}
		et, err := ss.celType(t.Elem())
		if err != nil {
			return nil, err
		}
		return types.NewMapType(types.StringType, et), nil
	case reflect.Interface:
		return types.DynType, nil
	case reflect.Struct:
		s, err := ss.add(t)
		if err != nil {
			return nil, err
		}
		return s.typ, nil
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

// provider serves the schemas to the CEL checker and delegates everything
// else (well-known types, optionals) to the environment's own registry.
type provider struct {
	base    types.Provider
	schemas map[string]*schema
}

func (p *provider) EnumValue(name string) ref.Val { return p.base.EnumValue(name) }

func (p *provider) FindIdent(name string) (ref.Val, bool) { return p.base.FindIdent(name) }

func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if s, ok := p.schemas[name]; ok {
		return types.NewTypeTypeWithParam(s.typ), true
	}
	return p.base.FindStructType(name)
}

func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if s, ok := p.schemas[name]; ok {
		return append([]string(nil), s.names...), true
	}
	return p.base.FindStructFieldNames(name)
}

// FindStructFieldType leaves IsSet and GetFrom nil on purpose: the
// interpreter then selects through the runtime value's Get and IsSet
// (objectVal), which is where absent fields become errors.
func (p *provider) FindStructFieldType(name, fieldName string) (*types.FieldType, bool) {
	if s, ok := p.schemas[name]; ok {
		f, ok := s.fields[fieldName]
		if !ok {
			return nil, false
		}
		return &types.FieldType{Type: f.celType}, true
	}
	return p.base.FindStructFieldType(name, fieldName)
}

func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.schemas[name]; ok {
		return types.NewErr("%s values cannot be constructed in an expression", strings.TrimPrefix(name, typePrefix))
	}
	return p.base.NewValue(name, fields)
}

// objectVal is a struct value of the model as CEL sees it. Fields are
// converted on selection.
type objectVal struct {
	s    *schema
	v    reflect.Value // the struct, addressable or not
	path string
}

var (
	_ traits.Indexer     = (*objectVal)(nil)
	_ traits.FieldTester = (*objectVal)(nil)
)

func newObject(s *schema, v reflect.Value, path string) *objectVal {
	return &objectVal{s: s, v: v, path: path}
}

func (o *objectVal) ConvertToNative(t reflect.Type) (any, error) {
	if o.v.Type().AssignableTo(t) {
		return o.v.Interface(), nil
	}
	if t.Kind() == reflect.Pointer && o.v.Type().AssignableTo(t.Elem()) {
		p := reflect.New(o.v.Type())
		p.Elem().Set(o.v)
		return p.Interface(), nil
	}
	if t.Kind() == reflect.Interface && reflect.TypeOf((*any)(nil)).Elem() == t {
		return o.v.Interface(), nil
	}
	return nil, fmt.Errorf("%s cannot be converted to %s", o.s.name, t)
}

func (o *objectVal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.TypeType:
		return o.s.typ
	}
	if t.TypeName() == o.s.name {
		return o
	}
	return types.NewErr("type conversion error from '%s' to '%s'", o.s.name, t.TypeName())
}

func (o *objectVal) Equal(other ref.Val) ref.Val {
	ov, ok := other.(*objectVal)
	if !ok || ov.s != o.s {
		return types.False
	}
	return types.Bool(reflect.DeepEqual(o.v.Interface(), ov.v.Interface()))
}

func (o *objectVal) Type() ref.Type { return o.s.typ }

func (o *objectVal) Value() any { return o.v.Interface() }

func (o *objectVal) lookup(key ref.Val) (*field, ref.Val) {
	k, ok := key.(types.String)
	if !ok {
		return nil, types.NewErr("no such overload: field name %v is not a string", key)
	}
	f, ok := o.s.fields[string(k)]
	if !ok {
		return nil, types.NewErr("no such field '%s' on %s", string(k), o.path)
	}
	return f, nil
}

// IsSet answers has(x.f): a field is set when it was collected. For the
// object itself having been collected, see Get on the parent.
func (o *objectVal) IsSet(key ref.Val) ref.Val {
	f, errv := o.lookup(key)
	if errv != nil {
		return errv
	}
	fv := o.v.Field(f.index)
	return types.Bool(!(f.nilable && fv.IsNil()))
}

func (o *objectVal) Get(key ref.Val) ref.Val {
	f, errv := o.lookup(key)
	if errv != nil {
		return errv
	}
	fv := o.v.Field(f.index)
	if f.nilable && fv.IsNil() {
		return types.WrapErr(&AbsentError{Path: o.path + "." + f.name})
	}
	return convertValue(fv, o.path+"."+f.name)
}

// convertValue turns a Go value reached from the model into a CEL value;
// path names it for errors further down.
func convertValue(v reflect.Value, path string) ref.Val {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return types.WrapErr(&AbsentError{Path: path})
		}
		v = v.Elem()
	}
	if v.Type() == timeType {
		return types.Timestamp{Time: v.Interface().(time.Time)}
	}
	switch v.Kind() {
	case reflect.Bool:
		return types.Bool(v.Bool())
	case reflect.String:
		return types.String(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return types.Int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u := v.Uint()
		if u > math.MaxInt64 {
			return types.NewErr("%s: %d does not fit a CEL int", path, u)
		}
		return types.Int(int64(u))
	case reflect.Float32, reflect.Float64:
		return types.Double(v.Float())
	case reflect.Slice:
		if v.IsNil() {
			return types.WrapErr(&AbsentError{Path: path})
		}
		if ss, ok := v.Interface().([]string); ok {
			return types.NewStringList(types.DefaultTypeAdapter, ss)
		}
		elems := make([]ref.Val, v.Len())
		for i := range elems {
			elems[i] = convertValue(v.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
		return types.NewRefValList(types.DefaultTypeAdapter, elems)
	case reflect.Map:
		if v.IsNil() {
			return types.WrapErr(&AbsentError{Path: path})
		}
		if sm, ok := v.Interface().(map[string]string); ok {
			return types.NewStringStringMap(types.DefaultTypeAdapter, sm)
		}
		if am, ok := v.Interface().(map[string]any); ok {
			return jsonToVal(am, path)
		}
		m := make(map[ref.Val]ref.Val, v.Len())
		it := v.MapRange()
		for it.Next() {
			k := it.Key().String()
			m[types.String(k)] = convertValue(it.Value(), path+"["+strconv.Quote(k)+"]")
		}
		return types.NewRefValMap(types.DefaultTypeAdapter, m)
	case reflect.Struct:
		if s := modelSchemas.byGo[v.Type()]; s != nil {
			return newObject(s, v, path)
		}
		return types.NewErr("%s: no schema for %s", path, v.Type())
	case reflect.Interface:
		if v.IsNil() {
			return types.NullValue
		}
		return jsonToVal(v.Interface(), path)
	}
	return types.NewErr("%s: unsupported value of type %s", path, v.Type())
}

// jsonToVal converts loosely typed values (advanced settings read as JSON or
// TOML). Whole-number floats become int, because JSON has no integers and a
// setting such as Mem.ShareForceSalting = 2 must compare equal to 2.
func jsonToVal(x any, path string) ref.Val {
	switch t := x.(type) {
	case nil:
		return types.NullValue
	case bool:
		return types.Bool(t)
	case string:
		return types.String(t)
	case int:
		return types.Int(t)
	case int64:
		return types.Int(t)
	case int32:
		return types.Int(t)
	case uint64:
		if t > math.MaxInt64 {
			return types.Double(float64(t))
		}
		return types.Int(int64(t))
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return types.Int(int64(t))
		}
		return types.Double(t)
	case float32:
		return jsonToVal(float64(t), path)
	case time.Time:
		return types.Timestamp{Time: t}
	case []any:
		elems := make([]ref.Val, len(t))
		for i, e := range t {
			elems[i] = jsonToVal(e, path+"["+strconv.Itoa(i)+"]")
		}
		return types.NewRefValList(types.DefaultTypeAdapter, elems)
	case []string:
		return types.NewStringList(types.DefaultTypeAdapter, t)
	case map[string]any:
		m := make(map[ref.Val]ref.Val, len(t))
		for k, e := range t {
			m[types.String(k)] = jsonToVal(e, path+"["+strconv.Quote(k)+"]")
		}
		return types.NewRefValMap(types.DefaultTypeAdapter, m)
	case map[string]string:
		return types.NewStringStringMap(types.DefaultTypeAdapter, t)
	}
	return convertValue(reflect.ValueOf(x), path)
}

// toNative turns an evaluation result into a plain value for evidence
// (JSON-friendly: strings, int64, float64, bool, time.Time, slices, maps).
func toNative(v ref.Val) any {
	switch t := v.(type) {
	case *objectVal:
		return t.Value()
	case types.Timestamp:
		return t.Time
	case types.Duration:
		return t.Duration.String()
	case traits.Lister:
		n := int(t.Size().(types.Int))
		out := make([]any, 0, n)
		for i := 0; i < n; i++ {
			out = append(out, toNative(t.Get(types.Int(i))))
		}
		return out
	case traits.Mapper:
		out := map[string]any{}
		it := t.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			out[fmt.Sprint(toNative(k))] = toNative(t.Get(k))
		}
		return out
	case types.Null:
		return nil
	}
	return v.Value()
}

// absentPath extracts the AbsentError from an evaluation error, if any.
func absentPath(err error) (string, bool) {
	var ae *AbsentError
	if errors.As(err, &ae) {
		return ae.Path, true
	}
	return "", false
}
