package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/localpg"
	"github.com/ipnmediation/disputes/platform/sealed"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
)

// pgbenchDuration is how long pgbench runs at each client count.
const pgbenchDuration = 10 * time.Second

// scratchSchema holds pgbench's copies of intake's tables, so that the
// benchmark leaves the system's own data alone.
const scratchSchema = "bench_scratch"

// pgbench runs intake's registration transaction (the concern row and its
// outbox row, as store.Create writes them) in pgbench with the given number
// of clients against the system's PostgreSQL, and returns its transactions
// per second.
func (e *env) pgbench(b *testing.B, clients int) float64 {
	b.Helper()
	binDir, err := localpg.FindBinaries()
	if err != nil {
		b.Fatal(err)
	}
	scripts := e.prepareScratch(b)
	u, err := url.Parse(e.dbURL)
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"-n", "-M", "prepared",
		"-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 2)),
		"-T", strconv.Itoa(int(pgbenchDuration / time.Second)),
		"-h", u.Hostname(), "-p", u.Port(), "-U", u.User.Username()}
	for _, s := range scripts {
		args = append(args, "-f", s)
	}
	args = append(args, strings.TrimPrefix(u.Path, "/"))
	ctx, cancel := context.WithTimeout(context.Background(), pgbenchDuration+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "pgbench"), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	tps, err := parseTPS(string(out))
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	return tps
}

// tpsLine is pgbench's result line: "tps = 1234.5 (without initial
// connection time)" since PostgreSQL 14, "(excluding connections
// establishing)" before.
var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \((without|excluding)`)

func parseTPS(out string) (float64, error) {
	m := tpsLine.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps line in pgbench's output")
	}
	return strconv.ParseFloat(m[1], 64)
}

// prepareScratch (re)creates the scratch schema with copies of intake's
// concerns and outbox tables (columns, defaults, constraints and indexes,
// as the migrations made them, and the outbox's notify trigger) and writes
// one pgbench script per description length; it returns the scripts' paths.
func (e *env) prepareScratch(b *testing.B) []string {
	b.Helper()
	ctx := context.Background()
	ddl := []string{
		`DROP SCHEMA IF EXISTS ` + scratchSchema + ` CASCADE`,
		`CREATE SCHEMA ` + scratchSchema,
		`CREATE TABLE ` + scratchSchema + `.concerns (LIKE intake.concerns INCLUDING ALL)`,
		`CREATE TABLE ` + scratchSchema + `.outbox (LIKE intake.outbox INCLUDING ALL)`,
		`CREATE TRIGGER outbox_notify AFTER INSERT ON ` + scratchSchema + `.outbox
			FOR EACH STATEMENT EXECUTE FUNCTION intake.outbox_notify()`,
		// References are random in intake, which retries the rare
		// collision; pgbench cannot, so its references are numbered.
		`CREATE SEQUENCE ` + scratchSchema + `.refs`,
	}
	for _, q := range ddl {
		if _, err := e.pool.Exec(ctx, q); err != nil {
			b.Fatalf("scratch tables: %s: %v", q, err)
		}
	}
	b.Cleanup(func() {
		_, _ = e.pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+scratchSchema+` CASCADE`)
	})
	dir := filepath.Join(e.dataDir, "pgbench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	var paths []string
	for k := range descriptionLengths {
		script, err := e.script(int64(k))
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("register-%d.sql", descriptionLengths[k]))
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

// script is a pgbench script of the statements intake's store.Create runs
// for concern number i, with values of the sizes it writes: the
// confidential fields and the access code sealed under a fresh data key
// wrapped by intake's key, a keyed hash, and the ConcernRegistered event.
func (e *env) script(i int64) (string, error) {
	keys, err := sealed.ParseKeyring(e.sys.EncryptionKeys["intake"], "")
	if err != nil {
		return "", err
	}
	id := newUUID()
	dk, wrapped, err := keys.NewDataKey("intake.concerns.wrapped_key:" + id)
	if err != nil {
		return "", err
	}
	seal := func(column, value string) (string, error) {
		return dk.Seal(value, "intake.concerns."+column+":"+id)
	}
	var values []string
	for _, f := range []struct{ column, value string }{
		{"client_name", clientName(i)},
		{"description", strings.TrimSpace(description(i))},
		{"client_email", clientEmail(i)},
		{"client_phone", clientPhone(i)},
		{"access_code_sealed", "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-23"},
	} {
		v, err := seal(f.column, f.value)
		if err != nil {
			return "", err
		}
		values = append(values, v)
	}
	mac := make([]byte, 32)
	if _, err := rand.Read(mac); err != nil {
		return "", err
	}
	hash := "$hmac-sha256$local$" + base64.RawStdEncoding.EncodeToString(mac)

	group := "groups/" + demo.GroupID
	meta := events.NewMetadata(group, "intake", time.Now())
	ev, err := events.Namespace(e.sys.EventNamespace).Encode(meta, "concern", "registered", &eventsv1.ConcernRegistered{
		Metadata:     meta,
		Concern:      group + "/concerns/" + id,
		Practitioner: practitioner,
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`BEGIN;
INSERT INTO %[1]s.concerns (id, group_id, practitioner, client_name, description, client_email, client_phone, reference, access_code_hash, create_time, key_id, wrapped_key, access_code_sealed) VALUES (gen_random_uuid(), %[2]s, %[3]s, %[4]s, %[5]s, %[6]s, %[7]s, 'R' || lpad(nextval('%[1]s.refs')::text, 8, '0'), %[8]s, now(), %[9]s, %[10]s, %[11]s);
INSERT INTO %[1]s.outbox (event_id, subject, event_type, payload) VALUES (gen_random_uuid(), %[12]s, %[13]s, '\x%[14]s');
END;
`, scratchSchema, literal(demo.GroupID), literal(practitioner), literal(values[0]), literal(values[1]),
		literal(values[2]), literal(values[3]), literal(hash), literal(keys.Current()), literal(wrapped), literal(values[4]),
		literal(ev.Subject), literal(ev.Type), hex.EncodeToString(ev.Payload)), nil
}

// literal quotes s as an SQL string with its colons escaped (E'\x3a'), so
// that pgbench does not take a colon for the start of a variable.
func literal(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `''`, `:`, `\x3a`)
	return "E'" + r.Replace(s) + "'"
}
