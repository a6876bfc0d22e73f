package libvirt

import (
	"strings"
	"testing"
)

func TestStripGraphicsPasswords(t *testing.T) {
	doc := `<domain><devices>
<graphics type='vnc' port='5900' passwd='p1' listen='0.0.0.0'/>
<graphics type="spice" passwd="a>b'c" autoport="yes"><listen type='address'/></graphics>
<graphics type='sdl'/>
<disk passwd='not-graphics'/>
</devices></domain>`
	out, had := StripGraphicsPasswords(doc)
	if strings.Contains(out, "p1") || strings.Contains(out, "a>b") || strings.Contains(out, "b'c") {
		t.Errorf("password left:\n%s", out)
	}
	if strings.Join(boolsString(had), ",") != "true,true,false" {
		t.Errorf("had = %v", had)
	}
	if !strings.Contains(out, "not-graphics") || !strings.Contains(out, `autoport="yes"`) {
		t.Errorf("too much removed:\n%s", out)
	}
	if _, err := ParseDomainXML(strings.Replace(out, "<domain>", "<domain><name>x</name>", 1)); err != nil {
		t.Errorf("stripped XML no longer parses: %v", err)
	}
}

func boolsString(b []bool) []string {
	out := make([]string, len(b))
	for i, v := range b {
		out[i] = boolp(&v)
	}
	return out
}
