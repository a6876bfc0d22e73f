//go:build !windows

package serve

import (
	"context"
	"errors"
	"io"
)

// IsWindowsService is false off Windows.
func IsWindowsService() bool { return false }

// RunWindowsService exists only on Windows.
func RunWindowsService(func(ctx context.Context, logOut io.Writer) error) error {
	return errors.New("not a Windows service")
}
