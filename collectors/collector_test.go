package collectors

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

type plainCollector struct{ platform string }

func (p plainCollector) Platform() string { return p.platform }
func (plainCollector) Fetch(context.Context, Target) (*Snapshot, error) {
	return nil, errors.New("unused")
}
func (plainCollector) Normalize(*Snapshot) (*inventory.Inventory, error) {
	return nil, errors.New("unused")
}

type missingLibrary struct{ plainCollector }

var errMissing = errors.New("client library not installed")

func (missingLibrary) Available() error { return errMissing }

// Available is optional: a collector that cannot tell is taken as
// available, one that can is asked.
func TestAvailable(t *testing.T) {
	if err := Available(plainCollector{"p"}); err != nil {
		t.Errorf("a collector without Available: %v", err)
	}
	if err := Available(missingLibrary{plainCollector{"m"}}); !errors.Is(err, errMissing) {
		t.Errorf("a collector missing its library: %v", err)
	}
}

// A platform or a scheme registered twice panics, naming it, and leaves
// the registry as it was.
func TestRegisterRefusesDuplicates(t *testing.T) {
	keepRegistry(t)
	Register(plainCollector{"dup-test"}, "dup-a")
	for name, c := range map[string]struct {
		col     Collector
		schemes []string
		want    string
	}{
		"platform": {&plainCollector{"dup-test"}, []string{"dup-b"}, `collectors: platform "dup-test" registered twice (collectors.plainCollector and *collectors.plainCollector)`},
		"scheme":   {plainCollector{"dup-other"}, []string{"dup-c", "DUP-A"}, `collectors: scheme "dup-a" registered twice (dup-test and dup-other)`},
		"in-call":  {plainCollector{"dup-third"}, []string{"dup-d", "dup-d"}, `collectors: scheme "dup-d" registered twice (dup-third and dup-third)`},
	} {
		func() {
			defer func() {
				if r := recover(); r != c.want {
					t.Errorf("%s: recovered %v, want %s", name, r, c.want)
				}
			}()
			Register(c.col, c.schemes...)
		}()
	}
	for _, s := range []string{"dup-b://x", "dup-c://x", "dup-d://x"} {
		if _, err := ForURI(s); err == nil {
			t.Errorf("%s: registered by a refused call", s)
		}
	}
	for _, p := range []string{"dup-other", "dup-third"} {
		if _, err := ForPlatform(p); err == nil {
			t.Errorf("platform %s registered by a refused call", p)
		}
	}
	if c, err := ForURI("dup-a://x"); err != nil || c.Platform() != "dup-test" {
		t.Errorf("dup-a: %v %v", c, err)
	}
	// One collector adding schemes is not a second collector.
	same := &plainCollector{"dup-same"}
	Register(same, "dup-e")
	RegisterNotAudited(same, "dup-f")
	for _, s := range []string{"dup-e://x", "dup-f://x"} {
		if c, err := ForURI(s); err != nil || c != same {
			t.Errorf("%s: %v %v", s, c, err)
		}
	}
}

// keepRegistry puts the registry back as it was when the test ends: other
// tests of this binary list the registered schemes.
func keepRegistry(t *testing.T) {
	regMu.Lock()
	schemes, platforms, notAud := maps.Clone(bySchemes), maps.Clone(byPlatform), maps.Clone(notAudited)
	regMu.Unlock()
	t.Cleanup(func() {
		regMu.Lock()
		bySchemes, byPlatform, notAudited = schemes, platforms, notAud
		regMu.Unlock()
	})
}
