// Package app wires the website together and runs it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/clientaddr"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/httpserver"
	"github.com/ipnmediation/disputes/platform/logging"
	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/pages"
	"github.com/ipnmediation/disputes/web/internal/session"
	"golang.org/x/sync/errgroup"
)

// Name is the website's name in logs.
const Name = "web"

// Config is the website's configuration. It has no database, no event
// stream and no service credentials: it is a client of the REST API.
type Config struct {
	// HTTPAddr is where the website listens.
	HTTPAddr string
	// AdminAddr is where the admin port serves /metrics; empty for none.
	AdminAddr string
	// APIURL is the REST API (the gateway).
	APIURL string
	// APITimeout bounds every call to the API.
	APITimeout time.Duration
	// SessionKeys are the AES-256 keys that seal the session cookie, as
	// id=base64,...; SessionKeyID names the one that seals new cookies.
	SessionKeys, SessionKeyID string
	// PublicURL is the website's own address as people reach it; https
	// makes the cookie Secure and turns HSTS on.
	PublicURL string
	// TrustedProxies are the networks of reverse proxies in front of the
	// website whose X-Forwarded-For is believed.
	TrustedProxies string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// ShutdownTimeout bounds the graceful drain on SIGTERM.
	ShutdownTimeout time.Duration
}

// Register declares the website's settings on set.
func (c *Config) Register(set *config.Set) {
	set.String(&c.HTTPAddr, "http-addr", "HTTP_ADDR", "127.0.0.1:7190", "address the website listens on")
	set.RegisterAdmin(&c.AdminAddr, "127.0.0.1:7290")
	set.String(&c.APIURL, "api-url", "API_URL", "http://127.0.0.1:7180", "base URL of the REST API (the gateway), as this process reaches it")
	set.Duration(&c.APITimeout, "api-timeout", "API_TIMEOUT", 15*time.Second, "longest a call to the API may take before the page says to try again; longer than the gateway's BACKEND_TIMEOUT, so that its answer arrives first")
	set.Secret(&c.SessionKeys, "session-keys", "SESSION_KEYS", "AES-256 keys that seal the session cookie, as id=base64 of 32 random bytes, comma-separated (echo \"k1=$(openssl rand -base64 32)\")")
	set.String(&c.SessionKeyID, "session-key-id", "SESSION_KEY_ID", "", "id of the key in SESSION_KEYS that seals new cookies; may be empty when only one key is given")
	set.String(&c.PublicURL, "public-url", "PUBLIC_URL", "http://127.0.0.1:7190", "the website's address as people reach it (scheme and host, no path); https makes the session cookie Secure and turns HSTS on")
	set.String(&c.TrustedProxies, "trusted-proxies", "TRUSTED_PROXIES", "", "networks of the reverse proxies in front of the website (CIDR prefixes, comma-separated) whose X-Forwarded-For is believed; empty: the peer is the client")
	set.String(&c.LogLevel, "log-level", "LOG_LEVEL", "info", "log level: debug, info, warn or error")
	set.Duration(&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", 10*time.Second, "how long to drain in-flight requests on SIGTERM before closing them")
}

// settings are the checked settings.
type settings struct {
	level    slog.Level
	api      *url.URL
	public   *url.URL
	sessions *session.Store
	proxies  []netip.Prefix
}

// check reads and checks every setting, so that a bad value stops the start
// with a message that names it, never a website that half works.
func (c Config) check() (settings, error) {
	var s settings
	var errs []error
	var err error
	if s.level, err = logging.ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
	}
	if strings.TrimSpace(c.HTTPAddr) == "" {
		errs = append(errs, errors.New("HTTP_ADDR: empty; give host:port, for example 127.0.0.1:7190"))
	}
	if s.api, err = baseURL(c.APIURL, true); err != nil {
		errs = append(errs, fmt.Errorf("API_URL: %w", err))
	}
	if s.public, err = baseURL(c.PublicURL, false); err != nil {
		errs = append(errs, fmt.Errorf("PUBLIC_URL: %w", err))
	}
	if c.APITimeout <= 0 {
		errs = append(errs, fmt.Errorf("API_TIMEOUT: must be positive, not %s", c.APITimeout))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT: must be positive, not %s", c.ShutdownTimeout))
	}
	if s.proxies, err = clientaddr.ParsePrefixes(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %w", err))
	}
	if s.public != nil {
		if s.sessions, err = session.NewStore(c.SessionKeys, c.SessionKeyID, s.public.Scheme == "https"); err != nil {
			errs = append(errs, fmt.Errorf("SESSION_KEYS/SESSION_KEY_ID: %w (make a key with: echo \"k1=$(openssl rand -base64 32)\")", err))
		}
	}
	return s, errors.Join(errs...)
}

// baseURL checks an http(s) URL of a site: scheme and host, and a path only
// where one is allowed (an API behind a path prefix).
func baseURL(s string, pathAllowed bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a URL", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", s)
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%q: want scheme://host[:port] with no user, query or fragment", s)
	case !pathAllowed && strings.Trim(u.Path, "/") != "":
		return nil, fmt.Errorf("%q: want no path: the website serves from its root", s)
	}
	if !pathAllowed {
		u.Path = ""
	}
	return u, nil
}

// publicTTL is how long the website keeps a group and its members' public
// profiles, which every page reads and which change rarely: a change made
// in the directory shows within it. 10 s saves the directory and the
// gateway a call on nearly every page under load, while a person who just
// changed the group's settings waits no longer than a reload or two.
const publicTTL = 10 * time.Second

// Run serves the website until ctx is done, then drains in-flight requests
// for up to ShutdownTimeout. It returns nil after a clean stop.
func Run(ctx context.Context, cfg Config) error {
	s, err := cfg.check()
	if err != nil {
		return err
	}
	log := logging.New(os.Stdout, s.level, Name)
	reg := metrics.NewRegistry()
	stopTracing, err := tracing.Start(ctx, Name, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	client := api.New(s.api, cfg.APITimeout)
	client.CachePublic(publicTTL, nil)
	site, err := pages.New(pages.Options{
		API:            client,
		Sessions:       s.sessions,
		PublicURL:      s.public,
		TrustedProxies: s.proxies,
		Logger:         log,
		Metrics:        reg,
	})
	if err != nil {
		return err
	}
	handler, err := site.Handler()
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	server := newServer(tracing.Handler(handler), cfg.APITimeout, log)
	log.Info("website listening", slog.String("addr", lis.Addr().String()), slog.String("public_url", s.public.String()), slog.String("api_url", s.api.String()))
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return httpserver.Serve(ctx, server, lis, cfg.ShutdownTimeout, log) })
	g.Go(func() error { return metrics.Serve(ctx, cfg.AdminAddr, reg, log) })
	return g.Wait()
}

// readTimeout bounds reading a whole request, the longest form included,
// against slow clients holding connections open.
const readTimeout = 30 * time.Second

// newServer returns the HTTP server for handler. A page may wait on a few
// API calls in turn (the case page reads the case, its history and a
// name, and waits up to 3 s for a case being opened), so the write timeout
// leaves room for them after the read.
func newServer(handler http.Handler, apiTimeout time.Duration, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		WriteTimeout:      readTimeout + 3*apiTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
