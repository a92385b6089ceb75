package concern

import (
	"strings"

	"github.com/ipnmediation/disputes/platform/contact"
	"github.com/ipnmediation/disputes/platform/fault"
)

// Check returns an InvalidArgument error listing every field of a
// CreateConcern request (parent and concern) that breaks the rules, or nil.
// Field paths are those of the request, for example
// "concern.client_contact.email". Descriptions never repeat the value, which
// may be confidential. How long each text may be, and what it may hold, is
// the contract's text rule (max_length in the proto, in characters), which
// the platform applies before any handler.
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
	checkRequired(&v, "concern.client_name", d.ClientName)
	checkRequired(&v, "concern.description", d.Description)

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

func checkRequired(v *fault.Violations, field, s string) {
	switch {
	case s == "":
		v.Add(field, "is required")
	case strings.TrimSpace(s) == "":
		v.Add(field, "must not be blank")
	}
}
