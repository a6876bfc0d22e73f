//go:build unix

package agent

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalWidth is the terminal's column count, 0 when it cannot be told.
func terminalWidth(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
