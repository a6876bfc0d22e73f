package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/agent/sign"
)

// signing is a loaded --sign key; a nil *signing signs nothing.
type signing struct{ key ed25519.PrivateKey }

// newSigning loads the key before anything is collected or written, so a
// bad key stops the command with exit 2 and no output.
func newSigning(keyPath string, outs []agent.Output) (*signing, error) {
	key, err := agent.PrepareSigning(keyPath, outs)
	if err != nil {
		return nil, usageError(err)
	}
	return &signing{key: key}, nil
}

// sign writes FILE.sig beside every report file written. A signature that
// cannot be written is an output failure (exit 4): the audit has run.
func (s *signing) sign(cmd *cobra.Command, files []string) error {
	if s == nil {
		return nil
	}
	sigs, err := sign.Files(files, s.key)
	if err != nil {
		return &agent.ExitError{Code: agent.ExitOutput, Err: fmt.Errorf("%v; signed: %d of %d report files", err, len(sigs), len(files))}
	}
	for _, p := range sigs {
		fmt.Fprintf(cmd.ErrOrStderr(), "signed: %s\n", p)
	}
	return nil
}

func newVerifyCmd() *cobra.Command {
	var pubkey, sigFile string
	cmd := &cobra.Command{
		Use:   "verify REPORT --pubkey FILE",
		Short: "Check a report file against its detached Ed25519 signature (REPORT.sig)",
		Long: `Check that REPORT is byte for byte the file that was signed with --sign.
The signature is read from REPORT.sig (base64, or the raw 64 bytes openssl
writes) unless --signature names another file.

Exit codes: 0 signature OK; 1 the signature does not match (the file was
tampered with, or signed with another key); 2 usage error or unreadable
input (missing file or signature, not a key, not a signature).`,
		Example: `  hvaudit keygen --out audit            # audit.key (0600) and audit.pub
  hvaudit audit --config agent.toml --format json --output vc01.json --sign audit.key
  hvaudit verify vc01.json --pubkey audit.pub`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if pubkey == "" {
				return usageError(errors.New("verify needs --pubkey FILE (a PEM \"PUBLIC KEY\")"))
			}
			pub, err := sign.LoadPublicKey(pubkey)
			if err != nil {
				return usageError(err)
			}
			if err := sign.Verify(args[0], sigFile, pub); err != nil {
				if errors.Is(err, sign.ErrMismatch) {
					return &agent.ExitError{Code: 1, Err: err}
				}
				return usageError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: signature OK (Ed25519 key %s)\n", args[0], sign.Fingerprint(pub))
			return nil
		},
	}
	cmd.Flags().StringVar(&pubkey, "pubkey", "", "Ed25519 public key (PEM \"PUBLIC KEY\", PKIX)")
	cmd.Flags().StringVar(&sigFile, "signature", "", "signature file (default REPORT.sig)")
	return cmd
}

func newKeygenCmd() *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "keygen --out PREFIX",
		Short: "Create an Ed25519 key pair for signed reports: PREFIX.key (0600) and PREFIX.pub",
		Long: `Create an Ed25519 key pair for --sign and verify. Existing files are never
overwritten. The same keys come from openssl:

  openssl genpkey -algorithm ed25519 -out audit.key && chmod 600 audit.key
  openssl pkey -in audit.key -pubout -out audit.pub`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if prefix == "" {
				return usageError(errors.New("keygen needs --out PREFIX"))
			}
			keyPath, pubPath, err := sign.GenerateKeyPair(prefix)
			if err != nil {
				return usageError(err)
			}
			pub, err := sign.LoadPublicKey(pubPath)
			if err != nil {
				return usageError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "private key: %s (keep it secret; mode 0600)\npublic key:  %s (%s)\n", keyPath, pubPath, sign.Fingerprint(pub))
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "out", "", "path prefix of the key files")
	return cmd
}
