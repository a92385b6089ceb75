package session

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/sealed"
)

func newKey(t *testing.T, id string) string {
	t.Helper()
	k, err := sealed.NewKeySetting(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newStore(t *testing.T, keys, current string, now time.Time) *Store {
	t.Helper()
	s, err := NewStore(keys, current, false)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return now }
	return s
}

var now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func sample() Session {
	return Session{Token: "ipncs_abc_secret", Case: "groups/riverside/cases/c1", Expiry: now.Add(time.Hour)}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := newStore(t, newKey(t, "k1"), "", now)
	v, err := s.Seal(sample())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, "ipncs_abc_secret") || strings.Contains(v, "riverside") {
		t.Fatalf("cookie value shows what it holds: %q", v)
	}
	got, err := s.Open(v)
	if err != nil {
		t.Fatal(err)
	}
	if got.Token != "ipncs_abc_secret" || got.Case != "groups/riverside/cases/c1" || !got.Expiry.Equal(now.Add(time.Hour)) {
		t.Errorf("Open = %+v", got)
	}
	if got.Group() != "riverside" || got.CaseID() != "c1" {
		t.Errorf("Group, CaseID = %q, %q", got.Group(), got.CaseID())
	}
}

func TestTamper(t *testing.T) {
	t.Parallel()
	s := newStore(t, newKey(t, "k1"), "", now)
	v, err := s.Seal(sample())
	if err != nil {
		t.Fatal(err)
	}
	other := newStore(t, newKey(t, "k1"), "", now)
	otherValue, err := other.Seal(sample())
	if err != nil {
		t.Fatal(err)
	}
	flip := func(v string, i int) string {
		b := []byte(v)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct{ name, value string }{
		{"a character of the ciphertext changed", flip(v, len(v)-10)},
		{"a character of the nonce changed", flip(v, len("enc:v1:k1:")+2)},
		{"truncated", v[:len(v)-4]},
		{"another key of the same id", otherValue},
		{"the key id changed", strings.Replace(v, ":k1:", ":k2:", 1)},
		{"empty", ""},
		{"not a ciphertext", "hello"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := s.Open(tc.value); !errors.Is(err, ErrInvalid) {
				t.Errorf("Open = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	s := newStore(t, newKey(t, "k1"), "", now)
	v, err := s.Seal(sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want error
	}{
		{now.Add(59 * time.Minute), nil},
		{now.Add(time.Hour), ErrExpired},
		{now.Add(2 * time.Hour), ErrExpired},
	} {
		s.now = func() time.Time { return tc.at }
		if _, err := s.Open(v); !errors.Is(err, tc.want) {
			t.Errorf("at %s: Open = %v, want %v", tc.at.Sub(now), err, tc.want)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t, "k1"), newKey(t, "k2")
	before := newStore(t, k1, "", now)
	old, err := before.Seal(sample())
	if err != nil {
		t.Fatal(err)
	}
	// k2 added and made current: the old cookie still opens, new ones are
	// sealed under k2.
	rotated := newStore(t, k1+","+k2, "k2", now)
	if _, err := rotated.Open(old); err != nil {
		t.Errorf("a cookie under the old key, still listed: %v", err)
	}
	fresh, err := rotated.Seal(sample())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fresh, "enc:v1:k2:") {
		t.Errorf("new cookie not sealed under the current key: %q", fresh[:12])
	}
	// k1 removed: its cookies no longer open; k2's do.
	after := newStore(t, k2, "", now)
	if _, err := after.Open(old); !errors.Is(err, ErrInvalid) {
		t.Errorf("a cookie under a removed key: %v, want ErrInvalid", err)
	}
	if _, err := after.Open(fresh); err != nil {
		t.Errorf("a cookie under the current key: %v", err)
	}
}

func TestBadSettings(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t, "k1"), newKey(t, "k2")
	for _, tc := range []struct{ name, keys, current string }{
		{"none", "", ""},
		{"short key", "k1=c2hvcnQ=", ""},
		{"not base64", "k1=!!!", ""},
		{"two keys, no current", k1 + "," + k2, ""},
		{"current not listed", k1, "k9"},
	} {
		if _, err := NewStore(tc.keys, tc.current, false); err == nil {
			t.Errorf("%s: accepted", tc.name)
		} else if strings.Contains(err.Error(), strings.TrimPrefix(k1, "k1=")) {
			t.Errorf("%s: the error quotes the key: %v", tc.name, err)
		}
	}
}

func TestCookie(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		s, err := NewStore(newKey(t, "k1"), "", secure)
		if err != nil {
			t.Fatal(err)
		}
		sess := sample()
		sess.Expiry = time.Now().Add(time.Hour)
		rec := httptest.NewRecorder()
		if err := s.Write(rec, sess); err != nil {
			t.Fatal(err)
		}
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("%d cookies", len(cookies))
		}
		c := cookies[0]
		wantName := "session"
		if secure {
			wantName = "__Host-session"
		}
		if c.Name != wantName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != secure || c.Path != "/" || c.Domain != "" {
			t.Errorf("secure=%v: cookie %+v", secure, c)
		}
		if c.MaxAge <= 3500 || c.MaxAge > 3600 {
			t.Errorf("Max-Age %d, want the hour the session has left", c.MaxAge)
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(c)
		got, err := s.Read(req)
		if err != nil || got.Token != sess.Token {
			t.Errorf("Read = %+v, %v", got, err)
		}
		if _, err := s.Read(httptest.NewRequest(http.MethodGet, "/", nil)); !errors.Is(err, ErrNoSession) {
			t.Errorf("Read without a cookie = %v", err)
		}
		rec = httptest.NewRecorder()
		s.Clear(rec)
		if c := rec.Result().Cookies()[0]; c.Name != wantName || c.MaxAge >= 0 || c.Value != "" {
			t.Errorf("Clear set %+v", c)
		}
	}
}
