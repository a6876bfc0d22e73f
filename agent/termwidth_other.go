//go:build !unix && !windows

package agent

import "os"

// terminalWidth cannot be told here; the writer's default applies.
func terminalWidth(*os.File) int { return 0 }
