package main

import (
	"context"
	"crypto/ed25519"
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
	var from, pubkey, dir, config, saveFeeds string
	var dryRun bool
	var timeout time.Duration
	src := advisories.DefaultSources()
	cmd := &cobra.Command{
		Use:   "update [--from DIR [--pubkey FILE]] [--dir DIR]",
		Short: "Build advisory data from feed files and write it to the advisory directory",
		Long: `Build advisory files from the vendors' feeds, as the vendors publish them,
check that they load, print what changed per product (advisories added,
release lines added, complete_through moved) and write them atomically to
the advisory directory: --dir, else the config's advisories, else
/var/lib/hvaudit/advisories (root) or ~/.local/share/hvaudit/advisories.
audit uses that directory, per product where it is newer than the data
built into hvaudit.

Without --from it fetches the feeds itself over verified TLS (the base
URL of each is a flag, for mirrors): VMware's and Microsoft's CVE records
listed in hvaudit's feed index (CVEProject/cvelistV5), Microsoft's monthly
CVRF documents, the Debian security tracker's DSA and DLA lists and the
changelogs of Debian's newest qemu and libvirt packages. A failed
download names its URL and writes nothing. --save-feeds keeps the fetched
feed directory, to carry to air-gapped sites.

--from DIR is a feed directory fetched elsewhere (air-gapped sites): one
subdirectory per feed (cvelist/ and msrc-cvelist/: CVE JSON 5 records, one
file per CVE; msrc-cvrf/: CVRF XML, one per month; debian-tracker/: DSA.list
and DLA.list; debian-changelog/<line>/<product>.changelog[.gz]), feeds.toml
(per feed: retrieved, complete_through) and SHA256SUMS over every file.
With --pubkey, SHA256SUMS.sig must be an Ed25519 signature of SHA256SUMS by
that key, in the format of signed reports.`,
		Example: `  hvaudit advisories update
  hvaudit advisories update --save-feeds /media/feeds --dry-run
  hvaudit advisories update --from /media/feeds --pubkey feeds.pub
  hvaudit advisories update --from ./feeds --dir ./advisories --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target, err := advisoriesDir(dir, config)
			if err != nil {
				return usageError(err)
			}
			if from == "" {
				if pubkey != "" {
					return usageError(fmt.Errorf("--pubkey checks a feed directory given with --from"))
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				defer cancel()
				f := &advisories.Fetcher{Sources: src}
				changes, err := advisories.FetchAndUpdate(ctx, f, saveFeeds, target, dryRun)
				if err != nil {
					return &agent.ExitError{Code: agent.ExitIncomplete, Err: err}
				}
				return printUpdate(cmd, changes, target, dryRun)
			}
			var pub ed25519.PublicKey
			if pubkey != "" {
				var err error
				if pub, err = advisories.LoadPublicKey(pubkey); err != nil {
					return usageError(err)
				}
			}
			set, err := advisories.OpenFeeds(from, pub)
			if err != nil {
				return usageError(err)
			}
			changes, err := advisories.Update(set, target, dryRun)
			if err != nil {
				return usageError(err)
			}
			return printUpdate(cmd, changes, target, dryRun)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&from, "from", "", "feed directory fetched elsewhere (with SHA256SUMS); without it the feeds are fetched")
	fs.StringVar(&saveFeeds, "save-feeds", "", "keep the fetched feed directory here (must not exist)")
	fs.DurationVar(&timeout, "timeout", 10*time.Minute, "give up fetching after this long")
	fs.StringVar(&src.CVEList, "cvelist-url", src.CVEList, "base URL of CVEProject/cvelistV5's files")
	fs.StringVar(&src.MSRC, "msrc-url", src.MSRC, "base URL of Microsoft's CVRF documents (<url>/2026-Jun)")
	fs.StringVar(&src.DebianTracker, "debian-tracker-url", src.DebianTracker, "base URL of the Debian security tracker's data (<url>/DSA/list)")
	fs.StringVar(&src.DebianChangelog, "debian-changelog-url", src.DebianChangelog, "base URL of Debian's package changelogs")
	fs.StringVar(&pubkey, "pubkey", "", "require SHA256SUMS.sig, an Ed25519 signature by this PEM public key")
	fs.StringVar(&dir, "dir", "", "advisory directory to write (default: the config's advisories, else the system or user data directory)")
	fs.StringVar(&config, "config", "", "agent config whose advisories names the directory")
	fs.BoolVar(&dryRun, "dry-run", false, "print what would change, write nothing")
	return cmd
}

// printUpdate prints what an update changed and where it went.
func printUpdate(cmd *cobra.Command, changes []advisories.Change, target string, dryRun bool) error {
	advisories.PrintChanges(cmd.OutOrStdout(), changes)
	if dryRun {
		fmt.Fprintf(cmd.OutOrStdout(), "dry run: %s not written\n", target)
	} else {
		fmt.Fprintf(cmd.OutOrStdout(), "written: %s\n", target)
	}
	return nil
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
