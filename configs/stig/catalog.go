// Package stig embeds the STIG rule catalog, *.json here (report/stig reads
// it; gen regenerates it from the sources sources.toml names). It is a
// package of its own so the report writers link the catalog and not the
// baselines and advisory data embedded in configs.
package stig

import "embed"

// Catalog holds *.json, one file per benchmark.
//
//go:embed *.json
var Catalog embed.FS
