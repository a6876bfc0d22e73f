//go:build unix

package report

import (
	"os"
	"syscall"
)

// keepOwner gives the new file the owner and group of the file it
// replaces. Only root can, and only root needs to: a report that an
// operator's account owns, rewritten by a root cron job, would otherwise
// become root's and unwritable for that account. A file that does not
// exist yet stays the writer's.
func keepOwner(tmp *os.File, path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || (st.Uid == 0 && st.Gid == 0) {
		return nil
	}
	return tmp.Chown(int(st.Uid), int(st.Gid))
}
