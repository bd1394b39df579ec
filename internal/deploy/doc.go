// Package deploy holds the tests of what `make install` lays out and of
// the systemd units under conf/ (docs/DEPLOY.md). It has no code.
package deploy
