// The natural mode of the driver: the unmodified runtime, which draws each map's hash seed and
// every iterator's start itself. The classic map's header (Go 1.23 and earlier) is read through
// a mirror of runtime.hmap, trusted only on the versions whose layout was checked and only when
// a start-up self-check agrees; on other versions the driver cannot see inside the map.

//go:build !simseeded_classic && !simseeded_swiss

package main

import (
	"runtime"
	"unsafe"
)

// modeSeeded says whether programs carry a seed for the map's randomness.
const modeSeeded = false

// seedMaps does nothing: the unmodified runtime draws its own randomness.
func seedMaps(uint64) {}

// newMapIter gives cursors reflect's iterator, as in any Go program that steps a map.
func newMapIter(m map[uint64]uint64) mapIter { return newReflectIter(m) }

func newObserver() observer {
	if versionVerified(runtime.Version()) && selfCheck() {
		return &classicObserver{read: readMirror}
	}
	return blindObserver{}
}

// readMirror reads the header of the map p points to through the mirror.
func readMirror(p unsafe.Pointer) classicHeader {
	h := (*hmap)(p)
	return classicHeader{
		count:     h.count,
		b:         h.B,
		growing:   h.oldbuckets != nil,
		sameSize:  h.flags&sameSizeGrow != 0,
		noverflow: h.noverflow,
		nevacuate: h.nevacuate,
	}
}

// sameSizeGrow is the hmap flag of a same-size growth (runtime/map.go).
const sameSizeGrow = 8

// hmap mirrors the header of the classic runtime map (runtime/map.go of go1.18..go1.23). It is
// read, never written, and only when headerKnown says the running runtime is one whose layout
// was checked against its source and the start-up self-check agreed with it.
type hmap struct {
	count      int
	flags      uint8
	B          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
	nevacuate  uintptr
	extra      unsafe.Pointer
}

// verifiedVersions are the runtime versions whose hmap layout is the struct above: sim's tests
// compare it with the hmap of each installed toolchain's runtime/map.go (go1.19 to go1.23 have
// the same fields). Others report the growth state as unknown.
var verifiedVersions = []string{"go1.19", "go1.20", "go1.21", "go1.22", "go1.23"}

func header(m map[uint64]uint64) *hmap {
	return (*hmap)(mapPointer(m))
}

func versionVerified(v string) bool {
	for _, p := range verifiedVersions {
		// "go1.19" and "go1.19.8" but not "go1.190".
		if v == p || (len(v) > len(p) && v[:len(p)] == p && v[len(p)] == '.') {
			return true
		}
	}
	return false
}

// selfCheck tests the header layout against behaviour that does not depend on hashing: the B a
// capacity hint gives (makemap), count against len, and a doubling growth started by the insert
// past 6.5*2^B that stays under way (oldbuckets set) until later writes evacuate every old bucket.
func selfCheck() bool {
	for _, c := range []struct {
		hint int
		b    uint8
	}{{0, 0}, {8, 0}, {9, 1}, {13, 1}, {14, 2}, {1000, 8}, {1664, 8}, {1665, 9}} {
		m := make(map[uint64]uint64, c.hint)
		h := header(m)
		if h == nil || h.count != 0 || h.B != c.b || h.oldbuckets != nil || h.nevacuate != 0 {
			return false
		}
	}
	// 1664 = 6.5 * 2^8 keys fit the 256 buckets a hint of 1000 gives; the next new key doubles.
	m := make(map[uint64]uint64, 1000)
	h := header(m)
	for k := uint64(0); k < 1664; k++ {
		m[k] = k
		if h.count != len(m) {
			return false
		}
	}
	if h.B != 8 || h.oldbuckets != nil {
		return false
	}
	m[1664] = 1664
	// One insert evacuates at most two of the 256 old buckets.
	if h.B != 9 || h.oldbuckets == nil || h.nevacuate > 2 || h.count != 1665 {
		return false
	}
	// Each write evacuates at least one more old bucket (growWork), so 256 updates finish it.
	for k := uint64(0); k < 256 && h.oldbuckets != nil; k++ {
		m[k] = k + 1
	}
	return h.oldbuckets == nil && h.B == 9 && h.count == len(m) && h.nevacuate == 256
}
