package clidoc

import (
	"bytes"
	"fmt"
	"os"

	ucli "github.com/urfave/cli/v2"
)

// UpdateHint ends every "out of date" error.
const UpdateHint = "run make man"

// SyncFile compares the file at path with want. With write set it
// rewrites the file when they differ; otherwise a difference is an error
// that says to run make man.
func SyncFile(path string, want []byte, write bool) (changed bool, err error) {
	got, err := os.ReadFile(path)
	if err != nil && !(write && os.IsNotExist(err)) {
		return false, err
	}
	if bytes.Equal(got, want) {
		return false, nil
	}
	if !write {
		return true, fmt.Errorf("%s is out of date with the commands' flags: %s", path, UpdateHint)
	}
	return true, os.WriteFile(path, want, 0o644)
}

// SyncPage regenerates the generated sections of the man page at path from
// app (with ManExtras) and compares or rewrites it as SyncFile does.
func SyncPage(path string, app *ucli.App, write bool) (changed bool, err error) {
	page, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	want, err := Page(string(page), app, ManExtras)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return SyncFile(path, []byte(want), write)
}
