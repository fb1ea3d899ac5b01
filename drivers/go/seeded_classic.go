// The seeded mode of the driver for the classic map (Go 1.23 and earlier). sim builds it with
// `go build -overlay` over a runtime whose map code is the toolchain's own, with its random
// calls renamed to the overlay's seeded source (drivers/go/overlay/runtime_sim.go), and whose
// hash key is fixed: every program's map then hashes, iterates and re-seeds as its seed says.
// The header is read by runtime.simClassicState, compiled against runtime.hmap itself.

//go:build simseeded_classic

package main

import (
	"unsafe"
	_ "unsafe" // go:linkname
)

// modeSeeded says whether programs carry a seed for the map's randomness.
const modeSeeded = true

// seedMaps starts the program's map randomness (runtime.simSeedMaps, the overlay's).
//
//go:linkname seedMaps runtime.simSeedMaps
func seedMaps(seed uint64)

//go:linkname simClassicState runtime.simClassicState
func simClassicState(m unsafe.Pointer) (count int, b uint8, growing bool, sameSize bool, noverflow uint16, nevacuate uintptr)

//go:linkname simIterNew runtime.simIterNew
func simIterNew(m interface{}) unsafe.Pointer

//go:linkname simIterNext runtime.simIterNext
func simIterNext(it unsafe.Pointer) (key, value uint64, ok bool)

// runtimeIter is the runtime's own iterator, started and advanced by the overlay's
// runtime.simIterNext with mapiterinit and mapiternext as reflect.MapIter would, without
// reflect's checks and copies at every step (a tenth of the driver's time).
type runtimeIter struct {
	it unsafe.Pointer
}

func newMapIter(m map[uint64]uint64) mapIter { return runtimeIter{simIterNew(m)} }

func (r runtimeIter) next() (uint64, uint64, bool) { return simIterNext(r.it) }

func newObserver() observer {
	return &classicObserver{read: readSeeded}
}

func readSeeded(p unsafe.Pointer) classicHeader {
	count, b, growing, sameSize, noverflow, nevacuate := simClassicState(p)
	return classicHeader{count, b, growing, sameSize, noverflow, nevacuate}
}
