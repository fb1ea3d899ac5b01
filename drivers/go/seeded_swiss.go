// The seeded mode of the driver for the swiss-table map (Go 1.24 and later). sim builds it with
// `go build -overlay` over a runtime whose map code is the toolchain's own, with its random
// source linked to the overlay's seeded one (drivers/go/overlay/runtime_sim.go), and whose hash
// key is fixed: every program's map then hashes, iterates and re-seeds as its seed says. The
// map's shape is read by internal/runtime/maps.simMapShape, compiled against that package's own
// types.

//go:build simseeded_swiss

package main

import "unsafe"

// modeSeeded says whether programs carry a seed for the map's randomness.
const modeSeeded = true

// seedMaps starts the program's map randomness (runtime.simSeedMaps, the overlay's).
//
//go:linkname seedMaps runtime.simSeedMaps
func seedMaps(seed uint64)

//go:linkname simMapShape internal/runtime/maps.simMapShape
func simMapShape(m unsafe.Pointer) (used uint64, dirLen int, globalDepth uint8, tables int, capacity uint64, tombstones uint64)

//go:linkname simIterTable internal/runtime/maps.simIterTable
func simIterTable(it unsafe.Pointer) (tab unsafe.Pointer, replaced bool, small bool)

//go:linkname simIterSize internal/runtime/maps.simIterSize
func simIterSize() uintptr

// newMapIter gives cursors reflect's iterator: the observer finds the runtime's iterator inside
// it.
func newMapIter(m map[uint64]uint64) mapIter { return newReflectIter(m) }

func newObserver() observer {
	return newSwissObserver(simIterSize())
}

func readShape(p unsafe.Pointer) swissShape {
	used, dirLen, depth, tables, capacity, tombstones := simMapShape(p)
	return swissShape{used, dirLen, depth, tables, capacity, tombstones}
}
