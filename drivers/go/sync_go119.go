// sync.Map's methods on Go 1.19, which has neither Swap nor CompareAndSwap nor CompareAndDelete
// (Go 1.20) nor Clear (Go 1.23).

//go:build !go1.20

package main

// insert stores o.b under o.a and returns the previous value: Load then Store, or LoadOrStore
// then, when the key was there, Store.
func (s *syncState) insert(o op) (uint64, bool) {
	if syncChoice(s.seed, o, 2) == 0 {
		old, ok := s.m.Load(o.a)
		s.m.Store(o.a, o.b)
		if ok {
			return asU64(old), true
		}
		return 0, false
	}
	actual, loaded := s.m.LoadOrStore(o.a, o.b)
	if loaded {
		s.m.Store(o.a, o.b)
		return asU64(actual), true
	}
	return 0, false
}

// remove deletes o.a and returns the removed value: LoadAndDelete, or Load then Delete (called
// for an absent key too, as the protocol asks).
func (s *syncState) remove(o op) (uint64, bool) {
	if syncChoice(s.seed, o, 2) == 0 {
		old, ok := s.m.LoadAndDelete(o.a)
		if ok {
			return asU64(old), true
		}
		return 0, false
	}
	old, ok := s.m.Load(o.a)
	s.m.Delete(o.a)
	if ok {
		return asU64(old), true
	}
	return 0, false
}
