package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/agent/advisories"
)

func newAdvisoriesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "advisories",
		Short: "Update the patch-level advisory data from the vendors' feeds, or show how current it is",
	}
	cmd.AddCommand(newAdvisoriesUpdateCmd(), newAdvisoriesStatusCmd())
	return cmd
}

// advisoriesDir is --dir, else the config's advisories, else the default.
func advisoriesDir(dir, config string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	if config != "" {
		cfg, err := agent.LoadConfig(config)
		if err != nil {
			return "", err
		}
		if cfg.Advisories != "" {
			return cfg.Advisories, nil
		}
	}
	return advisories.DefaultDir(), nil
}

func newAdvisoriesUpdateCmd() *cobra.Command {
	var from, pubkey, dir, config string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "update --from DIR [--pubkey FILE] [--dir DIR]",
		Short: "Build advisory data from feed files and write it to the advisory directory",
		Long: `Build advisory files from the vendors' feeds, as the vendors publish them,
check that they load, print what changed per product (advisories added,
release lines added, complete_through moved) and write them atomically to
the advisory directory: --dir, else the config's advisories, else
/var/lib/hvaudit/advisories (root) or ~/.local/share/hvaudit/advisories.
audit uses that directory, per product where it is newer than the data
built into hvaudit.

--from DIR is a feed directory fetched elsewhere (air-gapped sites): one
subdirectory per feed (cvelist/: VMware's CVE records, CVE JSON 5, one file
per CVE), feeds.toml (per feed: retrieved, complete_through) and SHA256SUMS
over every file. With --pubkey, SHA256SUMS.sig must be an Ed25519
signature of SHA256SUMS by that key, in the format of signed reports.`,
		Example: `  hvaudit advisories update --from /media/feeds --pubkey feeds.pub
  hvaudit advisories update --from ./feeds --dir ./advisories --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usageError(errors.New("fetching the feeds over the network is not built in yet: fetch them elsewhere and give the directory with --from DIR (see the README, \"Patch data\")"))
			}
			var pub ed25519.PublicKey
			if pubkey != "" {
				var err error
				if pub, err = advisories.LoadPublicKey(pubkey); err != nil {
					return usageError(err)
				}
			}
			target, err := advisoriesDir(dir, config)
			if err != nil {
				return usageError(err)
			}
			set, err := advisories.OpenFeeds(from, pub)
			if err != nil {
				return usageError(err)
			}
			changes, err := advisories.Update(set, target, dryRun)
			if err != nil {
				return usageError(err)
			}
			advisories.PrintChanges(cmd.OutOrStdout(), changes)
			if dryRun {
				fmt.Fprintf(cmd.OutOrStdout(), "dry run: %s not written\n", target)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "written: %s\n", target)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&from, "from", "", "feed directory fetched elsewhere (with SHA256SUMS)")
	fs.StringVar(&pubkey, "pubkey", "", "require SHA256SUMS.sig, an Ed25519 signature by this PEM public key")
	fs.StringVar(&dir, "dir", "", "advisory directory to write (default: the config's advisories, else the system or user data directory)")
	fs.StringVar(&config, "config", "", "agent config whose advisories names the directory")
	fs.BoolVar(&dryRun, "dry-run", false, "print what would change, write nothing")
	return cmd
}

func newAdvisoriesStatusCmd() *cobra.Command {
	var dir, config string
	cmd := &cobra.Command{
		Use:   "status [--dir DIR]",
		Short: "Print each product's complete_through, entry counts and verified entries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target, err := advisoriesDir(dir, config)
			if err != nil {
				return usageError(err)
			}
			a, err := advisories.Effective(target)
			if err != nil {
				return usageError(err)
			}
			advisories.PrintStatus(cmd.OutOrStdout(), a, time.Now())
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "advisory directory (default: the config's advisories, else the system or user data directory)")
	cmd.Flags().StringVar(&config, "config", "", "agent config whose advisories names the directory")
	return cmd
}
