package bench

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/stack/tracesink"
)

// BenchmarkTracingOverhead is what tracing costs the public form: concerns
// registered per second through REST at 8 clients with every process
// exporting every span to an OTLP collector (in the benchmark's process),
// against a system without a collector (ids in the log lines, nothing
// recorded), each its own system started afresh
// (go test -run '^$' -bench TracingOverhead -benchtime 2000x ./bench/).
// It reports concerns/s and the CPU time of the whole system per concern
// for each, and prints their ratios (issue 16's goal: at least 0.9).
func BenchmarkTracingOverhead(b *testing.B) {
	// It counts the spans it is sent and keeps none: the far end of
	// tracing, at almost no cost of its own.
	c, err := tracesink.Start(tracesink.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Stop)
	on := map[string][]string{}
	for _, name := range processes {
		on[name] = []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + c.Addr()}
	}

	const clients = 8
	// Both systems run from start to end, so that each measurement shares
	// the machine with the same company, and they are measured in the
	// order off, on, on, off, so that a drift in the machine's other work
	// weighs on both alike.
	systems := map[bool]*env{false: startSystem(b, nil), true: startSystem(b, on)}
	type result struct {
		concerns int
		seconds  float64
		cpuMS    float64
	}
	results := map[bool]*result{false: {}, true: {}}
	for _, tracing := range []bool{false, true, true, false} {
		env := systems[tracing]
		b.Run(fmt.Sprintf("tracing=%v", tracing), func(b *testing.B) {
			// Both: the other system's backlog of events would
			// otherwise weigh on this measurement.
			for _, e := range systems {
				e.settle(b)
			}
			before := env.cpuTime()
			b.ResetTimer()
			start := time.Now()
			env.post(b, clients, b.N)
			elapsed := time.Since(start)
			b.StopTimer()
			total := 0.0
			for _, ms := range cpuPer(before, env.cpuTime(), 1) {
				total += ms
			}
			if b.N == 1 {
				return // the sub-benchmark's trial run: too short to count
			}
			r := results[tracing]
			r.concerns += b.N
			r.seconds += elapsed.Seconds()
			r.cpuMS += total
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "concerns/s")
			b.ReportMetric(total/float64(b.N), "cpu_ms/concern")
		})
	}
	off, traced := results[false], results[true]
	if off.concerns > 0 && traced.concerns > 0 {
		offRate, tracedRate := float64(off.concerns)/off.seconds, float64(traced.concerns)/traced.seconds
		offCPU, tracedCPU := off.cpuMS/float64(off.concerns), traced.cpuMS/float64(traced.concerns)
		fmt.Fprintf(os.Stdout, "\ntracing on/off at %d clients: %.3f× the concerns/s (%.1f vs %.1f), %.3f× the CPU per concern (%.2f vs %.2f ms); %d spans collected\n",
			clients, tracedRate/offRate, tracedRate, offRate, tracedCPU/offCPU, tracedCPU, offCPU, c.Count())
	}
}
