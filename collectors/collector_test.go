package collectors

import (
	"context"
	"errors"
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
