package app

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
)

// TestConfidentialityTable is the design's confidentiality table as a test:
// for every kind of material (the rows) and every party (the columns), at
// the moments the table distinguishes, what the party reads is exactly what
// the table allows. "own", "yes", "once conveyed, within the client's
// constraints" and "a progress summary only" are spelled out as the
// readings below.
func TestConfidentialityTable(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	w := e.openWalk(t, "TABL"+strings.ToUpper(uuid.NewString()[:8]))
	parties := []string{asClient, asSPC, asTherapist, asSPT, asLP, asOther, asLinkGroup}

	// What each reading returns, as one word: what the party got.
	readings := map[string]func(who string) string{
		"concern as registered": func(who string) string {
			rc, err := w.clients[who].GetRegisteredConcern(ctx, &caseworkv1.GetRegisteredConcernRequest{Name: w.name + "/registeredConcern"})
			// The outcome the client would like is read with the words,
			// within the same constraints.
			if err == nil && rc.GetDescription() == strings.ReplaceAll(w.concern.GetDescription(), w.marker(), casefile.Withheld) &&
				rc.GetDesiredOutcome() == strings.ReplaceAll(w.concern.GetDesiredOutcome(), w.marker(), casefile.Withheld) {
				return "withheld" // the client's withheld detail blotted out
			}
			return verdict(err, rc.GetDescription() == w.concern.GetDescription() && rc.GetDesiredOutcome() == w.concern.GetDesiredOutcome())
		},
		"client contact details": func(who string) string {
			rc, err := w.clients[who].GetRegisteredConcern(ctx, &caseworkv1.GetRegisteredConcernRequest{Name: w.name + "/registeredConcern"})
			if err == nil && rc.GetClientEmail() == "" && rc.GetClientPhone() == "" && rc.GetClientName() == "" {
				return "nothing" // the concern's words without the client's details
			}
			return verdict(err, rc.GetClientEmail() == w.concern.GetClientContact().GetEmail() && rc.GetClientPhone() != "")
		},
		"client-SPC messages": func(who string) string {
			m, err := w.clients[who].ListMessages(ctx, &caseworkv1.ListMessagesRequest{Parent: w.name})
			return verdict(err, len(m.GetMessages()) == 2)
		},
		"SPC's private notes": func(who string) string {
			n, err := w.clients[who].ListNotes(ctx, &caseworkv1.ListNotesRequest{Parent: w.name})
			return verdict(err, len(n.GetNotes()) == 1)
		},
		"written statement": func(who string) string {
			d, err := w.clients[who].ListDocuments(ctx, &caseworkv1.ListDocumentsRequest{Parent: w.name, Kind: caseworkv1.Document_KIND_WRITTEN_STATEMENT})
			if err != nil || len(d.GetDocuments()) == 0 {
				return "nothing"
			}
			st := d.GetDocuments()[0].GetWrittenStatement()
			switch {
			case !st.GetAsConveyed() && strings.Contains(st.GetConcern(), w.marker()) && st.GetConstraints() != nil:
				return "all"
			case st.GetAsConveyed() && st.GetConcern() == "" && st.GetSummary() != "" && !strings.Contains(st.String(), w.marker()):
				return "conveyed"
			}
			return "wrong: " + st.String()
		},
		"therapist's response": func(who string) string {
			d, err := w.clients[who].ListDocuments(ctx, &caseworkv1.ListDocumentsRequest{Parent: w.name, Kind: caseworkv1.Document_KIND_THERAPIST_RESPONSE})
			if err == nil && len(d.GetDocuments()) == 0 {
				return "nothing" // the list leaves out what the caller may not read
			}
			return verdict(err, len(d.GetDocuments()) == 1 && strings.Contains(d.GetDocuments()[0].GetText(), "explain"))
		},
		"case phase, roles, dates": func(who string) string {
			c, err := w.clients[who].GetCase(ctx, &caseworkv1.GetCaseRequest{Name: w.name})
			switch {
			case err != nil:
				return "nothing"
			case c.GetProgressSummary() && c.GetTherapist() == "" && c.GetSpc() == "" && c.GetClock() != nil:
				return "summary"
			case !c.GetProgressSummary() && c.GetTherapist() == therapist && c.GetSpc() == spc && c.GetClock() != nil:
				return "all"
			}
			return "wrong"
		},
	}
	type row map[string]string // party → reading
	// The table, at two moments: conveyed but not yet relayed, and relayed.
	conveyed := map[string]row{
		"concern as registered":    {asClient: "all", asSPC: "all", asTherapist: "withheld", asSPT: "withheld", asLP: "all", asOther: "all", asLinkGroup: "nothing"},
		"client contact details":   {asClient: "all", asSPC: "all", asTherapist: "nothing", asSPT: "nothing", asLP: "nothing", asOther: "nothing", asLinkGroup: "nothing"},
		"client-SPC messages":      {asClient: "all", asSPC: "all", asTherapist: "nothing", asSPT: "nothing", asLP: "nothing", asOther: "nothing", asLinkGroup: "nothing"},
		"SPC's private notes":      {asClient: "nothing", asSPC: "all", asTherapist: "nothing", asSPT: "nothing", asLP: "nothing", asOther: "nothing", asLinkGroup: "nothing"},
		"written statement":        {asClient: "all", asSPC: "all", asTherapist: "conveyed", asSPT: "conveyed", asLP: "nothing", asOther: "nothing", asLinkGroup: "nothing"},
		"therapist's response":     {asClient: "nothing", asSPC: "all", asTherapist: "all", asSPT: "all", asLP: "nothing", asOther: "nothing", asLinkGroup: "nothing"},
		"case phase, roles, dates": {asClient: "all", asSPC: "all", asTherapist: "all", asSPT: "all", asLP: "all", asOther: "all", asLinkGroup: "summary"},
	}
	relayed := map[string]row{"therapist's response": {asClient: "all", asSPC: "all", asTherapist: "all", asSPT: "all", asLP: "nothing", asOther: "nothing", asLinkGroup: "nothing"}}
	for material, r := range conveyed {
		if _, ok := relayed[material]; !ok {
			relayed[material] = r
		}
	}

	w.do(t, "nominate_spt", "accept_spt", "appoint", "inform", "offer_client", "accept_client", "write", "approve", "convey", "respond")
	for _, m := range []struct{ who, text string }{{asClient, "Hello " + w.marker()}, {asSPC, "Hello back " + w.marker()}} {
		if _, err := w.clients[m.who].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: m.text}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.clients[asSPC].CreateNote(ctx, &caseworkv1.CreateNoteRequest{Parent: w.name, Note: &caseworkv1.Note{Text: "Mine alone " + w.marker()}}); err != nil {
		t.Fatal(err)
	}
	check := func(moment string, table map[string]row) {
		for material, r := range table {
			for _, who := range parties {
				if got := readings[material](who); got != r[who] {
					t.Errorf("%s, %s, %s reads %q; the table says %q", moment, material, who, got, r[who])
				}
			}
		}
	}
	check("conveyed", conveyed)
	w.do(t, "relay")
	check("relayed", relayed)

	// The writing side of the same rows: only the client and the SPC write
	// to each other; only the SPC writes notes.
	writes := map[string]struct {
		do  func(who string) error
		may []string
	}{
		"send a client-SPC message": {func(who string) error {
			_, err := w.clients[who].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: "From " + who}})
			return err
		}, []string{asClient, asSPC}},
		"write a private note": {func(who string) error {
			_, err := w.clients[who].CreateNote(ctx, &caseworkv1.CreateNoteRequest{Parent: w.name, Note: &caseworkv1.Note{Text: "By " + who}})
			return err
		}, []string{asSPC}},
	}
	for operation, op := range writes {
		for _, who := range parties {
			err := op.do(who)
			allowed := slices.Contains(op.may, who)
			if (err == nil) != allowed {
				t.Errorf("%s may %s: %v; the table says %v", who, operation, err == nil, allowed)
			}
			if !allowed && status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s trying to %s: %v; want PERMISSION_DENIED", who, operation, err)
			}
		}
	}
	// Another group's member reads nothing of any of it, and is told the
	// case does not exist.
	for material, read := range readings {
		if got := read(asHillside); got != "nothing" {
			t.Errorf("another group's member reads %s: %q", material, got)
		}
	}
	_, err := w.clients[asHillside].GetCase(ctx, &caseworkv1.GetCaseRequest{Name: w.name})
	if status.Code(err) != codes.NotFound {
		t.Errorf("another group's member: %v", err)
	}
}

// verdict is "all" for a successful read that returned the material,
// "nothing" for a refused one, and "wrong" for anything else.
func verdict(err error, complete bool) string {
	switch {
	case err != nil:
		return "nothing"
	case complete:
		return "all"
	}
	return "wrong"
}
