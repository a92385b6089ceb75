// Package render writes the directory's resources for people (short aligned
// tables and "label  value" lines) and for scripts (protojson). It knows the
// resources but not how they were fetched.
package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// JSON writes m as one indented protojson object, with the same field names
// as the REST API.
func JSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %T as JSON: %w", m, err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// Table writes rows under header in aligned columns. Empty cells show "-" so
// that a missing value is visibly missing.
func Table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = orDash(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// Field is one "label  value" line of a record.
type Field struct {
	Label, Value string
}

// Fields writes one aligned line per field, leaving out empty values.
func Fields(w io.Writer, fields []Field) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range fields {
		if f.Value == "" {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\n", f.Label, oneLine(f.Value))
	}
	return tw.Flush()
}

// ID is the last part of a resource name: "alex" for
// "groups/riverside/members/alex".
func ID(name string) string {
	return name[strings.LastIndex(name, "/")+1:]
}

// Time shows a timestamp in UTC to the minute, in RFC 3339 form without
// spaces; empty when unset.
func Time(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format("2006-01-02T15:04Z")
}

// Duration shows a duration in days when it is whole days ("56d"), as Go
// spells it otherwise; empty when unset.
func Duration(d *durationpb.Duration) string {
	if d == nil {
		return ""
	}
	v := d.AsDuration()
	const day = 24 * time.Hour
	if v%day == 0 {
		return fmt.Sprintf("%dd", v/day)
	}
	return v.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return oneLine(s)
}

// oneLine keeps a free-text value from breaking the layout.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// enumWord turns STATE_ACTIVE into "active" given the prefix "STATE_".
func enumWord(name, prefix string) string {
	w := strings.TrimPrefix(name, prefix)
	if strings.HasSuffix(w, "UNSPECIFIED") {
		return ""
	}
	return strings.ReplaceAll(strings.ToLower(w), "_", " ")
}
