// sync.Map's methods on Go 1.20 and later: Swap, CompareAndSwap and CompareAndDelete join Load,
// Store, LoadOrStore, LoadAndDelete and Delete.

//go:build go1.20

package main

// insert stores o.b under o.a and returns the previous value: Swap; or Load then Store; or
// LoadOrStore then, when the key was there, CompareAndSwap from the value it loaded (which in a
// single-threaded program must succeed; if it does not, the map keeps the old value and the
// harness sees it at the next read).
func (s *syncState) insert(o op) (uint64, bool) {
	switch syncChoice(s.seed, o, 3) {
	case 0:
		old, loaded := s.m.Swap(o.a, o.b)
		if loaded {
			return asU64(old), true
		}
		return 0, false
	case 1:
		old, ok := s.m.Load(o.a)
		s.m.Store(o.a, o.b)
		if ok {
			return asU64(old), true
		}
		return 0, false
	default:
		actual, loaded := s.m.LoadOrStore(o.a, o.b)
		if loaded {
			s.m.CompareAndSwap(o.a, actual, o.b)
			return asU64(actual), true
		}
		return 0, false
	}
}

// remove deletes o.a and returns the removed value: LoadAndDelete; or Load then
// CompareAndDelete of the loaded value; or Load then Delete. Delete is called for an absent key
// too, as the protocol asks.
func (s *syncState) remove(o op) (uint64, bool) {
	switch syncChoice(s.seed, o, 3) {
	case 0:
		old, ok := s.m.LoadAndDelete(o.a)
		if ok {
			return asU64(old), true
		}
		return 0, false
	case 1:
		old, ok := s.m.Load(o.a)
		if !ok {
			s.m.Delete(o.a)
			return 0, false
		}
		// Single-threaded, the value just loaded is still there; if the delete does not
		// happen, the harness sees the key still present at the next read.
		s.m.CompareAndDelete(o.a, old)
		return asU64(old), true
	default:
		old, ok := s.m.Load(o.a)
		s.m.Delete(o.a)
		if ok {
			return asU64(old), true
		}
		return 0, false
	}
}
