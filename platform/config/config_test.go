package config

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantAddr string
		wantWait time.Duration
		wantErr  bool
	}{
		{"defaults", nil, nil, "127.0.0.1:1", 10 * time.Second, false},
		{"environment", map[string]string{"GRPC_ADDR": ":2", "SHUTDOWN_TIMEOUT": "3s"}, nil, ":2", 3 * time.Second, false},
		{"flag beats environment", map[string]string{"GRPC_ADDR": ":2"}, []string{"-grpc-addr", ":3"}, ":3", 10 * time.Second, false},
		{"bad environment value", map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, nil, "", 0, true},
		{"unknown flag", nil, []string{"-nope"}, "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c Service
			s := NewSet("svc", func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			s.SetOutput(&bytes.Buffer{})
			s.RegisterService(&c, "svc", "127.0.0.1:1", "")
			err := s.Parse(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Parse error = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if c.GRPCAddr != tc.wantAddr || c.ShutdownTimeout != tc.wantWait || c.DatabaseSchema != "svc" {
				t.Errorf("got %+v", c)
			}
		})
	}
}

func TestReferenceHidesSecrets(t *testing.T) {
	t.Parallel()
	var c Service
	s := NewSet("svc", func(k string) (string, bool) { return "", false })
	s.RegisterService(&c, "svc", ":1", "")
	var out bytes.Buffer
	s.PrintReference(&out)
	for _, want := range []string{"-grpc-addr  (GRPC_ADDR)", "-service-secret  (SERVICE_SECRET)", "DATABASE_URL"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("reference lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParsePairs(t *testing.T) {
	t.Parallel()
	got, err := ParsePairs(" a=x, b=y ,")
	if err != nil || len(got) != 2 || got["a"] != "x" || got["b"] != "y" {
		t.Errorf("ParsePairs = %v, %v", got, err)
	}
	for _, bad := range []string{"a", "=x", "a="} {
		if _, err := ParsePairs(bad); err == nil {
			t.Errorf("ParsePairs(%q) accepted", bad)
		}
	}
}

func FuzzParsePairs(f *testing.F) {
	f.Add("a=x,b=y")
	f.Add(",,=")
	f.Fuzz(func(t *testing.T, s string) {
		pairs, err := ParsePairs(s)
		if err != nil {
			return
		}
		for k, v := range pairs {
			if k == "" || v == "" || strings.Contains(k, ",") {
				t.Errorf("ParsePairs(%q) gave %q=%q", s, k, v)
			}
		}
	})
}

func TestTLSSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    TLS
		enabled bool
		wantErr string // what the error of Enabled names; empty for none
	}{
		{name: "none: plaintext"},
		{
			name:    "all three from the environment",
			env:     map[string]string{"TLS_CERT_FILE": "c.pem", "TLS_KEY_FILE": "k.pem", "TLS_CA_FILE": "ca.pem"},
			want:    TLS{CertFile: "c.pem", KeyFile: "k.pem", CAFile: "ca.pem"},
			enabled: true,
		},
		{
			name:    "flags beat the environment",
			env:     map[string]string{"TLS_CERT_FILE": "c.pem", "TLS_KEY_FILE": "k.pem", "TLS_CA_FILE": "ca.pem"},
			args:    []string{"-tls-cert-file", "/etc/tls/tls.crt", "-tls-key-file", "/etc/tls/tls.key", "-tls-ca-file", "/etc/tls/ca.crt"},
			want:    TLS{CertFile: "/etc/tls/tls.crt", KeyFile: "/etc/tls/tls.key", CAFile: "/etc/tls/ca.crt"},
			enabled: true,
		},
		{
			name:    "a certificate without its key",
			env:     map[string]string{"TLS_CERT_FILE": "c.pem", "TLS_CA_FILE": "ca.pem"},
			want:    TLS{CertFile: "c.pem", CAFile: "ca.pem"},
			wantErr: "TLS_CERT_FILE, TLS_CA_FILE set but TLS_KEY_FILE not",
		},
		{
			name:    "only the CA",
			args:    []string{"-tls-ca-file", "ca.pem"},
			want:    TLS{CAFile: "ca.pem"},
			wantErr: "TLS_CA_FILE set but TLS_CERT_FILE, TLS_KEY_FILE not",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c Service
			s := NewSet("svc", func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			s.RegisterService(&c, "svc", ":1", "")
			if err := s.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if c.TLS != tc.want {
				t.Errorf("TLS = %+v, want %+v", c.TLS, tc.want)
			}
			enabled, err := c.TLS.Enabled()
			if enabled != tc.enabled {
				t.Errorf("Enabled = %v, want %v", enabled, tc.enabled)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Enabled error %v, want one with %q", err, tc.wantErr)
			}
		})
	}
}
