// Package procedure reads and checks the versions of the disputes procedure
// that casework runs. A version is data (see the procedures folder of this
// module): steps, their actors, prerequisites, branches and phases. This
// package answers questions about it; package casefile applies it to cases.
package procedure

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"time"

	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// Definition is one checked version of the procedure.
type Definition struct {
	proto *procedurev1.Procedure
	steps map[string]*procedurev1.Step
	// towardFirstResponse are the first-response step and every step it
	// depends on, directly or through others.
	towardFirstResponse map[string]bool
}

// Name is the version's resource name, procedures/{p}.
func (d *Definition) Name() string { return d.proto.GetName() }

// Proto returns a copy of the definition as served to clients.
func (d *Definition) Proto() *procedurev1.Procedure {
	return proto.Clone(d.proto).(*procedurev1.Procedure)
}

// Steps returns the steps in their usual order.
func (d *Definition) Steps() []*procedurev1.Step { return d.proto.GetSteps() }

// Step returns the step with the given id.
func (d *Definition) Step(id string) (*procedurev1.Step, bool) {
	s, ok := d.steps[id]
	return s, ok
}

// FirstResponseStep is the step whose taking meets the first-response
// target.
func (d *Definition) FirstResponseStep() string { return d.proto.GetFirstResponseStep() }

// TowardFirstResponse reports whether taking the step brings the case
// nearer its first response: it is the first-response step or one that step
// depends on (requires, or a branch of requires_any), directly or through
// other steps. A reminder of the first-response target is about these
// steps only; appointing a liaison person, say, is not.
func (d *Definition) TowardFirstResponse(step string) bool { return d.towardFirstResponse[step] }

// InformsLinkGroups reports whether taking the step tells the group's link
// groups of the case (its action is ACTION_INFORM_LINK_GROUPS). Until such a
// step has been taken, a link group may not learn that the case exists; the
// property is the action's, not the step id's, so that a later version may
// name its step as it likes.
func (d *Definition) InformsLinkGroups(step string) bool {
	s, ok := d.steps[step]
	return ok && s.GetAction() == procedurev1.Action_ACTION_INFORM_LINK_GROUPS
}

// OverallTarget is the time the procedure promises from registration to
// resolution.
func (d *Definition) OverallTarget() time.Duration { return d.proto.GetOverallTarget().AsDuration() }

// FirstResponseTarget is the time it promises from registration to the
// first response.
func (d *Definition) FirstResponseTarget() time.Duration {
	return d.proto.GetFirstResponseTarget().AsDuration()
}

// Catalogue is every version casework knows, by name.
type Catalogue struct {
	byName      map[string]*Definition
	defaultName string
}

// Get returns the named version.
func (c *Catalogue) Get(name string) (*Definition, bool) {
	d, ok := c.byName[name]
	return d, ok
}

// Default returns the version new cases follow when their group has chosen
// none.
func (c *Catalogue) Default() *Definition { return c.byName[c.defaultName] }

// All returns every version, by name.
func (c *Catalogue) All() []*Definition {
	out := make([]*Definition, 0, len(c.byName))
	for _, d := range c.byName {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Load reads every *.txtpb file of fsys, checks each, and returns them with
// defaultName as the default. Any unknown field, bad reference or
// inconsistency is an error naming the file: a procedure that cannot be
// followed must stop the service from starting, not a case half-way.
func Load(fsys fs.FS, defaultName string) (*Catalogue, error) {
	files, err := fs.Glob(fsys, "*.txtpb")
	if err != nil {
		return nil, fmt.Errorf("list procedure files: %w", err)
	}
	c := &Catalogue{byName: map[string]*Definition{}, defaultName: defaultName}
	for _, f := range files {
		d, err := readFile(fsys, f, path.Base(f))
		if err != nil {
			return nil, err
		}
		if _, dup := c.byName[d.Name()]; dup {
			return nil, fmt.Errorf("procedure file %s: %s is defined twice", path.Base(f), d.Name())
		}
		c.byName[d.Name()] = d
	}
	if _, ok := c.byName[defaultName]; !ok {
		return nil, fmt.Errorf("the default procedure %s is not among the procedure files", defaultName)
	}
	return c, nil
}

// Extend adds to c every *.txtpb file of fsys, the folder dir (which only
// names the files in errors), read and checked exactly as Load reads the
// built-in versions: how a deployment adds a version without a new build.
// A version whose name c already knows is refused, not replaced: a case
// keeps the version it was opened under, so the steps of a name must never
// change under open cases. Nothing is added unless every file is good.
func (c *Catalogue) Extend(fsys fs.FS, dir string) error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("procedure folder %s: %w", dir, err)
	}
	added := map[string]*Definition{}
	for _, e := range entries {
		// A file or a link to one (a Kubernetes ConfigMap mounts its keys
		// as links); a folder is not a version.
		if match, _ := path.Match("*.txtpb", e.Name()); !match || e.IsDir() {
			continue
		}
		d, err := readFile(fsys, e.Name(), filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		switch _, builtIn := c.byName[d.Name()]; {
		case builtIn:
			return fmt.Errorf("procedure file %s: %s is already a version casework knows; a version's steps never change under its open cases, so a changed version needs a new name", filepath.Join(dir, e.Name()), d.Name())
		case added[d.Name()] != nil:
			return fmt.Errorf("procedure file %s: %s is defined twice", filepath.Join(dir, e.Name()), d.Name())
		}
		added[d.Name()] = d
	}
	maps.Copy(c.byName, added)
	return nil
}

// readFile reads and checks the procedure file f of fsys; label names it in
// errors.
func readFile(fsys fs.FS, f, label string) (*Definition, error) {
	raw, err := fs.ReadFile(fsys, f)
	if err != nil {
		return nil, fmt.Errorf("read procedure file %s: %w", label, err)
	}
	d, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("procedure file %s: %w", label, err)
	}
	return d, nil
}

// Parse reads one definition in the text format and checks it.
func Parse(raw []byte) (*Definition, error) {
	var p procedurev1.Procedure
	if err := prototext.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	if err := Check(&p); err != nil {
		return nil, err
	}
	d := &Definition{proto: &p, steps: map[string]*procedurev1.Step{}, towardFirstResponse: map[string]bool{}}
	for _, s := range p.GetSteps() {
		d.steps[s.GetId()] = s
	}
	d.markDependencies(p.GetFirstResponseStep(), d.towardFirstResponse)
	return d, nil
}

// markDependencies marks step and every step it depends on in marked.
func (d *Definition) markDependencies(step string, marked map[string]bool) {
	s, ok := d.steps[step]
	if !ok || marked[step] {
		return
	}
	marked[step] = true
	for _, c := range append(slices.Clone(s.GetRequires()), s.GetRequiresAny()...) {
		d.markDependencies(c.GetStep(), marked)
	}
}

var (
	namePattern   = regexp.MustCompile(`^procedures/[a-z][a-z0-9-]{0,62}$`)
	stepPattern   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	outcomePatten = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,62}$`)
)

// ReservedStepIDs are the names of case events that are not steps: a step
// event's subject ends in its step id, so no step may share them.
var ReservedStepIDs = []string{"opened", "reminder", "overdue", "message_posted", "purged"}

// meetingActions are the actions that concern a meeting and so need a kind.
var meetingActions = []procedurev1.Action{
	procedurev1.Action_ACTION_PROPOSE_MEETING,
	procedurev1.Action_ACTION_RESPOND_TO_MEETING,
	procedurev1.Action_ACTION_CONFIRM_MEETING,
	procedurev1.Action_ACTION_RECORD_MEETING_OUTCOME,
}

// Check reports everything wrong with a definition, all at once.
func Check(p *procedurev1.Procedure) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !namePattern.MatchString(p.GetName()) {
		bad("name %q is not procedures/{lower-case-id}", p.GetName())
	}
	if p.GetDisplayName() == "" {
		bad("display_name is empty")
	}
	steps := map[string]*procedurev1.Step{}
	for i, s := range p.GetSteps() {
		switch {
		case !stepPattern.MatchString(s.GetId()):
			bad("step %d: id %q is not lower_snake_case", i+1, s.GetId())
		case steps[s.GetId()] != nil:
			bad("step %q is defined twice", s.GetId())
		case slices.Contains(ReservedStepIDs, s.GetId()):
			bad("step id %q is reserved for another case event", s.GetId())
		default:
			steps[s.GetId()] = s
		}
	}
	closes := false
	for _, s := range p.GetSteps() {
		id := s.GetId()
		if s.GetAction() == procedurev1.Action_ACTION_UNSPECIFIED {
			bad("step %q: action is missing", id)
		}
		if s.GetTitle() == "" {
			bad("step %q: title is missing", id)
		}
		if len(s.GetActors()) == 0 {
			bad("step %q: nobody may take it (actors is empty)", id)
		}
		for _, r := range append(slices.Clone(s.GetActors()), s.GetExcludedActors()...) {
			if r == procedurev1.Role_ROLE_UNSPECIFIED {
				bad("step %q: an actor role is unspecified", id)
			}
		}
		if len(s.GetTimelineAudience()) == 0 {
			bad("step %q: timeline_audience is empty", id)
		}
		isMeeting := slices.Contains(meetingActions, s.GetAction())
		if isMeeting != (s.GetMeetingKind() != procedurev1.MeetingKind_MEETING_KIND_UNSPECIFIED) {
			bad("step %q: meeting_kind must be set exactly for meeting actions", id)
		}
		for _, o := range s.GetOutcomes() {
			if !outcomePatten.MatchString(o) {
				bad("step %q: outcome %q is not UPPER_SNAKE_CASE", id, o)
			}
		}
		if s.GetAction() == procedurev1.Action_ACTION_CLOSE && len(s.GetOutcomes()) != 1 {
			bad("step %q: a closing step has exactly one outcome", id)
		}
		if s.GetClosesCase() {
			closes = true
			if len(s.GetOutcomes()) != 1 {
				bad("step %q: a step that closes the case has exactly one outcome", id)
			}
		}
		if a := s.GetAnswers(); a != "" {
			switch {
			case steps[a] == nil:
				bad("step %q answers unknown step %q", id, a)
			case a == id:
				bad("step %q answers itself", id)
			}
		}
		for _, group := range [][]*procedurev1.Condition{s.GetRequires(), s.GetRequiresAny(), s.GetUntil()} {
			for _, c := range group {
				target := steps[c.GetStep()]
				switch {
				case target == nil:
					bad("step %q depends on unknown step %q", id, c.GetStep())
				case c.GetOutcome() != "" && !slices.Contains(target.GetOutcomes(), c.GetOutcome()):
					bad("step %q depends on outcome %q, which step %q does not have", id, c.GetOutcome(), c.GetStep())
				}
				if c.GetExplanation() == "" {
					bad("step %q: a condition on %q has no explanation", id, c.GetStep())
				}
			}
		}
		// A case must never wait for an optional step: nobody is reminded
		// of one, so the case would stall without anyone being told.
		for _, c := range s.GetRequires() {
			if steps[c.GetStep()].GetOptional() {
				bad("step %q requires optional step %q, which nobody is reminded of; make it a branch of requires_any or not optional", id, c.GetStep())
			}
		}
		if branches := s.GetRequiresAny(); len(branches) > 0 && !slices.ContainsFunc(branches, func(c *procedurev1.Condition) bool {
			return steps[c.GetStep()] != nil && !steps[c.GetStep()].GetOptional()
		}) {
			bad("step %q: every branch of requires_any is an optional step, which nobody is reminded of", id)
		}
	}
	if !closes {
		bad("no step closes the case")
	}
	// A link group sees a case only once a step has informed the link
	// groups of it; a step a link group may take would otherwise never be
	// theirs to take.
	informs := slices.ContainsFunc(p.GetSteps(), func(s *procedurev1.Step) bool {
		return s.GetAction() == procedurev1.Action_ACTION_INFORM_LINK_GROUPS
	})
	for _, s := range p.GetSteps() {
		if slices.Contains(s.GetActors(), procedurev1.Role_ROLE_LINK_GROUP) && !informs {
			bad("step %q: link groups may take it, but no step informs them of the case (ACTION_INFORM_LINK_GROUPS)", s.GetId())
		}
	}
	if f := p.GetFirstResponseStep(); f != "" && steps[f] == nil {
		bad("first_response_step %q is not a step", f)
	} else if steps[f].GetOptional() {
		bad("first_response_step %q is optional, so nobody would be reminded of the first response", f)
	}
	if p.GetOverallTarget().AsDuration() <= 0 || p.GetFirstResponseTarget().AsDuration() <= 0 {
		bad("overall_target and first_response_target must both be positive")
	} else if p.GetFirstResponseTarget().AsDuration() > p.GetOverallTarget().AsDuration() {
		bad("first_response_target must not be longer than overall_target")
	}
	return errors.Join(errs...)
}
