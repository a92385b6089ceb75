// Package confidentiality holds the website's tests to the confidentiality
// table (docs in /work/shared/DESIGN.md, the "who reads what" of the
// procedure): what each party could open at a point of a case is checked
// against secrets, each with the parties who must read it and nobody
// else. The pages' test over HTTP and the browser test share it, so that
// both hold the pages to the same rule.
package confidentiality

import (
	"slices"
	"sort"
	"strings"
)

// Secret is a piece of text only some parties may read, at a point of a
// case: Readers must see it, everyone else must not. What names it in a
// report, never Text, so that a report does not repeat the secret.
type Secret struct {
	What, Text string
	Readers    []string
}

// Leaks holds what every party saw (party to everything their pages
// showed) to the secrets: each secret in the pages of its readers and in
// nobody else's. It returns every breach, a party's pages showing a secret
// not theirs ("cal-reyes can read the client's e-mail address") and a
// reader's pages lacking it ("… cannot read …"), in the order of the
// secrets and then of the parties' names.
func Leaks(seen map[string]string, secrets []Secret) []string {
	var out []string
	parties := make([]string, 0, len(seen))
	for p := range seen {
		parties = append(parties, p)
	}
	sort.Strings(parties)
	for _, s := range secrets {
		for _, p := range parties {
			has := strings.Contains(seen[p], s.Text)
			switch mayRead := slices.Contains(s.Readers, p); {
			case has && !mayRead:
				out = append(out, p+" can read "+s.What)
			case !has && mayRead:
				out = append(out, p+" cannot read "+s.What)
			}
		}
	}
	return out
}
