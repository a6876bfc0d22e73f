//go:build !windows

package hyperv

import (
	"context"
	"errors"
	"testing"

	"github.com/hvaudit/hvaudit/collectors"
)

func TestLocalNeedsWindowsBuild(t *testing.T) {
	for _, uri := range []string{"hyperv://localhost", "hyperv:///"} {
		_, err := New().Fetch(context.Background(), collectors.Target{URI: uri})
		if !errors.Is(err, ErrLocalNeedsWindows) || err.Error() != ErrLocalNeedsWindows.Error() {
			t.Errorf("%s: %v", uri, err)
		}
	}
	if ErrLocalNeedsWindows.Error()[:len("local Hyper-V collection needs the Windows build")] != "local Hyper-V collection needs the Windows build" {
		t.Error("message")
	}
}
