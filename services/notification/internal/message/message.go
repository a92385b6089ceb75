// Package message renders the messages the service sends from templates
// embedded in the binary: a subject and a plain-text body (text/template) and
// optionally an HTML body (html/template, which escapes what it inserts). A
// template is named by a key; each key has files in templates/:
// <key>.subject.tmpl, <key>.txt.tmpl and, unless the message is plain text
// only, <key>.html.tmpl.
//
// Templates receive Data, which holds non-confidential facts only: the
// service never has concern text or client details to give them.
package message

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"slices"
	"strings"
	texttemplate "text/template"
)

//go:embed templates/*.tmpl
var files embed.FS

// Keys of the templates the service knows.
const (
	// ConcernRegistered tells a group's members that a client has
	// registered a concern.
	ConcernRegistered = "concern_registered"
	// LinkGroupsInformed tells a group's link groups that a client has
	// raised a concern with the group. Plain text only.
	LinkGroupsInformed = "link_groups_informed"
	// ProgressReported tells a group's link groups that a progress report
	// on a concern is there to be read. Plain text only.
	ProgressReported = "progress_reported"

	// The messages of case events, one per event kind and recipient role;
	// keys ending in "_client" go to the client and carry no reference.
	SPTNominated           = "spt_nominated"
	NominationAnswered     = "nomination_answered"
	SupportAppointedSPC    = "support_appointed_spc"
	SupportAppointedLP     = "support_appointed_lp"
	MeetingProposed        = "meeting_proposed"
	MeetingProposedClient  = "meeting_proposed_client"
	MeetingConfirmed       = "meeting_confirmed"
	MeetingConfirmedClient = "meeting_confirmed_client"
	StatementDraftClient   = "statement_draft_client"
	StatementAnswered      = "statement_answered"
	StatementConveyed      = "statement_conveyed"
	StatementConveyedSPT   = "statement_conveyed_spt"
	ResponseRecorded       = "response_recorded"
	ResponseRelayedClient  = "response_relayed_client"
	ClientDecided          = "client_decided"
	CaseClosed             = "case_closed"
	CaseClosedClient       = "case_closed_client"
	CaseWithdrawn          = "case_withdrawn"
	CaseWithdrawnClient    = "case_withdrawn_client"
	MessageToSPC           = "message_to_spc"
	MessageToClient        = "message_to_client"
	Reminder               = "reminder"
	ReminderClient         = "reminder_client"
	Overdue                = "overdue"
	OverdueClient          = "overdue_client"
	// Digest is a member's daily list of the next steps that are theirs to
	// take (see Data.Items).
	Digest = "digest"

	// DeliveriesDead tells a group's admins that messages could not be
	// delivered after every attempt, and where to see and retry them.
	DeliveriesDead = "deliveries_dead"
	// IncomingLinkGroupsInformed tells a group's admins that a group on
	// another deployment, which has this group as a link group, has told it
	// of a concern over the federation API (see Data.FromGroupName).
	IncomingLinkGroupsInformed = "incoming_link_groups_informed"
	// IncomingProgressReported tells a group's admins that such a group has
	// reported progress on a concern that is not yet resolved.
	IncomingProgressReported = "incoming_progress_reported"

	// SignInLink gives a member the link that signs them in to the website
	// once (see Data.AskedFor). It is sent at once, never through the
	// delivery table, since the link holds a secret that must not be
	// stored; a group's wording of it must keep the link (LinkRequired).
	SignInLink = "sign_in_link"
	// ClientSignInLink gives a client a link to each of their cases in the
	// group (Data.Links), each signing them in once; sent at once and kept
	// to its links as SignInLink is.
	ClientSignInLink = "client_sign_in_link"
)

// LinkRequired reports whether key's message is useless without its links
// (RequiredLinks) in its bodies: a group's wording of it that leaves a link
// out is refused, and one that somehow does is not used.
func LinkRequired(key string) bool { return key == SignInLink || key == ClientSignInLink }

// RequiredLinks are the links that key's message rendered with d must hold:
// the sign-in link of a member's, every case's link of a client's, none of
// any other.
func RequiredLinks(key string, d Data) []string {
	switch key {
	case SignInLink:
		return []string{d.SignInURL}
	case ClientSignInLink:
		links := make([]string, 0, len(d.Links))
		for _, l := range d.Links {
			links = append(links, l.URL)
		}
		return links
	}
	return nil
}

// Data is what a template may show.
type Data struct {
	// RecipientName is the display name the recipient is greeted by.
	RecipientName string
	// GroupName is the display name of the group.
	GroupName string
	// SignInURL is the website's page where the recipient reads more,
	// signing in first if they must: the case's page for a message about a
	// case to a member or the client, else the group's page.
	SignInURL string
	// Reference is the resource name the message is about, for example
	// "groups/riverside/concerns/…", so the recipient can find it.
	Reference string
	// Target is, for a reminder, which time target in words, for example
	// "the first response to the client"; empty otherwise.
	Target string
	// Deadline is, for a reminder, the target's date in words; empty
	// otherwise.
	Deadline string
	// Items are, for a daily digest, the steps the member may take now;
	// empty otherwise.
	Items []DigestItem
	// FromGroupName is, for a notice that came from a group on another
	// deployment, that group's display name as it gave it; empty
	// otherwise.
	FromGroupName string

	// AskedFor, AskedAt, AskedFrom and ExpiresAt are, for a sign-in link,
	// the e-mail address the link was asked for, when (in UK time, in
	// words), from roughly where in words (empty when unknown) and when the
	// link stops working (UK time); empty otherwise. SignInURL is then the
	// link itself.
	AskedFor  string
	AskedAt   string
	AskedFrom string
	ExpiresAt string
	// Links are, for a client's sign-in links, one per case, newest first
	// (AskedFor and the rest say who asked and until when); empty
	// otherwise.
	Links []CaseLink
}

// CaseLink is a sign-in link to one of a client's cases, with the case's
// reference, which the client was given when they raised the concern.
type CaseLink struct {
	Reference string
	URL       string
}

// DigestItem is one line of a daily digest: a case and a step that may be
// taken in it now. Neither says anything about the concern.
type DigestItem struct {
	// Case is the case's resource name, "groups/{group}/cases/{case}".
	Case string `json:"case"`
	// Step is the step's title in the procedure.
	Step string `json:"step"`
}

// Message is a rendered message.
type Message struct {
	Subject string
	Text    string
	// HTML is empty for a plain-text message.
	HTML string
}

// Catalog holds every template, parsed once.
type Catalog struct {
	templates map[string]set
}

type set struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	// html is nil for a plain-text message.
	html *htmltemplate.Template
}

// ErrUnknownTemplate is returned for a key the catalog does not have.
var ErrUnknownTemplate = errors.New("unknown message template")

// NewCatalog parses the embedded templates. It fails when a key lacks its
// subject or text file or a file does not parse, so a broken template stops
// the service at start rather than at the first send.
func NewCatalog() (*Catalog, error) {
	names, err := fs.Glob(files, "templates/*.subject.tmpl")
	if err != nil {
		return nil, err
	}
	c := &Catalog{templates: map[string]set{}}
	for _, name := range names {
		key := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".subject.tmpl")
		var s set
		if s.subject, err = texttemplate.New(key+".subject").Option("missingkey=error").ParseFS(files, "templates/"+key+".subject.tmpl"); err != nil {
			return nil, fmt.Errorf("template %s subject: %w", key, err)
		}
		if s.text, err = texttemplate.New(key+".txt").Option("missingkey=error").ParseFS(files, "templates/"+key+".txt.tmpl"); err != nil {
			return nil, fmt.Errorf("template %s text: %w", key, err)
		}
		htmlName := "templates/" + key + ".html.tmpl"
		if _, err := fs.Stat(files, htmlName); err == nil {
			if s.html, err = htmltemplate.New(key+".html").Option("missingkey=error").ParseFS(files, htmlName); err != nil {
				return nil, fmt.Errorf("template %s html: %w", key, err)
			}
		}
		c.templates[key] = s
	}
	return c, nil
}

// Keys lists the template keys the catalog holds, sorted.
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.templates))
	for k := range c.templates {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Render fills the template named key with data.
func (c *Catalog) Render(key string, data Data) (Message, error) {
	s, ok := c.templates[key]
	if !ok {
		return Message{}, fmt.Errorf("%w %q", ErrUnknownTemplate, key)
	}
	var subject, text, html bytes.Buffer
	if err := s.subject.ExecuteTemplate(&subject, key+".subject.tmpl", data); err != nil {
		return Message{}, fmt.Errorf("render %s subject: %w", key, err)
	}
	if err := s.text.ExecuteTemplate(&text, key+".txt.tmpl", data); err != nil {
		return Message{}, fmt.Errorf("render %s text: %w", key, err)
	}
	if s.html != nil {
		if err := s.html.ExecuteTemplate(&html, key+".html.tmpl", data); err != nil {
			return Message{}, fmt.Errorf("render %s html: %w", key, err)
		}
	}
	return Message{Subject: oneLine(subject.String()), Text: text.String(), HTML: html.String()}, nil
}

// oneLine keeps a subject to a single line: a display name with a line break
// in it must not be able to add a header.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
