package cli

import (
	"reflect"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/batch"
)

// TestImageOptions: the container options on the command line and as
// #SBATCH directives (Pyxis's --container-image alias included) end up in
// the spec; bad values are refused before anything is sent.
func TestImageOptions(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		directives string
		want       api.JobSpec // Image, ContainerMounts, ChdirSet only
		errSub     string
	}{
		{name: "image", args: []string{"--image=oci:/img:v1"}, want: api.JobSpec{Image: "oci:/img:v1"}},
		{name: "pyxis alias in a directive", directives: "#SBATCH --container-image=docker://ubuntu:24.04\n",
			want: api.JobSpec{Image: "docker://ubuntu:24.04"}},
		{name: "command line wins", args: []string{"--image", "/srv/a.tar"}, directives: "#GSUB --image=/srv/b.tar\n",
			want: api.JobSpec{Image: "/srv/a.tar"}},
		{name: "mounts of both kinds", args: []string{"--image=/i", "--container-mounts=/data:/data:ro,/scratch",
			"--mount", "type=bind,src=/a,dst=/b", "--mount=type=bind,source=/c,target=/d,readonly"},
			want: api.JobSpec{Image: "/i", ContainerMounts: []api.ContainerMount{
				{Source: "/data", Destination: "/data", ReadOnly: true}, {Source: "/scratch", Destination: "/scratch"},
				{Source: "/a", Destination: "/b"}, {Source: "/c", Destination: "/d", ReadOnly: true}}}},
		{name: "chdir recorded for an image job", args: []string{"--image=/i", "-D", "/w"}, want: api.JobSpec{Image: "/i", ChdirSet: true}},
		{name: "mounts need an image", args: []string{"--container-mounts=/a:/b"}, errSub: "need an image"},
		{name: "bad image", args: []string{"--image=oci:relative"}, errSub: "absolute"},
		{name: "escaping mount", args: []string{"--image=/i", "--container-mounts=/a:/b/../../etc"}, errSub: `".."`},
		{name: "bad docker mount", args: []string{"--image=/i", "--mount=type=volume,src=/a,dst=/b"}, errSub: "type=bind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := "#!/bin/sh\n" + tt.directives + "true\n"
			c, err := parseOptionArgs(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			ctxs := []*ucli.Context{c}
			d, err := batch.ParseDirectives([]byte(script))
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Args) > 0 {
				dc, err := parseDirectiveArgs(d)
				if err != nil {
					t.Fatal(err)
				}
				ctxs = append(ctxs, dc)
			}
			spec, err := BuildSpec(MergeOptions(ctxs...), SubmitInput{Script: []byte(script), Cwd: "/home/a"})
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("error %v, want %q", err, tt.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := api.JobSpec{Image: spec.Image, ContainerMounts: spec.ContainerMounts, ChdirSet: spec.ChdirSet}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
