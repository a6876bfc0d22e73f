//go:build linux

package libvirt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Netlink audit constants (linux/audit.h).
const (
	netlinkAudit = 9
	auditGet     = 1000
)

// kernelAuditStatus asks the running kernel for its audit status
// (AUDIT_GET over a NETLINK_AUDIT socket), a read-only query that needs
// CAP_AUDIT_CONTROL in the initial PID namespace. A kernel built without
// audit has no such socket: auditing is then off for certain.
func kernelAuditStatus() *KernelAudit {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, netlinkAudit)
	if errors.Is(err, syscall.EPROTONOSUPPORT) {
		zero := int64(0)
		return &KernelAudit{Enabled: &zero}
	}
	if err != nil {
		return &KernelAudit{Error: "opening the kernel audit socket: " + err.Error()}
	}
	defer syscall.Close(fd)
	tv := syscall.NsecToTimeval((2 * time.Second).Nanoseconds())
	_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return &KernelAudit{Error: "binding the kernel audit socket: " + err.Error()}
	}
	req := make([]byte, syscall.NLMSG_HDRLEN)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], auditGet)
	binary.NativeEndian.PutUint16(req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_ACK)
	binary.NativeEndian.PutUint32(req[8:], 1)
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return &KernelAudit{Error: "asking the kernel for its audit status: " + err.Error()}
	}
	buf := make([]byte, 8192)
	for range 4 {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return &KernelAudit{Error: "reading the kernel's audit status: " + err.Error()}
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return &KernelAudit{Error: "the kernel's audit reply does not parse: " + err.Error()}
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case auditGet:
				if len(m.Data) < 8 {
					return &KernelAudit{Error: "the kernel's audit status is too short"}
				}
				// struct audit_status: mask, enabled, failure, pid, …
				v := int64(binary.NativeEndian.Uint32(m.Data[4:8]))
				return &KernelAudit{Enabled: &v}
			case syscall.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := int32(binary.NativeEndian.Uint32(m.Data[0:4])); e != 0 {
						errno := syscall.Errno(-e)
						hint := ""
						if errno == syscall.EPERM {
							hint = " (needs root with CAP_AUDIT_CONTROL, outside a container's PID namespace)"
						}
						return &KernelAudit{Error: fmt.Sprintf("the kernel refused AUDIT_GET: %v%s", errno, hint)}
					}
				}
			}
		}
	}
	return &KernelAudit{Error: "the kernel sent no audit status"}
}
