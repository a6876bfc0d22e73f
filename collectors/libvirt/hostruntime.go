package libvirt

import (
	"fmt"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// qemuConfStale says why qemu.conf does not tell what the QEMU driver
// runs with: the file changed after the daemon that read it started.
// Running guests are judged by their processes; stopped ones and the
// driver's own settings then stay unknown.
func qemuConfStale(hf *HostFiles, st daemonState) string {
	mt, ok := hf.ModTimes[pathQEMUConf]
	if !ok || st.qemuDriverStart == nil || !changedAfter(mt, *st.qemuDriverStart) {
		return ""
	}
	return fmt.Sprintf("%s changed at %s, after %s (PID %d) started at %s: the daemon runs with the settings it read then, which hvaudit cannot see (restart %s, or audit again once the change is applied)",
		pathQEMUConf, mt.Format(time.RFC3339), st.qemuDriver, st.qemuDriverPID, st.qemuDriverStart.Format(time.RFC3339), st.qemuDriver)
}

// nestedVirt reads whether the loaded KVM vendor module allows nested
// virtualization ("Y"/"1" on, "N"/"0" off). Neither module loaded, on a
// host whose /sys/module was read, means no hardware virtualization and
// so no nesting.
func nestedVirt(hf *HostFiles, g gapper) *bool {
	on, found := false, false
	for _, p := range nestedParams {
		s, ok := hf.Files[p]
		if !ok {
			if _, bad := hf.Errors[p]; bad {
				g.add("host.kvm.nested", fileReason(hf, p))
				return nil
			}
			continue
		}
		found = true
		switch strings.TrimSpace(s) {
		case "Y", "y", "1":
			on = true
		case "N", "n", "0":
		default:
			g.add("host.kvm.nested", fmt.Sprintf("%s: not Y, N, 1 or 0", p))
			return nil
		}
	}
	if !found && !hf.Exists[pathSysModule] {
		g.add("host.kvm.nested", "neither "+strings.Join(nestedParams, " nor ")+" was found and "+pathSysModule+" is not there to tell whether a kvm module is loaded")
		return nil
	}
	return inventory.Ptr(on)
}

// kernelAudit decides whether the kernel keeps audit records: the
// kernel's own answer where it could be asked, else the audit= boot
// parameter and whether auditd runs (it enables auditing when it starts;
// without it and without audit=1 the kernel's audit is off).
func kernelAudit(rt *Runtime, g gapper) (*bool, string) {
	if rt == nil {
		g.add("host.kvm.kernel_audit_enabled", "the host's /proc was not read")
		return nil, ""
	}
	asked := ""
	if ka := rt.KernelAudit; ka != nil {
		if ka.Enabled != nil {
			return inventory.Ptr(*ka.Enabled != 0), fmt.Sprintf("the kernel's AUDIT_GET reply (enabled = %d)", *ka.Enabled)
		}
		asked = "; asking the kernel failed: " + ka.Error
	}
	if rt.KernelCmdline == nil {
		g.add("host.kvm.kernel_audit_enabled", rt.Errors["/proc/cmdline"]+asked)
		return nil, ""
	}
	param := ""
	for _, f := range strings.Fields(*rt.KernelCmdline) {
		if v, ok := strings.CutPrefix(f, "audit="); ok {
			param = v
		}
	}
	switch {
	case param == "0" || param == "off":
		return inventory.Ptr(false), "boot parameter audit=" + param + " (auditing disabled until reboot)" + asked
	case rt.AuditdRunning:
		return inventory.Ptr(true), "auditd runs (it enables auditing when it starts)" + asked
	case param == "1" || param == "on":
		return inventory.Ptr(true), "boot parameter audit=" + param + asked
	}
	return inventory.Ptr(false), "no audit=1 boot parameter and no auditd process: the kernel drops audit records" + asked
}

// migrationTLS reports the migration TLS credentials directory: which
// files are there and whether the private keys are private.
func migrationTLS(hf *HostFiles, q *inventory.QEMUConfig, qemuReason string, g gapper) *inventory.KVMTLSCredentials {
	if q == nil {
		g.add("host.kvm.migration_tls", "the credentials directory is set in qemu.conf, and "+qemuReason)
		return nil
	}
	dir := migrationTLSDir(hf.Files[pathQEMUConf])
	t := &inventory.KVMTLSCredentials{Dir: dir, Present: []string{}, KeysPrivate: true}
	for _, f := range tlsCredentialFiles {
		p := dir + "/" + f
		present, known := hf.Exists[p]
		if !known {
			g.add("host.kvm.migration_tls", fileReason(hf, p))
			return nil
		}
		if !present {
			continue
		}
		t.Present = append(t.Present, f)
		if strings.HasSuffix(f, "-key.pem") && hf.Modes[p]&0o007 != 0 {
			t.KeysPrivate = false
		}
	}
	t.Complete = len(t.Present) == len(tlsCredentialFiles)
	return t
}
