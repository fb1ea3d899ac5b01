// The observer of the classic map (Go 1.23 and earlier): a growth is under way while oldbuckets
// is set; a growth starts when that becomes true, or when B or nevacuate show that one growth
// ended and the next began within one write. A same-size growth of a map of one or two buckets
// begins and ends within the write that starts it (growWork evacuates two buckets); it shows as
// the overflow count dropping to 0 (hashGrow resets it) with B and the entries still there.

//go:build !simseeded_swiss

package main

import "unsafe"

// classicHeader is what the observer needs of runtime.hmap.
type classicHeader struct {
	count     int
	b         uint8
	growing   bool
	sameSize  bool
	noverflow uint16
	nevacuate uintptr
}

type classicObserver struct {
	read    func(unsafe.Pointer) classicHeader
	m       unsafe.Pointer
	last    classicHeader
	started uint64
	counts  [counts]uint64
}

func (o *classicObserver) known() bool { return true }

func (o *classicObserver) reset(m map[uint64]uint64) {
	o.m = mapPointer(m)
	o.last = o.read(o.m)
	o.started = 0
	o.counts = [counts]uint64{}
}

func (o *classicObserver) written() {
	h := o.read(o.m)
	began := h.growing && (!o.last.growing || h.b != o.last.b || h.nevacuate < o.last.nevacuate)
	sameSizeWithin := !h.growing && !o.last.growing && h.b == o.last.b && h.count > 0 &&
		h.noverflow < o.last.noverflow
	if sameSizeWithin {
		o.started++
		o.counts[countSameSizeGrow]++
	} else if began {
		o.started++
		if h.sameSize {
			o.counts[countSameSizeGrow]++
		}
	}
	o.last = h
}

// growthFlag answers from the header read at the last write: only writes (mapassign,
// mapdelete, mapclear) start or advance a growth; lookups and iteration leave the header's
// growth state as it was, so reading it again for every step would tell nothing new.
func (o *classicObserver) growthFlag() byte {
	if o.last.growing {
		return '1'
	}
	return '0'
}

func (o *classicObserver) growths() uint64       { return o.started }
func (o *classicObserver) stepping(*cursor)      {}
func (o *classicObserver) stepped(*cursor, bool) {}
func (o *classicObserver) count(i int) uint64    { return o.counts[i] }
func (o *classicObserver) reported() []int {
	return []int{countSameSizeGrow, countMultiGrowthCursor}
}
