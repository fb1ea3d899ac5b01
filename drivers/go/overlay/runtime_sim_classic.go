// This file is added to package runtime by the seeded build of sim's Go driver for the classic
// map (Go 1.23 and earlier). It changes nothing of the map: it reports a map's header to the
// driver, and iterates a map with the runtime's own mapiterinit and mapiternext, compiled
// against the toolchain's own hmap and hiter, so that no layout is assumed.

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

// simIter is one iteration for the driver: the runtime's hiter and the map it walks.
type simIter struct {
	it      hiter
	t       *maptype
	h       *hmap
	started bool
}

// simIterNew makes an iteration of the map in m (a map[uint64]uint64) that starts at its first
// simIterNext, as reflect.MapIter's does at its first Next.
//
//go:linkname simIterNew
func simIterNew(m any) unsafe.Pointer {
	e := efaceOf(&m)
	return unsafe.Pointer(&simIter{t: (*maptype)(unsafe.Pointer(e._type)), h: (*hmap)(e.data)})
}

// simIterNext advances the iteration as reflect.MapIter.Next does (mapiterinit the first time,
// mapiternext after) and returns the entry it reached, or false at the end.
//
//go:linkname simIterNext
func simIterNext(p unsafe.Pointer) (key, value uint64, ok bool) {
	s := (*simIter)(p)
	if !s.started {
		s.started = true
		mapiterinit(s.t, s.h, &s.it)
	} else {
		mapiternext(&s.it)
	}
	if s.it.key == nil {
		return 0, 0, false
	}
	return *(*uint64)(s.it.key), *(*uint64)(s.it.elem), true
}
