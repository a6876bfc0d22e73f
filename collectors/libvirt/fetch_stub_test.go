//go:build !(linux && libvirt_dlopen && cgo)

package libvirt

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors"
)

func TestStubSaysNotBuiltIn(t *testing.T) {
	_, err := New().Fetch(context.Background(), collectors.Target{URI: "qemu:///system"})
	if !errors.Is(err, ErrNotBuiltIn) || !strings.Contains(err.Error(), "-tags libvirt_dlopen") {
		t.Errorf("err = %v", err)
	}
	_, err = New().Fetch(context.Background(), collectors.Target{URI: "xen:///system"})
	if err == nil || !strings.Contains(err.Error(), "libvirt driver xen not supported yet") {
		t.Errorf("err = %v", err)
	}
	// Asked up front, through the registry, the collector says the same.
	if err := collectors.Available(New()); !errors.Is(err, ErrNotBuiltIn) {
		t.Errorf("Available = %v", err)
	}
}
