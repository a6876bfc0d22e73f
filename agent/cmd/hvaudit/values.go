package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/checks"
)

// A flag whose values form a closed set refuses anything else with exit 2,
// naming the values it takes, and offers them to shell completion: a
// mistyped --platform must never list nothing and exit 0.

// platformSynonyms are the words people use for a platform hvaudit names
// otherwise.
var platformSynonyms = map[string]string{
	"vmware": "esxi", "vsphere": "esxi", "vcenter": "esxi", "vcsa": "esxi",
	"qemu": "kvm", "libvirt": "kvm", "hyper-v": "hyperv", "windows": "hyperv",
}

// oneOf checks a flag value against the values it takes; "" (not given)
// passes. synonyms, when set, turn a near miss into a suggestion.
func oneOf(flag, value string, valid []string, synonyms map[string]string) error {
	if value == "" || slices.Contains(valid, value) {
		return nil
	}
	msg := fmt.Sprintf("--%s %q is not one of %s", flag, value, strings.Join(valid, ", "))
	if s, ok := synonyms[strings.ToLower(value)]; ok && slices.Contains(valid, s) {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	} else if near := nearValue(value, valid); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	return usageError(fmt.Errorf("%s", msg))
}

// oneOfEach checks every value of a repeatable flag.
func oneOfEach(flag string, values, valid []string) error {
	for _, v := range values {
		if err := oneOf(flag, v, valid, nil); err != nil {
			return err
		}
	}
	return nil
}

// nearValue is the one valid value that value differs from only in case,
// or that starts value or is started by it (patching → patch); "" when none
// or several.
func nearValue(value string, valid []string) string {
	lower := strings.ToLower(value)
	var near []string
	for _, v := range valid {
		if v == lower || strings.HasPrefix(lower, v) || strings.HasPrefix(v, lower) {
			near = append(near, v)
		}
	}
	if len(near) == 1 {
		return near[0]
	}
	return ""
}

// completeValues offers a fixed set of values and no file names.
func completeValues(values []string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// mustComplete registers a completion; the flag exists by construction, so
// an error is a programming error.
func mustComplete(cmd *cobra.Command, flag string, f cobra.CompletionFunc) {
	if err := cmd.RegisterFlagCompletionFunc(flag, f); err != nil {
		panic(err)
	}
}

// checkIDCompletion offers the check ids of the baseline the command's
// --baseline flag names (the default baseline when it has none), with
// their titles as descriptions.
func checkIDCompletion(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ref := "builtin:default"
	if f := cmd.Flag("baseline"); f != nil && f.Value.String() != "" {
		ref = f.Value.String()
	}
	b, err := checks.LoadBaseline(ref)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []cobra.Completion
	for _, c := range b.Checks() {
		if strings.HasPrefix(strings.ToUpper(c.ID), strings.ToUpper(toComplete)) {
			out = append(out, cobra.CompletionWithDesc(c.ID, c.Title))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// newStderrLogger logs warnings to the command's standard error, for
// commands without --log-level.
func newStderrLogger(cmd *cobra.Command) zerolog.Logger {
	log, err := agent.NewLogger(cmd.ErrOrStderr(), "warn", "console")
	if err != nil {
		return zerolog.Nop()
	}
	return log
}
