package hyperv

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

func TestParseInstancesShapes(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		fail bool
	}{
		{`[{"A":1},{"A":2}]`, 2, false},
		{`{"A":1}`, 1, false}, // one instance serialised as an object
		{`null`, 0, false},
		{``, 0, false}, // an empty pipeline writes nothing
		{"\xef\xbb\xbf[{\"A\":1}]\r\n", 1, false},
		{`[{"A":1},null]`, 1, false},
		{`[1,2]`, 0, true},
		{`"text"`, 0, true},
		{`[{"A":1}] trailing`, 0, true},
		{`{"A":`, 0, true},
	}
	for _, c := range cases {
		got, err := ParseInstances([]byte(c.in))
		if (err != nil) != c.fail || (!c.fail && len(got) != c.n) {
			t.Errorf("%q: %d instances, err %v", c.in, len(got), err)
		}
	}
	// Through Data, as a snapshot is read.
	var q QueryResult
	if err := json.Unmarshal([]byte(`{"class":"X","instances":{"Name":"a","N":18446744073709551615}}`), &q); err != nil || len(q.Instances) != 1 {
		t.Fatalf("object instances: %v %v", q.Instances, err)
	}
	if n, ok := q.Instances[0]["N"].(json.Number); !ok || n.String() != "18446744073709551615" {
		t.Errorf("uint64 not kept exactly: %#v", q.Instances[0]["N"])
	}
}

func TestAsTimeForms(t *testing.T) {
	want := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, in := range []any{
		"/Date(1704110400000)/",      // Windows PowerShell 5.1 (after JSON decoding of \/Date(…)\/)
		`\/Date(1704110400000)\/`,    // the raw escaped form
		"/Date(1704110400000+0100)/", // with a display offset
		"2024-01-01T12:00:00Z",       // PowerShell 7
		"2024-01-01T13:00:00.0000000+01:00",
		"2024-01-01T12:00:00",       // no zone: UTC
		"20240101120000.000000+000", // DMTF
		"20240101130000.000000+060", // DMTF with an offset in minutes
		map[string]any{"value": "/Date(1704110400000)/", "DisplayHint": json.Number("2"), "DateTime": "Monday, January 1, 2024 12:00:00 PM"},
	} {
		got, ok := asTime(in)
		if !ok || !got.Equal(want) {
			t.Errorf("%v → %v %v", in, got, ok)
		}
	}
	for _, in := range []any{nil, "", "yesterday", "16010101000000.000000+000", "20241301120000.000000+000", json.Number("5")} {
		if got, ok := asTime(in); ok {
			t.Errorf("%v read as %v", in, got)
		}
	}
}

func TestAsHotfixDate(t *testing.T) {
	for in, want := range map[string]string{
		"3/12/2025":                 "2025-03-12",
		"25/12/2024":                "2024-12-25", // first number > 12: day first
		"12.03.2025":                "2025-03-12",
		"2025-03-12T00:00:00":       "2025-03-12",
		"20250312000000.000000+000": "2025-03-12",
		"01db9218883b0000":          "2025-03-11",
	} {
		got, ok := asHotfixDate(in)
		if !ok || got.Format("2006-01-02") != want {
			t.Errorf("%q → %v %v, want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "2/30/2025", "13/13/2025", "soon"} {
		if got, ok := asHotfixDate(in); ok {
			t.Errorf("%q read as %v", in, got)
		}
	}
}

func TestEnumsNumbersOrStrings(t *testing.T) {
	for _, c := range []struct {
		in    any
		names map[string]int64
		want  int64
		ok    bool
	}{
		{json.Number("2"), vmStateNames, 2, true},
		{"2", vmStateNames, 2, true},
		{"Running", vmStateNames, 2, true},
		{"Off", vmStateNames, 3, true},
		{map[string]any{"value": json.Number("32769")}, vmStateNames, 32769, true},
		{"Kerberos", migAuthNames, 1, true},
		{"CredSSP", migAuthNames, 0, true},
		{json.Number("0"), migAuthNames, 0, true},
		{"Trunk", vlanModeNames, 2, true},
		{"Enabled", enabledNames, 2, true},
		{"On Auto Assigned", debugNames, 2, true},
		{"Sideways", vmStateNames, 0, false},
		{nil, vmStateNames, 0, false},
	} {
		got, ok := asEnum(c.in, c.names)
		if ok != c.ok || got != c.want {
			t.Errorf("%v → %d %v", c.in, got, ok)
		}
	}
}

func TestBoolsIntsAndArrays(t *testing.T) {
	for in, want := range map[any]bool{true: true, "True": true, "false": false, json.Number("1"): true, json.Number("0"): false} {
		if got, ok := asBool(in); !ok || got != want {
			t.Errorf("bool %v → %v %v", in, got, ok)
		}
	}
	if _, ok := asBool(json.Number("7")); ok {
		t.Error("7 read as a boolean")
	}
	if _, ok := asInts(nil); ok {
		t.Error("null array read as a value by asInts")
	}
	if got, ok := asInts(json.Number("3")); !ok || len(got) != 1 || got[0] != 3 {
		t.Errorf("scalar as list: %v %v", got, ok)
	}
	if _, ok := asInts([]any{json.Number("1"), "x"}); ok {
		t.Error("mixed array read")
	}
	// A null array property is an empty list; a missing one is unknown.
	m := &mapper{inv: &inventoryForTest}
	r := reader{m: m, object: object{inventory.KindHost, "h"}, class: "Win32_DeviceGuard", in: Instance{"SecurityServicesRunning": nil}}
	if got := r.ints("f", "SecurityServicesRunning"); got == nil || len(got) != 0 {
		t.Errorf("null array → %v", got)
	}
	if got := r.ints("f", "RequiredSecurityProperties"); got != nil || len(m.inv.Gaps) != 1 {
		t.Errorf("missing array → %v gaps %v", got, m.inv.Gaps)
	}
}

func TestParsePathAndIDs(t *testing.T) {
	p, ok := parsePath(`\\HV01\root\virtualization\v2:Msvm_SyntheticEthernetPortSettingData.InstanceID="Microsoft:6A1F\\A100"`)
	if !ok || p.Class != "Msvm_SyntheticEthernetPortSettingData" || p.Keys["instanceid"] != `Microsoft:6A1F\A100` {
		t.Errorf("%+v %v", p, ok)
	}
	p, ok = parsePath(`Msvm_VirtualEthernetSwitch.CreationClassName="Msvm_VirtualEthernetSwitch",Name="0b4a"`)
	if !ok || p.Class != "Msvm_VirtualEthernetSwitch" || p.Keys["name"] != "0b4a" {
		t.Errorf("%+v %v", p, ok)
	}
	if _, ok := parsePath("not a path"); ok {
		t.Error("non-path parsed")
	}
	if s := idSegments(`Microsoft:6a1f\A100\C`); len(s) != 3 || s[0] != "6A1F" || s[2] != "C" {
		t.Errorf("segments %v", s)
	}
	if formatMAC("00155D0A0101") != "00:15:5d:0a:01:01" || formatMAC("bad") != "bad" {
		t.Error("formatMAC")
	}
}
