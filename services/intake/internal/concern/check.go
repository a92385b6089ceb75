package concern

import (
	"strings"
	"unicode/utf8"

	"github.com/ipnmediation/disputes/platform/contact"
	"github.com/ipnmediation/disputes/platform/fault"
)

// Limits on what a client may submit.
const (
	MaxClientNameLength  = 200
	MaxDescriptionLength = 20000
)

// Check returns an InvalidArgument error listing every field of a
// CreateConcern request (parent and concern) that breaks the rules, or nil.
// Field paths are those of the request, for example
// "concern.client_contact.email". Descriptions never repeat the value, which
// may be confidential.
func Check(parent string, d Draft) error {
	var v fault.Violations
	if parent == "" {
		v.Add("parent", "is required")
	}
	switch {
	case d.Practitioner == "":
		v.Add("concern.practitioner", "is required")
	case parent != "" && !strings.HasPrefix(d.Practitioner, parent+"/members/"):
		v.Add("concern.practitioner", "must be a member of the group named in parent")
	}
	checkText(&v, "concern.client_name", d.ClientName, MaxClientNameLength)
	checkText(&v, "concern.description", d.Description, MaxDescriptionLength)

	email, phone := strings.TrimSpace(d.Contact.Email), strings.TrimSpace(d.Contact.Phone)
	if email == "" && phone == "" {
		v.Add("concern.client_contact", "needs an e-mail address or a telephone number")
	}
	if email != "" && !contact.ValidEmail(email) {
		v.Add("concern.client_contact.email", "must be a plain e-mail address such as name@example.org")
	}
	if phone != "" && !contact.ValidPhone(phone) {
		v.Addf("concern.client_contact.phone", "must be %d to %d digits, optionally with spaces, +, -, ( and )", contact.MinPhoneDigits, contact.MaxPhoneDigits)
	}
	return v.Err()
}

func checkText(v *fault.Violations, field, s string, maxLen int) {
	switch n := utf8.RuneCountInString(strings.TrimSpace(s)); {
	case s == "":
		v.Add(field, "is required")
	case n == 0:
		v.Add(field, "must not be blank")
	case n > maxLen:
		v.Addf(field, "must be at most %d characters", maxLen)
	}
}
