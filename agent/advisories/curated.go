package advisories

import (
	"bytes"
	_ "embed"
	"fmt"
	"time"

	"github.com/BurntSushi/toml"
)

//go:embed vmware.toml
var vmwareTOML []byte

// curated is what the VMware records do not carry (vmware.toml).
type curated struct {
	Products []struct {
		Name           string   `toml:"name"`
		File           string   `toml:"file"`
		Title          string   `toml:"title"`
		RecordProducts []string `toml:"record_products"`
	} `toml:"product"`
	ReleaseLines []struct {
		Products []string   `toml:"products"`
		Lines    []string   `toml:"lines"`
		EOLDate  *time.Time `toml:"eol_date"`
		Covered  bool       `toml:"covered"`
	} `toml:"release_line"`
	VMSA []struct {
		Notification string `toml:"notification"`
		ID           string `toml:"id"`
		Source       string `toml:"source"`
	} `toml:"vmsa"`
	VCenterBuilds []vcenterBuild `toml:"vcenter_build"`
}

// vcenterBuild maps a vCenter release name to its API-visible build.
type vcenterBuild struct {
	Release  string `toml:"release"`
	Line     string `toml:"line"`
	Build    string `toml:"build"`
	Source   string `toml:"source"`
	Verified bool   `toml:"verified"`
}

func loadCurated() (*curated, error) {
	var c curated
	md, err := toml.NewDecoder(bytes.NewReader(vmwareTOML)).Decode(&c)
	if err != nil {
		return nil, fmt.Errorf("vmware.toml: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("vmware.toml: unknown key %q", und[0].String())
	}
	return &c, nil
}

func (c *curated) productFor(recordProduct string) string {
	for _, p := range c.Products {
		for _, rp := range p.RecordProducts {
			if rp == recordProduct {
				return p.Name
			}
		}
	}
	return ""
}

func (c *curated) vmsaFor(notification string) string {
	for _, v := range c.VMSA {
		if v.Notification == notification {
			return v.ID
		}
	}
	return "Broadcom-SA-" + notification
}

func (c *curated) vcenterBuild(release string) (vcenterBuild, bool) {
	for _, b := range c.VCenterBuilds {
		if b.Release == release {
			return b, true
		}
	}
	return vcenterBuild{}, false
}

// lineDecl is one release line of one product as vmware.toml declares it.
type lineDecl struct {
	Product, Line string
	EOLDate       *time.Time
	Covered       bool
}

func (c *curated) lines(product string) []lineDecl {
	var out []lineDecl
	for _, rl := range c.ReleaseLines {
		for _, p := range rl.Products {
			if p != product {
				continue
			}
			for _, l := range rl.Lines {
				out = append(out, lineDecl{Product: p, Line: l, EOLDate: rl.EOLDate, Covered: rl.Covered})
			}
		}
	}
	return out
}

// laterVCenterBuild is the earliest release with a known build in line
// that comes after release ("8.0 U3g" after "8.0 U3b").
func (c *curated) laterVCenterBuild(release, line string) (vcenterBuild, bool) {
	var best vcenterBuild
	found := false
	for _, b := range c.VCenterBuilds {
		if b.Line != line || vcenterOrder(b.Release) <= vcenterOrder(release) {
			continue
		}
		if !found || vcenterOrder(b.Release) < vcenterOrder(best.Release) {
			best, found = b, true
		}
	}
	return best, found
}

// vcenterOrder orders update release names of one line: "8.0 U3" < "8.0 U3b".
func vcenterOrder(release string) string {
	m := vcenterUpdate.FindStringSubmatch(release)
	if m == nil {
		return release
	}
	return m[3] + "." + m[4]
}
