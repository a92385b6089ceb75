package casefile

import (
	"context"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
)

// AccessKind is the kind of confidential material a read disclosed. Its value
// is what the store keeps.
type AccessKind string

// The kinds of confidential material.
const (
	AccessConcern  AccessKind = "CONCERN"
	AccessContact  AccessKind = "CLIENT_CONTACT"
	AccessDocument AccessKind = "DOCUMENT"
	AccessMessages AccessKind = "MESSAGES"
	AccessNotes    AccessKind = "NOTES"
)

// AccessRecord is one read of a case's confidential material: who, in which
// role, what and when. Records are appended, never changed.
type AccessRecord struct {
	// Seq numbers the case's records from 1; the store assigns it.
	Seq        int64
	CaseID     string
	Reader     string
	ReaderRole Role
	// Resource is what was read, by resource name.
	Resource string
	Kind     AccessKind
	Time     time.Time
}

// recordAccess appends what cl is about to be shown. It runs before the
// material is returned, so that nothing is disclosed without a record: a
// failure to record refuses the read.
func (s *Service) recordAccess(ctx context.Context, c Case, cl caller, reads ...AccessRecord) error {
	if len(reads) == 0 {
		return nil
	}
	role := readerRole(cl)
	now := dbTime(s.now())
	for i := range reads {
		reads[i].CaseID, reads[i].Reader, reads[i].ReaderRole, reads[i].Time = c.ID, cl.actor(), role, now
	}
	if err := s.Store.RecordAccess(ctx, reads); err != nil {
		return fmt.Errorf("record access to case %s: %w", c.Name(), err)
	}
	return nil
}

// readerRole is the most specific role the caller holds, for the log.
func readerRole(cl caller) Role {
	for _, r := range []Role{RoleClient, RoleSPC, RoleTherapist, RoleSPT, RoleLP, RoleNominee, RoleLinkGroup, RoleMember} {
		if cl.has(r) {
			return r
		}
	}
	return 0
}

// AccessLog returns a page of the case's access log, oldest first, from
// seq after+1, to the case's SPC or a group admin; next is 0 on the last
// page.
func (s *Service) AccessLog(ctx context.Context, name string, after int64, size int) (records []AccessRecord, next int64, err error) {
	c, cl, err := s.load(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	if !mayReadAccessLog(c, cl) {
		return nil, 0, notAllowed("SPC_OR_ADMIN_ONLY", "only the case's SPC and the group's admins read its access log")
	}
	if size, err = pageSize(size, defaultLogPage, maxLogPage); err != nil {
		return nil, 0, err
	}
	records, err = s.Store.AccessLog(ctx, c.ID, after, size+1)
	if err != nil {
		return nil, 0, fmt.Errorf("read access log: %w", err)
	}
	if len(records) > size {
		records = records[:size]
		next = records[size-1].Seq
	}
	return records, next, nil
}

// mayReadAccessLog reports whether cl reads c's access log: the case's SPC
// and the group's admins.
func mayReadAccessLog(c Case, cl caller) bool {
	return cl.has(RoleSPC) || cl.principal.IsGroupAdmin(c.Group)
}

// AccessLogEntry returns the record groups/{g}/cases/{c}/accessLogEntries/{n}
// to those who may read the access log, as AccessLog shows it; to anyone
// else, and for a record that does not exist, it is
// ACCESS_LOG_ENTRY_NOT_FOUND. Reading the log is not itself logged.
func (s *Service) AccessLogEntry(ctx context.Context, name string) (AccessRecord, error) {
	caseName, seq, ok := cutSeq(name, "accessLogEntries")
	if !ok {
		return AccessRecord{}, nameViolation("name", "must be groups/{group}/cases/{case}/accessLogEntries/{n}, n a number from 1")
	}
	c, cl, err := s.load(ctx, caseName)
	if err != nil {
		return AccessRecord{}, err
	}
	notFound := &fault.Error{Kind: fault.NotFound, Reason: "ACCESS_LOG_ENTRY_NOT_FOUND",
		Message: fmt.Sprintf("there is no access log entry %s", name), Metadata: map[string]string{"access_log_entry": name}}
	if !mayReadAccessLog(c, cl) {
		return AccessRecord{}, notFound
	}
	records, err := s.Store.AccessLog(ctx, c.ID, seq-1, 1)
	if err != nil {
		return AccessRecord{}, fmt.Errorf("read access log: %w", err)
	}
	if len(records) == 0 || records[0].Seq != seq {
		return AccessRecord{}, notFound
	}
	return records[0], nil
}
