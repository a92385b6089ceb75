package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestListAllReadsEveryPage: a list of three pages is read whole, in order,
// each request with the method's own query, the page size and the previous
// page's token, and the token of the caller.
func TestListAllReadsEveryPage(t *testing.T) {
	t.Parallel()
	pages := map[string]string{
		"":   `{"timelineEntries": [{"name": "a"}, {"name": "b"}], "nextPageToken": "p2"}`,
		"p2": `{"timelineEntries": [{"name": "c"}], "nextPageToken": "p3"}`,
		"p3": `{"timelineEntries": [{"name": "d"}], "nextPageToken": ""}`,
	}
	var asked []string
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RawQuery)
		if r.Header.Get("Authorization") != "Bearer tok" || r.URL.Path != "/v1/groups/g/cases/c/timelineEntries" {
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, pages[r.URL.Query().Get("pageToken")])
	})
	entries, err := c.ListTimelineEntries(context.Background(), "tok", "groups/g/cases/c")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.GetName())
	}
	if strings.Join(names, ",") != "a,b,c,d" {
		t.Errorf("entries %v; want a,b,c,d", names)
	}
	if strings.Join(asked, " ") != "pageSize=200 pageSize=200&pageToken=p2 pageSize=200&pageToken=p3" {
		t.Errorf("queries %q", asked)
	}
}
