//go:build !testclock

package testclock

import "time"

// Enabled says whether this binary was built with -tags testclock.
const Enabled = false

// Source returns nil: only a binary built with -tags testclock may have its
// clock moved, and this one was not.
func Source() func() time.Time { return nil }
