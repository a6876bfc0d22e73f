package agent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hvaudit/hvaudit/report/reporttest"
)

// Runs and files for the agent's tests.

// The runs and findings come from report/reporttest.
var (
	fnd       = reporttest.Finding
	mkRun     = reporttest.Run
	okTarget  = reporttest.OKTarget
	errTarget = reporttest.ErrTarget
)

func writeTemp(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
