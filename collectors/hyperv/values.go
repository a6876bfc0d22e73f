package hyperv

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Coercion of WMI values as real captures write them. Each function takes
// the raw value of one property (nil when absent or null) and returns the
// Go value and ok; !ok means "not readable", never a default.

// prop returns an instance's property, matching the name case-insensitively
// as WMI does; ok is false when absent or null.
func prop(in Instance, name string) (any, bool) {
	if v, ok := in[name]; ok {
		return v, v != nil
	}
	for k, v := range in {
		if strings.EqualFold(k, name) {
			return v, v != nil
		}
	}
	return nil, false
}

// hasKey reports whether an instance has the property at all (null or not).
func hasKey(in Instance, name string) bool {
	if _, ok := in[name]; ok {
		return true
	}
	for k := range in {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// unwrap takes PowerShell's ETS wrapper apart: Windows PowerShell 5.1
// serialises some values as {"value": X, …} (dates and enums as
// {"value": …, "DisplayHint": …, "DateTime": …}).
func unwrap(v any) any {
	if m, ok := v.(map[string]any); ok {
		for _, k := range []string{"value", "Value"} {
			if inner, ok := m[k]; ok {
				return inner
			}
		}
	}
	return v
}

// asString reads a string (numbers and booleans are written as text).
func asString(v any) (string, bool) {
	switch t := unwrap(v).(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(t), true
	}
	return "", false
}

// asInt reads an integer: a JSON number, a numeric string (WMI writes
// uint64 as a string), or a Go integer from COM.
func asInt(v any) (int64, bool) {
	switch t := unwrap(v).(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, true
		}
		if f, err := t.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<62 {
			return int64(f), true
		}
	case string:
		s := strings.TrimSpace(t)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, true
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil && u <= math.MaxInt64 {
			return int64(u), true
		}
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<62 {
			return int64(t), true
		}
	case int:
		return int64(t), true
	case int8:
		return int64(t), true
	case int16:
		return int64(t), true
	case int32:
		return int64(t), true
	case int64:
		return t, true
	case uint8:
		return int64(t), true
	case uint16:
		return int64(t), true
	case uint32:
		return int64(t), true
	case uint64:
		if t <= math.MaxInt64 {
			return int64(t), true
		}
	case bool:
		if t {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// asBool reads a boolean: true/false, "True"/"False", 1/0.
func asBool(v any) (bool, bool) {
	switch t := unwrap(v).(type) {
	case bool:
		return t, true
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "1", "yes", "on":
			return true, true
		case "false", "0", "no", "off":
			return false, true
		}
		return false, false
	}
	if i, ok := asInt(v); ok && (i == 0 || i == 1) {
		return i == 1, true
	}
	return false, false
}

// asEnum reads an enumeration given as a number or as one of its names
// (case and spaces ignored), e.g. EnabledState 2 or "Enabled".
func asEnum(v any, names map[string]int64) (int64, bool) {
	if i, ok := asInt(v); ok {
		return i, true
	}
	if s, ok := asString(v); ok {
		key := strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(s))
		if n, ok := names[key]; ok {
			return n, true
		}
	}
	return 0, false
}

// asList reads an array; null is !ok (not read), a scalar is a list of one.
func asList(v any) ([]any, bool) {
	switch t := unwrap(v).(type) {
	case nil:
		return nil, false
	case []any:
		return t, true
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out, true
	default:
		return []any{t}, true
	}
}

// asInts reads an array of integers; an element that is not an integer
// makes the whole value unreadable.
func asInts(v any) ([]int64, bool) {
	list, ok := asList(v)
	if !ok {
		return nil, false
	}
	out := make([]int64, 0, len(list))
	for _, e := range list {
		i, ok := asInt(e)
		if !ok {
			return nil, false
		}
		out = append(out, i)
	}
	return out, true
}

// asStrings reads an array of strings.
func asStrings(v any) ([]string, bool) {
	list, ok := asList(v)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := asString(e)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

var (
	msDate   = regexp.MustCompile(`^\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/$`)
	dmtfDate = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$`)
	isoForms = []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}
)

// cimZero is WMI's zero date, 1601-01-01T00:00:00Z (FILETIME 0), which it
// writes for "never" (TimeOfLastStateChange of a VM never started).
var cimZero = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)

// isCIMZeroDate reports whether v is WMI's zero date in any form a capture
// writes it: "\/Date(-11644473600000)\/" (Windows PowerShell 5.1),
// "1601-01-01T00:00:00Z" or the same instant in the host's zone
// ("1601-01-01T01:00:00+01:00", "1600-12-31T16:00:00-08:00": PowerShell
// 7 writes CIM dates as local time), or DMTF "16010101000000.000000+000".
func isCIMZeroDate(v any) bool {
	t, ok := parseTime(v)
	return ok && t.Equal(cimZero)
}

// asTime reads a date as captures write it: "\/Date(ms)\/" (Windows
// PowerShell 5.1's ConvertTo-Json), ISO-8601 (PowerShell 7), DMTF
// "20240101120000.000000+000" (WMI itself), or a PowerShell
// {"value": …, "DateTime": …} wrapper of any of these. A time without a
// zone is UTC. Dates up to 1601 (WMI's zero date, "never") are !ok:
// callers that give "never" a meaning test isCIMZeroDate.
func asTime(v any) (time.Time, bool) {
	t, ok := parseTime(v)
	if !ok || !t.After(cimZero.AddDate(1, 0, 0)) {
		return time.Time{}, false
	}
	return t, true
}

// parseTime reads any of asTime's forms, zero date included.
func parseTime(v any) (time.Time, bool) {
	s, ok := asString(v)
	if !ok {
		return time.Time{}, false
	}
	s = strings.TrimSpace(s)
	var t time.Time
	switch {
	case msDate.MatchString(s):
		m := msDate.FindStringSubmatch(s)
		ms, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		// The ms are UTC; a "+hhmm" suffix only says which zone to show.
		t = time.UnixMilli(ms).UTC()
	case dmtfDate.MatchString(s):
		m := dmtfDate.FindStringSubmatch(s)
		n := make([]int, 8)
		for i := 1; i <= 7; i++ {
			n[i-1], _ = strconv.Atoi(m[i])
		}
		off, _ := strconv.Atoi(m[9])
		if m[8] == "-" {
			off = -off
		}
		if n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > 31 || n[3] > 23 || n[4] > 59 || n[5] > 60 {
			return time.Time{}, false
		}
		t = time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], n[6]*1000, time.FixedZone("", off*60)).UTC()
	default:
		parsed := false
		for _, f := range isoForms {
			if p, err := time.Parse(f, s); err == nil {
				t, parsed = p.UTC(), true
				break
			}
		}
		if !parsed {
			return time.Time{}, false
		}
	}
	return t, true
}

// usDate and dmyDate are the shapes Win32_QuickFixEngineering.InstalledOn
// takes: its text follows the host's locale ("3/12/2025", "12.03.2025").
var (
	slashDate = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4})$`)
	dotDate   = regexp.MustCompile(`^(\d{1,2})\.(\d{1,2})\.(\d{4})$`)
	hexFT     = regexp.MustCompile(`^[0-9a-fA-F]{15,16}$`)
)

// asHotfixDate reads InstalledOn: any asTime form, M/D/YYYY (en-US, the
// usual form; read as D/M/YYYY when the first number exceeds 12),
// D.M.YYYY, or a hexadecimal FILETIME (older hosts).
func asHotfixDate(v any) (time.Time, bool) {
	if t, ok := asTime(v); ok {
		return t, true
	}
	s, ok := asString(v)
	if !ok {
		return time.Time{}, false
	}
	s = strings.TrimSpace(s)
	mk := func(y, m, d int) (time.Time, bool) {
		if m < 1 || m > 12 || d < 1 || d > 31 {
			return time.Time{}, false
		}
		t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		if t.Day() != d {
			return time.Time{}, false
		}
		return t, true
	}
	atoi := func(x string) int { n, _ := strconv.Atoi(x); return n }
	if m := slashDate.FindStringSubmatch(s); m != nil {
		a, b, y := atoi(m[1]), atoi(m[2]), atoi(m[3])
		if a > 12 {
			return mk(y, b, a)
		}
		return mk(y, a, b)
	}
	if m := dotDate.FindStringSubmatch(s); m != nil {
		return mk(atoi(m[3]), atoi(m[2]), atoi(m[1]))
	}
	if hexFT.MatchString(s) {
		ft, err := strconv.ParseUint(s, 16, 64)
		if err != nil {
			return time.Time{}, false
		}
		const epochDiff = 116444736000000000 // 1601→1970 in 100 ns
		if ft < epochDiff {
			return time.Time{}, false
		}
		return time.Unix(0, int64(ft-epochDiff)*100).UTC(), true
	}
	return time.Time{}, false
}

// objectPath is a WMI object path taken apart:
// \\HOST\root\virtualization\v2:Msvm_VirtualEthernetSwitch.CreationClassName="…",Name="…"
type objectPath struct {
	Class string
	Keys  map[string]string
}

var (
	pathClass = regexp.MustCompile(`(?:^|:)([A-Za-z_][A-Za-z0-9_]*)\.`)
	pathKey   = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// parsePath reads an object path; ok is false when it names no class.
func parsePath(s string) (objectPath, bool) {
	m := pathClass.FindStringSubmatchIndex(s)
	if m == nil {
		return objectPath{}, false
	}
	p := objectPath{Class: s[m[2]:m[3]], Keys: map[string]string{}}
	for _, k := range pathKey.FindAllStringSubmatch(s[m[1]:], -1) {
		v := strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(k[2])
		p.Keys[strings.ToLower(k[1])] = v
	}
	return p, true
}

// idSegments splits an InstanceID ("Microsoft:VMGUID\PORTGUID\C") into
// upper-cased segments after the "Microsoft:" prefix.
func idSegments(id string) []string {
	id = strings.TrimSpace(id)
	if i := strings.Index(id, ":"); i >= 0 && strings.EqualFold(id[:i], "Microsoft") {
		id = id[i+1:]
	}
	id = strings.ReplaceAll(id, "/", `\`)
	var out []string
	for _, s := range strings.Split(id, `\`) {
		if s != "" {
			out = append(out, strings.ToUpper(s))
		}
	}
	return out
}

// normID canonicalises an id for matching (GUIDs upper-case, no braces).
func normID(s string) string {
	return strings.ToUpper(strings.Trim(strings.TrimSpace(s), "{}"))
}
