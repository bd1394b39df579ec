package cli

import (
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/image/imageref"
)

// repeated is a flag value that collects every occurrence (docker's
// --mount may be given several times, and its value holds commas, which
// a StringSliceFlag would split).
type repeated struct{ vals []string }

func (r *repeated) Set(s string) error { r.vals = append(r.vals, s); return nil }
func (r *repeated) String() string {
	if r == nil {
		return ""
	}
	return strings.Join(r.vals, " ")
}

// imageFlags are gsub's container options (Pyxis's names, docker's
// --mount).
func imageFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "image", Aliases: []string{"container-image"},
			Usage: "run the job from an OCI image: oci:/dir[:tag], oci-archive:/x.tar[:tag], docker-archive:/x.tar[:repo:tag], a layout dir or archive path, or a registry image (docker://name:tag)"},
		&ucli.StringFlag{Name: "container-mounts",
			Usage: "bind mounts into the image's container (Pyxis style): SRC[:DST[:ro|rw]],..."},
		&ucli.GenericFlag{Name: "mount", Value: &repeated{},
			Usage: "a bind mount into the image's container (docker style, repeatable): type=bind,src=SRC,dst=DST[,readonly]"},
	}
}

// mergeImageOptions reads the container options from ctxs, the first
// that sets each one winning.
func mergeImageOptions(o *SubmitOptions, ctxs []*ucli.Context) {
	o.Image = firstString(ctxs, "image")
	o.ContainerMounts = firstString(ctxs, "container-mounts")
	if c := firstSet(ctxs, "mount"); c != nil {
		if r, ok := c.Generic("mount").(*repeated); ok {
			o.Mounts = append([]string(nil), r.vals...)
		}
	}
}

// imageSpec checks the container options and fills them in.
func imageSpec(o SubmitOptions, spec *api.JobSpec) error {
	if o.Image != "" {
		if _, err := imageref.Parse(o.Image); err != nil {
			return err
		}
		spec.Image = o.Image
	}
	if o.ContainerMounts != "" {
		ms, err := api.ParseContainerMounts(o.ContainerMounts)
		if err != nil {
			return err
		}
		spec.ContainerMounts = append(spec.ContainerMounts, ms...)
	}
	for _, m := range o.Mounts {
		cm, err := api.ParseDockerMount(m)
		if err != nil {
			return err
		}
		spec.ContainerMounts = append(spec.ContainerMounts, cm)
	}
	// Only an image job has a working dir of its own to fall back on.
	spec.ChdirSet = o.Image != "" && o.Chdir != ""
	return api.CheckContainerSpec(spec.Image, spec.ContainerMounts)
}
