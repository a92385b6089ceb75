package app

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/sealed"
)

func TestSettings(t *testing.T) {
	t.Parallel()
	key, err := sealed.NewKeySetting("k1")
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]string{"SESSION_KEYS": key}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // what the error names; empty: accepted
	}{
		{name: "defaults and a key", env: good},
		{name: "no session key", env: map[string]string{}, wantErr: "SESSION_KEYS/SESSION_KEY_ID: session keys: none given"},
		{name: "a short key", env: map[string]string{"SESSION_KEYS": "k1=c2hvcnQ="}, wantErr: "want 32 random bytes"},
		{name: "API_URL without a scheme", env: map[string]string{"SESSION_KEYS": key, "API_URL": "127.0.0.1:7180"}, wantErr: "API_URL"},
		{name: "API_URL with a query", env: map[string]string{"SESSION_KEYS": key, "API_URL": "http://gw?x=1"}, wantErr: "API_URL"},
		{name: "API_URL under a path", env: map[string]string{"SESSION_KEYS": key, "API_URL": "https://example.org/api"}},
		{name: "PUBLIC_URL with a path", env: map[string]string{"SESSION_KEYS": key, "PUBLIC_URL": "https://example.org/disputes"}, wantErr: "PUBLIC_URL"},
		{name: "PUBLIC_URL ftp", env: map[string]string{"SESSION_KEYS": key, "PUBLIC_URL": "ftp://example.org"}, wantErr: "PUBLIC_URL"},
		{name: "a bad log level", env: map[string]string{"SESSION_KEYS": key, "LOG_LEVEL": "loud"}, wantErr: "LOG_LEVEL"},
		{name: "a bad proxy", env: map[string]string{"SESSION_KEYS": key, "TRUSTED_PROXIES": "10.0.0.0/40"}, wantErr: "TRUSTED_PROXIES"},
		{name: "no API timeout", env: map[string]string{"SESSION_KEYS": key, "API_TIMEOUT": "0s"}, wantErr: "API_TIMEOUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c Config
			set := config.NewSet("web", func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			set.SetOutput(&bytes.Buffer{})
			c.Register(set)
			if err := set.Parse(nil); err != nil {
				t.Fatal(err)
			}
			s, err := c.check()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if s.public.Scheme == "https" {
					t.Error("https by default")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one naming %q", err, tc.wantErr)
			}
			if v := tc.env["SESSION_KEYS"]; v != "" && strings.Contains(err.Error(), strings.TrimPrefix(v, "k1=")) {
				t.Error("the error quotes the key")
			}
		})
	}
}

func TestHTTPSCookies(t *testing.T) {
	t.Parallel()
	key, _ := sealed.NewKeySetting("k1")
	c := Config{HTTPAddr: ":0", APIURL: "http://gateway:7180", PublicURL: "https://disputes.example.org/", SessionKeys: key,
		LogLevel: "info", APITimeout: time.Second, ShutdownTimeout: time.Second}
	s, err := c.check()
	if err != nil {
		t.Fatal(err)
	}
	if s.sessions.CookieName() != "__Host-session" || s.public.String() != "https://disputes.example.org" {
		t.Errorf("cookie %q, public %q", s.sessions.CookieName(), s.public)
	}
}
