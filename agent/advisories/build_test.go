package advisories

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/hvaudit/hvaudit/configs"
)

var regenerate = flag.Bool("regenerate", false, "rewrite configs/advisories from the recorded feed excerpts")

// The shipped VMware advisory files are exactly what the updater builds
// from the recorded feed excerpts: the data cannot drift from its sources.
// Regenerate with: go test ./agent/advisories -run TestShipped -regenerate
func TestShippedDataIsWhatTheUpdaterBuilds(t *testing.T) {
	set, err := OpenFeeds("testdata/feeds", nil)
	if err != nil {
		t.Fatal(err)
	}
	built, err := Build(set)
	if err != nil {
		t.Fatal(err)
	}
	if len(built) != 5 {
		t.Fatalf("built %d files, want esxi, vcenter, vmware-tools, hyperv and kvm", len(built))
	}
	for name, want := range built {
		if *regenerate {
			if err := os.WriteFile(filepath.Join("..", "..", "configs", "advisories", name), want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := fs.ReadFile(configs.Advisories, "advisories/"+name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("configs/advisories/%s differs from what the updater builds from testdata/feeds; regenerate with -regenerate", name)
		}
	}
}
