// The observer of the swiss-table map (Go 1.24 and later). Growth is never under way between
// two operations there (a table grows or splits inside one insert), so the growth flag is
// always '0'; what is worth counting is which of the map's rebuilds a program reached, and
// whether a cursor went on walking a table that the map had replaced.

//go:build simseeded_swiss

package main

import (
	"reflect"
	"unsafe"
)

// swissShape is what the observer needs of an internal/runtime/maps.Map.
type swissShape struct {
	used        uint64
	dirLen      int
	globalDepth uint8
	tables      int
	capacity    uint64
	tombstones  uint64
}

type swissObserver struct {
	m       unsafe.Pointer
	last    swissShape
	started uint64
	counts  [counts]uint64
	// hiter is the offset of the runtime's iterator inside a reflect.MapIter.
	hiter uintptr
	// replacedBefore says the stepping cursor's table had been replaced before its step.
	replacedBefore bool
}

// newSwissObserver finds the iterator inside reflect.MapIter, and trusts it only if its size is
// the size of the runtime's own Iter.
func newSwissObserver(iterSize uintptr) observer {
	f, ok := reflect.TypeOf(reflect.MapIter{}).FieldByName("hiter")
	if !ok || f.Type.Size() != iterSize {
		return blindObserver{}
	}
	return &swissObserver{hiter: f.Offset}
}

func (o *swissObserver) known() bool { return true }

func (o *swissObserver) reset(m map[uint64]uint64) {
	o.m = mapPointer(m)
	o.last = readShape(o.m)
	o.started = 0
	o.counts = [counts]uint64{}
}

func (o *swissObserver) written() {
	s := readShape(o.m)
	l := o.last
	switch {
	case l.dirLen == 0 && s.dirLen > 0:
		o.counts[countOutgrewGroup]++
		o.started++
	case s.dirLen > 0 && s.tables > l.tables && l.dirLen > 0:
		o.counts[countTableSplit]++
		o.started++
	case s.dirLen > 0 && l.dirLen > 0 && s.tables == l.tables && s.capacity > l.capacity:
		o.counts[countTableGrow]++
		o.started++
	}
	if s.globalDepth > l.globalDepth && l.dirLen > 0 {
		o.counts[countDirectoryGrow]++
	}
	if s.tombstones > l.tombstones {
		o.counts[countTombstone]++
	}
	o.last = s
}

func (o *swissObserver) growthFlag() byte { return '0' }
func (o *swissObserver) growths() uint64  { return o.started }

func (o *swissObserver) iter(c *cursor) unsafe.Pointer {
	return unsafe.Pointer(uintptr(unsafe.Pointer(c.it.(reflectIter).it)) + o.hiter)
}

func (o *swissObserver) stepping(c *cursor) {
	_, replaced, small := simIterTable(o.iter(c))
	o.replacedBefore = replaced || small
}

func (o *swissObserver) stepped(c *cursor, yielded bool) {
	if !o.replacedBefore {
		return
	}
	o.counts[countReplacedTableStep]++
	if yielded {
		// Next found the key in the replaced table and looked it up again in the live map.
		o.counts[countReplacedTableRelookup]++
	}
}

func (o *swissObserver) count(i int) uint64 { return o.counts[i] }
func (o *swissObserver) reported() []int {
	return []int{
		countMultiGrowthCursor, countOutgrewGroup, countTableGrow, countTableSplit,
		countDirectoryGrow, countTombstone, countReplacedTableStep, countReplacedTableRelookup,
	}
}
