package esxi

import (
	"crypto/x509"
	"encoding/pem"
	"sort"
	"strings"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

func (n *normalizer) hosts() {
	n.hostIDs = map[string]string{}
	n.hostAPI = map[string]string{}
	n.hostMgmtPG = map[string]map[string]bool{}
	n.hostKnown = map[string]bool{}
	n.staleHost = map[string]string{}
	n.mgmtDVPG = map[string]bool{}
	n.mgmtUnknownHost = map[string]bool{}
	n.stdPGs = map[string]*portgroup{}
	clusters := map[string]string{}
	for _, c := range n.byType("ClusterComputeResource") {
		clusters[c.ref.Value], _ = c.str("name")
	}
	standalone := n.inv.Target.Kind != nil && *n.inv.Target.Kind == "esxi"
	for _, p := range n.byType("HostSystem") {
		name, _ := p.str("name")
		h := inventory.Host{ID: p.ref.Value, Name: name}
		if standalone && name != "" {
			h.ID = name // a standalone host's moref ("ha-host") names nothing
		}
		n.hostIDs[p.ref.Value] = h.ID
		if r, ok := p.vals["parent"].(types.ManagedObjectReference); ok && r.Type == "ClusterComputeResource" {
			h.Cluster = inventory.Ptr(clusters[r.Value])
		}
		if s, ok := p.str("runtime.connectionState"); ok {
			h.ConnectionState = inventory.Ptr(s)
		}
		api := hostAPIVersion(p)
		if api != "" {
			h.APIVersion = inventory.Ptr(api)
			n.hostAPI[h.ID] = api
		}
		if reason := staleReason(h.ConnectionState); reason != "" {
			// vCenter still serves the configuration it last saw; judging it
			// could pass a host that changed since. Its layout still places
			// its VMs' NICs (their facts are vCenter's own), but nothing of
			// the host itself is judged.
			n.staleHost[h.ID] = reason
			n.gap(inventory.KindHost, h.ID, "host", reason)
			n.hostNetwork(p, &inventory.Host{ID: h.ID, Name: h.Name})
			n.inv.Hosts = append(n.inv.Hosts, h)
			continue
		}
		n.hostConfig(p, &h, api)
		n.hostNetwork(p, &h)
		n.esxiHost(p, &h)
		n.inv.Hosts = append(n.inv.Hosts, h)
	}
	sort.Slice(n.inv.Hosts, func(a, b int) bool { return n.inv.Hosts[a].Name < n.inv.Hosts[b].Name })
}

// staleReason explains why a host's configuration cannot be trusted, ""
// when it can: vCenter answers for a host it has lost touch with from its
// cache (runtime.connectionState notResponding or disconnected).
func staleReason(state *string) string {
	if state == nil {
		return ""
	}
	switch *state {
	case "notResponding", "disconnected":
		return "the host is " + *state + " (HostSystem runtime.connectionState): vCenter's copy of its configuration may be stale, so none of it is judged"
	}
	return ""
}

// hostConfig maps the host's own settings.
func (n *normalizer) hostConfig(p props, h *inventory.Host, api string) {
	miss := func(field, path string) { n.absent(inventory.KindHost, h.ID, field, p, path, api, "the host is at") }
	if prod, ok := p.vals["summary.config.product"].(types.AboutInfo); ok {
		h.Patch = &inventory.PatchLevel{Product: "esxi", ReleaseLine: prod.Version, Version: prod.Version, Build: prod.Build, FullName: prod.FullName}
	} else if prod, ok := p.vals["summary.config.product"].(*types.AboutInfo); ok && prod != nil {
		h.Patch = &inventory.PatchLevel{Product: "esxi", ReleaseLine: prod.Version, Version: prod.Version, Build: prod.Build, FullName: prod.FullName}
	} else {
		miss("host.patch", "summary.config.product")
	}
	n.certificate(p, h)
	if s, ok := p.str("config.lockdownMode"); ok && s != "" {
		h.LockdownMode = inventory.Ptr(s)
	} else {
		miss("host.lockdown_mode", "config.lockdownMode")
	}
	if si, ok := p.vals["config.service"].(types.HostServiceInfo); ok {
		// A service missing from a list that was read is not installed, so
		// not running: checks say so with `in`.
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
		miss("host.ntp", "config.dateTimeInfo")
	}
	if b, ok := p.vals["capability.uefiSecureBoot"].(bool); ok {
		h.SecureBoot = inventory.Ptr(b)
	} else {
		miss("host.secure_boot", "capability.uefiSecureBoot")
	}
	n.firewall(p, h, api)
}

// firewall maps config.firewall. Only inbound exposure counts as open: an
// outbound-only ruleset (dns, ntpClient, syslog, …) accepts no connection.
// From API 8.0.2 a host says which rulesets' allowed addresses the user may
// set (ipListUserConfigurable); the others are the system's and nobody can
// restrict them, so they are listed but not counted. Older hosts do not say,
// and every enabled inbound ruleset counts, as their benchmarks judge it.
func (n *normalizer) firewall(p props, h *inventory.Host, api string) {
	var info *types.HostFirewallInfo
	switch v := p.vals["config.firewall"].(type) {
	case *types.HostFirewallInfo:
		info = v
	case types.HostFirewallInfo:
		info = &v
	}
	if info == nil {
		n.absent(inventory.KindHost, h.ID, "host.firewall", p, "config.firewall", api, "the host is at")
		return
	}
	if info.DefaultPolicy.IncomingBlocked == nil {
		n.gap(inventory.KindHost, h.ID, "host.firewall", "HostSystem config.firewall.defaultPolicy.incomingBlocked not returned by the server")
		return
	}
	fw := &inventory.Firewall{IncomingBlocked: *info.DefaultPolicy.IncomingBlocked, OpenRulesets: []string{}, Rulesets: []inventory.FirewallRuleset{}}
	var unknown []string
	for _, rs := range info.Ruleset {
		r := inventory.FirewallRuleset{Key: rs.Key, Enabled: rs.Enabled}
		for _, rule := range rs.Rule {
			switch rule.Direction {
			case types.HostFirewallRuleDirectionInbound:
				r.Inbound = true
			case types.HostFirewallRuleDirectionOutbound:
				r.Outbound = true
			}
		}
		if rs.IpListUserConfigurable != nil {
			r.UserConfigurable = inventory.Ptr(*rs.IpListUserConfigurable)
		}
		if rs.AllowedHosts != nil {
			r.AllIP = rs.AllowedHosts.AllIp
		} else if rs.Enabled && r.Inbound {
			unknown = append(unknown, rs.Key)
		}
		if rs.Enabled && r.Inbound && r.AllIP && (r.UserConfigurable == nil || *r.UserConfigurable) {
			fw.OpenRulesets = append(fw.OpenRulesets, rs.Key)
		}
		fw.Rulesets = append(fw.Rulesets, r)
	}
	if len(unknown) > 0 {
		// Without allowedHosts nobody can say whether these accept anyone.
		fw.OpenRulesets = nil
		n.gap(inventory.KindHost, h.ID, "host.firewall.open_rulesets", "HostSystem config.firewall: enabled inbound rulesets report no allowed addresses: "+strings.Join(unknown, ", "))
	}
	h.Firewall = fw
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
