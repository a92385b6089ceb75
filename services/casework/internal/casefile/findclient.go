package casefile

import (
	"context"
	"fmt"
	"strings"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
)

// AccessContactSearch is the kind of access-log record a search for a
// client's cases leaves on each case it finds: the searcher learnt that the
// case's client registered the contact details searched for.
const AccessContactSearch AccessKind = "CLIENT_CONTACT_SEARCH"

// minPhoneDigits is the fewest digits a telephone number searched for by
// FindClientCases has once normalised (normalPhone), so that a stray "0" or
// "44" cannot match every case with a short or odd number. The search terms
// are loose on purpose otherwise: the person asking may have written their
// details differently from the form. How long each term may be, as typed, is
// the contract's max_length, which the platform applies before any handler.
const minPhoneDigits = 6

// contactBatch is how many cases' contact details a search reads and opens
// at a time: a group keeps tens of cases, so one or two batches, but never
// the whole table in memory at once.
const contactBatch = 100

// RegisteredContact is a case with how its client asked to be reached when
// registering the concern, opened for a search of the group's cases. It
// never leaves the search: only the case's name does.
type RegisteredContact struct {
	Case  Case
	Email string
	Phone string
}

// FindClientCases returns the names of the cases of group (groups/{g})
// whose client registered the e-mail address or the telephone number given
// (either matching is enough), newest registration first, for a group admin
// answering a subject access request who knows the person but not their
// cases. The contact details are sealed per case and never compared in SQL,
// so every case the group holds is opened and compared here. Each case found
// gets a record in its access log before the answer leaves; the others
// disclose nothing and are not logged. Neither the terms searched for nor
// anything read is ever put in an error.
func (s *Service) FindClientCases(ctx context.Context, group, email, phone string) ([]string, error) {
	if !isGroupName(group) {
		return nil, nameViolation("parent", "must be a group, groups/{group}")
	}
	p := auth.FromContext(ctx)
	if err := mayAnswerSubjectAccess(p, group, "search the group's cases for a client", groupNotFound(group)); err != nil {
		return nil, err
	}
	q, err := clientSearch(email, phone)
	if err != nil {
		return nil, err
	}
	var found []Case
	var after *Cursor
	for {
		batch, err := s.Store.RegisteredContacts(ctx, group, after, contactBatch)
		if err != nil {
			return nil, fmt.Errorf("read the registered contacts of %s: %w", group, err)
		}
		for _, rc := range batch {
			if q.matches(rc) {
				found = append(found, rc.Case)
			}
		}
		if len(batch) < contactBatch {
			break
		}
		last := batch[len(batch)-1].Case
		after = &Cursor{RegisterTime: last.RegisterTime, ID: last.ID}
	}
	names := make([]string, 0, len(found))
	if len(found) == 0 {
		return names, nil
	}
	now := dbTime(s.now())
	reads := make([]AccessRecord, 0, len(found))
	for _, c := range found {
		cl := caller{principal: p, roles: s.rolesIn(p, c)}
		reads = append(reads, AccessRecord{CaseID: c.ID, Reader: cl.actor(), ReaderRole: readerRole(cl),
			Resource: c.Name() + "/registeredConcern", Kind: AccessContactSearch, Time: now})
		names = append(names, c.Name())
	}
	// One call, so that either every case found records the search or the
	// search fails and names none.
	if err := s.Store.RecordAccess(ctx, reads); err != nil {
		return nil, fmt.Errorf("record the search in the access log of %d cases of %s: %w", len(reads), group, err)
	}
	return names, nil
}

// clientQuery is what FindClientCases compares each case's contact details
// with, normalised; an empty field matches nothing.
type clientQuery struct {
	email string
	phone string
}

func (q clientQuery) matches(rc RegisteredContact) bool {
	return (q.email != "" && normalEmail(rc.Email) == q.email) || (q.phone != "" && normalPhone(rc.Phone) == q.phone)
}

// clientSearch checks the terms of a search and returns them normalised.
// Descriptions say what is wanted and never repeat what was given.
func clientSearch(email, phone string) (clientQuery, error) {
	var v fault.Violations
	email, phone = strings.TrimSpace(email), strings.TrimSpace(phone)
	if email == "" && phone == "" {
		v.Add("client_email", "give an e-mail address, a telephone number (client_phone) or both")
		v.Add("client_phone", "give a telephone number, an e-mail address (client_email) or both")
	}
	q := clientQuery{email: normalEmail(email), phone: normalPhone(phone)}
	if email != "" && !looseEmail(email) {
		v.Add("client_email", "must be an e-mail address with one @")
	}
	if phone != "" && len(q.phone) < minPhoneDigits {
		v.Addf("client_phone", "must have at least %d digits (a UK number counted from its leading 0)", minPhoneDigits)
	}
	return q, v.Err()
}

// looseEmail accepts anything shaped like name@domain: the search compares
// with what the form accepted, so it only needs to refuse what is plainly
// not an address.
func looseEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.Contains(domain, "@")
}

// normalEmail is an e-mail address as compared: without surrounding spaces,
// in lower case, since people do not keep to the case they once typed and
// providers ignore it.
func normalEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// normalPhone is a telephone number as compared: its digits alone, since
// people space and punctuate numbers as they please, with the UK's country
// code (44, dialled +44 or 0044, and the "(0)" often written after it) put
// back as the trunk prefix 0, so that "+44 (0)7700 900123" and
// "07700 900123" compare equal. Other countries' numbers keep their digits.
func normalPhone(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "0044"):
		d = d[len("0044"):]
	case strings.HasPrefix(d, "44"):
		d = d[len("44"):]
	default:
		return d
	}
	// A UK national number starts with one 0 and never more; trimming them
	// all also keeps the result stable when normalised again.
	return "0" + strings.TrimLeft(d, "0")
}
