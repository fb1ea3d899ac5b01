// This file is added to package runtime by the seeded build of sim's Go driver (`go build
// -overlay`). It replaces nothing: it is the random source that the overlay's renamed calls in
// the map code reach, so that a map's hash seed, every iterator's start and the re-seed at clear
// are drawn from the program's seed instead of the runtime's own generator. Nothing else in the
// runtime calls it, and the map code around those calls is the toolchain's own.

package runtime

import _ "unsafe"

// simMapState is the generator of map randomness while a program runs; simMapArmed says a
// program has seeded it. Before the first program (package init, the driver's start-up checks)
// maps draw from the runtime's own source, as in an unmodified runtime.
var (
	simMapArmed bool
	simMapState uint64
)

// simSeedMaps starts the map randomness of one program: every draw until the next call follows
// from seed alone. The driver runs one program at a time on one goroutine, so no lock is needed.
//
//go:linkname simSeedMaps
func simSeedMaps(seed uint64) {
	simMapArmed = true
	simMapState = seed
}

// simMapRand is the overlay's replacement for the runtime's random source in map code.
//
//go:linkname simMapRand
func simMapRand() uint64 {
	if !simMapArmed {
		return simMapFallback()
	}
	simMapState += 0x9e3779b97f4a7c15
	return simMix(simMapState)
}

// simMapRand64 and simMapRand32 stand for fastrand64 and fastrand in the map code of Go 1.21
// and earlier.
func simMapRand64() uint64 { return simMapRand() }

func simMapRand32() uint32 { return uint32(simMapRand()) }

// simMix is splitmix64's output function.
func simMix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// simHashKeyState draws the per-process hash key (aeskeysched, hashkey) that the runtime
// otherwise draws at random at start-up: fixed, so that a key hashes the same in every driver
// process, and a map's layout follows from its seed alone.
var simHashKeyState uint64 = 0x73696d2d676f2d6b

// simHashKey stands for bootstrapRand in the start-up code that draws the hash key (Go 1.22
// and later; from Go 1.27 in internal/runtime/maps, which pulls it by linkname).
//
//go:linkname simHashKey
func simHashKey() uint64 {
	simHashKeyState += 0x9e3779b97f4a7c15
	return simMix(simHashKeyState)
}

// simHashKeyData stands for getRandomData there (Go 1.21 and earlier).
func simHashKeyData(r []byte) {
	for i := range r {
		if i%8 == 0 {
			simHashKeyState += 0x9e3779b97f4a7c15
		}
		r[i] = byte(simMix(simHashKeyState) >> (8 * (i % 8)))
	}
}
