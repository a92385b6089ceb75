package grpcapi

import (
	"testing"
	"time"

	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
)

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	c := &dispatch.Cursor{CreateTime: time.Date(2026, 3, 2, 10, 0, 0, 123456000, time.UTC), ID: "0b6f3f0e-3c1a-4f43-9d2a-6d0e3c1b2a11"}
	got, ok := parseToken(token(c))
	if !ok || !got.CreateTime.Equal(c.CreateTime) || got.ID != c.ID {
		t.Fatalf("parseToken(token(%v)) = %v, %v", c, got, ok)
	}
	if token(nil) != "" {
		t.Error("the last page has a token")
	}
}

func TestPageOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		size     int32
		token    string
		wantSize int
		wantErr  bool
	}{
		{"default", 0, "", 50, false},
		{"given", 7, "", 7, false},
		{"capped", 500, "", 200, false},
		{"negative", -1, "", 0, true},
		{"not base64", 0, "!!", 0, true},
		{"no separator", 0, "aGVsbG8", 0, true},
		{"bad id", 0, token(&dispatch.Cursor{CreateTime: time.Now(), ID: "x"}), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := pageOf(tt.size, tt.token)
			if (err != nil) != tt.wantErr {
				t.Fatalf("pageOf error = %v; want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && p.Size != tt.wantSize {
				t.Errorf("size %d; want %d", p.Size, tt.wantSize)
			}
		})
	}
}
