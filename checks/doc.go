// Package checks is the engine: it loads baselines, tailoring, waivers and
// advisory data (TOML, or the copies embedded in configs), evaluates the
// baseline's CEL expressions over an inventory, and applies waivers. What it
// produces, findings and their score, is defined in checks/findings. It
// imports collectors/inventory and never an API client.
package checks
