package runc

import (
	"slices"
	"testing"
)

func TestMergeImageEnv(t *testing.T) {
	tests := []struct {
		name     string
		img, job []string
		want     []string
	}{
		{name: "image under job", img: []string{"A=img", "B=img"}, job: []string{"A=job"}, want: []string{"A=job", "B=img"}},
		{name: "image PATH wins", img: []string{"PATH=/opt/conda/bin:/bin"}, job: []string{"PATH=/home/u/bin:/usr/bin", "X=1"},
			want: []string{"PATH=/opt/conda/bin:/bin", "X=1"}},
		{name: "job PATH kept when the image has none", img: []string{"A=1"}, job: []string{"PATH=/usr/bin"}, want: []string{"PATH=/usr/bin", "A=1"}},
		{name: "malformed image entries dropped", img: []string{"NOEQ", "=x", "C=3"}, job: nil, want: []string{"C=3"}},
		{name: "duplicate job keys: last wins in place", img: nil, job: []string{"A=1", "B=2", "A=3"}, want: []string{"A=3", "B=2"}},
	}
	for _, tt := range tests {
		if got := mergeImageEnv(tt.img, tt.job); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSetInitCwd(t *testing.T) {
	args := []string{initPath, "-cwd", "/home/u", "-stdout", "/o", "--", scriptPath}
	setInitCwd(args, "/srv")
	if args[2] != "/srv" || args[4] != "/o" {
		t.Fatalf("args %v", args)
	}
}
