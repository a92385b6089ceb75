package message

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func catalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := NewCatalog()
	if err != nil {
		t.Fatalf("NewCatalog: %v", err)
	}
	return c
}

func TestConcernRegistered(t *testing.T) {
	t.Parallel()
	data := Data{
		RecipientName: "Bea Lund",
		GroupName:     "Riverside Practitioners",
		SignInURL:     "https://disputes.example.org/",
		Reference:     "groups/riverside/concerns/0b6f3f0e-3c1a-4f43-9d2a-6d0e3c1b2a11",
	}
	got, err := catalog(t).Render(ConcernRegistered, data)
	if err != nil {
		t.Fatal(err)
	}
	if want := "New concern registered with Riverside Practitioners"; got.Subject != want {
		t.Errorf("subject %q; want %q", got.Subject, want)
	}
	for name, body := range map[string]string{"text": got.Text, "html": got.HTML} {
		for _, want := range []string{
			"Dear Bea Lund", "Riverside Practitioners", data.SignInURL, data.Reference,
			"registered a concern", "support person", "liaison person", "sign in",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s body lacks %q", name, want)
			}
		}
		// The service has no confidential text to give; the words around
		// the facts must not invite any either.
		lower := strings.ToLower(body)
		for _, forbidden := range []string{"access code", "case reference", "@", "client's name", "telephone", "phone"} {
			if strings.Contains(lower, forbidden) {
				t.Errorf("%s body contains %q", name, forbidden)
			}
		}
	}
}

func TestLinkGroupNotices(t *testing.T) {
	t.Parallel()
	data := Data{
		RecipientName: "Lakeland IPN",
		GroupName:     "Riverside Practitioners",
		SignInURL:     "https://disputes.example.org/",
		Reference:     "groups/riverside/cases/5d1c2b3a-4f5e-4a6b-8c7d-9e0f1a2b3c4d",
	}
	tests := []struct {
		key         string
		wantSubject string
		want        []string
		// notWant is what this notice must leave to the other.
		notWant []string
	}{
		{
			key:         LinkGroupsInformed,
			wantSubject: "A client has raised a concern with Riverside Practitioners",
			want:        []string{"Dear colleagues of Lakeland IPN", "link groups", "a client has raised a concern with it", "Case: " + data.Reference},
			notWant:     []string{data.SignInURL, "progress report", "sign in"},
		},
		{
			key:         ProgressReported,
			wantSubject: "Progress report on a concern raised with Riverside Practitioners",
			want: []string{"Dear colleagues of Lakeland IPN", "link groups", "progress report", "sign in at\n\n  " + data.SignInURL + "\n",
				"access token", "Case: " + data.Reference},
		},
	}
	c := catalog(t)
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			got, err := c.Render(tt.key, data)
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != tt.wantSubject {
				t.Errorf("subject %q; want %q", got.Subject, tt.wantSubject)
			}
			if got.HTML != "" {
				t.Errorf("a link group notice is plain text, but has an HTML body:\n%s", got.HTML)
			}
			for _, want := range tt.want {
				if !strings.Contains(got.Text, want) {
					t.Errorf("body lacks %q:\n%s", want, got.Text)
				}
			}
			for _, notWant := range tt.notWant {
				if strings.Contains(got.Text, notWant) {
					t.Errorf("body has %q:\n%s", notWant, got.Text)
				}
			}
			lower := strings.ToLower(got.Text)
			for _, forbidden := range []string{"access code", "@", "client's name", "telephone", "phone", "concerns/"} {
				if strings.Contains(lower, forbidden) {
					t.Errorf("body contains %q", forbidden)
				}
			}
		})
	}
}

// TestIncomingNoticeAnnouncements: a group's admins hear which group told
// them what, and where the notice is kept; nothing else.
func TestIncomingNoticeAnnouncements(t *testing.T) {
	t.Parallel()
	data := Data{
		RecipientName: "Hana Ito",
		GroupName:     "Hillside IPN",
		SignInURL:     "https://disputes.example.org/",
		Reference:     "groups/hillside/incomingNotices/8f0e2d4c-1b3a-4c5d-9e6f-7a8b9c0d1e2f",
		FromGroupName: "Riverside Practitioners",
	}
	c := catalog(t)
	for key, want := range map[string]string{
		IncomingLinkGroupsInformed: "Riverside Practitioners has told Hillside IPN of a concern raised with it",
		IncomingProgressReported:   "Riverside Practitioners reports progress on a concern not yet resolved",
	} {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			got, err := c.Render(key, data)
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != want {
				t.Errorf("subject %q; want %q", got.Subject, want)
			}
			for _, body := range []string{got.Text, got.HTML} {
				for _, part := range []string{"Dear Hana Ito", data.Reference, data.SignInURL, "link groups of Riverside Practitioners"} {
					if !strings.Contains(body, part) {
						t.Errorf("body lacks %q:\n%s", part, body)
					}
				}
				if strings.Contains(body, "@") {
					t.Errorf("body holds an address:\n%s", body)
				}
			}
		})
	}
}

// TestDataHoldsNoConfidentialFields pins what a template can show: adding a
// field (say the concern's text) must be a deliberate change to this test.
func TestDataHoldsNoConfidentialFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ  reflect.Type
		want string
	}{
		// A sign-in link's facts: the recipient's own address, the time and a
		// coarse network, nothing about any case.
		{reflect.TypeFor[Data](), "RecipientName,GroupName,SignInURL,Reference,Target,Deadline,Items,FromGroupName,AskedFor,AskedAt,AskedFrom,ExpiresAt,Links"},
		// A client's sign-in links: a case's reference (which the client was
		// given) and its link, nothing of the concern.
		{reflect.TypeFor[CaseLink](), "Reference,URL"},
		// A digest's lines: a case's resource name and a step's title.
		{reflect.TypeFor[DigestItem](), "Case,Step"},
	}
	for _, tt := range tests {
		var fields []string
		for i := range tt.typ.NumField() {
			fields = append(fields, tt.typ.Field(i).Name)
		}
		if got := strings.Join(fields, ","); got != tt.want {
			t.Errorf("%s has fields %s; want %s", tt.typ.Name(), got, tt.want)
		}
	}
}

func TestRenderEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		data  Data
		check func(t *testing.T, m Message)
	}{
		{
			name: "markup in a display name is escaped in HTML",
			data: Data{RecipientName: `<script>alert(1)</script>`, GroupName: "A & B", SignInURL: "https://x.example/", Reference: "r"},
			check: func(t *testing.T, m Message) {
				if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "A &amp; B") {
					t.Errorf("HTML not escaped:\n%s", m.HTML)
				}
			},
		},
		{
			name: "a line break in a group name cannot add a header",
			data: Data{RecipientName: "R", GroupName: "Riverside\r\nBcc: x@example.org", SignInURL: "https://x.example/", Reference: "r"},
			check: func(t *testing.T, m Message) {
				if strings.ContainsAny(m.Subject, "\r\n") {
					t.Errorf("subject %q spans lines", m.Subject)
				}
			},
		},
		{
			name: "a javascript link is neutralised",
			data: Data{RecipientName: "R", GroupName: "G", SignInURL: "javascript:alert(1)", Reference: "r"},
			check: func(t *testing.T, m Message) {
				if strings.Contains(m.HTML, `href="javascript:`) {
					t.Errorf("HTML links to javascript:\n%s", m.HTML)
				}
			},
		},
	}
	c := catalog(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := c.Render(ConcernRegistered, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}

func TestUnknownTemplate(t *testing.T) {
	t.Parallel()
	if _, err := catalog(t).Render("no_such_template", Data{}); !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("Render of an unknown key = %v; want ErrUnknownTemplate", err)
	}
}

// TestSignInLinkWording: a group's wording of the sign-in mail must keep
// the link in each body it words, and keep it out of the subject; other
// parts stay free.
func TestSignInLinkWording(t *testing.T) {
	t.Parallel()
	c := catalog(t)
	tests := []struct {
		name string
		o    Override
		// bad are the parts refused; none when empty.
		bad []string
	}{
		{name: "text with the link", o: Override{Text: "Sign in: {{.SignInURL}}"}},
		{name: "subject only", o: Override{Subject: "Signing in to {{.GroupName}}"}},
		{name: "text and HTML with the link", o: Override{Text: "{{.SignInURL}}", HTML: `<p><a href="{{.SignInURL}}">Sign in</a></p>`}},
		{name: "text without the link", o: Override{Text: "Sign in on the website."}, bad: []string{"text"}},
		{name: "text quoting the sample link", o: Override{Text: "Sign in: https://disputes.example.org/"}, bad: []string{"text"}},
		{name: "HTML without the link", o: Override{HTML: "<p>Sign in on the website.</p>"}, bad: []string{"html"}},
		{name: "subject with the link", o: Override{Subject: "Sign in: {{.SignInURL}}"}, bad: []string{"subject"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := c.Check(SignInLink, tt.o)
			var got []string
			for part := range p {
				got = append(got, part)
			}
			if len(got) != len(tt.bad) {
				t.Fatalf("problems %v; want refused %v", p, tt.bad)
			}
			for _, part := range tt.bad {
				if _, ok := p[part]; !ok {
					t.Errorf("problems %v; want %s refused", p, part)
				}
			}
		})
	}
	// Another message may leave its link out.
	if p := c.Check(ConcernRegistered, Override{Text: "Sign in on the website."}); p != nil {
		t.Errorf("concern_registered without a link: %v", p)
	}
}
