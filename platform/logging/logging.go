// Package logging builds the structured JSON logger every service uses.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// ParseLevel turns "debug", "info", "warn" or "error" into a slog level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// New returns a JSON logger that writes to w at the given level and names the
// service on every line, and the trace and span ids on every line logged
// with a context that carries a span (see TraceHandler).
func New(w io.Writer, level slog.Level, service string) *slog.Logger {
	h := TraceHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})}
	return slog.New(h).With(slog.String("service", service))
}
