package signinlink

import (
	"bytes"
	"context"
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/limit"
)

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, hashA := NewSecret()
	b, _ := NewSecret()
	if !regexp.MustCompile(`^[a-z2-7]{52}$`).MatchString(a) || a == b {
		t.Fatalf("secrets %q and %q; want two different 52-character lowercase base32 strings", a, b)
	}
	if !bytes.Equal(hashA, Hash(" "+a+" ")) || !bytes.Equal(hashA, Hash(string(bytes.ToUpper([]byte(a))))) {
		t.Error("the secret brought back with spaces or in capitals hashes otherwise")
	}
	if bytes.Equal(hashA, Hash(b)) {
		t.Error("two secrets hash alike")
	}
}

func TestWhere(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ addr, want string }{
		{"192.0.2.77", "a network whose addresses start 192.0.2"},
		{"::ffff:198.51.100.9", "a network whose addresses start 198.51.100"},
		{"2001:db8:1:2:3:4:5:6", "the network 2001:db8:1:2::/64"},
	} {
		if got := Where(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Where(%s) = %q; want %q", tt.addr, got, tt.want)
		}
	}
}

func TestPadAnswer(t *testing.T) {
	t.Parallel()
	start := time.Now()
	PadAnswer(context.Background(), start, 30*time.Millisecond)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("answered after %v; want at least 30ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	PadAnswer(ctx, start, time.Hour)
	if d := time.Since(start); d > time.Second {
		t.Errorf("a cancelled request waited %v", d)
	}
}

// counter is a limit.Store that allows max events per key, for ever.
type counter struct{ n map[string]int }

func (c *counter) Take(_ context.Context, bucket, key string, max int, window time.Duration, now time.Time) (bool, time.Time, error) {
	if c.n[bucket+key] >= max {
		return false, now.Add(window), nil
	}
	c.n[bucket+key]++
	return true, time.Time{}, nil
}

func TestAdmit(t *testing.T) {
	t.Parallel()
	store := &counter{n: map[string]int{}}
	perEmail := &limit.Limiter{Store: store, Rule: limit.Rule{Bucket: "email", Max: 2, Window: time.Hour}}
	perAddress := &limit.Limiter{Store: store, Rule: limit.Rule{Bucket: "address", Max: 4, Window: time.Hour}}
	now := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	for i, tt := range []struct {
		email   string
		refused bool
	}{{"a", false}, {"a", false}, {"a", true}, {"b", false}, {"c", true}} { // the third is counted for the address too
		err := Admit(context.Background(), now, Count{perAddress, "192.0.2.0"}, Count{perEmail, tt.email})
		fe, _ := fault.As(err)
		if tt.refused != (err != nil) || tt.refused && (fe == nil || fe.Reason != "TOO_MANY_SIGN_IN_LINKS") {
			t.Errorf("request %d (%s): %v; refused %v wanted", i, tt.email, err, tt.refused)
		}
	}
}
