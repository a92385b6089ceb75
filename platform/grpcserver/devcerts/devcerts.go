// Package devcerts makes throwaway certificate authorities and certificates
// for mutual TLS in tests and on a developer's machine (make run). Keys are
// generated in memory and written unencrypted; never use them in a
// deployment.
package devcerts

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ipnmediation/disputes/platform/config"
)

// validity is long enough for a make run left on for weeks and short enough
// that a leaked test key soon stops mattering.
const validity = 30 * 24 * time.Hour

// CA is a certificate authority that signs certificates.
type CA struct {
	cert *x509.Certificate
	key  crypto.Signer
	// PEM is the authority's certificate, for a TLS_CA_FILE.
	PEM []byte
}

// NewCA makes a self-signed authority with the given common name.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl, err := template(name)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("sign CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	return &CA{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Issue signs a certificate for name that serves both as server and as
// client certificate, valid for 127.0.0.1, ::1, localhost and name itself.
// It returns the certificate and its private key, PEM-encoded.
func (ca *CA) Issue(name string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key for %s: %w", name, err)
	}
	tmpl, err := template(name)
	if err != nil {
		return nil, nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	// Every process is server to its callers and client of the services it
	// calls, with one certificate.
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tmpl.DNSNames = []string{"localhost", name}
	tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate for %s: %w", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key for %s: %w", name, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// Write makes a fresh authority and a certificate for each name, and writes
// them into dir as ca.pem, <name>.pem and <name>-key.pem. It returns each
// name's settings.
func Write(dir string, names ...string) (map[string]config.TLS, error) {
	ca, err := NewCA("disputes throwaway CA")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certificate folder: %w", err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		return nil, fmt.Errorf("write CA certificate: %w", err)
	}
	out := map[string]config.TLS{}
	for _, name := range names {
		cert, key, err := ca.Issue(name)
		if err != nil {
			return nil, err
		}
		files := config.TLS{CertFile: filepath.Join(dir, name+".pem"), KeyFile: filepath.Join(dir, name+"-key.pem"), CAFile: caFile}
		if err := os.WriteFile(files.CertFile, cert, 0o644); err != nil {
			return nil, fmt.Errorf("write certificate of %s: %w", name, err)
		}
		if err := os.WriteFile(files.KeyFile, key, 0o600); err != nil {
			return nil, fmt.Errorf("write key of %s: %w", name, err)
		}
		out[name] = files
	}
	return out, nil
}

func template(name string) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"IPN disputes (throwaway)"}},
		// An hour back tolerates clocks a little apart.
		NotBefore: now.Add(-time.Hour),
		NotAfter:  now.Add(validity),
	}, nil
}
