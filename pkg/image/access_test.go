package image

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestAllowed(t *testing.T) {
	user := Cred{UID: 1000, GID: 1000, Groups: []uint32{1000, 44}}
	tests := []struct {
		name           string
		mode, uid, gid uint32
		c              Cred
		want           uint32
		ok             bool
	}{
		{"owner read", 0o400, 1000, 0, user, AccessRead, true},
		{"owner bits win over others", 0o044, 1000, 0, user, AccessRead, false},
		{"group read", 0o040, 0, 1000, user, AccessRead, true},
		{"supplementary group", 0o050, 0, 44, user, AccessRead | AccessExec, true},
		{"group bits win over others", 0o604, 0, 44, user, AccessRead, false},
		{"others read", 0o004, 0, 0, user, AccessRead, true},
		{"others no write", 0o755, 0, 0, user, AccessWrite, false},
		{"search only", 0o711, 0, 0, user, AccessExec, true},
		{"root-only file", 0o600, 0, 0, user, AccessRead, false},
		{"root reads anything", 0o000, 5, 5, Cred{}, AccessRead | AccessWrite, true},
		{"read and write both needed", 0o644, 1000, 1000, user, AccessRead | AccessWrite, true},
	}
	for _, tt := range tests {
		if got := allowed(tt.mode, tt.uid, tt.gid, tt.c, tt.want); got != tt.ok {
			t.Errorf("%s: allowed = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func TestOpenAs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (files owned by others)")
	}
	user := Cred{UID: 4242, GID: 4242}
	d := t.TempDir()
	for _, p := range []string{filepath.Dir(d), d} { // TempDir makes them 0700
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(rel string, mode os.FileMode, dir bool) string {
		p := filepath.Join(d, rel)
		var err error
		if dir {
			err = os.Mkdir(p, mode)
		} else {
			err = os.WriteFile(p, []byte("x"), mode)
		}
		if err == nil {
			err = os.Chmod(p, mode)
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pub := mk("pub", 0o755, true)
	mk("pub/data", 0o644, false)
	priv := mk("priv", 0o700, true)
	mk("priv/secret", 0o644, false)
	mk("shadow", 0o600, false)
	mine := mk("mine", 0o700, true)
	if err := os.Chown(mine, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ name, target string }{
		{"pub/to-secret", filepath.Join(priv, "secret")},
		{"pub/to-shadow", "../shadow"},
		{"pub/to-data", "data"},
		{"pub/loop", "loop"},
		{"mine/to-pub", "/" + filepath.Join(d, "pub")[1:]},
	} {
		if err := os.Symlink(l.target, filepath.Join(d, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		path    string
		want    uint32
		wantErr error
	}{
		{path: pub + "/data", want: AccessRead},
		{path: pub, want: AccessRead | AccessExec},
		{path: pub + "/data", want: AccessWrite, wantErr: ErrAccess},
		{path: priv + "/secret", want: AccessRead, wantErr: ErrAccess},
		{path: pub + "/to-secret", want: AccessRead, wantErr: ErrAccess},
		{path: pub + "/to-shadow", want: AccessRead, wantErr: ErrAccess},
		{path: pub + "/to-data", want: AccessRead},
		{path: pub + "/loop", want: AccessRead, wantErr: unix.ELOOP},
		{path: mine, want: AccessRead | AccessWrite | AccessExec},
		{path: mine + "/to-pub/data", want: AccessRead},
		{path: pub + "/data/x", want: AccessRead, wantErr: unix.ENOTDIR},
		{path: pub + "/missing", want: AccessRead, wantErr: unix.ENOENT},
	}
	for _, tt := range tests {
		f, err := OpenAs(tt.path, user, tt.want)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("OpenAs(%s, %o) = %v, want %v", tt.path, tt.want, err, tt.wantErr)
			}
			if f != nil {
				f.Close()
			}
			continue
		}
		if err != nil {
			t.Errorf("OpenAs(%s, %o): %v", tt.path, tt.want, err)
			continue
		}
		// The handle names the object the path resolved to.
		var a, b unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &a); err != nil || unix.Stat(tt.path, &b) != nil || a.Ino != b.Ino {
			t.Errorf("OpenAs(%s) handle is not the path's object", tt.path)
		}
		f.Close()
	}
	// Root passes everywhere.
	f, err := OpenAs(priv+"/secret", Cred{}, AccessRead|AccessWrite)
	if err != nil {
		t.Fatalf("root: %v", err)
	}
	f.Close()
}
