// The sync.Map mode of the driver (`-map=sync`, sim's go-sync-map targets): the same protocol and
// program loop as Go's plain map, on a sync.Map holding uint64 keys and values.
//
// Each harness op is carried out by one of several combinations of sync.Map's methods that give
// the answer the protocol needs in a single-threaded program, chosen per op from the program's
// seed and the op's own operands (syncChoice), so that every method is exercised and a replay
// makes the same choices. Which combinations exist depends on the Go release (Swap,
// CompareAndSwap and CompareAndDelete are Go 1.20+, Clear and iter.Pull2 Go 1.23+): see
// sync_go119.go, sync_go120.go, sync_go122.go and sync_go123.go.
//
// A cursor is one Range call, advanced one entry per step; between steps any method may run on
// the map ("Range does not block other methods on the receiver; even f itself may call any
// method on m"). Range begins at the cursor's first step, as reflect.MapIter does for the plain
// map. Dropping a cursor makes Range's f return false, and the driver checks after every
// program that no cursor's goroutine outlived it.
//
// sync.Map keeps no count of its entries: the `l` line is the driver's own count, kept from the
// map's answers (an insert that found no previous value adds one, a remove that removed one
// takes one away, a clear empties it, or, where the clear is Range and LoadAndDelete, takes away
// what those deletes removed). A map that answers wrongly thus also shows a wrong len.

package main

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// syncCursor is one Range call in progress, or not begun yet.
type syncCursor interface {
	// next runs the Range (starting it at the first call) up to its next entry; ok is false
	// at its end.
	next() (k, v uint64, ok bool)
	// stop ends the Range (its f returns false) and leaves no goroutine behind.
	stop()
}

// syncState is one program's sync.Map and what the driver keeps beside it.
type syncState struct {
	m    *sync.Map
	n    int    // the driver's count of entries (see the file comment)
	seed uint64 // the program's seed (0 for a natural driver)
}

// syncChoice picks a method combination for one op: a mix of the program's seed, the op's kind
// and operands. It depends on nothing else (not the op's position), so a shrunk program makes
// the same choice for each op it keeps.
func syncChoice(seed uint64, o op, ways uint64) uint64 {
	z := seed ^ uint64(o.kind)<<56 ^ o.a*0x9e3779b97f4a7c15 ^ o.b*0xc2b2ae3d27d4eb4f
	return simMixDriver(z) % ways
}

// simMixDriver is splitmix64's output function.
func simMixDriver(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// asU64 reads a value the driver stored: sync.Map holds only uint64s here.
func asU64(v interface{}) uint64 {
	return v.(uint64)
}

// goroutineBaseline is the goroutine count between programs, taken before the first one.
var goroutineBaseline = -1

// debugGoroutines says (SIM_GO_DRIVER_DEBUG=goroutines) to write the goroutine count after each
// program to stderr, for sim's test of dropped cursors.
var debugGoroutines = os.Getenv("SIM_GO_DRIVER_DEBUG") == "goroutines"

// takeGoroutineBaseline takes the goroutine count before the first program, once.
func takeGoroutineBaseline() {
	if goroutineBaseline < 0 {
		goroutineBaseline = runtime.NumGoroutine()
	}
}

// checkGoroutines fails the driver if a cursor's goroutine outlived its program. A goroutine
// that has just handed over its last answer (or, in a concurrent program, a writer that has just
// said it is done) may still be on its way out, on this P or another, so the scheduler gets a few
// turns first, and then up to a second of waiting: a goroutine left behind never leaves.
func checkGoroutines() {
	n := runtime.NumGoroutine()
	for i := 0; i < 1000 && n > goroutineBaseline; i++ {
		runtime.Gosched()
		n = runtime.NumGoroutine()
	}
	for waited := time.Duration(0); n > goroutineBaseline && waited < time.Second; waited += time.Millisecond {
		time.Sleep(time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if debugGoroutines {
		os.Stderr.WriteString("goroutines " + strconv.Itoa(n) + " baseline " + strconv.Itoa(goroutineBaseline) + "\n")
	}
	if n > goroutineBaseline {
		fail("%d goroutines after the program, %d before: a cursor's Range outlived it", n, goroutineBaseline)
	}
}

func (d *driver) runSync(seed uint64) {
	takeGoroutineBaseline()
	// Seeded before the map's first use: on Go 1.24+ its hash seed is drawn then.
	seedMaps(seed)
	s := &syncState{m: new(sync.Map), seed: seed}
	var cursors [cursorHandles]syncCursor
	var ended [cursorHandles]bool
	inserts := d.inserts()
	for _, o := range d.ops {
		switch o.kind {
		case 'i':
			old, ok := s.insert(o)
			if !ok {
				s.n++
			}
			d.value(old, ok)
		case 'r':
			old, ok := s.remove(o)
			if ok {
				s.n--
			}
			d.value(old, ok)
		case 'g':
			v, ok := s.m.Load(o.a)
			if ok {
				d.value(asU64(v), true)
			} else {
				d.value(0, false)
			}
		case 'x':
			s.clear()
		case 'a':
			// The harness's audit op: sync.Map has no audit.
		case 'n':
			if cursors[o.a] != nil {
				cursors[o.a].stop()
			}
			cursors[o.a] = newSyncCursor(s.m)
			ended[o.a] = false
		case 's':
			d.stepSync(cursors[o.a], &ended[o.a], o.b)
		case 'd':
			if cursors[o.a] != nil {
				cursors[o.a].stop()
				cursors[o.a] = nil
			}
		}
		d.buf = append(d.buf, 'l', ' ')
		d.buf = strconv.AppendInt(d.buf, int64(s.n), 10)
		d.buf = append(d.buf, '\n')
		d.write()
	}
	// The drain, with the same budget as the plain map's (docs/driver-protocol.md).
	for i := range cursors {
		d.stepSync(cursors[i], &ended[i], inserts+1)
		if cursors[i] != nil {
			cursors[i].stop()
		}
	}
	d.finishSync(s.m)
}

// finishSync ends a program's answer: the contents through a fresh Range, `done`, the check that
// no cursor's goroutine outlived the program, and the flush.
func (d *driver) finishSync(m *sync.Map) {
	d.contents = d.contents[:0]
	m.Range(func(k, v interface{}) bool {
		d.contents = append(d.contents, asU64(k), asU64(v))
		return true
	})
	d.writeContents()
	d.buf = append(d.buf, "done\n"...)
	d.write()
	checkGoroutines()
	d.flush()
}

// stepSync advances a cursor up to steps times, stopping at its end, answering each step. The
// growth flag is always `?`: sync.Map has no growth that the driver can see.
func (d *driver) stepSync(c syncCursor, ended *bool, steps uint64) {
	if c == nil || *ended {
		return
	}
	for ; steps > 0; steps-- {
		k, v, ok := c.next()
		if !ok {
			*ended = true
			d.buf = append(d.buf, "e ?\n"...)
			d.write()
			return
		}
		d.buf = append(d.buf, 'y', ' ')
		d.buf = strconv.AppendUint(d.buf, k, 10)
		d.buf = append(d.buf, ' ')
		d.buf = strconv.AppendUint(d.buf, v, 10)
		d.buf = append(d.buf, " ?\n"...)
		d.write()
	}
}

// chanCursor is a cursor whose Range runs in a goroutine of its own, handing each entry over a
// channel and waiting, inside f, for the word to go on (true) or stop (false). The goroutine
// touches the map only between a request and its answer, while the driver's goroutine waits, so
// the map sees one sequence of calls whatever the scheduler does.
type chanCursor struct {
	req  chan bool
	out  chan syncEntry
	done bool
}

type syncEntry struct {
	k, v uint64
	ok   bool
}

func newChanCursor(m *sync.Map) *chanCursor {
	c := &chanCursor{req: make(chan bool), out: make(chan syncEntry)}
	go c.run(m)
	return c
}

func (c *chanCursor) run(m *sync.Map) {
	// Range begins at the first step, not at the cursor's creation.
	if <-c.req {
		m.Range(func(k, v interface{}) bool {
			c.out <- syncEntry{asU64(k), asU64(v), true}
			return <-c.req
		})
	}
	// The end of the Range, or the acknowledgement of a stop.
	c.out <- syncEntry{}
}

func (c *chanCursor) next() (uint64, uint64, bool) {
	if c.done {
		return 0, 0, false
	}
	c.req <- true
	e := <-c.out
	if !e.ok {
		c.done = true
	}
	return e.k, e.v, e.ok
}

func (c *chanCursor) stop() {
	if c.done {
		return
	}
	c.req <- false
	<-c.out
	c.done = true
}
