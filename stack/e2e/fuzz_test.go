package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
)

// FuzzConcernFormOverREST sends whatever body the fuzzer makes to the public
// concern form of a whole running system (gateway, intake with its
// database, casework and notification behind it) and fails on any 5xx: no
// client input may look like a fault of ours. `go test` runs the seeds;
// `go test -run '^$' -fuzz FuzzConcernFormOverREST ./e2e` explores.
func FuzzConcernFormOverREST(f *testing.F) {
	practitioner := `"groups/` + demo.GroupID + `/members/cal-reyes"`
	for _, seed := range []string{
		`{"practitioner": ` + practitioner + `, "description": "Sessions ended early.", "clientName": "Sam", "clientContact": {"email": "sam@client.example.net"}}`,
		`{"practitioner": ` + practitioner + `, "description": "a\u0000b", "clientName": "Sam", "clientContact": {"email": "sam@client.example.net"}}`,
		`{"practitioner": ` + practitioner + `, "description": "ok", "clientName": "S\ud83d\ude00m", "clientContact": {"phone": "+44 7700 900123"}}`,
		`{"practitioner": ` + practitioner + `, "description": "\ud83d", "clientName": "x\u001by", "clientContact": {}}`,
		"{\"practitioner\": " + practitioner + ", \"description\": \"\xff\xfe\", \"clientName\": \"Sam\"}",
		`{"practitioner": "groups/nowhere/members/nobody", "description": "x", "clientName": "x", "clientContact": {"email": "x@y.example"}}`,
		`{"practitioner": ` + practitioner + `, "description": "x", "clientName": "x", "clientContact": {"email": "` + strings.Repeat("a", 300) + `@y.example"}}`,
		`{"practitioner": ` + practitioner + `, "description": "x", "clientName": "x", "clientContact": {"phone": "` + strings.Repeat("9", 40) + `"}}`,
		`{"requestId": "r", "bogus": 1}`,
		`{"practitioner": 5, "clientContact": "x"}`,
		`{"createTime": "not a time", "name": "groups/riverside/concerns/x"}`,
		`[]`, `null`, `"x"`, ``, `{`, `{"a":1} {}`,
		`{"practitioner": ` + practitioner + `, "description": "` + strings.Repeat("😀", 20000) + `", "clientName": "Sam", "clientContact": {"email": "sam@client.example.net"}}`,
	} {
		f.Add(seed)
	}
	s := startSystem(f)
	url := s.GatewayURL() + "/v1/groups/" + demo.GroupID + "/concerns"
	// A request that hangs is a fault too: the fuzzer keeps its input.
	client := &http.Client{Timeout: 30 * time.Second}
	f.Fuzz(func(t *testing.T, body string) {
		resp, err := client.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("HTTP %d for a body of %d bytes: %s", resp.StatusCode, len(body), answer)
		}
	})
}
