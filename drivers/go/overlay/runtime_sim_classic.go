// This file is added to package runtime by the seeded build of sim's Go driver for the classic
// map (Go 1.23 and earlier). It only reads: it reports a map's header to the driver, compiled
// against the toolchain's own hmap, so that no layout is assumed.

package runtime

import "unsafe"

// simClassicState reports the header of the map m points to: its count, B, whether a growth is
// under way (oldbuckets set), whether that growth is a same-size one, noverflow and nevacuate.
//
//go:linkname simClassicState
func simClassicState(m unsafe.Pointer) (count int, b uint8, growing bool, sameSize bool, noverflow uint16, nevacuate uintptr) {
	h := (*hmap)(m)
	if h == nil {
		return 0, 0, false, false, 0, 0
	}
	return h.count, h.B, h.oldbuckets != nil, h.flags&sameSizeGrow != 0, h.noverflow, h.nevacuate
}
