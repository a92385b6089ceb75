package app

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	"github.com/ipnmediation/disputes/services/casework/procedures"
)

// reorderedProcedure is version 1 with two steps swapped and one title
// reworded, as the website's tests use it: the file in
// stack/launch/launchtest/testdata/procedures, and reorderedV1's.
const reorderedProcedure = "procedures/ipn-disputes-v1-reordered"

// websiteFixtures is the folder the website's tests give casework as its
// PROCEDURES_DIR (launchtest.TestProceduresDir). Casework loads it here too,
// so that a change to the checks that the fixture no longer passes fails
// in casework's own tests, not in a browser.
const websiteFixtures = "../../../../stack/launch/launchtest/testdata/procedures"

// The differences from version 1 that every reordered copy has: the
// liaison person's two steps after the appointments swapped (both become
// ready together, so no prerequisite changes) and the therapist's first
// step renamed.
const (
	swappedFirst   = "inform_link_groups"
	swappedSecond  = "propose_group_meeting_dates"
	renamedStep    = "nominate_spt"
	v1Title        = "The therapist names a support person"
	reorderedTitle = "The practitioner chooses a support person"
)

// builtInV1 is the text of the built-in version 1.
func builtInV1(t *testing.T) string {
	t.Helper()
	raw, err := fs.ReadFile(procedures.FS, "ipn-disputes-v1.txtpb")
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// reorderedV1 is version 1 under the name name, with swappedFirst and
// swappedSecond in the other order and renamedStep's title reworded.
func reorderedV1(t *testing.T, name string) string {
	t.Helper()
	text := replaceOnce(t, builtInV1(t), `name: "procedures/ipn-disputes-v1"`, `name: "`+name+`"`)
	text = replaceOnce(t, text, `title: "`+v1Title+`"`, `title: "`+reorderedTitle+`"`)
	blocks := strings.Split(text, "\nsteps {")
	i := slices.IndexFunc(blocks, func(b string) bool { return strings.Contains(b, `id: "`+swappedFirst+`"`) })
	j := slices.IndexFunc(blocks, func(b string) bool { return strings.Contains(b, `id: "`+swappedSecond+`"`) })
	if i < 0 || j < 0 {
		t.Fatalf("version 1 has no steps %s and %s", swappedFirst, swappedSecond)
	}
	blocks[i], blocks[j] = blocks[j], blocks[i]
	return strings.Join(blocks, "\nsteps {")
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if strings.Count(s, old) != 1 {
		t.Fatalf("version 1 has %q %d times, not once", old, strings.Count(s, old))
	}
	return strings.Replace(s, old, new, 1)
}

// writeFolder writes files (name → text) to a new folder and returns it.
func writeFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestProceduresDirServed: the versions of PROCEDURES_DIR are served beside
// the built-in ones, with their own order and titles, and a group that
// chose one has its cases follow it.
func TestProceduresDirServed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"version 1 reordered, written by the test", func(t *testing.T) string {
			return writeFolder(t, map[string]string{
				"reordered.txtpb": reorderedV1(t, reorderedProcedure),
				// Only *.txtpb files are versions.
				"README.md": "not a procedure",
			})
		}},
		{"the website's fixture", func(*testing.T) string { return websiteFixtures }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := tt.dir(t)
			e := startCasework(t, func(c *Config) { c.ProceduresDir = dir })
			ctx := context.Background()
			anyone := e.client(t, "")

			list, err := anyone.ListProcedures(ctx, &caseworkv1.ListProceduresRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range list.GetProcedures() {
				names = append(names, p.GetName())
			}
			if want := []string{procedures.Default, reorderedProcedure}; !slices.Equal(names, want) || list.GetDefaultProcedure() != procedures.Default {
				t.Errorf("ListProcedures = %v, default %s; want %v, default %s", names, list.GetDefaultProcedure(), want, procedures.Default)
			}

			v1, err := anyone.GetProcedure(ctx, &caseworkv1.GetProcedureRequest{Name: procedures.Default})
			if err != nil {
				t.Fatal(err)
			}
			got, err := anyone.GetProcedure(ctx, &caseworkv1.GetProcedureRequest{Name: reorderedProcedure})
			if err != nil {
				t.Fatal(err)
			}
			var v1Order, order []string
			for _, s := range v1.GetSteps() {
				v1Order = append(v1Order, s.GetId())
			}
			wantOrder := slices.Clone(v1Order)
			i, j := slices.Index(wantOrder, swappedFirst), slices.Index(wantOrder, swappedSecond)
			wantOrder[i], wantOrder[j] = wantOrder[j], wantOrder[i]
			for _, s := range got.GetSteps() {
				order = append(order, s.GetId())
				wantTitle := s.GetTitle()
				if s.GetId() == renamedStep {
					wantTitle = reorderedTitle
				}
				if s.GetTitle() != wantTitle {
					t.Errorf("step %s titled %q; want %q", s.GetId(), s.GetTitle(), wantTitle)
				}
			}
			if !slices.Equal(order, wantOrder) {
				t.Errorf("steps of %s: %v; want %v", reorderedProcedure, order, wantOrder)
			}
			if v1.GetSteps()[0].GetTitle() != v1Title {
				t.Errorf("the built-in version's first step is titled %q; the folder must not change it", v1.GetSteps()[0].GetTitle())
			}

			// Lakeside chose the folder's version in its procedure settings.
			c := newConcern("groups/lakeside", "CANARYPROCDIR1", time.Now())
			e.register(t, c)
			name := "groups/lakeside/cases/" + e.caseID(t, c.GetName())
			kase, err := e.client(t, operatorToken).GetCase(ctx, &caseworkv1.GetCaseRequest{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			if kase.GetProcedure() != reorderedProcedure {
				t.Errorf("the case follows %q; want the group's choice, %q", kase.GetProcedure(), reorderedProcedure)
			}
			// Its first next step says what the folder's version says.
			if i := slices.IndexFunc(kase.GetNextSteps(), func(n *caseworkv1.NextStep) bool { return n.GetStep() == renamedStep }); i < 0 {
				t.Errorf("next steps %v; want %s among them", kase.GetNextSteps(), renamedStep)
			} else if title := kase.GetNextSteps()[i].GetTitle(); title != reorderedTitle {
				t.Errorf("next step %s titled %q; want its version's %q", renamedStep, title, reorderedTitle)
			}
		})
	}
}

// TestProceduresDirRefused: a folder casework cannot take stops it at
// start, before PostgreSQL or NATS are used, with an error that names the
// file and what is wrong with it.
func TestProceduresDirRefused(t *testing.T) {
	t.Parallel()
	v1 := builtInV1(t)
	tests := []struct {
		name  string
		files map[string]string
		// missing names a folder that does not exist instead.
		missing bool
		// want are what the error must say, besides the file's path.
		want []string
		// file is the file the error names, relative to the folder.
		file string
	}{
		{name: "a file that does not parse", file: "broken.txtpb",
			files: map[string]string{"broken.txtpb": `name: "procedures/broken" colour: "red"`}, want: []string{"unknown field"}},
		{name: "a step that depends on a step that does not exist", file: "unknown-step.txtpb",
			files: map[string]string{"unknown-step.txtpb": replaceOnce(t, reorderedV1(t, "procedures/unknown-step"),
				`requires { step: "nominate_spt" explanation`, `requires { step: "nominate_spd" explanation`)},
			want: []string{`unknown step "nominate_spd"`}},
		{name: "no step closes the case", file: "endless.txtpb",
			files: map[string]string{"endless.txtpb": strings.ReplaceAll(reorderedV1(t, "procedures/endless"), "closes_case: true", "")},
			want:  []string{"no step closes the case"}},
		{name: "the name of the built-in version", file: "v1-again.txtpb",
			files: map[string]string{"v1-again.txtpb": replaceOnce(t, v1, v1Title, reorderedTitle)},
			want:  []string{procedures.Default, "needs a new name"}},
		{name: "one name in two files", file: "b.txtpb",
			files: map[string]string{"a.txtpb": reorderedV1(t, reorderedProcedure), "b.txtpb": reorderedV1(t, reorderedProcedure)},
			want:  []string{reorderedProcedure, "defined twice"}},
		{name: "a folder that does not exist", missing: true, want: []string{"no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFolder(t, tt.files)
			if tt.missing {
				dir = filepath.Join(dir, "nowhere")
			}
			cfg := Config{
				// Everything the service needs to start, so that only the
				// procedures can stop it.
				Service: config.Service{
					GRPCAddr:        testenv.FreeAddr(t),
					DatabaseURL:     testenv.Database(t),
					DatabaseSchema:  "casework",
					NATSURL:         testenv.NATS(t),
					EventNamespace:  string(testenv.Namespace(t)),
					LogLevel:        "warn",
					ShutdownTimeout: 5 * time.Second,
					ServiceSecret:   caseworkSecret,
				},
				Keys:          testenv.EncryptionKeys(t),
				DirectoryAddr: testenv.FreeAddr(t),
				IntakeAddr:    testenv.FreeAddr(t),
				ProceduresDir: dir,
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := Run(ctx, cfg)
			if err == nil || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
				t.Fatalf("Run = %v; want it to refuse the folder at once", err)
			}
			for _, w := range append(tt.want, filepath.Join(dir, tt.file)) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run = %v; want it to say %q", err, w)
				}
			}
		})
	}
}
