package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver/devcerts"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
)

// withTLS is c with files in the TLS variables the built disputesctl
// reads; empty files switch TLS off, as an empty variable counts as unset.
func (c disputesctl) withTLS(files config.TLS) disputesctl {
	c.env = []string{"TLS_CERT_FILE=" + files.CertFile, "TLS_KEY_FILE=" + files.KeyFile, "TLS_CA_FILE=" + files.CAFile}
	return c
}

// TestOperatorCLIWithMutualTLS drives the built disputesctl against a
// system whose processes require mutual TLS, as `MUTUAL_TLS=1 make run`
// runs it: with the certificate the launcher writes for the CLI it works,
// from the environment (as .data/demo.env sets it) or from flags; without
// one, or with another deployment's, the directory is unreachable for it,
// with the exit status scripts branch on.
func TestOperatorCLIWithMutualTLS(t *testing.T) {
	s := startSystemWith(t, systemOptions{MutualTLS: true})
	ctl := s.buildCLI(t)
	admin := s.Token(demo.Members[0].ID)

	// Where operator/README.md and make run's banner say the files are:
	// devcerts.Write's names in the launcher's TLS folder.
	files := config.TLS{
		CertFile: filepath.Join(s.TLSDir, "disputesctl.pem"),
		KeyFile:  filepath.Join(s.TLSDir, "disputesctl-key.pem"),
		CAFile:   filepath.Join(s.TLSDir, "ca.pem"),
	}
	if got, ok := s.CLICertificate(); !ok || got != files {
		t.Fatalf("CLICertificate() = %+v, %v; want %+v", got, ok, files)
	}

	t.Run("with the launcher's certificate in the environment", func(t *testing.T) {
		r := ctl.withTLS(files).want(t, 0, s.OperatorToken, "members", "list", demo.GroupID)
		for _, m := range demo.Members {
			if !strings.Contains(r.stdout, m.Name) {
				t.Errorf("members list lacks %s:\n%s", m.Name, r.stdout)
			}
		}
		links := decode(t, ctl.withTLS(files).want(t, 0, admin, "--json", "links", "list", demo.GroupID), &directoryv1.ListLinkGroupsResponse{})
		if len(links.GetLinkGroups()) != 2 {
			t.Errorf("links list --json = %v, want the demo group's two link groups", links)
		}
	})

	t.Run("with the launcher's certificate in flags", func(t *testing.T) {
		ctl.want(t, 0, s.OperatorToken, "--tls-cert", files.CertFile, "--tls-key", files.KeyFile, "--tls-ca", files.CAFile, "groups", "show", demo.GroupID)
	})

	t.Run("without TLS settings", func(t *testing.T) {
		r := ctl.want(t, 8, s.OperatorToken, "members", "list", demo.GroupID)
		if !strings.Contains(r.stderr, "if it requires mutual TLS") {
			t.Errorf("stderr %q does not suggest mutual TLS", r.stderr)
		}
	})

	t.Run("with another deployment's certificate and CA", func(t *testing.T) {
		other, err := devcerts.Write(t.TempDir(), "disputesctl")
		if err != nil {
			t.Fatal(err)
		}
		r := ctl.withTLS(other["disputesctl"]).want(t, 8, s.OperatorToken, "members", "list", demo.GroupID)
		if !strings.Contains(r.stderr, "the TLS handshake failed") {
			t.Errorf("stderr %q does not say the TLS handshake failed", r.stderr)
		}
	})

	t.Run("with half the settings", func(t *testing.T) {
		ctl.withTLS(config.TLS{CertFile: files.CertFile}).want(t, 2, s.OperatorToken, "members", "list", demo.GroupID)
	})
}
