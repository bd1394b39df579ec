package clidoc

import (
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

func testApp() *ucli.App {
	return &ucli.App{
		Name:     "gx",
		HideHelp: true,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "job-name", Aliases: []string{"J"}, Usage: "job name"},
			&ucli.StringFlag{Name: "out", Usage: "write to `FILE`"},
			&ucli.IntFlag{Name: "tries", Value: 3, Usage: "tries"},
			&ucli.BoolFlag{Name: "wait", Aliases: []string{"W"}, Usage: "wait"},
			&ucli.BoolFlag{Name: "secret", Hidden: true},
		},
	}
}

func TestOptions(t *testing.T) {
	got, err := Options(testApp(), "gx", Extras{"job-name": {Arg: "name", Text: ".B more"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `.TP
\fB\-J\fR, \fB\-\-job\-name\fR=\fIname\fR
Job name.
.B more
.TP
\fB\-\-out\fR=\fIFILE\fR
Write to FILE.
.TP
\fB\-\-tries\fR=\fIvalue\fR
Tries (default: 3).
.TP
\fB\-W\fR, \fB\-\-wait\fR
Wait.
`
	if _, body, _ := strings.Cut(got, "\n"); body != want {
		t.Errorf("Options =\n%s\nwant\n%s", body, want)
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		path  string
		extra Extras
		want  string
	}{
		{"gx", Extras{"gone": {Text: "x"}}, `text for "gone"`},
		{"gy", nil, `"gy"`},
		{"gx sub", nil, `no subcommand "sub"`},
	}
	for _, tt := range tests {
		if _, err := Options(testApp(), tt.path, tt.extra); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Options(%q, %v) = %v, want an error with %q", tt.path, tt.extra, err, tt.want)
		}
	}
}

func TestSplice(t *testing.T) {
	render := func(path string) (string, error) { return "generated " + path + "\n", nil }
	tests := []struct {
		page, want, err string
	}{
		{page: ".SH A\n" + BeginMarker + " gx\nold\nold\n" + EndMarker + "\ntail\n",
			want: ".SH A\n" + BeginMarker + " gx\ngenerated gx\n" + EndMarker + "\ntail\n"},
		{page: BeginMarker + " a\n" + EndMarker + "\n" + BeginMarker + " b\nx\n" + EndMarker,
			want: BeginMarker + " a\ngenerated a\n" + EndMarker + "\n" + BeginMarker + " b\ngenerated b\n" + EndMarker},
		{page: ".SH A\n", err: "no"},
		{page: BeginMarker + " a\nx\n", err: "has no"},
		{page: BeginMarker + " a\n" + BeginMarker + " b\n" + EndMarker + "\n", err: "has no"},
	}
	for _, tt := range tests {
		got, err := Splice(tt.page, render)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Splice(%q) error %v, want %q", tt.page, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Splice(%q) = %q, %v, want %q", tt.page, got, err, tt.want)
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"--mem a\\b", `\-\-mem a\eb`},
		{".hidden", `\&.hidden`},
		{"'q", `\&'q`},
		{"run × 2", `run \(mu 2`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestManExtrasSections checks that every key of ManExtras is a section
// some page generates: a page renamed without its extras would otherwise
// lose them silently.
func TestManExtrasSections(t *testing.T) {
	known := map[string]bool{"gsub": true, "grun": true, "gattach": true, "gqueue": true, "gcancel": true, "ginfo": true,
		"gacct": true, "gshare": true, "gcontrol": true, "ghostnames": true, "gsim run": true, "gsim gen": true,
		"gctld": true, "gnoded": true}
	for k := range ManExtras {
		if !known[k] {
			t.Errorf("ManExtras[%q]: no page has that section", k)
		}
	}
}
