// SimDriver runs sim's programs against java.util.concurrent.ConcurrentHashMap<Long, Long>.
//
// It speaks the protocol of docs/driver-protocol.md on stdin and stdout: it reads a whole program
// (up to `end`) before it answers any of it, so the harness can write everything, then read
// everything, and neither side blocks on a full pipe. Standard library only; JDK 17 and later.
//
// The hot path allocates nothing per line beyond the map's own boxing of keys and values: input
// is parsed from a byte buffer by hand into parallel arrays, and answers are written into one
// byte buffer that is flushed once per program.
//
// The map is never copied or snapshotted: a cursor is the map's own
// `entrySet().iterator()`, advanced by one `hasNext()`/`next()` per step while the map changes
// under it, which is what sim checks against ConcurrentHashMap's documented weakly consistent
// iteration (semantics.md §7).

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;

public final class SimDriver {
    /** The protocol version of docs/driver-protocol.md. */
    static final int PROTOCOL_VERSION = 1;
    /** The number of cursor handles a program may name (0..3). */
    static final int CURSOR_HANDLES = 4;
    /**
     * The largest capacity hint accepted. ConcurrentHashMap allocates its table (up to 2^30 bins)
     * at the first insert; a hint far above any program's size would only exhaust the heap.
     */
    static final long MAX_CAPACITY = 1L << 24;

    /**
     * ConcurrentHashMap's private `table` field, read to count resizes for the `s` line, or null
     * when java.util.concurrent is not opened to this class (run without `--add-opens`): the
     * counts are then not reported, and nothing else changes.
     */
    static final VarHandle TABLE = tableHandle();

    static VarHandle tableHandle() {
        try {
            MethodHandles.Lookup lookup =
                    MethodHandles.privateLookupIn(ConcurrentHashMap.class, MethodHandles.lookup());
            return lookup.findVarHandle(
                    ConcurrentHashMap.class,
                    "table",
                    Class.forName("[Ljava.util.concurrent.ConcurrentHashMap$Node;"));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    // Input: a large buffer over stdin, read by hand.
    private final InputStream in = new FileInputStream(FileDescriptor.in);
    private final byte[] inBuf = new byte[1 << 20];
    private int inPos;
    private int inLen;
    /** The current line, without its newline: line[0, lineLen). */
    private byte[] line = new byte[256];
    private int lineLen;

    // Output: one buffer, written out after `hello` and after `done`.
    private final OutputStream out = new FileOutputStream(FileDescriptor.out);
    private byte[] outBuf = new byte[1 << 20];
    private int outLen;

    // The program's ops, as parallel arrays: kind letter, first and second operand.
    private byte[] kinds = new byte[1024];
    private long[] as = new long[1024];
    private long[] bs = new long[1024];
    private int opCount;

    // The program's cursors.
    @SuppressWarnings({"unchecked", "rawtypes"})
    private final Iterator<Map.Entry<Long, Long>>[] cursors = new Iterator[CURSOR_HANDLES];
    private final boolean[] ended = new boolean[CURSOR_HANDLES];
    /** Per cursor: the program's resize count when it was created. */
    private final long[] resizesAtCreation = new long[CURSOR_HANDLES];
    /** Per cursor: already counted as one that lived through a resize (or two). */
    private final boolean[] countedOne = new boolean[CURSOR_HANDLES];
    private final boolean[] countedTwo = new boolean[CURSOR_HANDLES];

    // The state counts of the program (reported when TABLE is readable).
    private long resizes;
    private int tableLength;
    private long resizeCursors;
    private long multiResizeCursors;

    public static void main(String[] args) {
        SimDriver d = new SimDriver();
        try {
            d.serve();
        } catch (IOException e) {
            System.err.println("sim-java-driver: " + e);
            System.exit(1);
        }
    }

    private void serve() throws IOException {
        // state=unknown: single-threaded, a resize completes inside the call that starts it, so
        // there is never a resize under way to report before a step. `seeded`: the program line
        // carries the map-seed, from which the insert paths are chosen (insertVariant).
        // `concurrent`: it runs concurrent programs too (serveConcurrent).
        ascii("hello sim-driver " + PROTOCOL_VERSION + " java-concurrent-hash-map/"
                + System.getProperty("java.version") + " state=unknown seeded concurrent\n");
        flush();
        while (true) {
            if (!readLine()) {
                if (lineLen == 0) {
                    return; // stdin ended between programs
                }
            }
            if (startsWith("concurrent ")) {
                serveConcurrent();
                continue;
            }
            String bad = null;
            long capacity = 0;
            long seed = 0;
            if (!startsWith("program ")) {
                bad = "expected `program <capacity> <seed>` or `concurrent <capacity> <seed> "
                        + "<writers>`, got `" + clip() + "`";
            } else {
                int capEnd = wordEnd(8);
                int seedEnd = capEnd < lineLen ? wordEnd(capEnd + 1) : capEnd;
                if (!validU64(8, capEnd)) {
                    bad = "bad capacity in `" + clip() + "`";
                } else if (capEnd == lineLen) {
                    bad = "no seed in `" + clip() + "` (this driver is seeded)";
                } else if (seedEnd != lineLen || !validU64(capEnd + 1, seedEnd)) {
                    bad = "bad seed in `" + clip() + "`";
                } else {
                    capacity = parseU64(8, capEnd);
                    seed = parseU64(capEnd + 1, seedEnd);
                    if (Long.compareUnsigned(capacity, MAX_CAPACITY) > 0) {
                        bad = "capacity " + Long.toUnsignedString(capacity) + " is too large";
                    }
                }
            }
            if (bad != null) {
                // Out of step: skip to the next `end` so the next program starts clean (unless
                // the stray line was an `end` itself), then answer.
                if (!isLine("end")) {
                    skipToEnd();
                }
                answerError(bad);
                continue;
            }
            String msg = readOps(-1);
            if (msg != null) {
                answerError(msg);
                continue;
            }
            run((int) capacity, seed);
        }
    }

    // ---- input ----

    /** Reads the next line (without its newline) into `line`; false at the end of stdin. */
    private boolean readLine() throws IOException {
        lineLen = 0;
        while (true) {
            if (inPos == inLen) {
                inLen = in.read(inBuf, 0, inBuf.length);
                inPos = 0;
                if (inLen <= 0) {
                    inLen = 0;
                    return false;
                }
            }
            int start = inPos;
            int stop = inLen;
            byte[] buf = inBuf;
            int i = start;
            while (i < stop && buf[i] != '\n') {
                i++;
            }
            int n = i - start;
            if (lineLen + n > line.length) {
                byte[] bigger = new byte[Math.max(line.length * 2, lineLen + n)];
                System.arraycopy(line, 0, bigger, 0, lineLen);
                line = bigger;
            }
            System.arraycopy(buf, start, line, lineLen, n);
            lineLen += n;
            if (i < stop) {
                inPos = i + 1;
                return true;
            }
            inPos = stop;
        }
    }

    private boolean startsWith(String prefix) {
        if (lineLen < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (line[i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private boolean isLine(String text) {
        return lineLen == text.length() && startsWith(text);
    }

    private int wordEnd(int from) {
        int i = from;
        while (i < lineLen && line[i] != ' ') {
            i++;
        }
        return i;
    }

    /** Whether line[from, to) is a decimal u64: 1 to 20 digits, at most 2^64 - 1. */
    private boolean validU64(int from, int to) {
        int n = to - from;
        if (n <= 0 || n > 20) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (line[i] < '0' || line[i] > '9') {
                return false;
            }
        }
        if (n < 20) {
            return true;
        }
        byte[] max = MAX_U64;
        for (int i = 0; i < 20; i++) {
            if (line[from + i] != max[i]) {
                return line[from + i] < max[i];
            }
        }
        return true;
    }

    private static final byte[] MAX_U64 = "18446744073709551615".getBytes(StandardCharsets.US_ASCII);

    /** The u64 in line[from, to) as a long's bits; only meaningful after validU64. */
    private long parseU64(int from, int to) {
        long n = 0;
        for (int i = from; i < to; i++) {
            n = n * 10 + (line[i] - '0');
        }
        return n;
    }

    /**
     * Reads ops up to `end`, a plain program's (`writers` < 0) or a concurrent one's; on a
     * malformed line keeps reading to `end` and returns its message.
     */
    private String readOps(int writers) throws IOException {
        opCount = 0;
        String msg = null;
        for (int lineNo = 2; ; lineNo++) {
            if (!readLine() && lineLen == 0) {
                System.err.println("sim-java-driver: stdin ended inside a program");
                System.exit(1);
            }
            if (isLine("end")) {
                return msg;
            }
            String bad = writers < 0 ? parseOp() : parseConcurrentOp(writers);
            if (bad != null && msg == null) {
                msg = "program line " + lineNo + ": " + bad;
            }
        }
    }

    /** Parses the current line as an op, appending it; returns why it is malformed, or null. */
    private String parseOp() {
        if (lineLen == 0) {
            return "empty line";
        }
        byte kind = line[0];
        int want;
        switch (kind) {
            case 'x':
            case 'a':
                want = 0;
                break;
            case 'r':
            case 'g':
            case 'n':
            case 'd':
                want = 1;
                break;
            case 'i':
            case 's':
                want = 2;
                break;
            default:
                return "unknown op `" + clip() + "`";
        }
        long a = 0;
        long b = 0;
        int pos = 1;
        for (int k = 0; k < want; k++) {
            if (pos >= lineLen || line[pos] != ' ') {
                return "expected " + want + " operands in `" + clip() + "`";
            }
            pos++;
            int end = wordEnd(pos);
            if (!validU64(pos, end)) {
                return "bad number in `" + clip() + "`";
            }
            long n = parseU64(pos, end);
            if (k == 0) {
                a = n;
            } else {
                b = n;
            }
            pos = end;
        }
        if (pos != lineLen) {
            return "trailing text in `" + clip() + "`";
        }
        if ((kind == 'n' || kind == 's' || kind == 'd')
                && Long.compareUnsigned(a, CURSOR_HANDLES) >= 0) {
            return "cursor handle out of range in `" + clip() + "`";
        }
        if (kind == 's' && Long.compareUnsigned(b, 65536) >= 0) {
            return "step count out of range in `" + clip() + "`";
        }
        if (opCount == kinds.length) {
            int size = opCount * 2;
            kinds = java.util.Arrays.copyOf(kinds, size);
            as = java.util.Arrays.copyOf(as, size);
            bs = java.util.Arrays.copyOf(bs, size);
        }
        kinds[opCount] = kind;
        as[opCount] = a;
        bs[opCount] = b;
        opCount++;
        return null;
    }

    private void skipToEnd() throws IOException {
        while (true) {
            boolean more = readLine();
            if (isLine("end")) {
                return;
            }
            if (!more && lineLen == 0) {
                System.exit(0);
            }
        }
    }

    private String clip() {
        int n = Math.min(lineLen, 60);
        String s = new String(line, 0, n, StandardCharsets.US_ASCII);
        return lineLen > 60 ? s + "..." : s;
    }

    // ---- output ----

    private void reserve(int n) {
        if (outLen + n > outBuf.length) {
            outBuf = java.util.Arrays.copyOf(outBuf, Math.max(outBuf.length * 2, outLen + n));
        }
    }

    private void ascii(String s) {
        reserve(s.length());
        for (int i = 0; i < s.length(); i++) {
            outBuf[outLen++] = (byte) s.charAt(i);
        }
    }

    /** Appends the u64 whose bits are `n`, in decimal. */
    private void u64(long n) {
        reserve(20);
        if (n < 0) {
            // Above 2^63 - 1: split off the last digit unsigned, then the rest fits a long.
            long q = Long.divideUnsigned(n, 10);
            long r = n - q * 10;
            u64(q);
            outBuf[outLen++] = (byte) ('0' + r);
            return;
        }
        if (n < 10) {
            outBuf[outLen++] = (byte) ('0' + n);
            return;
        }
        int digits = 0;
        for (long t = n; t != 0; t /= 10) {
            digits++;
        }
        int at = outLen + digits;
        outLen = at;
        for (long t = n; t != 0; t /= 10) {
            outBuf[--at] = (byte) ('0' + (t % 10));
        }
    }

    private void value(Long v) {
        reserve(24);
        outBuf[outLen++] = 'v';
        outBuf[outLen++] = ' ';
        if (v == null) {
            outBuf[outLen++] = '-';
        } else {
            u64(v);
        }
        outBuf[outLen++] = '\n';
    }

    private void flush() throws IOException {
        out.write(outBuf, 0, outLen);
        out.flush();
        outLen = 0;
    }

    private void answerError(String msg) throws IOException {
        ascii("error " + msg + "\ndone\n");
        flush();
    }

    // ---- running a program ----

    /**
     * How the insert at op `index` is made: 0 `put`; 1 `putIfAbsent`, then `replace` when the
     * key was present; 2 `replace`, then `putIfAbsent` when the key was absent. Each gives the
     * previous value, as `put` does. Drawn from the program's seed and the op's index
     * (SplitMix64), so a program always takes the same paths.
     */
    static int insertVariant(long seed, int index) {
        long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (int) Long.remainderUnsigned(z, 3);
    }

    private void run(int capacity, long seed) throws IOException {
        ConcurrentHashMap<Long, Long> m = new ConcurrentHashMap<>(capacity);
        long inserts = 0;
        for (int i = 0; i < opCount; i++) {
            if (kinds[i] == 'i') {
                inserts++;
            }
        }
        for (int c = 0; c < CURSOR_HANDLES; c++) {
            cursors[c] = null;
            ended[c] = false;
        }
        resizes = 0;
        resizeCursors = 0;
        multiResizeCursors = 0;
        tableLength = tableLength(m);
        for (int i = 0; i < opCount; i++) {
            long a = as[i];
            switch (kinds[i]) {
                case 'i': {
                    Long key = a;
                    Long val = bs[i];
                    Long old;
                    switch (insertVariant(seed, i)) {
                        case 1:
                            old = m.putIfAbsent(key, val);
                            if (old != null) {
                                old = m.replace(key, val);
                            }
                            break;
                        case 2:
                            old = m.replace(key, val);
                            if (old == null) {
                                old = m.putIfAbsent(key, val);
                            }
                            break;
                        default:
                            old = m.put(key, val);
                    }
                    // Only a write can resize; a resize (transfer) completes inside the call
                    // that starts it, so between ops the table is never mid-resize.
                    observeTable(m);
                    value(old);
                    break;
                }
                case 'r':
                    // Always remove, also for an absent key, as a program would.
                    value(m.remove(a));
                    break;
                case 'g':
                    value(m.get(a));
                    break;
                case 'x':
                    m.clear();
                    break;
                case 'a':
                    // The harness's audit op: this driver has no audit.
                    break;
                case 'n': {
                    int c = (int) a;
                    cursors[c] = m.entrySet().iterator();
                    ended[c] = false;
                    resizesAtCreation[c] = resizes;
                    countedOne[c] = false;
                    countedTwo[c] = false;
                    break;
                }
                case 's':
                    step((int) a, bs[i]);
                    break;
                case 'd': {
                    int c = (int) a;
                    cursors[c] = null;
                    break;
                }
                default:
                    throw new IllegalStateException("unparsed op " + (char) kinds[i]);
            }
            reserve(24);
            outBuf[outLen++] = 'l';
            outBuf[outLen++] = ' ';
            u64(m.size());
            outBuf[outLen++] = '\n';
        }
        // The drain: a cursor that yields more than the program's inserts has yielded some
        // incarnation twice, so the harness has a failure before this budget runs out.
        for (int c = 0; c < CURSOR_HANDLES; c++) {
            step(c, inserts + 1);
        }
        writeContents(m);
        if (TABLE != null) {
            ascii("s resize=" + resizes + " multi-growth-cursor=" + multiResizeCursors
                    + " cursor-through-growth=" + resizeCursors + "\n");
        }
        ascii("done\n");
        flush();
    }

    /**
     * `c <n>` and the contents through a fresh iteration; the count is what the iteration
     * produced, not size().
     */
    private void writeContents(ConcurrentHashMap<Long, Long> m) {
        ascii("c ");
        int digitsAt = outLen;
        reserve(24);
        outLen += 20; // room for the count, filled in below
        outBuf[outLen++] = '\n';
        long n = 0;
        for (Map.Entry<Long, Long> e : m.entrySet()) {
            reserve(48);
            u64(e.getKey());
            outBuf[outLen++] = ' ';
            u64(e.getValue());
            outBuf[outLen++] = '\n';
            n++;
        }
        // Write the count in place and close the gap left for it.
        int entriesAt = digitsAt + 21;
        int tail = outLen - entriesAt;
        outLen = digitsAt;
        u64(n);
        outBuf[outLen++] = '\n';
        System.arraycopy(outBuf, entriesAt, outBuf, outLen, tail);
        outLen += tail;
    }

    /** Advances cursor c up to `steps` times, stopping at its end, answering each step. */
    private void step(int c, long steps) {
        Iterator<Map.Entry<Long, Long>> it = cursors[c];
        if (it == null || ended[c]) {
            return;
        }
        for (; steps > 0; steps--) {
            reserve(48);
            if (!it.hasNext()) {
                countResizesSeen(c);
                ended[c] = true;
                outBuf[outLen++] = 'e';
                outBuf[outLen++] = ' ';
                outBuf[outLen++] = '?';
                outBuf[outLen++] = '\n';
                return;
            }
            countResizesSeen(c);
            Map.Entry<Long, Long> e = it.next();
            outBuf[outLen++] = 'y';
            outBuf[outLen++] = ' ';
            u64(e.getKey());
            outBuf[outLen++] = ' ';
            u64(e.getValue());
            outBuf[outLen++] = ' ';
            outBuf[outLen++] = '?';
            outBuf[outLen++] = '\n';
        }
    }

    /**
     * Before a step of cursor c: counts it, once each, as a cursor that steps after one resize,
     * and after two, during its life (it then walks the forwarding nodes the resizes left).
     */
    private void countResizesSeen(int c) {
        long seen = resizes - resizesAtCreation[c];
        if (seen >= 1 && !countedOne[c]) {
            countedOne[c] = true;
            resizeCursors++;
        }
        if (seen >= 2 && !countedTwo[c]) {
            countedTwo[c] = true;
            multiResizeCursors++;
        }
    }

    /** The table's length (0 before the first insert), or 0 when the table cannot be read. */
    private static int tableLength(ConcurrentHashMap<Long, Long> m) {
        if (TABLE == null) {
            return 0;
        }
        Object[] table = (Object[]) TABLE.getVolatile(m);
        return table == null ? 0 : table.length;
    }

    /** After a write: counts the resizes (doublings) it made. */
    private void observeTable(ConcurrentHashMap<Long, Long> m) {
        if (TABLE == null) {
            return;
        }
        int length = tableLength(m);
        if (length == tableLength) {
            return;
        }
        // The first insert allocates the table; that is no resize.
        if (tableLength != 0) {
            for (int l = tableLength; l < length; l <<= 1) {
                resizes++;
            }
        }
        tableLength = length;
    }

    // ---- concurrent programs ----
    //
    // `concurrent <capacity> <seed> <writers>`, then `p <key> <value>` (the prefill, in order,
    // before any thread starts) and `<thread> <op>` lines (thread 0, the reader: n, s, d, g;
    // threads 1..writers: i, r, g, x), then `end`. Each writer runs on a thread of its own, the
    // reader on this one, all released together; every call is logged with a tick of one shared
    // clock taken just before it and one just after it returns, and the whole log is written once
    // every thread has returned (docs/driver-protocol.md, "Concurrent programs").

    /** The most writer threads a concurrent program may name. */
    static final int MAX_WRITERS = 64;

    /** Per op of a concurrent program: its thread (-1 for the prefill). */
    private int[] opThreads = new int[1024];

    private void serveConcurrent() throws IOException {
        long[] header = words(11, 3);
        String bad = null;
        if (header == null) {
            bad = "expected `concurrent <capacity> <seed> <writers>`, got `" + clip() + "`";
        } else if (Long.compareUnsigned(header[0], MAX_CAPACITY) > 0) {
            bad = "capacity " + Long.toUnsignedString(header[0]) + " is too large";
        } else if (header[2] == 0 || Long.compareUnsigned(header[2], MAX_WRITERS) > 0) {
            bad = "writers must be 1 to " + MAX_WRITERS + ", got " + Long.toUnsignedString(header[2]);
        }
        if (bad != null) {
            skipToEnd();
            answerError(bad);
            return;
        }
        String msg = readOps((int) header[2]);
        if (msg != null) {
            answerError(msg);
            return;
        }
        runConcurrent((int) header[0], (int) header[2]);
    }

    /** The `count` u64 words of line[from, lineLen), one space apart, or null if it is not that. */
    private long[] words(int from, int count) {
        long[] out = new long[count];
        int pos = from;
        for (int k = 0; k < count; k++) {
            if (k > 0) {
                if (pos >= lineLen || line[pos] != ' ') {
                    return null;
                }
                pos++;
            }
            int end = wordEnd(pos);
            if (!validU64(pos, end)) {
                return null;
            }
            out[k] = parseU64(pos, end);
            pos = end;
        }
        return pos == lineLen ? out : null;
    }

    private String parseConcurrentOp(int writers) {
        int thread;
        if (startsWith("p ")) {
            // The prefill is an insert made before the threads start.
            line[0] = 'i';
            thread = -1;
        } else {
            int end = wordEnd(0);
            if (!validU64(0, end) || end == lineLen) {
                return "expected `p <key> <value>` or `<thread> <op>`, got `" + clip() + "`";
            }
            long t = parseU64(0, end);
            if (Long.compareUnsigned(t, writers) > 0) {
                return "thread " + Long.toUnsignedString(t) + " out of range in `" + clip() + "`";
            }
            thread = (int) t;
            System.arraycopy(line, end + 1, line, 0, lineLen - end - 1);
            lineLen -= end + 1;
        }
        String bad = parseOp();
        if (bad != null) {
            return bad;
        }
        byte kind = kinds[opCount - 1];
        boolean allowed = thread == 0
                ? kind == 'n' || kind == 's' || kind == 'd' || kind == 'g'
                : kind == 'i' || kind == 'r' || kind == 'g' || kind == 'x';
        if (!allowed) {
            opCount--;
            return "op `" + (char) kind + "` is not one thread " + thread + " may run";
        }
        if (opThreads.length < kinds.length) {
            opThreads = java.util.Arrays.copyOf(opThreads, kinds.length);
        }
        opThreads[opCount - 1] = thread;
        return null;
    }

    /** One thread's logged calls, as parallel arrays. */
    static final class CallLog {
        int n;
        long[] began = new long[256];
        long[] returned = new long[256];
        byte[] kind = new byte[256];
        /** The cursor handle of n, y, e and d. */
        byte[] handle = new byte[256];
        long[] key = new long[256];
        long[] value = new long[256];
        /** The answer of i, r and g (the old, removed or found value); null when there was none. */
        Long[] answer = new Long[256];

        void add(long b, long r, byte k, int h, long key, long value, Long answer) {
            if (n == began.length) {
                int size = n * 2;
                began = java.util.Arrays.copyOf(began, size);
                returned = java.util.Arrays.copyOf(returned, size);
                kind = java.util.Arrays.copyOf(kind, size);
                handle = java.util.Arrays.copyOf(handle, size);
                this.key = java.util.Arrays.copyOf(this.key, size);
                this.value = java.util.Arrays.copyOf(this.value, size);
                this.answer = java.util.Arrays.copyOf(this.answer, size);
            }
            began[n] = b;
            returned[n] = r;
            kind[n] = k;
            handle[n] = (byte) h;
            this.key[n] = key;
            this.value[n] = value;
            this.answer[n] = answer;
            n++;
        }
    }

    private void runConcurrent(int capacity, int writers) throws IOException {
        final ConcurrentHashMap<Long, Long> m = new ConcurrentHashMap<>(capacity);
        final AtomicLong clock = new AtomicLong();
        final CallLog[] logs = new CallLog[writers + 1];
        final Throwable[] died = new Throwable[writers + 1];
        // Each thread's ops, by index into the op arrays, in program order; the prefill's too.
        final int[][] ops = new int[writers + 1][];
        int[] counts = new int[writers + 1];
        int prefillCount = 0;
        long stores = 0;
        for (int i = 0; i < opCount; i++) {
            int t = opThreads[i];
            if (t < 0) {
                prefillCount++;
            } else {
                counts[t]++;
            }
            if (kinds[i] == 'i') {
                stores++;
            }
        }
        int[] prefill = new int[prefillCount];
        prefillCount = 0;
        for (int t = 0; t <= writers; t++) {
            ops[t] = new int[counts[t]];
            counts[t] = 0;
        }
        for (int i = 0; i < opCount; i++) {
            int t = opThreads[i];
            if (t < 0) {
                prefill[prefillCount++] = i;
            } else {
                ops[t][counts[t]++] = i;
            }
        }
        // The prefill: the inserts of a writer, made on this thread before any other starts.
        logs[0] = new CallLog();
        write(m, clock, logs[0], prefill);
        final long budget = stores + 1;
        final CyclicBarrier start = new CyclicBarrier(writers + 1);
        Thread[] threads = new Thread[writers + 1];
        for (int t = 1; t <= writers; t++) {
            final int thread = t;
            logs[t] = new CallLog();
            threads[t] = new Thread(() -> {
                try {
                    start.await();
                    write(m, clock, logs[thread], ops[thread]);
                } catch (Throwable e) {
                    died[thread] = e;
                }
            }, "sim-writer-" + t);
            threads[t].start();
        }
        try {
            start.await();
            read(m, clock, logs[0], ops[0], budget);
        } catch (Throwable e) {
            died[0] = e;
        }
        for (int t = 1; t <= writers; t++) {
            while (true) {
                try {
                    threads[t].join();
                    break;
                } catch (InterruptedException e) {
                    // Keep waiting: the log is only whole once every writer has returned.
                }
            }
        }
        for (int t = 0; t <= writers; t++) {
            writeLog(t, logs[t]);
        }
        for (int t = 0; t <= writers; t++) {
            if (died[t] != null) {
                String text = String.valueOf(died[t]).replace('\n', ' ');
                ascii("panic " + t + " " + text + "\n");
            }
        }
        writeContents(m);
        ascii("done\n");
        flush();
    }

    /**
     * A writer's ops, each logged. The op arrays are only read while threads run; the start
     * barrier publishes them to the writers.
     */
    private void write(
            ConcurrentHashMap<Long, Long> m, AtomicLong clock, CallLog log, int[] mine) {
        for (int i : mine) {
            long a = as[i];
            long b;
            long r;
            switch (kinds[i]) {
                case 'i': {
                    Long key = a;
                    Long val = bs[i];
                    b = clock.getAndIncrement();
                    // One call that stores and answers the previous value: an insert made of two
                    // calls (putIfAbsent, then replace) is not one step when others write too.
                    Long old = m.put(key, val);
                    r = clock.getAndIncrement();
                    log.add(b, r, (byte) 'i', 0, a, bs[i], old);
                    break;
                }
                case 'r': {
                    b = clock.getAndIncrement();
                    Long old = m.remove(a);
                    r = clock.getAndIncrement();
                    log.add(b, r, (byte) 'r', 0, a, 0, old);
                    break;
                }
                case 'g': {
                    b = clock.getAndIncrement();
                    Long found = m.get(a);
                    r = clock.getAndIncrement();
                    log.add(b, r, (byte) 'g', 0, a, 0, found);
                    break;
                }
                default: {
                    b = clock.getAndIncrement();
                    m.clear();
                    r = clock.getAndIncrement();
                    log.add(b, r, (byte) 'x', 0, 0, 0, null);
                }
            }
        }
    }

    /**
     * The reader's ops: cursors stepped while the writers run. A cursor that yields more than
     * `budget` times is stopped there (its last yield has then yielded some element twice), so a
     * cursor that never ends cannot hang the program. Cursors still live at the end are run to
     * their end, so that they too are judged.
     */
    private void read(
            ConcurrentHashMap<Long, Long> m, AtomicLong clock, CallLog log, int[] mine, long budget) {
        @SuppressWarnings({"unchecked", "rawtypes"})
        Iterator<Map.Entry<Long, Long>>[] live = new Iterator[CURSOR_HANDLES];
        long[] yields = new long[CURSOR_HANDLES];
        for (int i : mine) {
            int c = (int) as[i];
            switch (kinds[i]) {
                case 'n': {
                    long b = clock.getAndIncrement();
                    live[c] = m.entrySet().iterator();
                    long r = clock.getAndIncrement();
                    yields[c] = 0;
                    log.add(b, r, (byte) 'n', c, 0, 0, null);
                    break;
                }
                case 's':
                    for (long k = bs[i]; k > 0 && stepLogged(clock, log, live, yields, c, budget); k--) {
                        // each step is logged by stepLogged
                    }
                    break;
                case 'd':
                    if (live[c] != null) {
                        long b = clock.getAndIncrement();
                        live[c] = null;
                        long r = clock.getAndIncrement();
                        log.add(b, r, (byte) 'd', c, 0, 0, null);
                    }
                    break;
                default: {
                    long b = clock.getAndIncrement();
                    Long found = m.get(as[i]);
                    long r = clock.getAndIncrement();
                    log.add(b, r, (byte) 'g', 0, as[i], 0, found);
                }
            }
        }
        for (int c = 0; c < CURSOR_HANDLES; c++) {
            while (stepLogged(clock, log, live, yields, c, budget)) {
                // run to the end
            }
        }
    }

    /** One logged step of cursor c; whether it may step again. */
    private static boolean stepLogged(
            AtomicLong clock,
            CallLog log,
            Iterator<Map.Entry<Long, Long>>[] live,
            long[] yields,
            int c,
            long budget) {
        Iterator<Map.Entry<Long, Long>> it = live[c];
        if (it == null || yields[c] > budget) {
            return false;
        }
        long b = clock.getAndIncrement();
        Map.Entry<Long, Long> e = it.hasNext() ? it.next() : null;
        long r = clock.getAndIncrement();
        if (e == null) {
            log.add(b, r, (byte) 'e', c, 0, 0, null);
            live[c] = null;
            return false;
        }
        log.add(b, r, (byte) 'y', c, e.getKey(), e.getValue(), null);
        yields[c]++;
        return true;
    }

    /** A thread's log, one line per call: `<thread> <began> <returned> <call and answer>`. */
    private void writeLog(int thread, CallLog log) {
        for (int i = 0; i < log.n; i++) {
            reserve(96);
            u64(thread);
            outBuf[outLen++] = ' ';
            u64(log.began[i]);
            outBuf[outLen++] = ' ';
            u64(log.returned[i]);
            outBuf[outLen++] = ' ';
            byte k = log.kind[i];
            outBuf[outLen++] = k;
            switch (k) {
                case 'i':
                    outBuf[outLen++] = ' ';
                    u64(log.key[i]);
                    outBuf[outLen++] = ' ';
                    u64(log.value[i]);
                    answerWord(log.answer[i]);
                    break;
                case 'r':
                case 'g':
                    outBuf[outLen++] = ' ';
                    u64(log.key[i]);
                    answerWord(log.answer[i]);
                    break;
                case 'y':
                    outBuf[outLen++] = ' ';
                    u64(log.handle[i]);
                    outBuf[outLen++] = ' ';
                    u64(log.key[i]);
                    outBuf[outLen++] = ' ';
                    u64(log.value[i]);
                    break;
                case 'n':
                case 'e':
                case 'd':
                    outBuf[outLen++] = ' ';
                    u64(log.handle[i]);
                    break;
                default:
                    break;
            }
            outBuf[outLen++] = '\n';
        }
    }

    /** ` <value>`, or ` -` for none. */
    private void answerWord(Long v) {
        outBuf[outLen++] = ' ';
        if (v == null) {
            outBuf[outLen++] = '-';
        } else {
            u64(v);
        }
    }
}
