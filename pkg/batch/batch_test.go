package batch

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gsched/gsched/pkg/api"
)

func TestParseDirectives(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   []string
		interp string
	}{
		{
			name:   "none",
			script: "#!/bin/bash\necho hi\n",
			interp: "/bin/bash",
		},
		{
			name:   "both prefixes in order",
			script: "#!/bin/sh\n#SBATCH --job-name=x\n#GSUB -t 10\n#SBATCH -p gpu\n",
			want:   []string{"--job-name=x", "-t", "10", "-p", "gpu"},
			interp: "/bin/sh",
		},
		{
			name:   "several options on a line and a trailing comment",
			script: "#!/bin/sh\n#SBATCH -N 1 --ntasks=4\t-c2 # four tasks\n",
			want:   []string{"-N", "1", "--ntasks=4", "-c2"},
			interp: "/bin/sh",
		},
		{
			name:   "quotes",
			script: "#!/bin/sh\n#SBATCH --job-name=\"my job\" -o 'out %j.log' --comment=a\\ b\n",
			want:   []string{"--job-name=my job", "-o", "out %j.log", "--comment=a b"},
			interp: "/bin/sh",
		},
		{
			name:   "no expansion",
			script: "#!/bin/sh\n#SBATCH --chdir=$HOME -J \"$USER\\\"s\" -o '$x'\n",
			want:   []string{"--chdir=$HOME", "-J", "$USER\"s", "-o", "$x"},
			interp: "/bin/sh",
		},
		{
			name:   "hash inside a word is kept",
			script: "#!/bin/sh\n#SBATCH --comment=a#b '#quoted'\n",
			want:   []string{"--comment=a#b", "#quoted"},
			interp: "/bin/sh",
		},
		{
			name:   "comments and blank lines between directives",
			script: "#!/bin/sh\n\n# plain comment\n   # indented comment\n#SBATCH -J a\n\n#GSUB --mem=4G\n",
			want:   []string{"-J", "a", "--mem=4G"},
			interp: "/bin/sh",
		},
		{
			name:   "not directives",
			script: "#!/bin/sh\n##SBATCH -J no\n# SBATCH -J no\n  #SBATCH -J no\n#SBATCHX -J no\n#sbatch -J no\n#GSUB -J yes\n",
			want:   []string{"-J", "yes"},
			interp: "/bin/sh",
		},
		{
			name:   "scanning stops at the first command",
			script: "#!/bin/sh\n#SBATCH -J a\necho hi\n#SBATCH -J b\n",
			want:   []string{"-J", "a"},
			interp: "/bin/sh",
		},
		{
			name:   "bare prefix",
			script: "#!/bin/sh\n#SBATCH\n#GSUB   \n#SBATCH -J a",
			want:   []string{"-J", "a"},
			interp: "/bin/sh",
		},
		{
			name:   "interpreter with arguments",
			script: "#!/usr/bin/env python3\n#SBATCH -J py\nprint(1)\n",
			want:   []string{"-J", "py"},
			interp: "/usr/bin/env python3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDirectives([]byte(tt.script))
			if err != nil {
				t.Fatalf("ParseDirectives: %v", err)
			}
			if !reflect.DeepEqual(d.Args, tt.want) && !(len(d.Args) == 0 && len(tt.want) == 0) {
				t.Errorf("Args = %q, want %q", d.Args, tt.want)
			}
			if d.Interpreter != tt.interp {
				t.Errorf("Interpreter = %q, want %q", d.Interpreter, tt.interp)
			}
		})
	}
}

func TestParseDirectivesLines(t *testing.T) {
	d, err := ParseDirectives([]byte("#!/bin/sh\n# c\n#SBATCH -J a\n#GSUB -t 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Line{{Number: 3, Prefix: "#SBATCH", Args: []string{"-J", "a"}}, {Number: 4, Prefix: "#GSUB", Args: []string{"-t", "5"}}}
	if !reflect.DeepEqual(d.Lines, want) {
		t.Errorf("Lines = %+v, want %+v", d.Lines, want)
	}
}

func TestParseDirectivesErrors(t *testing.T) {
	tests := []struct {
		name   string
		script string
		is     error
		errSub string
	}{
		{name: "empty", script: "", is: ErrEmpty},
		{name: "whitespace", script: " \n\t\n", is: ErrEmpty},
		{name: "no shebang", script: "echo hi\n", is: ErrNoShebang, errSub: "first line must start with #!"},
		{name: "shebang not first", script: "\n#!/bin/sh\n", is: ErrNoShebang},
		{name: "empty interpreter", script: "#!\necho\n", is: ErrNoShebang, errSub: "line 1"},
		{name: "NUL", script: "#!/bin/sh\necho\x00\n", is: ErrNUL, errSub: "line 2"},
		{name: "DOS", script: "#!/bin/sh\r\n#SBATCH -J a\r\n", is: ErrDOS, errSub: "line 1"},
		{name: "Latin-1", script: "#!/bin/sh\n#SBATCH -J a\necho caf\xe9\n", is: ErrNotUTF8, errSub: "line 3"},
		{name: "cut UTF-8", script: "#!/bin/sh\necho \xe2\x82", is: ErrNotUTF8, errSub: "line 2"},
		{name: "unmatched double", script: "#!/bin/sh\n#SBATCH -J \"a\n", errSub: "line 2: unmatched double quote"},
		{name: "unmatched single", script: "#!/bin/sh\n\n#GSUB -J 'a\n", errSub: "line 3: unmatched single quote"},
		{name: "long directive", script: "#!/bin/sh\n#SBATCH -J " + strings.Repeat("a", MaxLineBytes) + "\n", errSub: "longer than"},
		{name: "too large", script: "#!/bin/sh\n" + strings.Repeat("#", api.MaxScriptBytes), is: ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDirectives([]byte(tt.script))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, api.ErrInvalid) {
				t.Errorf("%v does not match api.ErrInvalid", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("%v does not match %v", err, tt.is)
			}
			if tt.errSub != "" && !strings.Contains(err.Error(), tt.errSub) {
				t.Errorf("error %q does not contain %q", err, tt.errSub)
			}
		})
	}
}

func TestLongCommandLinesAreFine(t *testing.T) {
	script := "#!/bin/sh\n#SBATCH -J a\necho " + strings.Repeat("x", 2*MaxLineBytes) + "\n"
	if _, err := ParseDirectives([]byte(script)); err != nil {
		t.Fatal(err)
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"a b\tc", []string{"a", "b", "c"}},
		{`""`, []string{""}},
		{`a"b c"d`, []string{"ab cd"}},
		{`'a\b'`, []string{`a\b`}},
		{`"a\b\"c\\"`, []string{`a\b"c\`}},
		{`a\ b`, []string{"a b"}},
		{`a\`, []string{"a"}},
		{"a # b c", []string{"a"}},
		{"#all comment", nil},
	}
	for _, tt := range tests {
		got, err := SplitWords([]byte(tt.in))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseDirectives(f *testing.F) {
	for _, s := range []string{
		"#!/bin/sh\n#SBATCH -J a --mem=4G\n#GSUB -t 10 # c\necho\n",
		"#!/bin/sh\n#SBATCH -J \"a b\" 'c d' e\\ f\n",
		"#!/bin/sh\n#SBATCH -J \"unterminated\n",
		"echo no shebang\n",
		"#!/bin/sh\r\n",
		"#!/bin/sh\n\x00",
		"#!\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		d, err := ParseDirectives(script)
		if err != nil {
			if !errors.Is(err, api.ErrInvalid) {
				t.Fatalf("error %v does not match api.ErrInvalid", err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || len(msg) > 512 {
				t.Fatalf("error is not one short line: %q", msg)
			}
			return
		}
		if !utf8.Valid(script) || bytes.IndexByte(script, 0) >= 0 {
			t.Fatalf("accepted a script with NUL bytes or invalid UTF-8")
		}
		if !bytes.HasPrefix(script, []byte("#!")) {
			t.Fatalf("accepted a script without #!")
		}
		n := 0
		for _, l := range d.Lines {
			n += len(l.Args)
		}
		if n != len(d.Args) {
			t.Fatalf("Lines hold %d args, Args %d", n, len(d.Args))
		}
		// Quoting each word with single quotes and parsing again gives the
		// same words back.
		var b strings.Builder
		b.WriteString("#!/bin/sh\n#GSUB")
		for _, a := range d.Args {
			b.WriteString(" '" + strings.ReplaceAll(a, "'", `'\''`) + "'")
		}
		b.WriteString("\n")
		if b.Len() > MaxLineBytes || strings.ContainsAny(strings.Join(d.Args, ""), "\n\r\x00") {
			return
		}
		d2, err := ParseDirectives([]byte(b.String()))
		if err != nil {
			t.Fatalf("reparse of %q: %v", b.String(), err)
		}
		if !reflect.DeepEqual(d2.Args, d.Args) && !(len(d2.Args) == 0 && len(d.Args) == 0) {
			t.Fatalf("reparse: %q != %q", d2.Args, d.Args)
		}
	})
}
