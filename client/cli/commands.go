package cli

import ucli "github.com/urfave/cli/v2"

// commandList is every command of package cli, in the order the
// documentation lists them.
var commandList = []struct {
	name string
	run  func(*Env, []string) int
}{
	{"gsub", (*Env).Gsub},
	{"grun", (*Env).Grun},
	{"gattach", (*Env).Gattach},
	{"gqueue", (*Env).Gqueue},
	{"gcancel", (*Env).Gcancel},
	{"ginfo", (*Env).Ginfo},
	{"gacct", (*Env).Gacct},
	{"gshare", (*Env).Gshare},
	{"gcontrol", (*Env).Gcontrol},
	{"ghostnames", (*Env).Ghostnames},
}

// Commands returns each command's urfave/cli app, built exactly as the
// command builds it to run (name, summary, usage text and flags, the
// ones --help shows), without running it. The man pages and the shell
// completion are generated from them (client/internal/gendoc, make man).
func Commands() []*ucli.App {
	apps := make([]*ucli.App, 0, len(commandList))
	for _, c := range commandList {
		e := &Env{describe: func(a *ucli.App) { apps = append(apps, a) }}
		c.run(e, []string{c.name})
	}
	return apps
}
