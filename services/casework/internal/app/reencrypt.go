package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/platform/service"
	"github.com/ipnmediation/disputes/services/casework/internal/store"
	"github.com/ipnmediation/disputes/services/casework/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

const reencryptUsage = "re-encrypt and exit instead of serving: seal the cases still held in plaintext (meeting locations kept in progress included) and rewrap every data key under ENCRYPTION_KEY_ID; " +
	"afterwards the other keys may be removed from ENCRYPTION_KEYS"

// reencrypt is the one-off command behind -reencrypt. It needs only
// PostgreSQL, so it can run beside the serving replicas, which it does not
// disturb: every case is handled in a transaction of its own.
func reencrypt(ctx context.Context, cfg Config, keys *sealed.Keyring) error {
	return service.RunOnce(ctx, Name, cfg.Service, migrations.FS, func(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
		res, err := (&store.Store{Pool: pool, Keys: keys}).Reencrypt(ctx)
		log.Info("re-encrypted", "sealed_cases", res.Sealed, "sealed_meeting_locations", res.Locations,
			"rewrapped_keys", res.Rewrapped, "key_id", keys.Current())
		if err != nil {
			return fmt.Errorf("re-encrypt: %w", err)
		}
		return nil
	})
}
