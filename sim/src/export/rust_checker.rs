/// How many cursor handles (`c0`..`c3`) a trace can name.
const MAX_CURSORS: usize = 4;

/// sim's `SimHasher`, reproduced on its own so that map-core needs nothing of sim: the map sees
/// the same hashes, so colliding traces collide the same way. [`TRACE_HASHER`] is the trace's
/// mode and seed; `TraceHasher::default()` is sim's default, the `seeded` hash with seed 0,
/// which `FromIterator` builds maps with.
#[derive(Clone, Copy, Debug, Default)]
struct TraceHasher {
    /// Whether this is the trace's hasher (`shape`) rather than the default.
    traced: bool,
}

/// The trace's hasher, the map's.
const TRACE_HASHER: TraceHasher = TraceHasher { traced: true };

impl BuildHasher for TraceHasher {
    type Hasher = TraceHash;

    fn build_hasher(&self) -> TraceHash {
        TraceHash {
            raw: 0,
            traced: self.traced,
        }
    }
}

/// Folds the written words as `SimHash` does; a `u64` key is written as one word, so `raw` is
/// the key itself.
struct TraceHash {
    raw: u64,
    traced: bool,
}

impl Hasher for TraceHash {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.raw = self.raw.rotate_left(29) ^ word;
    }

    fn finish(&self) -> u64 {
        if self.traced {
            shape(self.raw)
        } else {
            mix(self.raw)
        }
    }
}

/// splitmix64's finalizer, as in sim's hasher.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// One op of the table.
#[derive(Clone, Copy, Debug)]
enum Op {
    Insert(u64, u64),
    Remove(u64),
    Get(u64),
    Clear,
    CursorNew(usize),
    CursorStep(usize, u64),
    CursorDrop(usize),
    ForceGrow,
    ForceSameSizeGrow,
    EvacuateStep,
    Audit,
    GetMut(u64, u64),
    ContainsKey(u64),
    Index(u64),
    Iter,
    Clone,
    CloneInsert(u64, u64),
    CloneRemove(u64),
    Eq,
    Extend(u64, u64, u64),
    FromIter(u64, u64, u64),
}

/// The entries of `extend K N V` and `from-iter K N V`, as sim's `Op::entries`: `N` entries over
/// `ceil(N / 2)` keys from `K` on, values `V, V + 1, ...`; the last value given for a key stays.
fn entries(key: u64, count: u64, value: u64) -> Vec<(u64, u64)> {
    let keys = count.div_ceil(2).max(1);
    (0..count)
        .map(|i| (key.wrapping_add(i % keys), value.wrapping_add(i)))
        .collect()
}

fn parse_op(line: &str) -> Op {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let number = |i: usize| -> u64 {
        let text = fields
            .get(i)
            .unwrap_or_else(|| panic!("`{line}`: operand {i} missing"));
        text.parse()
            .unwrap_or_else(|_| panic!("`{line}`: `{text}` is not a number"))
    };
    let cursor = || -> usize {
        let name = fields
            .get(1)
            .unwrap_or_else(|| panic!("`{line}`: cursor missing"));
        let index = name.strip_prefix('c').and_then(|i| i.parse().ok());
        match index {
            Some(index) if index < MAX_CURSORS => index,
            _ => panic!("`{line}`: `{name}` is not a cursor c0..c3"),
        }
    };
    match fields[0] {
        "insert" => Op::Insert(number(1), number(2)),
        "remove" => Op::Remove(number(1)),
        "get" => Op::Get(number(1)),
        "clear" => Op::Clear,
        "cursor-new" => Op::CursorNew(cursor()),
        "cursor-step" => Op::CursorStep(cursor(), number(2)),
        "cursor-drop" => Op::CursorDrop(cursor()),
        "force-grow" => Op::ForceGrow,
        "force-same-size-grow" => Op::ForceSameSizeGrow,
        "evacuate-step" => Op::EvacuateStep,
        "audit" => Op::Audit,
        "get-mut" => Op::GetMut(number(1), number(2)),
        "contains" => Op::ContainsKey(number(1)),
        "index" => Op::Index(number(1)),
        "iter" => Op::Iter,
        "clone" => Op::Clone,
        "clone-insert" => Op::CloneInsert(number(1), number(2)),
        "clone-remove" => Op::CloneRemove(number(1)),
        "eq" => Op::Eq,
        "extend" => Op::Extend(number(1), number(2), number(3)),
        "from-iter" => Op::FromIter(number(1), number(2), number(3)),
        other => panic!("unknown op `{other}`"),
    }
}

/// One span of a key's presence, from the insert that made it present to the remove or clear
/// that made it absent; updating a present key's value keeps it.
struct Incarnation {
    value: u64,
    /// The op that began it.
    born: usize,
    /// Bit c: cursor c was created while it was present and has not yielded it (rule 4).
    must_yield: u8,
    /// Bit c: cursor c has yielded it (rule 1).
    yielded: u8,
}

/// A live cursor and what it owes.
struct Watched {
    cursor: Cursor<u64, u64>,
    created: usize,
    steps: u64,
    /// Incarnations present at its creation, still present, not yet yielded.
    pending: usize,
    /// Incarnations that existed during its life: it must end within `budget + 1` steps
    /// (rule 6), which keeps the final drain finite whatever the map does.
    budget: u64,
}

/// The program's second map, made by `clone` or `from-iter`, with its reference: it has no
/// cursors, so its reference is a plain map.
struct Second {
    map: GoMap<u64, u64, TraceHasher>,
    entries: HashMap<u64, u64>,
}

/// The map under test, driven in lockstep with a reference that judges by sim's rules.
struct Run {
    map: GoMap<u64, u64, TraceHasher>,
    entries: HashMap<u64, Incarnation>,
    /// `None` until a `clone` or `from-iter`: `clone-insert` and `clone-remove` are no-ops.
    second: Option<Second>,
    /// How each key's last incarnation ended: the op, and whether a clear ended it.
    ends: HashMap<u64, (usize, bool)>,
    /// `None` when the handle names no cursor or its cursor has ended: ops on it are no-ops.
    cursors: [Option<Watched>; MAX_CURSORS],
    op: usize,
    since_audit: u32,
}

fn show(value: Option<u64>) -> String {
    value.map_or_else(|| "None".to_string(), |v| format!("Some({v})"))
}

impl Run {
    fn new() -> Self {
        Run {
            map: GoMap::with_capacity_hasher_and_seed(CAPACITY, TRACE_HASHER, MAP_SEED),
            entries: HashMap::new(),
            second: None,
            ends: HashMap::new(),
            cursors: [None, None, None, None],
            op: 0,
            since_audit: 0,
        }
    }

    /// Applies every op, then drains every live cursor, audits and compares the contents.
    fn all(&mut self, ops: &[(Op, &str)]) -> Result<(), String> {
        for (i, &(op, text)) in ops.iter().enumerate() {
            self.op = i;
            self.apply(op)
                .and_then(|()| self.after_op(matches!(op, Op::Audit)))
                .map_err(|e| format!("op {i} `{text}`: {e}"))?;
        }
        self.op = ops.len();
        self.end().map_err(|e| format!("end of program: {e}"))
    }

    fn apply(&mut self, op: Op) -> Result<(), String> {
        match op {
            Op::Insert(key, value) => {
                let found = self.map.insert(key, value);
                let expected = self.insert(key, value);
                compare(&format!("insert({key}, {value})"), expected, found)
            }
            Op::Remove(key) => {
                let found = self.map.remove(&key);
                let expected = self.remove(key);
                compare(&format!("remove({key})"), expected, found)
            }
            Op::Get(key) => {
                let found = self.map.get(&key).copied();
                let expected = self.entries.get(&key).map(|e| e.value);
                compare(&format!("get({key})"), expected, found)
            }
            Op::Clear => {
                self.map.clear();
                for (key, e) in std::mem::take(&mut self.entries) {
                    self.end_incarnation(key, &e, true);
                }
                Ok(())
            }
            Op::CursorNew(c) => {
                let bit = 1 << c;
                for e in self.entries.values_mut() {
                    e.must_yield |= bit;
                    e.yielded &= !bit;
                }
                self.cursors[c] = Some(Watched {
                    cursor: self.map.cursor(),
                    created: self.op,
                    steps: 0,
                    pending: self.entries.len(),
                    budget: self.entries.len() as u64,
                });
                Ok(())
            }
            Op::CursorStep(c, steps) => {
                for _ in 0..steps {
                    if self.cursors[c].is_none() {
                        break;
                    }
                    self.step(c)?;
                }
                Ok(())
            }
            Op::CursorDrop(c) => {
                self.cursors[c] = None;
                Ok(())
            }
            Op::ForceGrow => {
                if self.map.stats().buckets < MAX_FORCED_BUCKETS {
                    self.map.force_grow();
                }
                Ok(())
            }
            Op::ForceSameSizeGrow => {
                self.map.force_same_size_grow();
                Ok(())
            }
            Op::EvacuateStep => {
                let was_growing = self.map.is_growing();
                let evacuated = self.map.evacuate_step();
                if evacuated == was_growing {
                    Ok(())
                } else {
                    Err(format!(
                        "wrong result\n  expected: evacuate_step() returns {was_growing} \
                         (whether a growth was under way)\n  found:    it returned {evacuated}"
                    ))
                }
            }
            Op::Audit => Ok(()),
            _ => self.apply_api(op),
        }
    }

    /// The ops of the Rust map API beyond the plain ops.
    fn apply_api(&mut self, op: Op) -> Result<(), String> {
        match op {
            Op::GetMut(key, value) => {
                let found = self
                    .map
                    .get_mut(&key)
                    .map(|slot| std::mem::replace(slot, value));
                // A write through `get_mut` updates a present key and does nothing otherwise.
                let expected = self.value(key);
                if expected.is_some() {
                    self.insert(key, value);
                }
                compare(&format!("get_mut({key}) = {value}"), expected, found)
            }
            Op::ContainsKey(key) => {
                let found = self.map.contains_key(&key);
                let expected = self.entries.contains_key(&key);
                compare_as(&format!("contains_key({key})"), expected, found)
            }
            Op::Index(key) => {
                let map = &self.map;
                // `None`: it panicked (the default hook prints the panic; the test captures it).
                let found = panic::catch_unwind(AssertUnwindSafe(|| map[&key])).ok();
                let expected = self.value(key);
                if expected == found {
                    return Ok(());
                }
                let show = |value: Option<u64>, panics: &str| match value {
                    Some(v) => format!("map[&{key}] == {v}"),
                    None => format!("map[&{key}] {panics}"),
                };
                Err(format!(
                    "wrong result\n  expected: {}\n  found:    {}",
                    show(expected, "panics: the key is absent"),
                    show(found, "panicked")
                ))
            }
            Op::Iter => {
                let found = self.map.iter().map(|(&k, &v)| (k, v)).collect();
                check_entries("iter()", found, self.model_entries())
            }
            Op::Clone => {
                let entries = self.model_entries().into_iter().collect();
                self.second = Some(Second {
                    map: self.map.clone(),
                    entries,
                });
                Ok(())
            }
            Op::CloneInsert(key, value) => match &mut self.second {
                Some(second) => {
                    let found = second.map.insert(key, value);
                    let expected = second.entries.insert(key, value);
                    compare(
                        &format!("the second map's insert({key}, {value})"),
                        expected,
                        found,
                    )
                }
                None => Ok(()),
            },
            Op::CloneRemove(key) => match &mut self.second {
                Some(second) => {
                    let found = second.map.remove(&key);
                    let expected = second.entries.remove(&key);
                    compare(&format!("the second map's remove({key})"), expected, found)
                }
                None => Ok(()),
            },
            Op::Eq => {
                let entries = self.model_entries();
                let mut built = GoMap::with_hasher_and_seed(*self.map.hasher(), 0);
                for &(k, v) in &entries {
                    built.insert(k, v);
                }
                compare_as(
                    "map == a map built from its entries",
                    true,
                    self.map == built,
                )?;
                if let Some(second) = &self.second {
                    let mut second_entries: Vec<(u64, u64)> =
                        second.entries.iter().map(|(&k, &v)| (k, v)).collect();
                    second_entries.sort_unstable();
                    let expected = second_entries == entries;
                    compare_as("map == the second map", expected, self.map == second.map)?;
                }
                Ok(())
            }
            Op::Extend(key, count, value) => {
                let entries = entries(key, count, value);
                self.map.extend(entries.iter().copied());
                for (k, v) in entries {
                    self.insert(k, v);
                }
                Ok(())
            }
            Op::FromIter(key, count, value) => {
                let entries = entries(key, count, value);
                self.second = Some(Second {
                    map: entries.iter().copied().collect(),
                    entries: entries.into_iter().collect(),
                });
                Ok(())
            }
            _ => unreachable!("apply handles every op that is not of the API"),
        }
    }

    /// The reference's value for `key`.
    fn value(&self, key: u64) -> Option<u64> {
        self.entries.get(&key).map(|e| e.value)
    }

    /// The reference's entries, in key order.
    fn model_entries(&self) -> Vec<(u64, u64)> {
        let mut entries: Vec<(u64, u64)> =
            self.entries.iter().map(|(&k, e)| (k, e.value)).collect();
        entries.sort_unstable();
        entries
    }

    /// The checks after every op: `len()` (of the second map too), and the audit every
    /// `AUDIT_EVERY` ops.
    fn after_op(&mut self, audit_now: bool) -> Result<(), String> {
        if self.map.len() != self.entries.len() {
            return Err(format!(
                "wrong len\n  expected: len() == {}\n  found:    len() == {}",
                self.entries.len(),
                self.map.len()
            ));
        }
        if let Some(second) = &self.second {
            if second.map.len() != second.entries.len() {
                return Err(format!(
                    "wrong len\n  expected: the second map's len() == {}\n  found:    the \
                     second map's len() == {}",
                    second.entries.len(),
                    second.map.len()
                ));
            }
        }
        self.since_audit += 1;
        if audit_now || self.since_audit >= AUDIT_EVERY {
            self.audit()?;
        }
        Ok(())
    }

    /// Audits the map and the second map.
    fn audit(&mut self) -> Result<(), String> {
        self.since_audit = 0;
        let broken = |e| {
            format!("broken invariant\n  expected: check_invariants() == Ok(())\n  found:    {e}")
        };
        self.map
            .check_invariants()
            .map_err(|e| broken(e.to_string()))?;
        match &self.second {
            Some(second) => second
                .map
                .check_invariants()
                .map_err(|e| broken(format!("the second map: {e}"))),
            None => Ok(()),
        }
    }

    fn insert(&mut self, key: u64, value: u64) -> Option<u64> {
        if let Some(e) = self.entries.get_mut(&key) {
            return Some(std::mem::replace(&mut e.value, value));
        }
        self.entries.insert(
            key,
            Incarnation {
                value,
                born: self.op,
                must_yield: 0,
                yielded: 0,
            },
        );
        for watched in self.cursors.iter_mut().flatten() {
            watched.budget += 1;
        }
        None
    }

    fn remove(&mut self, key: u64) -> Option<u64> {
        let e = self.entries.remove(&key)?;
        self.end_incarnation(key, &e, false);
        Some(e.value)
    }

    /// Ends an incarnation: no cursor owes it any more.
    fn end_incarnation(&mut self, key: u64, e: &Incarnation, by_clear: bool) {
        self.ends.insert(key, (self.op, by_clear));
        for (c, slot) in self.cursors.iter_mut().enumerate() {
            if let Some(watched) = slot {
                if e.must_yield & (1 << c) != 0 {
                    watched.pending -= 1;
                }
            }
        }
    }

    /// One step of live cursor `c`, judged by the rules.
    fn step(&mut self, c: usize) -> Result<(), String> {
        let watched = self.cursors[c].as_mut().expect("only live cursors step");
        if watched.steps > watched.budget {
            return Err(format!(
                "cursor never ends (rule 6)\n  expected: c{c} (created at op {}) ends within {} \
                 steps\n  found:    c{c} had not ended after {} steps",
                watched.created,
                watched.budget + 1,
                watched.steps
            ));
        }
        watched.steps += 1;
        let Some((&key, &value)) = watched.cursor.next(&self.map) else {
            return self.on_end(c);
        };
        let bit = 1 << c;
        let found = format!("c{c} yielded ({key}, {value})");
        let Some(e) = self.entries.get_mut(&key) else {
            let (rule, why) = match self.ends.get(&key) {
                Some((op, true)) => ("rules 2, 7", format!("cleared at op {op}")),
                Some((op, false)) => ("rule 2", format!("removed at op {op}")),
                None => ("rule 2", "never inserted".to_string()),
            };
            return Err(format!(
                "absent entry yielded ({rule})\n  expected: no yield of key {key}: it is absent \
                 ({why})\n  found:    {found}"
            ));
        };
        if e.yielded & bit != 0 {
            return Err(format!(
                "duplicate yield (rule 1)\n  expected: key {key} (incarnation inserted at op {}) \
                 yielded at most once by c{c}\n  found:    {found} a second time",
                e.born
            ));
        }
        if e.value != value {
            return Err(format!(
                "stale value yielded (rule 3)\n  expected: key {key} yielded with its current \
                 value {}\n  found:    {found}",
                e.value
            ));
        }
        e.yielded |= bit;
        if e.must_yield & bit != 0 {
            e.must_yield &= !bit;
            watched.pending -= 1;
        }
        Ok(())
    }

    /// The end of cursor `c`: it must have yielded everything it owed (rule 4).
    fn on_end(&mut self, c: usize) -> Result<(), String> {
        let watched = self.cursors[c].take().expect("only live cursors end");
        if watched.pending == 0 {
            return Ok(());
        }
        let mut owed: Vec<(&u64, &Incarnation)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.must_yield & (1 << c) != 0)
            .collect();
        owed.sort_unstable_by_key(|&(&key, _)| key);
        let mut missed = String::new();
        for (key, e) in owed.iter().take(8) {
            let _ = write!(
                missed,
                "{key} (inserted at op {}, value {}), ",
                e.born, e.value
            );
        }
        if owed.len() > 8 {
            let _ = write!(missed, "and {} more", owed.len() - 8);
        }
        Err(format!(
            "entry missed (rule 4)\n  expected: before ending, c{c} (created at op {}) yields \
             every key present since then: {}\n  found:    c{c} ended after {} steps without \
             yielding {} of the entries it owed",
            watched.created,
            missed.trim_end_matches([',', ' ']),
            watched.steps,
            watched.pending
        ))
    }

    /// The end of the program: drain every live cursor, audit, compare the whole contents (of
    /// the second map too).
    fn end(&mut self) -> Result<(), String> {
        for c in 0..MAX_CURSORS {
            while self.cursors[c].is_some() {
                self.step(c)?;
            }
        }
        self.audit()?;
        let found = self.map.iter().map(|(&k, &v)| (k, v)).collect();
        check_entries("iter()", found, self.model_entries())?;
        if let Some(second) = &self.second {
            let found = second.map.iter().map(|(&k, &v)| (k, v)).collect();
            let mut expected: Vec<(u64, u64)> =
                second.entries.iter().map(|(&k, &v)| (k, v)).collect();
            expected.sort_unstable();
            check_entries("the second map's iter()", found, expected)?;
        }
        Ok(())
    }
}

/// `what` yielded `found`: exactly the `expected` entries (in key order), each once.
fn check_entries(
    what: &str,
    mut found: Vec<(u64, u64)>,
    expected: Vec<(u64, u64)>,
) -> Result<(), String> {
    found.sort_unstable();
    if found == expected {
        return Ok(());
    }
    let first = expected
        .iter()
        .zip(&found)
        .position(|(e, f)| e != f)
        .unwrap_or(expected.len().min(found.len()));
    let at = |entries: &[(u64, u64)]| {
        entries
            .get(first)
            .map_or_else(|| "nothing".to_string(), |(k, v)| format!("({k}, {v})"))
    };
    Err(format!(
        "wrong contents\n  expected: {what} yields {} entries; in key order, entry {first} is \
         {}\n  found:    {what} yielded {} entries; in key order, entry {first} is {}",
        expected.len(),
        at(&expected),
        found.len(),
        at(&found)
    ))
}

/// Compares an answer that is not an `Option<u64>`.
fn compare_as(what: &str, expected: bool, found: bool) -> Result<(), String> {
    if expected == found {
        return Ok(());
    }
    Err(format!(
        "wrong result\n  expected: {what} is {expected}\n  found:    {what} was {found}"
    ))
}

fn compare(what: &str, expected: Option<u64>, found: Option<u64>) -> Result<(), String> {
    if expected == found {
        return Ok(());
    }
    Err(format!(
        "wrong result\n  expected: {what} returns {}\n  found:    {what} returned {}",
        show(expected),
        show(found)
    ))
}
