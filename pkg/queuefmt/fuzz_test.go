package queuefmt

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gsched/gsched/pkg/api"
)

// checkErrorLine fails unless err reads as one line of text.
func checkErrorLine(t *testing.T, what string, err error) {
	t.Helper()
	if line := err.Error(); line == "" || strings.ContainsFunc(line, unicode.IsControl) {
		t.Fatalf("%s: error is not one line of text: %q", what, line)
	}
}

// fuzzQueueJobs: a plain running job and pending array tasks to fold.
func fuzzQueueJobs() []api.Job {
	jobs := []api.Job{queueJob()}
	for i := 0; i < 3; i++ {
		jobs = append(jobs, arrayTask(100, i*2, api.StatePending, api.ReasonArrayTaskLimit, "0-9%3"))
	}
	return append(jobs, arrayTask(100, 9, api.StatePending, api.ReasonPriority, "0-9%3"))
}

// FuzzQueueFormat: gqueue -o and -S specs parse to fields that lay out at
// the width asked for, or to a one-line error.
func FuzzQueueFormat(f *testing.F) {
	for _, s := range []string{SqueueDefaultFormat, SqueueLongFormat, "%i %A %F %K %%", "%-20j|%.3t", "%", "%.",
		"%1001i", "%99999999999999999999i", "%.5é", "x%%y", "%a%b%c%d%e%f%g%h%i%j%k%l%m%n%o%p%q%r%s%t%u%v%w%x%y%z"} {
		f.Add(s, "-t,P,i")
	}
	f.Add("%i", "--i")
	f.Add("%i", ",,")
	f.Fuzz(func(t *testing.T, spec, sortSpec string) {
		keys, err := ParseSort(sortSpec)
		if err != nil {
			checkErrorLine(t, "sort", err)
		}
		for _, k := range keys {
			if !isLetter(k.Letter) {
				t.Fatalf("ParseSort(%q) gave %q", sortSpec, k.Letter)
			}
		}
		qf, err := ParseFormat(spec)
		if err != nil {
			checkErrorLine(t, "format", err)
			return
		}
		qc := &Ctx{Now: t0, Loc: time.UTC, BitstrLen: DefaultBitstrLen}
		rows := Rows(ptrs(fuzzQueueJobs()), true, nil)
		SortRows(rows, keys, qc)
		if len(rows) != 3 {
			t.Fatalf("%d rows, want 3 (one job, one folded group, one task alone)", len(rows))
		}
		for _, it := range qf {
			switch {
			case it.Letter == 0 && it.Literal == "":
				t.Fatalf("empty item in %q", spec)
			case it.Letter != 0 && (it.Col.Width < 0 || it.Col.Width > MaxFieldWidth):
				t.Fatalf("width %d in %q", it.Col.Width, spec)
			case it.Letter != 0 && it.Col.Width > 0:
				for i := range rows {
					if n := utf8.RuneCountInString(it.Col.Squeue(rows[i].field(it.Letter, qc))); n != it.Col.Width {
						t.Fatalf("%%%c laid out in %d characters, want %d", it.Letter, n, it.Col.Width)
					}
				}
			}
		}
		var b bytes.Buffer
		if err := RenderFormat(&b, rows, qf, true, qc); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(spec, "\n") && strings.Count(b.String(), "\n") != 4 {
			t.Fatalf("format %q printed %q", spec, b.String())
		}
	})
}
