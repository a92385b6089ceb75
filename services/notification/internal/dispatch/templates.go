package dispatch

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

// TemplateOverride is a group's stored wording of one template.
type TemplateOverride struct {
	Group    string
	Template string
	message.Override
	UpdateTime time.Time
	// UpdatedBy is the admin who set it.
	UpdatedBy string
}

// TemplateStore keeps groups' wordings.
type TemplateStore interface {
	// TemplateOverride returns the group's wording of key, or ErrNotFound.
	TemplateOverride(ctx context.Context, group, key string) (TemplateOverride, error)
	// TemplateOverrides returns every wording the group has.
	TemplateOverrides(ctx context.Context, group string) ([]TemplateOverride, error)
	// PutTemplateOverride stores o, or removes the group's wording when o
	// changes nothing.
	PutTemplateOverride(ctx context.Context, o TemplateOverride) error
}

// TemplateView is a template as a group's messages are worded now.
type TemplateView struct {
	// Name is "groups/{group}/templates/{id}", where id is the template's
	// key written as a resource id (see TemplateID).
	Name   string
	Source message.Source
	// PlainText is whether the message has no HTML body.
	PlainText bool
	// Overridden is whether the group has its own wording; UpdateTime is
	// when it was set.
	Overridden bool
	UpdateTime time.Time
}

// Wording is what groups' admins see and change of the message
// templates, and renders messages in each group's wording.
type Wording struct {
	Catalog *message.Catalog
	Store   TemplateStore
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

var _ GroupTemplates = (*Wording)(nil)

// Render implements the Sender's Templates with the standard wording.
func (t *Wording) Render(key string, data message.Data) (message.Message, error) {
	return t.Catalog.Render(key, data)
}

// RenderFor implements GroupTemplates: the group's wording where it has
// one. A wording was checked when it was set, but one that fails anyway
// falls back to the standard wording rather than leave someone untold.
func (t *Wording) RenderFor(ctx context.Context, group, key string, data message.Data) (message.Message, error) {
	o, err := t.Store.TemplateOverride(ctx, group, key)
	if errors.Is(err, ErrNotFound) {
		return t.Catalog.Render(key, data)
	}
	if err != nil {
		return message.Message{}, wordingUnread{fmt.Errorf("group wording: %w", err)}
	}
	if m, err := t.Catalog.RenderOverride(key, o.Override, data); err == nil {
		return m, nil
	}
	return t.Catalog.Render(key, data)
}

// wordingUnread is RenderFor's error when the group's wording could not be
// read, as opposed to a template that does not render: the message may
// well render once the store answers, so the attempt's failure is
// classified by the store's error (PostgreSQL away is Transient).
type wordingUnread struct{ err error }

func (w wordingUnread) Error() string { return w.err.Error() }
func (w wordingUnread) Unwrap() error { return w.err }

// TemplateID is the id of the template key in its resource name,
// "groups/{group}/templates/{id}": the key with hyphens for underscores
// (case_closed is case-closed). Every resource id of the contract is
// lowercase letters, digits and hyphens (AIP-122), and the platform refuses
// a name of any other form before a handler sees it: a name with the key's
// underscores, which ListTemplates once returned, could be listed but not
// read. The key stays what the templates' files, the stored wordings and
// the deliveries use.
func TemplateID(key string) string { return strings.ReplaceAll(key, "_", "-") }

// templateID is the form of a template's id.
var templateID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// splitTemplateName reads "groups/{group}/templates/{id}" and returns the
// group and the template's key.
func splitTemplateName(name string) (group, key string, ok bool) {
	group, id, ok := strings.Cut(name, "/templates/")
	if !ok || !strings.HasPrefix(group, "groups/") || strings.Contains(strings.TrimPrefix(group, "groups/"), "/") || !templateID.MatchString(id) {
		return "", "", false
	}
	return group, strings.ReplaceAll(id, "-", "_"), true
}

func templateNotFound(name string) error {
	return &fault.Error{Kind: fault.NotFound, Reason: "TEMPLATE_NOT_FOUND", Message: "there is no such message template",
		Metadata: map[string]string{"template": name}}
}

// mayReadTemplates: the group's admins and the operator; others as for the
// delivery log.
func mayReadTemplates(p auth.Principal, group string) error { return mayList(p, group) }

// mayWriteTemplates: the group's admins only; the operator runs the
// deployment, not the group's voice.
func mayWriteTemplates(p auth.Principal, group string) error {
	if p.IsGroupAdmin(group) {
		return nil
	}
	if p.Kind == auth.Operator {
		return fault.New(fault.PermissionDenied, "GROUP_ADMIN_ONLY", "only the group's admins may word its messages")
	}
	return mayList(p, group)
}

// resolve checks the caller and the name, the request's field, and
// returns the group and key.
func (t *Wording) resolve(ctx context.Context, field, name string, write bool) (group, key string, err error) {
	group, key, ok := splitTemplateName(name)
	if !ok {
		var v fault.Violations
		v.Add(field, "must be groups/{group}/templates/{template}, the template's id in lowercase letters, digits and hyphens as ListTemplates names it, for example groups/riverside/templates/case-closed")
		return "", "", v.Err()
	}
	check := mayReadTemplates
	if write {
		check = mayWriteTemplates
	}
	if err := check(auth.FromContext(ctx), group); err != nil {
		return "", "", err
	}
	if !t.Catalog.Has(key) {
		return "", "", templateNotFound(name)
	}
	return group, key, nil
}

// view is key as group words it.
func (t *Wording) view(group, key string, o *TemplateOverride) (TemplateView, error) {
	src, err := t.Catalog.Source(key)
	if err != nil {
		return TemplateView{}, err
	}
	v := TemplateView{Name: group + "/templates/" + TemplateID(key), Source: src, PlainText: t.Catalog.PlainText(key)}
	if o != nil {
		v.Overridden, v.UpdateTime = true, o.UpdateTime
		if o.Subject != "" {
			v.Source.Subject = o.Subject
		}
		if o.Text != "" {
			v.Source.Text = o.Text
		}
		if o.HTML != "" {
			v.Source.HTML = o.HTML
		}
	}
	return v, nil
}

// Get returns the named template as the group's messages are worded now.
func (t *Wording) Get(ctx context.Context, name string) (TemplateView, error) {
	group, key, err := t.resolve(ctx, "name", name, false)
	if err != nil {
		return TemplateView{}, err
	}
	o, err := t.Store.TemplateOverride(ctx, group, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return t.view(group, key, nil)
	case err != nil:
		return TemplateView{}, fmt.Errorf("get template: %w", err)
	}
	return t.view(group, key, &o)
}

// List returns every template as the group's messages are worded now, by
// key.
func (t *Wording) List(ctx context.Context, group string) ([]TemplateView, error) {
	if err := mayReadTemplates(auth.FromContext(ctx), group); err != nil {
		return nil, err
	}
	overrides, err := t.Store.TemplateOverrides(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	out := make([]TemplateView, 0, len(t.Catalog.Keys()))
	for _, key := range t.Catalog.Keys() {
		var o *TemplateOverride
		if i := slices.IndexFunc(overrides, func(o TemplateOverride) bool { return o.Template == key }); i >= 0 {
			o = &overrides[i]
		}
		v, err := t.view(group, key, o)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// The parts of a template's wording an update may change, as the request
// names them (proto field paths).
const (
	PartSubject = "subject"
	PartText    = "text_body"
	PartHTML    = "html_body"
)

// Update sets the parts of the group's wording of the named template that
// parts names (PartSubject, PartText, PartHTML) to o's, keeping the others,
// after checking that the wording parses and renders. A part set empty
// returns to the standard wording; with all three empty the group's wording
// is gone. No parts change nothing.
func (t *Wording) Update(ctx context.Context, name string, o message.Override, parts []string) (TemplateView, error) {
	group, key, err := t.resolve(ctx, "template.name", name, true)
	if err != nil {
		return TemplateView{}, err
	}
	var current *TemplateOverride
	switch stored, err := t.Store.TemplateOverride(ctx, group, key); {
	case err == nil:
		current = &stored
	case !errors.Is(err, ErrNotFound):
		return TemplateView{}, fmt.Errorf("update template: %w", err)
	}
	if len(parts) == 0 {
		return t.view(group, key, current)
	}
	next := message.Override{}
	if current != nil {
		next = current.Override
	}
	var v fault.Violations
	for _, p := range parts {
		switch p {
		case PartSubject:
			next.Subject = o.Subject
		case PartText:
			next.Text = o.Text
		case PartHTML:
			next.HTML = o.HTML
		default:
			v.Addf("update_mask", "%q is not a part of a template; use subject, text_body or html_body", p)
		}
	}
	if err := v.Err(); err != nil {
		return TemplateView{}, err
	}
	if err := t.check(key, next, "template."); err != nil {
		return TemplateView{}, err
	}
	stored := TemplateOverride{Group: group, Template: key, Override: next, UpdateTime: t.now(), UpdatedBy: auth.FromContext(ctx).Member}
	if err := t.Store.PutTemplateOverride(ctx, stored); err != nil {
		return TemplateView{}, fmt.Errorf("update template: %w", err)
	}
	if next.IsZero() {
		return t.view(group, key, nil)
	}
	return t.view(group, key, &stored)
}

// Preview renders the named template with sample data: the group's
// current wording with draft's parts over it.
func (t *Wording) Preview(ctx context.Context, name string, draft message.Override) (message.Message, error) {
	group, key, err := t.resolve(ctx, "name", name, false)
	if err != nil {
		return message.Message{}, err
	}
	current := message.Override{}
	o, err := t.Store.TemplateOverride(ctx, group, key)
	switch {
	case err == nil:
		current = o.Override
	case !errors.Is(err, ErrNotFound):
		return message.Message{}, fmt.Errorf("preview template: %w", err)
	}
	if draft.Subject != "" {
		current.Subject = draft.Subject
	}
	if draft.Text != "" {
		current.Text = draft.Text
	}
	if draft.HTML != "" {
		current.HTML = draft.HTML
	}
	if err := t.check(key, current, "draft."); err != nil {
		return message.Message{}, err
	}
	return t.Catalog.RenderOverride(key, current, message.Sample())
}

// partFields are the request fields of an override's parts.
var partFields = map[string]string{"subject": "subject", "text": "text_body", "html": "html_body", "name": "name"}

func (t *Wording) check(key string, o message.Override, prefix string) error {
	problems := t.Catalog.Check(key, o)
	if problems == nil {
		return nil
	}
	var v fault.Violations
	for _, part := range []string{"name", "subject", "text", "html"} {
		if p, ok := problems[part]; ok {
			v.Add(prefix+partFields[part], p)
		}
	}
	return v.Err()
}

func (t *Wording) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}
