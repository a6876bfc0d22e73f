package agent

import (
	"os"

	"github.com/hvaudit/hvaudit/report"
)

// ReadRunFile reads a JSON report for `report --from`, `diff` and the like.
// Every error is a ConfigError naming the file (and, where the problem is in
// the document, the line).
func ReadRunFile(path string) (*report.Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, configErrorf("reading report: %v", err)
	}
	defer f.Close()
	run, err := report.ReadRun(f)
	if err != nil {
		return nil, configErrorf("%s: %v", path, err)
	}
	return run, nil
}
