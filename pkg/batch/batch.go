package batch

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gsched/gsched/pkg/api"
)

// Prefixes that mark a directive line.
var prefixes = []string{"#GSUB", "#SBATCH"}

// MaxLineBytes bounds a directive line.
const MaxLineBytes = 16 << 10

// MaxArgs bounds the number of options all directives may give.
const MaxArgs = 4096

// Sentinel errors, wrapped with the details (and api.ErrInvalid).
var (
	ErrEmpty     = errors.New("the batch script is empty")
	ErrNoShebang = errors.New("this does not look like a batch script: the first line must start with #! followed by the path to an interpreter")
	ErrTooLarge  = fmt.Errorf("batch script larger than %d bytes", api.MaxScriptBytes)
	ErrNUL       = errors.New("the batch script contains a NUL byte (is it a binary file?)")
	ErrDOS       = errors.New("the batch script has DOS line breaks (\\r\\n) instead of UNIX ones (\\n); convert it with dos2unix")
	// ErrNotUTF8: scripts travel as JSON text, which would replace the
	// invalid bytes; better to say so than to run another script.
	ErrNotUTF8 = errors.New("the batch script is not valid UTF-8 (convert it with iconv -t UTF-8)")
)

// Line is one directive line of a script.
type Line struct {
	// Number is the 1-based line number in the script.
	Number int
	// Prefix is "#GSUB" or "#SBATCH".
	Prefix string
	// Args are the words of the line, comment removed.
	Args []string
}

// Directives are the options a script carries.
type Directives struct {
	// Interpreter is the text after "#!" on the first line, trimmed.
	Interpreter string
	// Args are the options of every directive line, in order.
	Args []string
	// Lines are the directive lines, in order (empty ones included).
	Lines []Line
}

// Error is a problem with a script, at one line (Line > 0) or as a whole.
// It matches its Err and api.ErrInvalid with errors.Is.
type Error struct {
	Line int
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("batch script line %d: %v", e.Line, e.Err)
	}
	return e.Err.Error()
}

// Unwrap returns the underlying error and api.ErrInvalid.
func (e *Error) Unwrap() []error { return []error{e.Err, api.ErrInvalid} }

// ParseDirectives checks that script looks like a batch script and
// returns its #GSUB / #SBATCH options. Errors match api.ErrInvalid.
func ParseDirectives(script []byte) (Directives, error) {
	var d Directives
	if len(script) > api.MaxScriptBytes {
		return d, &Error{Err: ErrTooLarge}
	}
	if len(bytes.TrimSpace(script)) == 0 {
		return d, &Error{Err: ErrEmpty}
	}
	if i := bytes.IndexByte(script, 0); i >= 0 {
		return d, &Error{Line: 1 + bytes.Count(script[:i], []byte("\n")), Err: ErrNUL}
	}
	if i := bytes.Index(script, []byte("\r\n")); i >= 0 {
		return d, &Error{Line: 1 + bytes.Count(script[:i], []byte("\n")), Err: ErrDOS}
	}
	if !utf8.Valid(script) {
		i := 0
		for i < len(script) {
			r, n := utf8.DecodeRune(script[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return d, &Error{Line: 1 + bytes.Count(script[:i], []byte("\n")), Err: ErrNotUTF8}
	}
	if !bytes.HasPrefix(script, []byte("#!")) {
		return d, &Error{Err: ErrNoShebang}
	}
	rest := script
	for n := 1; len(rest) > 0; n++ {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, nil
		}
		if n == 1 {
			d.Interpreter = strings.TrimSpace(string(line[2:]))
			if d.Interpreter == "" {
				return d, &Error{Line: 1, Err: ErrNoShebang}
			}
			continue
		}
		prefix, body, ok := directive(line)
		if !ok {
			if !isCommentOrBlank(line) {
				break // the first command ends the option block
			}
			continue
		}
		if len(line) > MaxLineBytes {
			return d, &Error{Line: n, Err: fmt.Errorf("directive longer than %d bytes", MaxLineBytes)}
		}
		args, err := SplitWords(body)
		if err != nil {
			return d, &Error{Line: n, Err: err}
		}
		if len(d.Args)+len(args) > MaxArgs {
			return d, &Error{Line: n, Err: fmt.Errorf("more than %d options in directives", MaxArgs)}
		}
		d.Lines = append(d.Lines, Line{Number: n, Prefix: prefix, Args: args})
		d.Args = append(d.Args, args...)
	}
	return d, nil
}

// directive reports whether line is a directive, and returns the text after
// its prefix.
func directive(line []byte) (prefix string, body []byte, ok bool) {
	for _, p := range prefixes {
		if !bytes.HasPrefix(line, []byte(p)) {
			continue
		}
		body = line[len(p):]
		if len(body) == 0 {
			return p, nil, true
		}
		if body[0] == ' ' || body[0] == '\t' {
			return p, body, true
		}
	}
	return "", nil, false
}

func isCommentOrBlank(line []byte) bool {
	t := bytes.TrimLeft(line, " \t\r\f\v")
	return len(t) == 0 || t[0] == '#'
}

// SplitWords splits a directive's text into words like a POSIX shell,
// without any expansion: quotes group, backslashes escape, and a word
// starting with '#' starts a comment.
func SplitWords(s []byte) ([]string, error) {
	var words []string
	var cur []byte
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, string(cur))
				cur, inWord = cur[:0], false
			}
		case c == '#' && !inWord:
			return words, nil
		case c == '\\':
			inWord = true
			if i+1 < len(s) {
				i++
				cur = append(cur, s[i])
			}
		case c == '\'':
			inWord = true
			j := bytes.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unmatched single quote")
			}
			cur = append(cur, s[i+1:i+1+j]...)
			i += j + 1
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '"' {
					closed = true
					break
				}
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == '$') {
					i++
				}
				cur = append(cur, s[i])
			}
			if !closed {
				return nil, errors.New("unmatched double quote")
			}
		default:
			inWord = true
			cur = append(cur, c)
		}
	}
	if inWord {
		words = append(words, string(cur))
	}
	return words, nil
}
