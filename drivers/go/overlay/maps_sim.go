// This file is added to package internal/runtime/maps by the seeded build of sim's Go driver for
// the swiss-table map (Go 1.24 and later). It only reads: it reports the shape of a map and the
// position of an iterator to the driver, compiled against the toolchain's own Map, table and
// Iter, so that no layout is assumed.

package maps

import "unsafe"

// simMapShape reports the map m points to: live entries, directory length (0 while the map is
// one small group), global depth, how many distinct tables the directory holds, their summed
// capacity in slots, and their tombstones.
//
//go:linkname simMapShape
func simMapShape(p unsafe.Pointer) (used uint64, dirLen int, globalDepth uint8, tables int, capacity uint64, tombstones uint64) {
	m := (*Map)(p)
	if m == nil {
		return 0, 0, 0, 0, 0, 0
	}
	var last *table
	for i := 0; i < m.dirLen; i++ {
		t := m.directoryAt(uintptr(i))
		if t == last {
			continue
		}
		last = t
		tables++
		capacity += uint64(t.capacity)
		tombstones += uint64(t.tombstones())
	}
	return m.used, m.dirLen, m.globalDepth, tables, capacity, tombstones
}

// simIterTable reports which table the iterator it points to walks (nil before its first step,
// and for a map that was one small group when the iteration began), and whether that table has
// been replaced in the map's directory by a growth or a split since: Go's iterator then keeps
// choosing keys from the replaced table and looks each one up again in the live map
// (Iter.Next, "grown"). small says the iteration began on a small map that has since outgrown
// its group, which Next handles the same way.
//
//go:linkname simIterTable
func simIterTable(p unsafe.Pointer) (tab unsafe.Pointer, replaced bool, small bool) {
	it := (*Iter)(p)
	if it.m == nil {
		return nil, false, false
	}
	if it.dirIdx < 0 {
		return nil, false, it.m.dirLen > 0
	}
	if it.tab == nil {
		return nil, false, false
	}
	return unsafe.Pointer(it.tab), it.tab.index == -1, false
}

// simHashKey is the runtime's fixed stand-in for bootstrapRand in the start-up draw of the hash
// key, which Go 1.27 moved into this package (runtime_alg.go); the seeded overlay renames the
// calls there to it. Unused before Go 1.27.
//
//go:linkname simHashKey runtime.simHashKey
func simHashKey() uint64

// simIterSize is the size of an Iter, which the driver compares with reflect's view of
// reflect.MapIter's iterator field before it trusts that field's offset.
//
//go:linkname simIterSize
func simIterSize() uintptr {
	return unsafe.Sizeof(Iter{})
}
