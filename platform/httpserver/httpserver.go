// Package httpserver runs an HTTP server for as long as a process lives and
// drains it when the process is told to stop: the lifecycle that the
// gateway and the website share. It needs only the standard library.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve serves server on lis until ctx is done, then lets the requests in
// flight finish for up to drain before closing those still running. It
// returns nil after a clean stop, and the server's error if it stops by
// itself.
func Serve(ctx context.Context, server *http.Server, lis net.Listener, drain time.Duration, log *slog.Logger) error {
	served := make(chan error, 1)
	go func() { served <- server.Serve(lis) }()

	select {
	case err := <-served:
		return fmt.Errorf("http serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("draining HTTP requests", slog.Duration("timeout", drain))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		log.Warn("drain timed out; closing the requests still running")
		if cerr := server.Close(); cerr != nil {
			return fmt.Errorf("http close: %w", cerr)
		}
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http serve: %w", err)
	}
	return nil
}
