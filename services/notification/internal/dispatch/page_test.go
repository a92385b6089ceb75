package dispatch

import "testing"

func TestDeliveryPage(t *testing.T) {
	t.Parallel()
	const id = "0b9c6f2e-5a3d-4c1e-9f7a-2d8e6b4a1c3f"
	tests := []struct {
		name      string
		publicURL string
		kind      RecipientKind
		facts     Facts
		want      string
	}{
		{"a member, about a case", "https://disputes.example.org", MemberRecipient,
			Facts{FactCase: "groups/riverside/cases/" + id}, "https://disputes.example.org/riverside/cases/" + id},
		{"a member, about a concern just registered: the case it becomes", "https://disputes.example.org/", MemberRecipient,
			Facts{FactConcern: "groups/riverside/concerns/" + id}, "https://disputes.example.org/riverside/cases/" + id},
		{"the client", "https://disputes.example.org", ClientRecipient,
			Facts{FactCase: "groups/riverside/cases/" + id}, "https://disputes.example.org/riverside/cases/" + id},
		{"a link group: the group's page", "https://disputes.example.org", LinkGroupRecipient,
			Facts{FactCase: "groups/riverside/cases/" + id}, "https://disputes.example.org/riverside/"},
		{"about no case: the group's page", "https://disputes.example.org/", MemberRecipient,
			Facts{FactDeliveryLog: "groups/riverside/deliveries"}, "https://disputes.example.org/riverside/"},
		{"a case of another group is never linked", "https://disputes.example.org", MemberRecipient,
			Facts{FactCase: "groups/lakeland/cases/" + id}, "https://disputes.example.org/riverside/"},
		{"a website under a path", "https://example.org/disputes/", MemberRecipient,
			Facts{FactCase: "groups/riverside/cases/" + id}, "https://example.org/disputes/riverside/cases/" + id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Delivery{Group: "groups/riverside", RecipientKind: tt.kind, Facts: tt.facts}
			if got := d.Page(tt.publicURL); got != tt.want {
				t.Errorf("Page = %q; want %q", got, tt.want)
			}
		})
	}
}
