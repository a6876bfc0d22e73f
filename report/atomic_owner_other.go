//go:build !unix

package report

import "os"

// keepOwner: only Unix files carry an owner hvaudit could keep.
func keepOwner(*os.File, string) error { return nil }
