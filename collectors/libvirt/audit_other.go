//go:build !linux

package libvirt

// kernelAuditStatus: only a Linux kernel can be asked; elsewhere the host
// root's files decide (see normalize).
func kernelAuditStatus() *KernelAudit {
	return &KernelAudit{Error: "the kernel's audit status can only be asked on Linux"}
}
