// Package clidoc renders urfave/cli flag definitions as documentation, so
// that the man pages and shell completion never drift from --help: the
// OPTIONS sections of man pages (between BeginMarker and EndMarker lines;
// the rest of each page is hand-written) and bash and zsh completion
// scripts. ManExtras holds the hand-written text that the pages add to
// some flags. `make man` runs it (client/internal/gendoc for package cli's
// commands, a TestManPage with -update in each package main).
package clidoc
