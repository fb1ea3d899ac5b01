// Command sim-go-driver runs sim's programs against Go's own runtime map.
//
// It speaks the protocol of docs/driver-protocol.md on stdin and stdout: it reads a whole
// program (up to `end`) before it answers any of it, so the harness can write everything, then
// read everything, and neither side blocks on a full pipe. Standard library only; Go 1.19 and
// later.
//
// This file is the protocol and the run loop. One mode file goes with it (sim picks the file
// list; see sim/src/target/go):
//
//   - natural.go: the unmodified runtime. Go draws each map's hash seed and every iterator's
//     start itself; the classic map's header is read through a mirror of runtime.hmap.
//   - seeded_classic.go (Go 1.23 and earlier) and seeded_swiss.go (Go 1.24 and later): built
//     with `go build -overlay` against a runtime whose map code is the toolchain's own but whose
//     random source for maps is seeded per program (drivers/go/overlay), and which reports the
//     map's shape through functions compiled against the runtime's own types.
//
// and one observer file, observe_classic.go or observe_swiss.go, which turns what the mode file
// reads into the growth flag of each step and the state counts of the `s` line.
//
// With the flag `-map=sync` the same binary runs Go's sync.Map instead (sync.go and the
// sync_go1NN.go files its Go release selects by build tag), under the same protocol and the same
// seeded or natural runtime.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

const protocolVersion = 1

// cursorHandles is the number of cursor handles a program may name (0..3).
const cursorHandles = 4

// clearMap is Go 1.19's clear idiom, which the compiler turns into one call of runtime.mapclear.
// It is kept out of line so that inlining cannot change what is emitted for it (a test checks
// its assembly).
//
//go:noinline
func clearMap(m map[uint64]uint64) {
	for k := range m {
		delete(m, k)
	}
}

// mapPointer is the runtime's map header that a map value points to.
func mapPointer(m map[uint64]uint64) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&m))
}

// op is one parsed program line.
type op struct {
	kind byte // 'i', 'r', 'g', 'x', 'a', 'n', 's', 'd'
	a, b uint64
}

type cursor struct {
	it    mapIter // nil for a handle with no cursor
	ended bool
	// growths is the observer's growth count when the cursor was created.
	growths uint64
	// counted says the cursor has been counted as one that lived through two growths.
	counted bool
}

// mapIter is one iteration of a program's map, advanced one entry at a time. The mode files
// say which kind a cursor gets (newMapIter).
type mapIter interface {
	// next advances the iteration and returns the entry it reached, or false at its end.
	next() (key, value uint64, ok bool)
}

// reflectIter iterates through reflect.MapIter, which starts the runtime's iteration
// (mapiterinit) at its first Next and advances it (mapiternext) at each later one.
type reflectIter struct {
	it *reflect.MapIter
}

// iterKey and iterValue are the reused targets of SetIterKey and SetIterValue: no allocation per
// step.
var (
	iterKey   = reflect.New(reflect.TypeOf(uint64(0))).Elem()
	iterValue = reflect.New(reflect.TypeOf(uint64(0))).Elem()
)

func newReflectIter(m map[uint64]uint64) mapIter {
	return reflectIter{reflect.ValueOf(m).MapRange()}
}

func (r reflectIter) next() (uint64, uint64, bool) {
	if !r.it.Next() {
		return 0, 0, false
	}
	iterKey.SetIterKey(r.it)
	iterValue.SetIterValue(r.it)
	return iterKey.Uint(), iterValue.Uint(), true
}

type driver struct {
	in  *bufio.Reader
	out *bufio.Writer
	buf []byte // output lines not yet handed to out
	ops []op
	// contents collects the final range's entries (key, value, key, value, ...).
	contents []uint64
	obs      observer
	// multiGrowth counts the cursors that lived through two or more growths.
	multiGrowth uint64
}

// The state counts a driver may report on its `s` line (docs/driver-protocol.md), by index.
const (
	countSameSizeGrow = iota
	countMultiGrowthCursor
	countTableGrow
	countTableSplit
	countDirectoryGrow
	countOutgrewGroup
	countReplacedTableStep
	countReplacedTableRelookup
	countTombstone
	counts
)

// countNames are the counts' names on the `s` line.
var countNames = [counts]string{
	"same-size-grow",
	"multi-growth-cursor",
	"table-grow",
	"table-split",
	"directory-grow",
	"outgrew-group",
	"replaced-table-step",
	"replaced-table-relookup",
	"tombstone",
}

// observer watches one program's map for the states worth counting. The observer files provide
// newObserver; a driver that cannot see inside the map gets blindObserver.
type observer interface {
	// known says whether growthFlag answers '0' or '1' rather than '?'.
	known() bool
	// reset starts a program on map m, with its counts at zero.
	reset(m map[uint64]uint64)
	// written is called after every insert, remove and clear.
	written()
	// growthFlag says whether a growth is under way: '1', '0', or '?'.
	growthFlag() byte
	// growths is how many growths have started since reset (for the multi-growth count).
	growths() uint64
	// stepping is called before a step of c, stepped after it with whether it yielded.
	stepping(c *cursor)
	stepped(c *cursor, yielded bool)
	// reported lists the indexes of the counts this observer keeps, and count gives each.
	reported() []int
	count(i int) uint64
}

// blindObserver knows nothing of the map.
type blindObserver struct{}

func (blindObserver) known() bool             { return false }
func (blindObserver) reset(map[uint64]uint64) {}
func (blindObserver) written()                {}
func (blindObserver) growthFlag() byte        { return '?' }
func (blindObserver) growths() uint64         { return 0 }
func (blindObserver) stepping(*cursor)        {}
func (blindObserver) stepped(*cursor, bool)   {}
func (blindObserver) reported() []int         { return nil }
func (blindObserver) count(int) uint64        { return 0 }

// usage is the driver's command line.
const usage = "usage: sim-go-driver [-map=runtime|-map=sync]"

func main() {
	syncMap := false
	for _, arg := range os.Args[1:] {
		switch arg {
		case "-map=runtime":
			syncMap = false
		case "-map=sync":
			syncMap = true
		default:
			fmt.Fprintf(os.Stderr, "sim-go-driver: unknown argument %q\n%s\n", arg, usage)
			os.Exit(2)
		}
	}
	d := &driver{
		in:  bufio.NewReaderSize(os.Stdin, 1<<20),
		out: bufio.NewWriterSize(os.Stdout, 1<<20),
		obs: newObserver(),
	}
	implementation := "go-runtime-map"
	if syncMap {
		// sync.Map has no growth the driver can see.
		d.obs = blindObserver{}
		implementation = "go-sync-map"
	}
	state := "unknown"
	if d.obs.known() {
		state = "known"
	}
	seeded := ""
	if modeSeeded {
		seeded = " seeded"
	}
	if syncMap && syncConcurrent {
		seeded += " concurrent"
	}
	fmt.Fprintf(d.out, "hello sim-driver %d %s/%s state=%s%s\n", protocolVersion, implementation, runtime.Version(), state, seeded)
	d.flush()
	for {
		line, err := d.line()
		if err == io.EOF && len(line) == 0 {
			return
		}
		if err != nil && err != io.EOF {
			fail("reading stdin: %v", err)
		}
		if strings.HasPrefix(string(line), "concurrent ") {
			if syncMap {
				d.serveConcurrent(line)
			} else {
				d.skipToEnd()
				d.answerError("the runtime map runs no concurrent programs: it is not safe for concurrent use")
			}
			continue
		}
		capacity, seed, perr := parseProgramLine(line)
		if perr != "" {
			// Out of sync: answer, and skip to the next `end` so the next program starts clean
			// (unless the stray line was an `end` itself).
			if string(line) != "end" {
				d.skipToEnd()
			}
			d.answerError(perr)
			continue
		}
		if msg := d.readOps(); msg != "" {
			d.answerError(msg)
			continue
		}
		if capacity > 1<<31 {
			d.answerError("capacity " + strconv.FormatUint(capacity, 10) + " is too large")
			continue
		}
		if syncMap {
			// sync.Map takes no capacity hint.
			d.runSync(seed)
		} else {
			d.run(int(capacity), seed)
		}
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "sim-go-driver: "+format+"\n", args...)
	os.Exit(1)
}

// flush sends everything written so far.
func (d *driver) flush() {
	d.send()
	if err := d.out.Flush(); err != nil {
		fail("writing stdout: %v", err)
	}
}

// line returns the next input line without its newline (valid until the next call).
func (d *driver) line() ([]byte, error) {
	line, err := d.in.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A line longer than the buffer is malformed anyway; keep its start for the message.
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			_, err = d.in.ReadSlice('\n')
		}
		return long, err
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	return line, err
}

// parseProgramLine parses `program <capacity>`, or `program <capacity> <seed>` for a seeded
// driver (one that said `seeded` in its hello).
func parseProgramLine(line []byte) (capacity uint64, seed uint64, msg string) {
	const p = "program "
	if len(line) < len(p) || string(line[:len(p)]) != p {
		return 0, 0, "expected `program <capacity>`, got `" + clip(line) + "`"
	}
	rest := line[len(p):]
	end := 0
	for end < len(rest) && rest[end] != ' ' {
		end++
	}
	n, ok := parseU64(rest[:end])
	if !ok {
		return 0, 0, "bad capacity in `" + clip(line) + "`"
	}
	if end == len(rest) {
		return n, 0, ""
	}
	if !modeSeeded {
		return 0, 0, "a seed in `" + clip(line) + "`, but this driver is not seeded"
	}
	seed, ok = parseU64(rest[end+1:])
	if !ok {
		return 0, 0, "bad seed in `" + clip(line) + "`"
	}
	return n, seed, ""
}

// readOps reads ops up to `end`; on a malformed line it keeps reading to `end` and returns the
// message for the first bad line.
func (d *driver) readOps() string {
	d.ops = d.ops[:0]
	msg := ""
	for lineNo := 2; ; lineNo++ {
		line, err := d.line()
		if len(line) == 0 && err == io.EOF {
			fail("stdin ended inside a program")
		}
		if err != nil && err != io.EOF {
			fail("reading stdin: %v", err)
		}
		if string(line) == "end" {
			return msg
		}
		o, bad := parseOp(line)
		if bad != "" {
			if msg == "" {
				msg = "program line " + strconv.Itoa(lineNo) + ": " + bad
			}
			continue
		}
		d.ops = append(d.ops, o)
	}
}

func (d *driver) skipToEnd() {
	for {
		line, err := d.line()
		if string(line) == "end" {
			return
		}
		if err != nil {
			if err == io.EOF {
				os.Exit(0)
			}
			fail("reading stdin: %v", err)
		}
	}
}

func clip(line []byte) string {
	if len(line) > 60 {
		return string(line[:60]) + "..."
	}
	return string(line)
}

// parseOp parses one op line: a letter, then its decimal operands separated by single spaces.
func parseOp(line []byte) (op, string) {
	if len(line) == 0 {
		return op{}, "empty line"
	}
	o := op{kind: line[0]}
	var want int
	switch o.kind {
	case 'x', 'a':
		want = 0
	case 'r', 'g', 'n', 'd':
		want = 1
	case 'i', 's':
		want = 2
	default:
		return op{}, "unknown op `" + clip(line) + "`"
	}
	rest := line[1:]
	for k := 0; k < want; k++ {
		if len(rest) == 0 || rest[0] != ' ' {
			return op{}, "expected " + strconv.Itoa(want) + " operands in `" + clip(line) + "`"
		}
		rest = rest[1:]
		end := 0
		for end < len(rest) && rest[end] != ' ' {
			end++
		}
		n, ok := parseU64(rest[:end])
		if !ok {
			return op{}, "bad number in `" + clip(line) + "`"
		}
		if k == 0 {
			o.a = n
		} else {
			o.b = n
		}
		rest = rest[end:]
	}
	if len(rest) != 0 {
		return op{}, "trailing text in `" + clip(line) + "`"
	}
	if (o.kind == 'n' || o.kind == 's' || o.kind == 'd') && o.a >= cursorHandles {
		return op{}, "cursor handle out of range in `" + clip(line) + "`"
	}
	return o, ""
}

// parseU64 parses a decimal number of at most 20 digits. No number of 19 digits overflows a
// uint64, so only a 20th digit needs the overflow check.
func parseU64(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for i, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		digit := uint64(c - '0')
		if i == 19 && n > (^uint64(0)-digit)/10 {
			return 0, false // overflow
		}
		n = n*10 + digit
	}
	return n, true
}

func (d *driver) answerError(msg string) {
	d.buf = append(d.buf, "error "...)
	d.buf = append(d.buf, msg...)
	d.buf = append(d.buf, "\ndone\n"...)
	d.write()
	d.flush()
}

// write ends a line appended to d.buf. Lines gather in d.buf and go to the output 64 KiB at a
// time (and at flush): one Write per answer line was a tenth of the driver's time.
func (d *driver) write() {
	if len(d.buf) >= 1<<16 {
		d.send()
	}
}

func (d *driver) send() {
	if _, err := d.out.Write(d.buf); err != nil {
		fail("writing stdout: %v", err)
	}
	d.buf = d.buf[:0]
}

func (d *driver) value(v uint64, ok bool) {
	if ok {
		d.buf = append(d.buf, "v "...)
		d.buf = strconv.AppendUint(d.buf, v, 10)
		d.buf = append(d.buf, '\n')
	} else {
		d.buf = append(d.buf, "v -\n"...)
	}
	d.write()
}

// step advances cursor c up to steps times, stopping at its end, answering each step.
func (d *driver) step(c *cursor, steps uint64) {
	if c.it == nil || c.ended {
		return
	}
	for ; steps > 0; steps-- {
		g := d.obs.growthFlag()
		d.obs.stepping(c)
		key, value, ok := c.it.next()
		if !ok {
			d.obs.stepped(c, false)
			c.ended = true
			d.retire(c)
			d.buf = append(d.buf, 'e', ' ', g, '\n')
			d.write()
			return
		}
		d.obs.stepped(c, true)
		d.buf = append(d.buf, 'y', ' ')
		d.buf = strconv.AppendUint(d.buf, key, 10)
		d.buf = append(d.buf, ' ')
		d.buf = strconv.AppendUint(d.buf, value, 10)
		d.buf = append(d.buf, ' ', g, '\n')
		d.write()
	}
}

// retire counts a cursor that is ending (its end, a drop, a replacement, the end of the
// program) if two or more growths started during its life.
func (d *driver) retire(c *cursor) {
	if c.it != nil && !c.counted && d.obs.growths()-c.growths >= 2 {
		c.counted = true
		d.multiGrowth++
	}
}

// inserts is the number of the program's `i` lines: the drain's budget, less one.
func (d *driver) inserts() uint64 {
	n := uint64(0)
	for _, o := range d.ops {
		if o.kind == 'i' {
			n++
		}
	}
	return n
}

func (d *driver) run(capacity int, seed uint64) {
	// Seeded before the map is made: its hash seed is the program's first draw.
	seedMaps(seed)
	m := make(map[uint64]uint64, capacity)
	d.obs.reset(m)
	d.multiGrowth = 0
	var cursors [cursorHandles]cursor
	inserts := d.inserts()
	for _, o := range d.ops {
		switch o.kind {
		case 'i':
			old, ok := m[o.a]
			m[o.a] = o.b
			d.obs.written()
			d.value(old, ok)
		case 'r':
			old, ok := m[o.a]
			// Always delete, as a program would: mapdelete does growth work even for an
			// absent key.
			delete(m, o.a)
			d.obs.written()
			d.value(old, ok)
		case 'g':
			v, ok := m[o.a]
			d.value(v, ok)
		case 'x':
			clearMap(m)
			d.obs.written()
		case 'a':
			// The harness's audit op: this driver has no audit.
		case 'n':
			// The iteration itself starts (mapiterinit) at the cursor's first step.
			d.retire(&cursors[o.a])
			cursors[o.a] = cursor{it: newMapIter(m), growths: d.obs.growths()}
		case 's':
			d.step(&cursors[o.a], o.b)
		case 'd':
			d.retire(&cursors[o.a])
			cursors[o.a] = cursor{}
		}
		d.buf = append(d.buf, 'l', ' ')
		d.buf = strconv.AppendInt(d.buf, int64(len(m)), 10)
		d.buf = append(d.buf, '\n')
		d.write()
	}
	// The end of the program: drain the live cursors. A cursor that yields more than the
	// program's inserts has yielded some incarnation twice (there are no more incarnations than
	// inserts), so the harness has a failure before this budget runs out.
	for i := range cursors {
		d.step(&cursors[i], inserts+1)
		d.retire(&cursors[i])
	}
	// The count line gives what the range produced, not len(m): the harness compares both.
	d.contents = d.contents[:0]
	for k, v := range m {
		d.contents = append(d.contents, k, v)
	}
	d.writeContents()
	d.writeCounts()
	d.buf = append(d.buf, "done\n"...)
	d.write()
	d.flush()
}

// writeContents writes the `c` line and the entries collected in d.contents.
func (d *driver) writeContents() {
	d.buf = append(d.buf, 'c', ' ')
	d.buf = strconv.AppendInt(d.buf, int64(len(d.contents)/2), 10)
	d.buf = append(d.buf, '\n')
	for i := 0; i < len(d.contents); i += 2 {
		d.buf = strconv.AppendUint(d.buf, d.contents[i], 10)
		d.buf = append(d.buf, ' ')
		d.buf = strconv.AppendUint(d.buf, d.contents[i+1], 10)
		d.buf = append(d.buf, '\n')
	}
	d.write()
}

// writeCounts writes the `s` line, the observer's counts by name, when it keeps any.
func (d *driver) writeCounts() {
	reported := d.obs.reported()
	if len(reported) == 0 {
		return
	}
	d.buf = append(d.buf, 's')
	for _, i := range reported {
		n := d.obs.count(i)
		if i == countMultiGrowthCursor {
			n = d.multiGrowth
		}
		d.buf = append(d.buf, ' ')
		d.buf = append(d.buf, countNames[i]...)
		d.buf = append(d.buf, '=')
		d.buf = strconv.AppendUint(d.buf, n, 10)
	}
	d.buf = append(d.buf, '\n')
	d.write()
}
