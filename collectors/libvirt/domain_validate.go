package libvirt

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// ParseDomainXML unmarshals a domain XML and applies the checks libvirt's
// own parser makes (and a few the QEMU driver makes), so a definition
// libvirt would refuse is reported as such instead of being audited as if
// it ran. Errors read "domain NAME: …".
func ParseDomainXML(doc string) (*libvirtxml.Domain, error) {
	var d libvirtxml.Domain
	if err := d.Unmarshal(doc); err != nil {
		return nil, fmt.Errorf("domain XML does not parse: %w", err)
	}
	if err := validateDomain(&d, doc); err != nil {
		name := d.Name
		if name == "" {
			name = "(unnamed)"
		}
		return &d, fmt.Errorf("domain %s: %w", name, err)
	}
	return &d, nil
}

// rawDomain reads what libvirtxml drops but validation needs.
type rawDomain struct {
	Disks []struct {
		Target struct {
			Dev string `xml:"dev,attr"`
		} `xml:"target"`
		Encryption *rawEncryption `xml:"encryption"`
		Source     *struct {
			Encryption *rawEncryption `xml:"encryption"`
		} `xml:"source"`
	} `xml:"devices>disk"`
}

type rawEncryption struct {
	Cipher *struct{} `xml:"cipher"`
	IVGen  *struct{} `xml:"ivgen"`
}

func validateDomain(d *libvirtxml.Domain, doc string) error {
	var errs []error
	if strings.TrimSpace(d.Name) == "" {
		errs = append(errs, errors.New("missing <name>"))
	}
	// Domain-level seclabels: with several, each needs a model (type
	// 'none' may stand without one), and a model appears once.
	if len(d.SecLabel) > 1 {
		seen := map[string]bool{}
		for _, s := range d.SecLabel {
			if s.Model == "" {
				if s.Type != "none" {
					errs = append(errs, errors.New("missing security model when using multiple <seclabel> elements"))
				}
				continue
			}
			if seen[s.Model] {
				errs = append(errs, fmt.Errorf("<seclabel> for model %s given twice", s.Model))
			}
			seen[s.Model] = true
		}
	}
	if d.Devices != nil {
		for _, t := range d.Devices.TPMs {
			if t.Backend == nil {
				errs = append(errs, fmt.Errorf("missing TPM device backend (<tpm model='%s'> has no <backend>)", t.Model))
			}
		}
		errs = append(errs, duplicateHostdevs(d.Devices.Hostdevs)...)
		var raw rawDomain
		if err := xml.Unmarshal([]byte(doc), &raw); err == nil {
			for _, rd := range raw.Disks {
				src := rd.Source != nil && rd.Source.Encryption != nil
				if rd.Encryption != nil && src {
					errs = append(errs, fmt.Errorf("disk %s: <encryption> given both on the disk and on its <source>", rd.Target.Dev))
				}
				for _, e := range []*rawEncryption{rd.Encryption, sourceEnc(rd.Source)} {
					if e != nil && (e.Cipher != nil || e.IVGen != nil) {
						errs = append(errs, fmt.Errorf("disk %s: <cipher>/<ivgen> are not allowed in a domain disk's <encryption> (they belong to the volume)", rd.Target.Dev))
					}
				}
			}
		}
		for _, disk := range d.Devices.Disks {
			errs = append(errs, deviceSecLabelDups(diskName(disk), diskSecLabels(disk))...)
		}
		if d.Type == "kvm" || d.Type == "qemu" {
			errs = append(errs, qemuRules(d)...)
		}
	}
	return errors.Join(errs...)
}

func sourceEnc(s *struct {
	Encryption *rawEncryption `xml:"encryption"`
}) *rawEncryption {
	if s == nil {
		return nil
	}
	return s.Encryption
}

// qemuRules are checks the QEMU driver applies when it validates a domain.
func qemuRules(d *libvirtxml.Domain) []error {
	var errs []error
	for _, disk := range d.Devices.Disks {
		enc := diskEncryption(disk)
		if enc == nil || !strings.HasPrefix(enc.Format, "luks") || enc.Engine == "librbd" {
			continue
		}
		if disk.Driver != nil && disk.Driver.Type != "" && disk.Driver.Type != "raw" && disk.Driver.Type != "qcow2" {
			errs = append(errs, fmt.Errorf("disk %s: LUKS encryption needs a raw or qcow2 image, not %s", diskName(disk), disk.Driver.Type))
		}
	}
	for i, ifc := range d.Devices.Interfaces {
		if ifc.Source != nil && ifc.Source.Hostdev != nil && ifc.FilterRef != nil {
			errs = append(errs, fmt.Errorf("interface %d (type hostdev): an nwfilter (<filterref>) cannot apply to a passed-through NIC", i))
		}
	}
	return errs
}

func diskSecLabels(disk libvirtxml.DomainDisk) []libvirtxml.DomainDeviceSecLabel {
	if disk.Source == nil {
		return nil
	}
	switch s := disk.Source; {
	case s.File != nil:
		return s.File.SecLabel
	case s.Block != nil:
		return s.Block.SecLabel
	case s.Volume != nil:
		return s.Volume.SecLabel
	}
	return nil
}

func deviceSecLabelDups(dev string, labels []libvirtxml.DomainDeviceSecLabel) []error {
	seen := map[string]bool{}
	var errs []error
	for _, l := range labels {
		if seen[l.Model] {
			errs = append(errs, fmt.Errorf("disk %s: <seclabel> for model %q given twice", dev, l.Model))
		}
		seen[l.Model] = true
	}
	return errs
}

// duplicateHostdevs finds host devices assigned twice.
func duplicateHostdevs(hds []libvirtxml.DomainHostdev) []error {
	seen := map[string]bool{}
	var errs []error
	for _, h := range hds {
		typ, src := hostdevSource(h)
		if src == "" {
			continue
		}
		k := typ + " " + src
		if seen[k] {
			errs = append(errs, fmt.Errorf("hostdev %s %s is assigned twice", typ, src))
		}
		seen[k] = true
	}
	return errs
}
