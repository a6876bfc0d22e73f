package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/agent/sign"
)

// --sign loads its key before anything runs and needs a report file to
// sign; a bad key or nothing to sign is a ConfigError (exit 2).
func TestPrepareSigning(t *testing.T) {
	dir := t.TempDir()
	ok, _, err := sign.GenerateKeyPair(filepath.Join(dir, "sign"))
	if err != nil {
		t.Fatal(err)
	}
	var ce *ConfigError
	if _, err := PrepareSigning(ok, []Output{{Format: "table"}}); !errors.As(err, &ce) || !strings.Contains(err.Error(), "--output") {
		t.Errorf("--sign with only stdout: %v", err)
	}
	if k, err := PrepareSigning(ok, []Output{{Format: "table"}, {Format: "json", Path: "x.json"}}); err != nil || k == nil {
		t.Errorf("--sign with a file: %v", err)
	}
	if err := os.Chmod(ok, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PrepareSigning(ok, []Output{{Format: "json", Path: "x.json"}}); !errors.As(err, &ce) || !strings.Contains(err.Error(), "0600") {
		t.Errorf("--sign with a loose key: %v, want a ConfigError", err)
	}
}
