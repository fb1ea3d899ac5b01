// sync.Map before Go 1.23: no Clear method, and no iter.Pull2 for cursors.

//go:build !go1.23

package main

import "sync"

// clear removes every entry with Range and LoadAndDelete of each key it visits (sync.Map has no
// Clear before Go 1.23); the count loses what those deletes removed.
func (s *syncState) clear() {
	s.m.Range(func(k, _ interface{}) bool {
		if _, ok := s.m.LoadAndDelete(k); ok {
			s.n--
		}
		return true
	})
}

// newSyncCursor makes a cursor whose Range runs in a goroutine (chanCursor).
func newSyncCursor(m *sync.Map) syncCursor {
	return newChanCursor(m)
}
