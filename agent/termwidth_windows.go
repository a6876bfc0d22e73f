//go:build windows

package agent

import (
	"os"

	"golang.org/x/sys/windows"
)

// terminalWidth is the console window's column count, 0 when it cannot be
// told.
func terminalWidth(f *os.File) int {
	var info windows.ConsoleScreenBufferInfo
	if err := windows.GetConsoleScreenBufferInfo(windows.Handle(f.Fd()), &info); err != nil {
		return 0
	}
	return int(info.Window.Right-info.Window.Left) + 1
}
