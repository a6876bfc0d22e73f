package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The final "hvaudit:" line goes through report.Neutralize: text in an
// error (here a file name; elsewhere what a server said) cannot reach the
// terminal raw or forge a second line.
func TestFinalLineNeutralized(t *testing.T) {
	name := filepath.Join(t.TempDir(), "run\x1b]0;pwned\x07\u202e\u009b2J.json")
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"report", "--from", name}, &stderr); code != 2 {
		t.Fatalf("exit %d", code)
	}
	out := stderr.String()
	if strings.ContainsAny(out, "\x1b\x07\u202e\u009b") || strings.Count(out, "\n") != 1 {
		t.Errorf("final line carries raw controls: %q", out)
	}
	if !strings.Contains(out, `run\x1b]0;pwned\x07\u202e\u009b2J.json`) {
		t.Errorf("final line does not show the name escaped: %q", out)
	}
}
