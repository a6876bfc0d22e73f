// Package configs embeds the data hvaudit ships: baselines, advisory data,
// the STIG rule catalog, the example agent config and the demo estates. It holds no logic.
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

// STIG holds stig/*.json, the STIG rule catalog (report/stig reads it;
// stig/sources.toml names where each benchmark comes from).
//
//go:embed stig/*.json
var STIG embed.FS

// Demo holds the simulated estates `hvaudit demo` audits.
//
//go:embed demo
var Demo embed.FS

// AgentExample is configs/agent.example.toml.
//
//go:embed agent.example.toml
var AgentExample []byte
