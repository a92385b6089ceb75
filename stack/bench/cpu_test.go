package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ipnmediation/disputes/stack/launch"
)

// processes are the programs whose CPU time the REST benchmark reports,
// besides PostgreSQL: the website takes no part in it.
var processes = append(append([]string(nil), launch.Services...), "gateway")

// pgOther names the PostgreSQL processes that serve no service: the
// server's own (checkpointer, WAL writer, autovacuum) and the benchmark's
// connections.
const pgOther = "other"

// cpuTime returns the CPU time (user and system, in clock ticks of 10 ms)
// each process of the system (launch.Processes) has used so far, and PostgreSQL's (the postmaster and every
// process it started) under "postgres:<service>" for the backends of each
// service's connections (by their application_name, which is the
// service's schema) and "postgres:other" for the rest; nil where /proc
// cannot tell (not Linux).
func (e *env) cpuTime() map[string]int64 {
	apps := map[string]string{}
	rows, err := e.pool.Query(context.Background(), `SELECT pid::text, application_name FROM pg_stat_activity`)
	if err != nil {
		return nil
	}
	for rows.Next() {
		var pid, app string
		if err := rows.Scan(&pid, &app); err != nil {
			rows.Close()
			return nil
		}
		if slices.Contains(launch.Services, app) {
			apps[pid] = app
		}
	}
	rows.Close()
	out := map[string]int64{}
	for _, name := range launch.Processes {
		t, ok := ticks(e.sys.Proc(name).Pid())
		if !ok {
			return nil
		}
		out[name] = t
	}
	b, err := os.ReadFile(filepath.Join(e.dataDir, "pg", "data", "postmaster.pid"))
	if err != nil {
		return nil
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return nil
	}
	postmaster, err := strconv.Atoi(fields[0])
	if err != nil {
		return nil
	}
	out["postgres:"+pgOther], _ = ticks(postmaster)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if f, ok := stat(pid); ok && f[1] == fields[0] {
			t, _ := ticks(pid)
			app, ok := apps[d.Name()]
			if !ok {
				app = pgOther
			}
			out["postgres:"+app] += t
		}
	}
	return out
}

// stat returns the fields of /proc/<pid>/stat after the command's name,
// starting with the state.
func stat(pid int) ([]string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return nil, false
	}
	f := strings.Fields(s[i+2:])
	return f, len(f) > 12
}

// ticks is the CPU time (utime + stime) of a process, in clock ticks.
func ticks(pid int) (int64, bool) {
	f, ok := stat(pid)
	if !ok {
		return 0, false
	}
	user, err1 := strconv.ParseInt(f[11], 10, 64)
	system, err2 := strconv.ParseInt(f[12], 10, 64)
	return user + system, err1 == nil && err2 == nil
}

// cpuPer is each process's CPU time between two readings, in milliseconds
// per operation (a concern, a page) of the n done between them (a clock
// tick is 10 ms on Linux).
func cpuPer(before, after map[string]int64, n int) map[string]float64 {
	if before == nil || after == nil {
		return nil
	}
	out := map[string]float64{}
	for name, t := range after {
		out[name] = float64(t-before[name]) * 10 / float64(n)
	}
	return out
}
