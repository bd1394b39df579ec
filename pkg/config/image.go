package config

import (
	"fmt"
	"path/filepath"

	"github.com/gsched/gsched/pkg/units"
)

// DefaultImageCacheSize is node.image_cache_size's default.
const DefaultImageCacheSize = "20G"

// ImageCacheBytes is node.image_cache_size in bytes ("" = the default;
// "0" = no limit).
func (n NodeConfig) ImageCacheBytes() (int64, error) {
	s := n.ImageCacheSize
	if s == "" {
		s = DefaultImageCacheSize
	}
	if s == "0" {
		return 0, nil
	}
	b, err := units.ParseMemory(s)
	if err != nil {
		return 0, fmt.Errorf("node.image_cache_size: %w", err)
	}
	return b, nil
}

// validateImages checks the image cache size and the CDI spec dirs.
func (c *Config) validateImages() []error {
	var errs []error
	if _, err := c.Node.ImageCacheBytes(); err != nil {
		errs = append(errs, err)
	}
	for _, d := range c.Node.CDISpecDirs {
		if !filepath.IsAbs(d) {
			errs = append(errs, fmt.Errorf("node.cdi_spec_dirs: %q is not an absolute path", d))
		}
	}
	return errs
}
