package directory

import (
	"context"
	"slices"
	"strings"

	"github.com/ipnmediation/disputes/platform/fault"
)

// Procedures tells which versions of the procedure casework can follow.
// Casework sets aside a new concern's event when its group names a version
// it does not know, so no case opens; the directory asks before it stores a
// choice, and refuses one that would strand concerns that way.
type Procedures interface {
	// Known returns the names (procedures/{procedure}) of the versions
	// casework knows. An error that a retry can fix is a fault.Unavailable.
	Known(ctx context.Context) ([]string, error)
}

// checkProcedure refuses a procedure casework does not know. An empty one
// is casework's default, which needs no asking.
func (s *Service) checkProcedure(ctx context.Context, procedure string) error {
	if procedure == "" {
		return nil
	}
	known, err := s.Procedures.Known(ctx)
	if err != nil {
		return err
	}
	if slices.Contains(known, procedure) {
		return nil
	}
	var v fault.Violations
	if len(known) == 0 {
		v.Add("group.procedure_settings.procedure", "casework knows no version of the procedure; leave it empty for casework's default")
	} else {
		v.Addf("group.procedure_settings.procedure", "is not a version casework knows; choose one of %s, or leave it empty for casework's default", strings.Join(known, ", "))
	}
	return v.Err()
}
