// Command cleargrowth shows Go 1.19's map iterator producing deleted entries after the clear
// idiom when the iteration began before a growth that is still under way at the clear; found by
// sim's `go` target (`go run main.go`).
//
// The Go spec: "If a map entry that has not yet been reached is removed during iteration, the
// corresponding iteration value will not be produced." Here every iterator produces at least one
// entry after the clear removed them all.
//
// Why (runtime/map.go of go1.19): an iterator walks the bucket array it began on. When a growth
// starts, that array becomes h.oldbuckets, and its buckets move to the new array one or two per
// write. runtime.mapclear (what the compiler makes of the idiom) sets h.oldbuckets = nil and zeroes
// only the new array, so the iterator goes on walking the old one, and produces the entries of
// every old bucket not yet evacuated as they are (only evacuated slots are looked up again in the
// live map).
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
	const trials = 1000
	bad := 0
	example := ""
	for t := 0; t < trials; t++ {
		m := make(map[uint64]uint64, 52) // 8 buckets (B = 3) hold 52 = 6.5 * 8 keys
		for k := uint64(0); k < 52; k++ {
			m[k] = k + 100
		}
		i := 0
		for k, v := range m {
			i++
			switch {
			case i == 1:
				// The iteration has begun on the 8-bucket array. A new key starts the growth to
				// 16 buckets, which evacuates at most 2 of the 8 old buckets; then clear.
				m[1000] = 1000
				clearMap(m)
			case i > 1:
				bad++
				if example == "" {
					example = fmt.Sprintf("e.g. trial %d: after the clear, len(m) == %d, and the loop produced %d: %d", t, len(m), k, v)
				}
			}
			if i > 1 {
				break
			}
		}
	}
	fmt.Printf("%s: %d of %d loops produced a deleted entry after the clear idiom\n", runtime.Version(), bad, trials)
	if example != "" {
		fmt.Println(example)
	}
}
