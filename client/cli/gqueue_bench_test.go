package cli

import (
	"encoding/json"

	gojson "github.com/goccy/go-json"
	"io"
	"os"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
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
		v := &queueView{fold: true, ctx: queueCtx{Loc: time.UTC, Now: l.Now}}
		for range b.N {
			if err := v.render(io.Discard, l.Jobs, true); err != nil {
				b.Fatal(err)
			}
		}
	})
}
