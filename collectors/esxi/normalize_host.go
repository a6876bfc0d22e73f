package esxi

import (
	"crypto/x509"
	"encoding/pem"
	"sort"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

func (n *normalizer) hosts() {
	n.hostIDs = map[string]string{}
	n.hostMgmtPG = map[string]map[string]bool{}
	n.hostKnown = map[string]bool{}
	n.mgmtDVPG = map[string]bool{}
	n.stdPGs = map[string]*inventory.Network{}
	clusters := map[string]string{}
	for _, c := range n.byType("ClusterComputeResource") {
		clusters[c.ref.Value], _ = c.str("name")
	}
	firewalls := map[string]props{}
	for _, f := range n.byType("HostFirewallSystem") {
		firewalls[f.ref.Value] = f
	}
	standalone := n.inv.Target.Kind != nil && *n.inv.Target.Kind == "esxi"
	for _, p := range n.byType("HostSystem") {
		name, _ := p.str("name")
		h := inventory.Host{ID: p.ref.Value, Name: name}
		if standalone && name != "" {
			h.ID = name // a standalone host's moref ("ha-host") names nothing
		}
		n.hostIDs[p.ref.Value] = h.ID
		miss := func(field, path string) { n.gap(inventory.KindHost, h.ID, field, p.why(path)) }
		if r, ok := p.vals["parent"].(types.ManagedObjectReference); ok && r.Type == "ClusterComputeResource" {
			h.Cluster = inventory.Ptr(clusters[r.Value])
		}
		if s, ok := p.str("runtime.connectionState"); ok {
			h.ConnectionState = inventory.Ptr(s)
		}
		if prod, ok := p.vals["summary.config.product"].(types.AboutInfo); ok {
			h.Patch = &inventory.PatchLevel{Product: "esxi", ReleaseLine: prod.Version, Version: prod.Version, Build: prod.Build, FullName: prod.FullName}
		} else if prod, ok := p.vals["summary.config.product"].(*types.AboutInfo); ok && prod != nil {
			h.Patch = &inventory.PatchLevel{Product: "esxi", ReleaseLine: prod.Version, Version: prod.Version, Build: prod.Build, FullName: prod.FullName}
		} else {
			miss("host.patch", "summary.config.product")
		}
		n.certificate(p, &h)
		if s, ok := p.str("config.lockdownMode"); ok && s != "" {
			h.LockdownMode = inventory.Ptr(s)
		} else {
			miss("host.lockdown_mode", "config.lockdownMode")
		}
		if si, ok := p.vals["config.service"].(types.HostServiceInfo); ok {
			h.Services = map[string]inventory.Service{}
			for _, s := range si.Service {
				h.Services[s.Key] = inventory.Service{Key: s.Key, Label: s.Label, Running: s.Running, Policy: s.Policy}
			}
		} else {
			miss("host.services", "config.service")
		}
		if arr, ok := p.vals["config.option"].(types.ArrayOfOptionValue); ok {
			h.Options = map[string]any{}
			for _, o := range arr.OptionValue {
				ov := o.GetOptionValue()
				h.Options[ov.Key] = optionValue(ov.Value)
			}
		} else {
			miss("host.options", "config.option")
		}
		if dt, ok := p.vals["config.dateTimeInfo"].(types.HostDateTimeInfo); ok && dt.NtpConfig != nil {
			h.NTP = &inventory.NTP{Servers: append([]string{}, dt.NtpConfig.Server...)}
		} else {
			miss("host.ntp", "config.dateTimeInfo.ntpConfig")
		}
		if b, ok := p.vals["capability.uefiSecureBoot"].(bool); ok {
			h.SecureBoot = inventory.Ptr(b)
		} else {
			miss("host.secure_boot", "capability.uefiSecureBoot")
		}
		if r, ok := p.vals["configManager.firewallSystem"].(types.ManagedObjectReference); ok {
			if fw, ok := firewalls[r.Value].vals["firewallInfo"].(types.HostFirewallInfo); ok {
				h.Firewall = &inventory.Firewall{IncomingBlocked: fw.DefaultPolicy.IncomingBlocked != nil && *fw.DefaultPolicy.IncomingBlocked, OpenRulesets: []string{}}
				if fw.DefaultPolicy.IncomingBlocked == nil {
					h.Firewall = nil
					miss("host.firewall", "firewallInfo.defaultPolicy.incomingBlocked")
				} else {
					for _, rs := range fw.Ruleset {
						if rs.Enabled && rs.AllowedHosts != nil && rs.AllowedHosts.AllIp {
							h.Firewall.OpenRulesets = append(h.Firewall.OpenRulesets, rs.Key)
						}
					}
				}
			} else {
				n.gap(inventory.KindHost, h.ID, "host.firewall", "HostFirewallSystem firewallInfo not returned by the server")
			}
		} else {
			miss("host.firewall", "configManager.firewallSystem")
		}
		n.hostNetwork(p, &h)
		n.esxiHost(p, &h)
		n.inv.Hosts = append(n.inv.Hosts, h)
	}
	sort.Slice(n.inv.Hosts, func(a, b int) bool { return n.inv.Hosts[a].Name < n.inv.Hosts[b].Name })
}

// optionValue keeps option values typed; integers of every width become
// int64 so expressions compare with plain literals.
func optionValue(v any) any {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	}
	return v
}

func (n *normalizer) certificate(p props, h *inventory.Host) {
	var raw []byte
	switch v := p.vals["config.certificate"].(type) {
	case []byte:
		raw = v
	case types.ArrayOfByte:
		raw = v.Byte
	}
	if len(raw) == 0 {
		n.gap(inventory.KindHost, h.ID, "host.certificate", p.why("config.certificate"))
		return
	}
	block, _ := pem.Decode(raw)
	der := raw
	if block != nil {
		der = block.Bytes
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		n.gap(inventory.KindHost, h.ID, "host.certificate", "HostSystem config.certificate is not a valid certificate: "+err.Error())
		return
	}
	h.Certificate = &inventory.Certificate{
		Subject: cert.Subject.String(), Issuer: cert.Issuer.String(), IssuerOrganization: firstOf(cert.Issuer.Organization), NotAfter: cert.NotAfter.UTC(),
		DaysLeft: int(cert.NotAfter.Sub(n.at).Hours() / 24),
	}
}

// hostNetwork maps vmknics, their service tags, port groups and switches,
// and derives how management and migration traffic are laid out.
