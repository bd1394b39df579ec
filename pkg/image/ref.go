package image

import "github.com/gsched/gsched/pkg/image/imageref"

// Ref and Transport are imageref's; see there.
type (
	Ref       = imageref.Ref
	Transport = imageref.Transport
)

// The transports.
const (
	Layout        = imageref.Layout
	OCIArchive    = imageref.OCIArchive
	DockerArchive = imageref.DockerArchive
	Local         = imageref.Local
	Registry      = imageref.Registry
)

// ParseRef parses an image reference (imageref.Parse).
func ParseRef(s string) (Ref, error) { return imageref.Parse(s) }

func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
