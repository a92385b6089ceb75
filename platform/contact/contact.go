// Package contact checks the forms of the e-mail addresses and telephone
// numbers people type into the system: clients on the public form, admins for
// members and link groups. It says nothing about whether they reach anyone.
package contact

import (
	"net/mail"
	"strings"
)

// Limits on what is accepted.
const (
	MaxEmailLength = 254 // RFC 5321's limit on a forward path
	MinPhoneDigits = 7
	MaxPhoneDigits = 20
)

// ValidEmail reports whether s is a bare e-mail address such as
// "ana@example.org": no display name, no angle brackets, no comments.
func ValidEmail(s string) bool {
	if len(s) > MaxEmailLength {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// ValidPhone reports whether s is a telephone number as people write it:
// digits with spaces, plus signs, hyphens and brackets, 7 to 20 digits.
func ValidPhone(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +-()", r):
		default:
			return false
		}
	}
	return digits >= MinPhoneDigits && digits <= MaxPhoneDigits && len(s) <= 2*MaxPhoneDigits
}
