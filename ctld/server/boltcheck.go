package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// checkBoltFile looks at a bbolt file before bbolt maps it: bbolt trusts
// its meta pages, and a file cut short (a full disk, a bad copy) makes it
// read past the end of the mapping, which kills the process with SIGBUS
// instead of returning an error. A missing file is fine (a new state dir).
//
// The check reads both meta pages (page 0 and 1), keeps those with the
// magic number and a valid checksum, and requires the file to hold every
// page the newest of them counts.
func checkBoltFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() == 0 {
		return nil // bbolt initialises an empty file
	}
	read := func(off int64) (boltMeta, bool, error) {
		buf := make([]byte, boltMetaEnd)
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return boltMeta{}, false, err
		}
		m, ok := parseBoltMeta(buf)
		return m, ok, nil
	}
	var best *boltMeta
	first, ok, err := read(0)
	if err != nil {
		return err
	}
	pageSize := int64(os.Getpagesize()) // what bbolt uses for new files
	if ok {
		best, pageSize = &first, int64(first.pageSize)
	}
	// The second meta page is the next page.
	second, ok, err := read(pageSize)
	if err != nil {
		return err
	}
	if ok && (best == nil || second.txid > best.txid) {
		best = &second
	}
	if best == nil {
		return fmt.Errorf("%s is not a valid bbolt file (no intact meta page): the raft log is corrupt", path)
	}
	if need := int64(best.pgid) * int64(best.pageSize); st.Size() < need {
		return fmt.Errorf("%s is %d bytes but its meta page counts %d pages of %d bytes (%d bytes): the raft log is truncated",
			path, st.Size(), best.pgid, best.pageSize, need)
	}
	return nil
}

// bbolt's meta page: a 16-byte page header, then magic, version, page
// size, flags, root bucket (pgid, sequence), freelist pgid, high-water
// pgid, txid and an FNV-64a checksum of the fields before it.
const (
	boltMagic   = 0xED0CDAED
	boltMetaEnd = 16 + 64
)

type boltMeta struct {
	pageSize uint32
	pgid     uint64
	txid     uint64
}

func parseBoltMeta(p []byte) (boltMeta, bool) {
	if len(p) < boltMetaEnd {
		return boltMeta{}, false
	}
	le := binary.LittleEndian
	if le.Uint32(p[16:]) != boltMagic {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(p[16:72])
	if h.Sum64() != le.Uint64(p[72:]) {
		return boltMeta{}, false
	}
	m := boltMeta{pageSize: le.Uint32(p[24:]), pgid: le.Uint64(p[56:]), txid: le.Uint64(p[64:])}
	if m.pageSize < 512 || m.pageSize > 1<<20 || m.pageSize&(m.pageSize-1) != 0 {
		return boltMeta{}, false
	}
	return m, true
}
