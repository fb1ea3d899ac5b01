// Concurrent programs on sync.Map (Go 1.23 and later), for `sim run --threads N`: the program's
// writers run on goroutines of their own and its reader on the driver's, released together; every
// call is logged with a tick of one atomic clock taken just before it and one just after it
// returns, and the whole log is written once every goroutine has returned (docs/driver-protocol.md,
// "Concurrent programs").
//
// Each op is one call of sync.Map that gives the answer the log needs: Swap (store, and the
// previous value), LoadAndDelete, Load, Clear. The single-threaded mode's combinations of two
// calls (Load then Store, say) are not one step when other goroutines write at the same time.
// Clear exists from Go 1.23, which is why concurrent programs do too (sync_concurrent_none.go
// before). sim runs them on the natural driver: real threads do not replay, and the seeded
// runtime's random source is meant for one goroutine.

//go:build go1.23

package main

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
)

// syncConcurrent says that this driver runs concurrent programs (its hello says `concurrent`).
const syncConcurrent = true

// maxWriters is the most writer goroutines a concurrent program may name.
const maxWriters = 64

// threadOp is one op of a concurrent program and the thread that runs it (-1: the prefill).
type threadOp struct {
	thread int
	o      op
}

// call is one logged call. key is the key of i, r, g and y; handle the cursor of n, y, e, d;
// answer and has the answer of i, r, g.
type call struct {
	began, returned uint64
	kind            byte
	handle          uint8
	key, value      uint64
	answer          uint64
	has             bool
}

// serveConcurrent reads a concurrent program after its first line and runs it.
func (d *driver) serveConcurrent(line []byte) {
	header, ok := parseWords(line[len("concurrent "):], 3)
	msg := ""
	switch {
	case !ok:
		msg = "expected `concurrent <capacity> <seed> <writers>`, got `" + clip(line) + "`"
	case header[2] == 0 || header[2] > maxWriters:
		msg = "writers must be 1 to " + strconv.Itoa(maxWriters) + ", got " + strconv.FormatUint(header[2], 10)
	}
	if msg != "" {
		d.skipToEnd()
		d.answerError(msg)
		return
	}
	writers := int(header[2])
	ops, msg := d.readConcurrentOps(writers)
	if msg != "" {
		d.answerError(msg)
		return
	}
	d.runConcurrent(writers, ops)
}

// parseWords reads exactly n u64 words, one space apart.
func parseWords(b []byte, n int) ([]uint64, bool) {
	out := make([]uint64, 0, n)
	for len(out) < n {
		end := 0
		for end < len(b) && b[end] != ' ' {
			end++
		}
		v, ok := parseU64(b[:end])
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if end == len(b) {
			b = nil
			break
		}
		b = b[end+1:]
		if len(out) == n {
			return nil, false // trailing text
		}
	}
	return out, len(out) == n && b == nil
}

func (d *driver) readConcurrentOps(writers int) ([]threadOp, string) {
	var ops []threadOp
	msg := ""
	for lineNo := 2; ; lineNo++ {
		line, err := d.line()
		if len(line) == 0 && err != nil {
			fail("stdin ended inside a program")
		}
		if string(line) == "end" {
			return ops, msg
		}
		t, bad := parseConcurrentOp(line, writers)
		if bad != "" {
			if msg == "" {
				msg = "program line " + strconv.Itoa(lineNo) + ": " + bad
			}
			continue
		}
		ops = append(ops, t)
	}
}

func parseConcurrentOp(line []byte, writers int) (threadOp, string) {
	if len(line) > 2 && line[0] == 'p' && line[1] == ' ' {
		// The prefill is an insert made before the goroutines start.
		rest := append([]byte{'i'}, line[1:]...)
		o, bad := parseOp(rest)
		return threadOp{thread: -1, o: o}, bad
	}
	end := 0
	for end < len(line) && line[end] != ' ' {
		end++
	}
	t, ok := parseU64(line[:end])
	if !ok || end == len(line) {
		return threadOp{}, "expected `p <key> <value>` or `<thread> <op>`, got `" + clip(line) + "`"
	}
	if t > uint64(writers) {
		return threadOp{}, "thread " + strconv.FormatUint(t, 10) + " out of range in `" + clip(line) + "`"
	}
	o, bad := parseOp(line[end+1:])
	if bad != "" {
		return threadOp{}, bad
	}
	var allowed bool
	if t == 0 {
		allowed = o.kind == 'n' || o.kind == 's' || o.kind == 'd' || o.kind == 'g'
	} else {
		allowed = o.kind == 'i' || o.kind == 'r' || o.kind == 'g' || o.kind == 'x'
	}
	if !allowed {
		return threadOp{}, "op `" + string(o.kind) + "` is not one thread " + strconv.FormatUint(t, 10) + " may run"
	}
	return threadOp{thread: int(t), o: o}, ""
}

// clock is the program's shared clock: one tick per moment.
type clock struct{ n atomic.Uint64 }

func (c *clock) tick() uint64 { return c.n.Add(1) - 1 }

func (d *driver) runConcurrent(writers int, ops []threadOp) {
	takeGoroutineBaseline()
	m := new(sync.Map)
	var clk clock
	logs := make([][]call, writers+1)
	mine := make([][]op, writers+1)
	var prefill []op
	stores := uint64(0)
	for _, t := range ops {
		if t.thread >= 0 {
			mine[t.thread] = append(mine[t.thread], t.o)
		} else {
			prefill = append(prefill, t.o)
		}
		if t.o.kind == 'i' {
			stores++
		}
	}
	// The prefill: the inserts of a writer, made on this goroutine before any other starts.
	logs[0] = writeOps(m, &clk, logs[0], prefill)
	panics := make([]string, writers+1)
	gate := make(chan struct{})
	var done sync.WaitGroup
	for t := 1; t <= writers; t++ {
		done.Add(1)
		go func(t int) {
			defer done.Done()
			defer func() {
				if p := recover(); p != nil {
					panics[t] = fmt.Sprint(p)
				}
			}()
			<-gate
			logs[t] = writeOps(m, &clk, logs[t], mine[t])
		}(t)
	}
	close(gate)
	func() {
		defer func() {
			if p := recover(); p != nil {
				panics[0] = fmt.Sprint(p)
			}
		}()
		logs[0] = readOps(m, &clk, logs[0], mine[0], stores+1)
	}()
	done.Wait()
	for t, log := range logs {
		for _, c := range log {
			d.writeCall(t, c)
		}
	}
	for t, p := range panics {
		if p != "" {
			d.buf = append(d.buf, "panic "...)
			d.buf = strconv.AppendInt(d.buf, int64(t), 10)
			d.buf = append(d.buf, ' ')
			for _, ch := range []byte(p) {
				if ch == '\n' {
					ch = ' '
				}
				d.buf = append(d.buf, ch)
			}
			d.buf = append(d.buf, '\n')
			d.write()
		}
	}
	d.finishSync(m)
}

func answered(b, r uint64, kind byte, key, value uint64, old any, ok bool) call {
	c := call{began: b, returned: r, kind: kind, key: key, value: value, has: ok}
	if ok {
		c.answer = asU64(old)
	}
	return c
}

// writeOps runs a writer's ops, each one call, logged.
func writeOps(m *sync.Map, clk *clock, log []call, ops []op) []call {
	for _, o := range ops {
		b := clk.tick()
		switch o.kind {
		case 'i':
			old, ok := m.Swap(o.a, o.b)
			log = append(log, answered(b, clk.tick(), 'i', o.a, o.b, old, ok))
		case 'r':
			old, ok := m.LoadAndDelete(o.a)
			log = append(log, answered(b, clk.tick(), 'r', o.a, 0, old, ok))
		case 'g':
			v, ok := m.Load(o.a)
			log = append(log, answered(b, clk.tick(), 'g', o.a, 0, v, ok))
		default:
			m.Clear()
			log = append(log, call{began: b, returned: clk.tick(), kind: 'x'})
		}
	}
	return log
}

// readOps runs the reader's ops: cursors stepped while the writers run. A cursor that yields more
// than budget times is stopped there (some key has then been yielded twice), so a cursor that
// never ends cannot hang the program; cursors still live at the end are run to their end, so that
// they too are judged.
func readOps(m *sync.Map, clk *clock, log []call, ops []op, budget uint64) []call {
	var live [cursorHandles]syncCursor
	var yields [cursorHandles]uint64
	defer func() {
		for _, c := range live {
			if c != nil {
				c.stop()
			}
		}
	}()
	step := func(h uint64) bool {
		c := live[h]
		if c == nil || yields[h] > budget {
			return false
		}
		b := clk.tick()
		k, v, ok := c.next()
		r := clk.tick()
		if !ok {
			log = append(log, call{began: b, returned: r, kind: 'e', handle: uint8(h)})
			c.stop()
			live[h] = nil
			return false
		}
		log = append(log, call{began: b, returned: r, kind: 'y', handle: uint8(h), key: k, value: v})
		yields[h]++
		return true
	}
	for _, o := range ops {
		switch o.kind {
		case 'n':
			b := clk.tick()
			if live[o.a] != nil {
				live[o.a].stop()
			}
			live[o.a] = newSyncCursor(m)
			yields[o.a] = 0
			log = append(log, call{began: b, returned: clk.tick(), kind: 'n', handle: uint8(o.a)})
		case 's':
			for k := o.b; k > 0 && step(o.a); k-- {
			}
		case 'd':
			if live[o.a] != nil {
				b := clk.tick()
				live[o.a].stop()
				live[o.a] = nil
				log = append(log, call{began: b, returned: clk.tick(), kind: 'd', handle: uint8(o.a)})
			}
		default:
			b := clk.tick()
			v, ok := m.Load(o.a)
			log = append(log, answered(b, clk.tick(), 'g', o.a, 0, v, ok))
		}
	}
	for h := range live {
		for step(uint64(h)) {
		}
	}
	return log
}

// writeCall writes one logged call: `<thread> <began> <returned> <kind> ...`.
func (d *driver) writeCall(thread int, c call) {
	b := strconv.AppendInt(d.buf, int64(thread), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, c.began, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, c.returned, 10)
	b = append(b, ' ', c.kind)
	answer := func(b []byte) []byte {
		if !c.has {
			return append(b, " -"...)
		}
		return strconv.AppendUint(append(b, ' '), c.answer, 10)
	}
	switch c.kind {
	case 'i':
		b = strconv.AppendUint(append(b, ' '), c.key, 10)
		b = strconv.AppendUint(append(b, ' '), c.value, 10)
		b = answer(b)
	case 'r', 'g':
		b = strconv.AppendUint(append(b, ' '), c.key, 10)
		b = answer(b)
	case 'y':
		b = strconv.AppendUint(append(b, ' '), uint64(c.handle), 10)
		b = strconv.AppendUint(append(b, ' '), c.key, 10)
		b = strconv.AppendUint(append(b, ' '), c.value, 10)
	case 'n', 'e', 'd':
		b = strconv.AppendUint(append(b, ' '), uint64(c.handle), 10)
	}
	d.buf = append(b, '\n')
	d.write()
}
