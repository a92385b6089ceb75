// Package secure sets the headers every answer of the website carries and
// refuses form posts from other sites.
//
// The pages load nothing from another host and run no inline script or
// style, so the Content-Security-Policy allows this origin alone; no page
// may be framed (clickjacking), and no URL leaks to another site in a
// Referer. Pages are not kept in caches: they show a client's case or a
// secret, or forms that carry a request id of their own; only the hashed
// static files are cached, for a year (the static handler sets that).
package secure

import (
	"fmt"
	"net/http"
	"net/url"
)

// ContentSecurityPolicy is the policy of every answer: this origin's
// styles, images and scripts only, none inline; forms post only here; no
// framing; no <base>.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// PermissionsPolicy denies the powerful features the website never uses, so
// that nothing injected could ask for them. It names only features every
// current browser knows: an unknown one is an error in the browser's
// console.
const PermissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), " +
	"microphone=(), payment=(), usb=()"

// HSTS is the Strict-Transport-Security of a site served over HTTPS: a year,
// for this host only (a group's other subdomains are not ours to bind).
const HSTS = "max-age=31536000"

// Headers sets the security headers on every answer of next, HSTS too when
// the site is served over HTTPS, and Cache-Control: no-store unless the
// handler sets its own.
func Headers(https bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Permissions-Policy", PermissionsPolicy)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if https {
			h.Set("Strict-Transport-Security", HSTS)
		}
		next.ServeHTTP(w, r)
	})
}

// CrossOrigin refuses form posts (and every other unsafe method) that a
// browser sends from another site, with Go's http.CrossOriginProtection
// (Sec-Fetch-Site, else Origin against Host), answering them with refused.
// publicURL's origin is trusted as well, for a reverse proxy in front of the
// site that changes the Host header.
func CrossOrigin(publicURL *url.URL, refused http.Handler, next http.Handler) (http.Handler, error) {
	p := http.NewCrossOriginProtection()
	if publicURL != nil {
		origin := publicURL.Scheme + "://" + publicURL.Host
		if err := p.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("trust %s: %w", origin, err)
		}
	}
	p.SetDenyHandler(refused)
	return p.Handler(next), nil
}
