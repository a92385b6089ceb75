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
			s.RegisterService(&c, "svc", "127.0.0.1:1")
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
	s.RegisterService(&c, "svc", ":1")
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
