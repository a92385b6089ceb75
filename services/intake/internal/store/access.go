package store

import (
	"context"
	"fmt"
	"time"
)

// RecordRead implements concern.Store.
func (s *Store) RecordRead(ctx context.Context, concernID, reader string, at time.Time) error {
	if _, err := s.Pool.Exec(ctx, `INSERT INTO access_log (concern_id, reader, read_time) VALUES ($1, $2, $3)`, concernID, reader, at); err != nil {
		return fmt.Errorf("append to access log: %w", err)
	}
	return nil
}
