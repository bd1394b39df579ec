package cli

import ucli "github.com/urfave/cli/v2"

// urfave/cli (v2.27) computes a flag's names anew, with a regular
// expression, on every Names() call, and Context.IsSet walks the names of
// every flag until it finds the one asked for. App.Run asks IsSet of
// every flag (runFlagActions), and gsub asks again for each option it
// reads, so with gsub's ~150 options one run spent 9 ms of CPU in that
// regular expression (BenchmarkGsubPrintSpec: 9.4 ms → see
// docs/BENCHMARKS.md). The wrappers below compute the names once.

// fastString is a StringFlag with its names computed once.
type fastString struct {
	*ucli.StringFlag
	names []string
}

func (f *fastString) Names() []string   { return f.names }
func (f *fastString) Unwrap() ucli.Flag { return f.StringFlag }

// fastBool is a BoolFlag with its names computed once.
type fastBool struct {
	*ucli.BoolFlag
	names []string
}

func (f *fastBool) Names() []string   { return f.names }
func (f *fastBool) Unwrap() ucli.Flag { return f.BoolFlag }

var (
	_ ucli.DocGenerationFlag = (*fastString)(nil)
	_ ucli.DocGenerationFlag = (*fastBool)(nil)
)

// fastFlags wraps the string and bool flags of flags (the others, rarer,
// stay as they are).
func fastFlags(flags []ucli.Flag) []ucli.Flag {
	out := make([]ucli.Flag, len(flags))
	for i, f := range flags {
		switch t := f.(type) {
		case *ucli.StringFlag:
			out[i] = &fastString{t, t.Names()}
		case *ucli.BoolFlag:
			out[i] = &fastBool{t, t.Names()}
		default:
			out[i] = f
		}
	}
	return out
}
