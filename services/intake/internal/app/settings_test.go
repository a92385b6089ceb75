package app

import (
	"context"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/platform/testenv"
)

// TestRunRefusesUnusableAccessCodeKeys: without usable ACCESS_CODE_KEYS the
// service does not start, and says which setting to fix without showing
// the secret.
func TestRunRefusesUnusableAccessCodeKeys(t *testing.T) {
	t.Parallel()
	k1, err := sealed.NewKeySetting("k1")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := sealed.NewKeySetting("k2")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, keys, id string }{
		{name: "missing"},
		{name: "two keys, none named", keys: k1 + "," + k2},
		{name: "named key not given", keys: k1, id: "k2"},
		{name: "short secret", keys: "k1=c2hvcnQ="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{ClientSessionTTL: 1, Keys: testenv.EncryptionKeys(t), AccessCodeKeys: tt.keys, AccessCodeKeyID: tt.id}
			err := Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), "ACCESS_CODE_KEYS") {
				t.Fatalf("Run = %v; want a refusal naming ACCESS_CODE_KEYS", err)
			}
			if strings.Contains(err.Error(), strings.TrimPrefix(k1, "k1=")) {
				t.Fatalf("the refusal shows the secret: %v", err)
			}
		})
	}
}
