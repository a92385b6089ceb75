package app

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
)

// BenchmarkCreateConcern measures the public form's throughput through the
// whole service: gRPC, the checks with the directory (a fake one), the
// access code's hash, the sealed concern and its event in PostgreSQL. Each
// request carries a fresh request id, as the website's form does. It reports
// concerns/s for one client and for eight at once; compare runs on the same
// machine only.
func BenchmarkCreateConcern(b *testing.B) {
	r := startIntake(b)
	public := intakev1.NewIntakeServiceClient(dial(b, r.addr, ""))
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			var next atomic.Int64
			var wg sync.WaitGroup
			var failed atomic.Pointer[error]
			b.ResetTimer()
			for range clients {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						req := validRequest()
						req.RequestId = uuid.NewString()
						if _, err := public.CreateConcern(context.Background(), req); err != nil {
							failed.CompareAndSwap(nil, &err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "concerns/s")
		})
	}
}
