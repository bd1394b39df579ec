package cli

import (
	"encoding/json"

	gojson "github.com/goccy/go-json"
	"io"
	"os"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/queuefmt"
)

// BenchmarkGqueueRender: gqueue's client side for a listing saved with
// `gqueue --json > FILE` (GSCHED_BENCH_LIST=FILE; skipped without it):
// decoding the answer and printing the default table.
func BenchmarkGqueueRender(b *testing.B) {
	path := os.Getenv("GSCHED_BENCH_LIST")
	if path == "" {
		b.Skip("GSCHED_BENCH_LIST names no saved listing")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode-goccy", func(b *testing.B) {
		for range b.N {
			var l api.JobList
			if err := gojson.Unmarshal(data, &l); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		for range b.N {
			var l api.JobList
			if err := json.Unmarshal(data, &l); err != nil {
				b.Fatal(err)
			}
		}
	})
	var l api.JobList
	if err := json.Unmarshal(data, &l); err != nil {
		b.Fatal(err)
	}
	b.Run("table", func(b *testing.B) {
		v := &queuefmt.View{Fold: true, Ctx: queuefmt.Ctx{Loc: time.UTC, Now: l.Now}}
		jobs := make([]*api.Job, len(l.Jobs))
		for i := range l.Jobs {
			jobs[i] = &l.Jobs[i]
		}
		for range b.N {
			if err := v.Render(io.Discard, jobs, true); err != nil {
				b.Fatal(err)
			}
		}
	})
}
