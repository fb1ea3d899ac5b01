// Command clearoverflow shows Go 1.19's map iterator producing deleted entries after the clear
// idiom, found by sim's `go` target (docs/driver-protocol.md; `go run main.go`).
//
// The Go spec: "If a map entry that has not yet been reached is removed during iteration, the
// corresponding iteration value will not be produced." The clear idiom below removes every
// entry, yet the outer loop goes on producing some of them.
//
// Why (runtime/map.go of go1.19): the compiler turns the idiom into runtime.mapclear, which zeroes
// the main bucket array (makeBucketArray(t, h.B, h.buckets)) but not the overflow buckets that
// newoverflow allocated separately. An iterator standing in such an overflow bucket keeps walking
// it and its chain, and yields their slots as they are: their tophash is intact, so it does not
// look the keys up again. The map needs an overflow bucket (here: 13 keys in 2 buckets of 8, about
// a quarter of the maps) and the iterator must be inside it when the clear runs (after yield 9).
package main

import (
	"fmt"
	"runtime"
)

//go:noinline
func clearMap(m map[uint64]uint64) {
	for k := range m {
		delete(m, k)
	}
}

func main() {
	const trials = 20000
	bad := 0
	example := ""
	for t := 0; t < trials; t++ {
		// Two buckets (B = 1), no growth.
		m := make(map[uint64]uint64, 13)
		for k := uint64(0); k < 13; k++ {
			m[k] = k + 100
		}
		i := 0
		for k, v := range m {
			i++
			if i == 9 {
				clearMap(m)
				continue
			}
			if i > 9 {
				bad++
				if example == "" {
					example = fmt.Sprintf("e.g. trial %d: after the clear, len(m) == %d, and the loop produced %d: %d", t, len(m), k, v)
				}
				break
			}
		}
	}
	fmt.Printf("%s: %d of %d loops produced a deleted entry after the clear idiom\n", runtime.Version(), bad, trials)
	if example != "" {
		fmt.Println(example)
	}
}
