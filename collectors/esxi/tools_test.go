package esxi

import "testing"

func TestToolsPatchLevel(t *testing.T) {
	cases := []struct {
		in, version, line string
		ok                bool
	}{
		{"12452", "12.5.4", "12", true}, // 12<<10 | 5<<5 | 4
		{"13317", "13.0.5", "13", true}, // 13<<10 | 0<<5 | 5
		{"11365", "11.3.5", "11", true},
		{"0", "", "", false}, // not installed
		{"", "", "", false},
		{"12.5.4", "", "", false},
	}
	for _, c := range cases {
		p, ok := ToolsPatchLevel(c.in)
		if ok != c.ok || ok && (p.Version != c.version || p.ReleaseLine != c.line || p.Product != "vmware-tools" || p.Scheme != "upstream") {
			t.Errorf("ToolsPatchLevel(%q) = %+v, %v", c.in, p, ok)
		}
	}
}
