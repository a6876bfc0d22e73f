//go:build !windows

package serve

import (
	"os"
	"os/signal"
	"syscall"
)

// reloadSignals delivers SIGHUP: reload the config.
func reloadSignals() <-chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch
}
