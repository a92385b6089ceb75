package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"
)

// CORSMaxAge is how long, in seconds, a browser may keep the answer to a
// preflight before it asks again: ten minutes, so that a page does not pay
// a preflight before every call, while a changed setting reaches browsers
// soon.
const CORSMaxAge = 600

// withCORS answers the CORS requests of web pages served from origins, the
// website's addresses, so that such a page may call the API from a browser:
// a preflight from one of them is answered 204 with the methods and headers
// the API takes, and every answer to them names the origin in
// Access-Control-Allow-Origin and lets the page read Retry-After. A request
// from any other origin gets no CORS header, so the browser keeps its page
// from reading the answer (and from sending a JSON body at all, which needs
// a preflight). No credentials mode: callers send their token in the
// Authorization header, and the API sets no cookies.
//
// With no origins there is no CORS at all: next is returned as it is, and an
// OPTIONS request reaches the mux like any other.
func withCORS(next http.Handler, origins []string) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
		// Content-Type for the JSON bodies, Authorization for the token,
		// Grpc-Timeout for a client's own deadline (see BACKEND_TIMEOUT).
		AllowedHeaders: []string{"Authorization", "Content-Type", "Grpc-Timeout"},
		// A page told to come back later must be able to read when.
		ExposedHeaders:   []string{"Retry-After"},
		MaxAge:           CORSMaxAge,
		AllowCredentials: false,
	}).Handler(next)
}

// ParseOrigins reads a comma-separated list of web origins, such as
// CORS_ALLOWED_ORIGINS: each one a scheme (http or https), a host and an
// optional port, exactly as a browser sends it in the Origin header
// (`https://riverside.example.org`, `http://localhost:5173`). Entries are
// trimmed and empty ones skipped. Anything else is an error that names the
// entry and says what is wrong with it: a path (a trailing slash included,
// which would never match), a query, credentials, a wildcard (every origin
// must be named), or the scheme's default port (which browsers leave out).
// Origins are compared without regard to case.
func ParseOrigins(list string) ([]string, error) {
	var out []string
	for _, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		origin, err := parseOrigin(entry)
		if err != nil {
			return nil, fmt.Errorf("%q is not a web origin: %w; write each as scheme://host[:port], for example https://riverside.example.org", entry, err)
		}
		out = append(out, origin)
	}
	return out, nil
}

func parseOrigin(entry string) (string, error) {
	if strings.Contains(entry, "*") {
		return "", fmt.Errorf("wildcards are not allowed: name each origin")
	}
	u, err := url.Parse(entry)
	if err != nil {
		return "", fmt.Errorf("it cannot be read as a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("the scheme must be http or https")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("it has no host")
	case u.User != nil:
		return "", fmt.Errorf("it has credentials")
	case u.Path != "" || u.RawPath != "":
		return "", fmt.Errorf("it has a path (a trailing slash too): an origin ends after the host or port")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(entry, "#"):
		return "", fmt.Errorf("it has a query or a fragment")
	case u.Port() == "" && strings.HasSuffix(u.Host, ":"):
		return "", fmt.Errorf("it has an empty port")
	case u.Scheme == "https" && u.Port() == "443", u.Scheme == "http" && u.Port() == "80":
		return "", fmt.Errorf("browsers leave out the default port %s: leave it out too", u.Port())
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}
