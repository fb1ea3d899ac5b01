// Command clearsplit shows Go's swiss-table map (Go 1.24 and later) producing one key twice in
// one iteration: the iteration begins on a map of several tables, the map grows (its tables
// split) under it, is cleared, and gets the keys back (`go run main.go`).
//
// Why (internal/runtime/maps of go1.24): Map.Clear empties the live tables and draws a new hash
// seed. An iterator still walking a table that a split replaced keeps choosing keys from that old
// table and looks each up again in the live map (Iter.grownKeyElem), so a key put back after the
// clear is produced from there; then the iterator moves on to live tables, where the key's new
// hash may have put it outside the directory range the old table covered, and produces it again.
package main

import "fmt"

func main() {
	trials, hit := 2000, 0
	for t := 0; t < trials; t++ {
		m := make(map[uint64]uint64)
		for k := uint64(0); k < 2000; k++ {
			m[k] = k
		}
		seen := map[uint64]int{}
		dup := false
		first := true
		for k := range m {
			seen[k]++
			if seen[k] > 1 {
				dup = true
			}
			if first {
				first = false
				// Grow the map past one table while the iteration is under way, then clear it
				// and put back keys the iteration has not produced yet.
				for j := uint64(2000); j < 8000; j++ {
					m[j] = j
				}
				clear(m)
				for j := uint64(0); j < 8000; j++ {
					if seen[j] == 0 {
						m[j] = j
					}
				}
			}
		}
		if dup {
			hit++
		}
	}
	fmt.Printf("%d of %d trials produced a key twice\n", hit, trials)
}
