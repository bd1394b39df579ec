// Package image runs jobs from OCI images: it parses image references
// (ParseRef), opens local layouts, docker/OCI archives and registry images
// as the job's user would see them (Open, OpenAs), unpacks each layer once
// per digest into a node-local cache with LRU garbage collection (Cache),
// and assembles a job's root filesystem as an overlayfs mount of the
// cached layers plus a writable upper dir, or a copy when overlayfs is
// unavailable (MountRootfs, Cleanup).
//
// Layers are stored in overlayfs form: an OCI whiteout ".wh.NAME" becomes
// a 0:0 character device NAME and ".wh..wh..opq" the trusted.overlay.opaque
// attribute of its directory, so the cached layer dirs are overlay
// lowerdirs as they are. Locks are flock(2) files, so several task
// supervisors (separate processes) share one cache and a layer is unpacked
// once however many jobs need it at the same time.
package image
