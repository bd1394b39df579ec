// Package api holds gsched's wire types: jobs, nodes, allocations, task
// reports, the requests and responses of every RPC, and the sentinel errors
// that the transport maps to error codes. It is a leaf package: it imports
// nothing else of gsched, and everything else may import it.
package api
