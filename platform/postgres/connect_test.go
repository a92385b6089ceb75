package postgres_test

import (
	"context"
	neturl "net/url"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
)

// TestOpenBoundsConnectAttempts: a pool Open made gives up on a connection
// attempt after DefaultConnectTimeout unless the URL says otherwise, not
// after pgxpool's two minutes, so a request that needs a new connection to
// a database that does not answer fails within seconds.
func TestOpenBoundsConnectAttempts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dbURL := testenv.Database(t)
	tests := []struct {
		name  string
		query string
		want  time.Duration
	}{
		{"default", "", postgres.DefaultConnectTimeout},
		{"the URL's connect_timeout", "connect_timeout=2", 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := neturl.Parse(dbURL)
			if err != nil {
				t.Fatal(err)
			}
			if tt.query != "" {
				u.RawQuery += "&" + tt.query
			}
			migrations := fstest.MapFS{"001_nothing.sql": {Data: []byte("SELECT 1;")}}
			pool, err := postgres.Open(ctx, u.String(), "bounded", migrations)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			if got := pool.Config().ConnConfig.ConnectTimeout; got != tt.want {
				t.Errorf("connect timeout %v, want %v", got, tt.want)
			}
		})
	}
}
