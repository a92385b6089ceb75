package grpcapi

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
)

func TestPageTokenRoundTrip(t *testing.T) {
	t.Parallel()
	want := &casefile.Cursor{RegisterTime: time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC), ID: uuid.NewString()}
	got, err := decodePageToken(encodePageToken(want))
	if err != nil || got == nil || !got.RegisterTime.Equal(want.RegisterTime) || got.ID != want.ID {
		t.Errorf("round trip gave %+v, %v; want %+v", got, err, want)
	}
	if encodePageToken(nil) != "" {
		t.Error("no cursor gives a token")
	}
}

func TestBadPageTokens(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, token := range []string{
		"!!",
		enc("no separator"),
		enc("soon." + uuid.NewString()),
		enc("1700000000000000.not-a-uuid"),
		enc("1700000000000000." + "0D8E5A1C-3F0B-4C55-9E5B-6C3A2F1D7E90"),
	} {
		_, err := decodePageToken(token)
		fe, ok := fault.As(err)
		if !ok || fe.Kind != fault.InvalidArgument || len(fe.Violations) != 1 || fe.Violations[0].Field != "page_token" {
			t.Errorf("decodePageToken(%q) = %v; want a violation on page_token", token, err)
		}
	}
}

func FuzzDecodePageToken(f *testing.F) {
	f.Add("")
	f.Add(encodePageToken(&casefile.Cursor{RegisterTime: time.Now(), ID: uuid.NewString()}))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := decodePageToken(token)
		if err != nil || c == nil {
			return
		}
		if again := encodePageToken(c); again != token {
			t.Errorf("accepted %q, which encodes back as %q", token, again)
		}
	})
}
