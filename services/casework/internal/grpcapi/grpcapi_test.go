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
	at := time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC)
	tests := []struct {
		name string
		c    *casefile.Cursor
	}{
		{"newest first", &casefile.Cursor{Order: casefile.NewestFirst, RegisterTime: at, ID: uuid.NewString()}},
		{"soonest deadline first", &casefile.Cursor{Order: casefile.DeadlineFirst, Deadline: at, ID: uuid.NewString()}},
		{"a deadline before 1970", &casefile.Cursor{Order: casefile.DeadlineFirst, Deadline: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), ID: uuid.NewString()}},
	}
	for _, tt := range tests {
		got, err := decodePageToken(encodePageToken(tt.c))
		if err != nil || got == nil || *got != *tt.c {
			t.Errorf("%s: round trip gave %+v, %v; want %+v", tt.name, got, err, tt.c)
		}
	}
	// A token from before there was another order reads as newest first.
	id := uuid.NewString()
	old := base64.RawURLEncoding.EncodeToString([]byte("1772443800123456." + id))
	if got, err := decodePageToken(old); err != nil || *got != (casefile.Cursor{Order: casefile.NewestFirst, RegisterTime: at, ID: id}) {
		t.Errorf("an older token gave %+v, %v", got, err)
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
		enc("d." + uuid.NewString()),
		enc("dd1700000000000000." + uuid.NewString()),
		enc("x1700000000000000." + uuid.NewString()),
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
	f.Add(encodePageToken(&casefile.Cursor{Order: casefile.DeadlineFirst, Deadline: time.Now(), ID: uuid.NewString()}))
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
