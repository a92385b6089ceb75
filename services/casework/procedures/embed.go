// Package procedures holds the versions of the disputes procedure that
// casework runs, one text file per version (*.txtpb, in the text format of
// ipn.disputes.procedure.v1.Procedure). A group chooses its version in its
// procedure settings; a case keeps the version it was opened under. Edit a
// file only to fix words: a change to the steps is a new version, a new
// file with a new name, so that open cases are not moved under a different
// procedure. A deployment adds versions of its own, without a new build,
// from the folder named by casework's PROCEDURES_DIR; it may not reuse a
// name from here.
package procedures

import "embed"

// FS holds the procedure files.
//
//go:embed *.txtpb
var FS embed.FS

// Default is the version new cases follow when their group has not chosen
// one.
const Default = "procedures/ipn-disputes-v1"
