//go:build windows

package serve

import "os"

// reloadSignals: Windows has no SIGHUP; restart the service to reload.
func reloadSignals() <-chan os.Signal { return nil }
