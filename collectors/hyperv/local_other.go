//go:build !windows

package hyperv

// openLocal: local WMI exists only in the Windows build.
func openLocal() (Source, error) { return nil, ErrLocalNeedsWindows }
