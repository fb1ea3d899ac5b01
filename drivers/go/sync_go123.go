// sync.Map on Go 1.23 and later: its own Clear, and cursors through iter.Pull2.

//go:build go1.23

package main

import (
	"iter"
	"sync"
)

// clear is sync.Map's Clear.
func (s *syncState) clear() {
	s.m.Clear()
	s.n = 0
}

// pullCursor is a Range pulled one entry at a time through iter.Pull2, which runs it as a
// coroutine: its first next begins the Range, stop makes f return false and ends it.
type pullCursor struct {
	pull func() (uint64, uint64, bool)
	end  func()
}

func newSyncCursor(m *sync.Map) syncCursor {
	seq := func(yield func(uint64, uint64) bool) {
		m.Range(func(k, v any) bool { return yield(asU64(k), asU64(v)) })
	}
	next, stop := iter.Pull2(iter.Seq2[uint64, uint64](seq))
	return &pullCursor{pull: next, end: stop}
}

func (c *pullCursor) next() (uint64, uint64, bool) { return c.pull() }

func (c *pullCursor) stop() { c.end() }
