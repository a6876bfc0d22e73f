// Package configs embeds the data hvaudit ships: baselines, advisory data,
// the example agent config and the demo estates (the STIG rule catalog is
// configs/stig, a package of its own). It holds no logic.
package configs

import "embed"

// Baselines holds baselines/*.toml; "builtin:NAME" loads baselines/NAME.toml.
//
//go:embed baselines
var Baselines embed.FS

// Advisories holds advisories/*.toml, the patch-level data.
//
//go:embed advisories
var Advisories embed.FS

// Demo holds the simulated estates `hvaudit demo` audits.
//
//go:embed demo
var Demo embed.FS

// AgentExample is configs/agent.example.toml.
//
//go:embed agent.example.toml
var AgentExample []byte
