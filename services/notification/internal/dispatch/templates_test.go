package dispatch

import (
	"testing"

	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

// TestTemplateNames: every template's name is a resource name of the form
// every call accepts (ids of lowercase letters, digits and hyphens) and
// reads back as the template's key; a name with the key's underscores, or
// of another form, is not a template's name.
func TestTemplateNames(t *testing.T) {
	t.Parallel()
	c, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range c.Keys() {
		name := "groups/riverside/templates/" + TemplateID(key)
		group, got, ok := splitTemplateName(name)
		if !ok || group != "groups/riverside" || got != key || !templateID.MatchString(TemplateID(key)) {
			t.Errorf("%s reads as %q %q %v; want groups/riverside and %q", name, group, got, ok, key)
		}
	}
	for _, name := range []string{
		"groups/riverside/templates/case_closed",
		"groups/riverside/templates/Case-Closed",
		"groups/riverside/templates/",
		"groups/riverside/templates/a/b",
		"groups/a/b/templates/reminder",
		"riverside/templates/reminder",
	} {
		if _, _, ok := splitTemplateName(name); ok {
			t.Errorf("%s reads as a template's name", name)
		}
	}
}
