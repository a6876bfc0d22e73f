package agent

import (
	"errors"
	"strings"
	"testing"
)

func TestReadRunFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeTemp(t, dir, "bad.json", "{\n  \"schema\": \"hvaudit/report/v1\",\n  oops\n}\n")
	_, err := ReadRunFile(bad)
	var ce *ConfigError
	if err == nil || !strings.Contains(err.Error(), bad+": ") || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bad JSON: %v", err)
	} else if !errors.As(err, &ce) {
		t.Errorf("not a ConfigError: %T", err)
	}
	if _, err := ReadRunFile(dir + "/missing.json"); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing: %v", err)
	}
	snap := writeTemp(t, dir, "snap.json", `{"schema":"hvaudit/snapshot/v1"}`)
	if _, err := ReadRunFile(snap); err == nil || !strings.Contains(err.Error(), "snapshot") {
		t.Errorf("snapshot: %v", err)
	}
}
