//! The shape contract (semantics.md §3a), checked by the executor after every op of a target that
//! reports its [`Shape`]: how big the map is and which growths it started.
//!
//! A map can keep every content and iteration rule and still be wrong about its size. The rules,
//! each a [`ShapeRule`] of its own failure kind:
//!
//! - **Sizing.** Right after creation for a capacity hint `n`, B is [`sized_b`]`(n)`: the smallest
//!   with `n <= 6.5 * 2^B` (B = 0 for `n <= 8`), and no growth is under way. Then, while no clear
//!   has run since creation and at most `n` distinct keys have been inserted since creation (the
//!   key of the op being checked included), no doubling growth starts except by `force-grow`.
//! - **Triggers.** An op starts at most one growth (the growth counters, doubling and same-size,
//!   rise by at most 1 in total), and B changes only by the doubling it starts: `B_after ==
//!   B_before + doublings started`. A growth may start only on:
//!   - `force-grow` (a doubling) or `force-same-size-grow` (a same-size growth), with no growth
//!     under way before the op;
//!   - an insert of a key that was absent, when Go's `mapassign` condition holds. Go evaluates it
//!     after the op's evacuation work and before adding the key, with the count before the
//!     insert: `!growing && (overLoadFactor(count+1, B) || tooManyOverflowBuckets(noverflow, B))`,
//!     a doubling if `overLoadFactor(count+1, B)`, else a same-size growth. Evacuation changes
//!     neither the count nor B (during a growth B is already the new array's), so the executor
//!     checks the kind exactly from the shape before the op: a doubling starts iff
//!     `count+1 > 8 && count+1 > 6.5 * 2^B`. When no growth was under way before the op, the
//!     overflow count is also the one the check saw, so a same-size growth additionally needs
//!     `noverflow >= 2^min(B, 15)`; when a growth was under way (and finished within the op's
//!     evacuation work), the overflow count at that moment is not observable and only the kind is
//!     checked.
//!
//!   No update of a present key, remove, get, clear, cursor op, evacuate-step or audit starts one.
//!   (That a growth *must* start when the condition holds is not checked here: the audit checks
//!   the load factor, and the churn bound catches overflow that never triggers a growth.)
//! - **Churn.** The bucket count stays bounded, whatever the op mix; see [`ShapeChecker`] for the
//!   bound and its proof.

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// What a target reports about its size after an op ([`crate::target::Target::shape`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Entries.
    pub len: usize,
    /// log2 of the main bucket count (Go's `B`; during a doubling growth, the new array's).
    pub b: u8,
    /// Overflow buckets of the current array (Go's `noverflow`).
    pub overflow_buckets: usize,
    /// A growth is under way.
    pub growing: bool,
    /// The growth under way keeps the bucket count.
    pub same_size: bool,
    /// Doubling growths started since creation, forced ones included.
    pub doubling_growths: u64,
    /// Same-size growths started since creation, forced ones included.
    pub same_size_growths: u64,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "len {}, B {}, {} overflow buckets, ",
            self.len, self.b, self.overflow_buckets
        )?;
        match (self.growing, self.same_size) {
            (false, _) => f.write_str("not growing")?,
            (true, false) => f.write_str("doubling growth under way")?,
            (true, true) => f.write_str("same-size growth under way")?,
        }
        write!(
            f,
            ", {} doubling and {} same-size growths started",
            self.doubling_growths, self.same_size_growths
        )
    }
}

/// Which rule of the shape contract a map broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShapeRule {
    /// The map was created with the wrong B, or doubled before it held its capacity hint.
    Sizing,
    /// A growth started without its trigger (or an op started more than one, or B changed
    /// without a doubling).
    Trigger,
    /// The bucket count went past the bound that Go's triggers guarantee.
    Churn,
}

impl ShapeRule {
    /// The rule's name, as failure reports print it.
    pub fn name(self) -> &'static str {
        match self {
            ShapeRule::Sizing => "sizing",
            ShapeRule::Trigger => "growth trigger",
            ShapeRule::Churn => "churn bound",
        }
    }
}

/// A broken shape rule: which, what the rule allows and what the map did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeViolation {
    /// The rule broken.
    pub rule: ShapeRule,
    /// What the rule allows.
    pub expected: String,
    /// What the map reported.
    pub found: String,
}

/// What an op was, as far as the shape rules care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeEvent {
    /// `insert(key, _)` of a key that was absent before (the model's answer): the only insert
    /// that may start a growth.
    InsertAbsent {
        /// The key inserted.
        key: u64,
    },
    /// `insert(key, _)` of a key that was present: an update of its value. (Two variants rather
    /// than a flag, so that telling them apart, after every op, is one comparison.)
    Update {
        /// The key updated.
        key: u64,
    },
    /// `remove`: evacuates during a growth, never starts one.
    Remove,
    /// `clear`: ends the sizing promise of the capacity hint.
    Clear,
    /// `force-grow`.
    ForceGrow,
    /// `force-same-size-grow`.
    ForceSameSizeGrow,
    /// `evacuate-step`: evacuates during a growth, never starts one.
    EvacuateStep,
    /// `extend` with [`crate::op::Op::entries`]`(key, count, _)`: `count` inserts in one call,
    /// so growths inside it cannot be told apart; only the bounds are checked after it
    /// ([`ShapeChecker::after`]).
    Extend {
        /// The first key.
        key: u64,
        /// How many entries.
        count: u8,
    },
    /// Anything else (get, cursor ops, audit, the end-of-program drain): does nothing to the shape.
    Other,
}

impl ShapeEvent {
    fn does_growth_work(self) -> bool {
        matches!(
            self,
            ShapeEvent::InsertAbsent { .. }
                | ShapeEvent::Update { .. }
                | ShapeEvent::Remove
                | ShapeEvent::EvacuateStep
        )
    }

    fn what(self) -> &'static str {
        match self {
            ShapeEvent::InsertAbsent { .. } => "an insert of an absent key",
            ShapeEvent::Update { .. } => "an update of a present key",
            ShapeEvent::Remove => "a remove",
            ShapeEvent::Clear => "a clear",
            ShapeEvent::ForceGrow => "force-grow",
            ShapeEvent::ForceSameSizeGrow => "force-same-size-grow",
            ShapeEvent::EvacuateStep => "an evacuate-step",
            ShapeEvent::Extend { .. } => "an extend",
            ShapeEvent::Other => "this op",
        }
    }
}

/// Go's `overLoadFactor`: `count > 8 && count > 6.5 * 2^b`.
pub fn over_load_factor(count: usize, b: u8) -> bool {
    count > 8 && (count as u128) * 2 > 13u128 << b.min(100)
}

/// Go's `tooManyOverflowBuckets` threshold: `2^min(b, 15)`.
pub fn overflow_threshold(b: u8) -> usize {
    1usize << b.min(15)
}

/// The B that Go's `makemap` picks for a capacity hint: the smallest with
/// `!overLoadFactor(capacity, B)`, i.e. `capacity <= 6.5 * 2^B`, and 0 for `capacity <= 8`.
pub fn sized_b(capacity: usize) -> u8 {
    sized_b_from(capacity, 0)
}

/// [`sized_b`] of `capacity`, known to be at least `b`.
fn sized_b_from(capacity: usize, mut b: u8) -> u8 {
    while over_load_factor(capacity, b) {
        b += 1;
    }
    b
}

/// A cheap hasher for the set of `u64` keys the sizing rule remembers.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

type KeySet = HashSet<u64, BuildHasherDefault<KeyHasher>>;

/// Checks the shape rules op by op for one map.
///
/// # The churn bound
///
/// After every op, with `M` the largest `len()` since creation, `F` the doubling growths started
/// by `force-grow`, `n` the capacity hint and `T(B) = 2^min(B, 15)`:
///
/// 1. **Main buckets:** `B <= max(sized_b(n), sized_b(M)) + F`.
/// 2. **A growth ends:** while a growth is under way, fewer than `2^oldB` ops that do evacuation
///    work (inserts, removes, evacuate-steps) have run since it started, the starting op
///    included when it is an insert (oldB = B for a same-size growth, B - 1 for a doubling).
/// 3. **Overflow buckets:** while a growth is under way, `overflow <= L/8 + I`, where `L` is
///    `len()` when the growth started and `I` the inserts of absent keys since (the starting
///    insert included). With no growth under way: an insert of an absent key that starts no
///    growth, with none under way before it, found `overflow < T(B)` (overflow never stays at
///    the threshold through an insert: Go grows there), and after any insert of an absent key
///    `overflow <= T(B)`; after any other op, no more than the bound that held after the op
///    before (the growth bound, for the op that finished a growth).
///
/// Under insert/remove churn at constant size (`M` fixed, no forcing) this bounds the buckets by
/// a constant: `2^B <= 2^sized_b(max(n, M))`, and overflow at most `max(T(B), M/8 + 2^B)`: the
/// pile-up of Go #16070 and the repeated doubling of Go #70886 both break it.
///
/// *Proof, for Go's algorithm as map-core implements it.*
/// (1) B starts at `sized_b(n)` and changes only by doublings. A natural doubling from `B0`
/// happens at an insert with `overLoadFactor(count+1, B0)`; the insert then succeeds, so
/// `M >= count + 1`, and `overLoadFactor` is monotone in the count, so `overLoadFactor(M, B0)`
/// holds and `sized_b(M) >= B0 + 1`. A forced doubling adds 1 to B and 1 to F. Both sides only
/// grow, so the bound holds after every op.
/// (2) Every op that does evacuation work while growing moves `nevacuate` forward by at least one
/// (`growWork` evacuates the key's old bucket and then bucket `nevacuate`, and evacuating bucket
/// `nevacuate` always advances the mark; evacuate-step evacuates bucket `nevacuate`); the growth
/// ends when `nevacuate` reaches `2^oldB`. An insert that starts a growth goes round again
/// (`goto again`) and does the new growth's work once.
/// (3) A growth starts with an empty array (`noverflow = 0`). A new bucket receives entries by
/// evacuation from exactly one old bucket, before any insert reaches it (an insert or remove
/// evacuates its key's old bucket first), and evacuation fills each destination chain densely,
/// so a destination that receives `k` entries gets `ceil(k/8) - 1 <= floor(k/8)` overflow
/// buckets: at most `L/8` in all, since only the `L` entries present when the growth started are
/// evacuated. An insert of an absent key adds at most one overflow bucket, updates and removes
/// none. With no growth under way, an insert of an absent key first checks
/// `noverflow >= T(B)` and grows if so; if it goes on without a growth, `noverflow <= T(B) - 1`
/// before it adds at most one. (If the growth it started ended within the same insert, which
/// needs at most 2 old buckets, the map is re-checked; for B <= 1, count + 1 <= 6.5 * 2^B leaves
/// fewer than `T(B)` overflow buckets after compaction, so no second growth starts, which is
/// also why an op starts at most one growth.) Every other op without growth work adds none.
#[derive(Debug)]
pub struct ShapeChecker {
    capacity: usize,
    /// `sized_b(capacity)`.
    hinted_b: u8,
    /// The shape after the last op checked.
    prev: Shape,
    /// Distinct keys inserted since creation, kept while the sizing promise holds (no clear yet
    /// and at most `capacity` of them); `None` once it has ended.
    window: Option<KeySet>,
    /// The largest `len()` since creation, and `sized_b` of it.
    max_len: usize,
    max_len_b: u8,
    /// Doubling growths started by `force-grow`.
    forced_doublings: u32,
    /// For the growth under way (or the last one): `len()` when it started, inserts of absent
    /// keys since, and ops that did evacuation work since.
    growth_start_len: usize,
    growth_new_keys: usize,
    growth_work_ops: u64,
    /// The overflow bound that held after the last op, while no growth is under way.
    overflow_allowance: usize,
    /// An insert of an absent key passed [`Self::only_len_moved`] since the last full check, so
    /// the overflow allowance is `overflow_threshold(prev.b)` (the full check sets it).
    allowance_at_threshold: bool,
    /// No growth was under way after the last op and its B is within the bound: an op after
    /// which only the length moved needs no full check.
    fast_other: bool,
    /// `fast_other`, and fewer overflow buckets than the threshold: the same for an insert of an
    /// absent key.
    fast_new_key: bool,
}

impl ShapeChecker {
    /// Checks the sizing of a map just created for `capacity` entries, and starts following it.
    pub fn new(capacity: usize, created: Shape) -> Result<Self, ShapeViolation> {
        let hinted_b = sized_b(capacity);
        let fresh = Shape {
            b: hinted_b,
            ..Shape::default()
        };
        if created != fresh {
            return Err(ShapeViolation {
                rule: ShapeRule::Sizing,
                expected: format!(
                    "a map made for {capacity} entries starts empty and not growing with B {hinted_b} \
                     (the smallest with {capacity} <= 6.5 * 2^B, or 0 up to 8): {fresh}"
                ),
                found: created.to_string(),
            });
        }
        let mut checker = ShapeChecker {
            capacity,
            hinted_b,
            prev: created,
            window: (capacity > 0).then(KeySet::default),
            max_len: 0,
            max_len_b: 0,
            forced_doublings: 0,
            growth_start_len: 0,
            growth_new_keys: 0,
            growth_work_ops: 0,
            overflow_allowance: 0,
            allowance_at_threshold: false,
            fast_other: false,
            fast_new_key: false,
        };
        checker.cache_prev();
        Ok(checker)
    }

    /// Checks the shape `now` reported after an op of kind `event`.
    #[inline(always)]
    pub fn after(&mut self, event: ShapeEvent, now: Shape) -> Result<(), ShapeViolation> {
        if self.only_len_moved(&event, &now) {
            return Ok(());
        }
        self.after_shape_changed(event, now)
    }

    /// The common case of every plain op that starts no growth and adds no overflow bucket:
    /// nothing but the length moved, outside a growth. Follows the length (and the sizing window)
    /// and returns true when the full check could find nothing; returns false, changing nothing,
    /// when the full check must run ([`Self::after_shape_changed`]).
    ///
    /// Why a few comparisons suffice: B is unchanged and within the churn bound (`fast_other`);
    /// no growth started or is under way, so there is no trigger to check and no growth to
    /// follow; an insert of an absent key that started none must have found fewer overflow
    /// buckets than Go's threshold (`fast_new_key`), and the overflow count, unchanged, stays
    /// within what held before. The op's kind only enters through flags combined without a
    /// branch: this runs after every op, and the op kinds of a program are random.
    ///
    /// The event is read through a reference, its kind first and its key only when the sizing
    /// window needs it: the executor has just stored it field by field, and a copy of the whole
    /// would be one wide load over several narrow stores, which the processor cannot forward
    /// and waits out.
    #[inline(always)]
    pub fn only_len_moved(&mut self, event: &ShapeEvent, now: &Shape) -> bool {
        let pre = &self.prev;
        let new_key = matches!(*event, ShapeEvent::InsertAbsent { .. });
        let extend = matches!(*event, ShapeEvent::Extend { .. });
        let unchanged = !now.growing
            & (now.b == pre.b)
            & (now.overflow_buckets == pre.overflow_buckets)
            & (now.same_size == pre.same_size)
            & (now.doubling_growths == pre.doubling_growths)
            & (now.same_size_growths == pre.same_size_growths);
        let allowed = (new_key & self.fast_new_key) | (!new_key & self.fast_other);
        if !(unchanged & !extend & allowed) {
            return false;
        }
        self.prev.len = now.len;
        if self.follow_max_len(now.len) {
            self.cache_prev();
        }
        // After an insert of an absent key the allowance is Go's threshold for this B; it is
        // set when the full check next runs. (A flag, not a select: the compiler turns a select
        // on the op's kind into a branch.)
        self.allowance_at_threshold |= new_key;
        if self.window.is_some() {
            self.follow_window(*event);
        }
        true
    }

    /// Follows the largest length and its `sized_b`; returns whether that B grew. The largest
    /// length grows by one at a time on most inserts, and its B only every 6.5 * 2^B of them: B
    /// is stepped up from where it was, not found again from 0.
    #[inline(always)]
    fn follow_max_len(&mut self, len: usize) -> bool {
        if len <= self.max_len {
            return false;
        }
        self.max_len = len;
        let b = sized_b_from(len, self.max_len_b);
        let grew = b != self.max_len_b;
        self.max_len_b = b;
        grew
    }

    /// Caches what [`Self::only_len_moved`] needs of `prev` and of the B bound, after either
    /// changed.
    fn cache_prev(&mut self) {
        let pre = &self.prev;
        let b_bound = u32::from(self.hinted_b.max(self.max_len_b)) + self.forced_doublings;
        self.fast_other = !pre.growing && u32::from(pre.b) <= b_bound;
        self.fast_new_key = self.fast_other && pre.overflow_buckets < overflow_threshold(pre.b);
    }

    /// [`Self::after`] when more than the length moved: a growth, an overflow bucket, an
    /// extend (or when [`Self::only_len_moved`] said the full check must run). Out of line, so
    /// that the common case stays a few inlined comparisons.
    #[inline(never)]
    pub fn after_shape_changed(
        &mut self,
        event: ShapeEvent,
        now: Shape,
    ) -> Result<(), ShapeViolation> {
        if std::mem::take(&mut self.allowance_at_threshold) {
            self.overflow_allowance = overflow_threshold(self.prev.b);
        }
        let pre = std::mem::replace(&mut self.prev, now);
        let checked = match event {
            ShapeEvent::Extend { key, count } => self.after_extend(key, count, pre, now),
            _ => self.check(event, pre, now),
        };
        self.cache_prev();
        checked
    }

    /// After an `extend` of `count` entries from `key`: many inserts in one call, whose own
    /// growths (there may be several) are not seen one by one. What still holds and is checked:
    /// the counters never go down and B moves only by the doublings started; no doubling while
    /// the sizing window is still open after every key of the call (it was open at each insert
    /// inside it, too); the B bound. The growth's and the overflow's bookkeeping restarts from
    /// bounds that cover any way the inserts could have gone: a growth that started inside the
    /// call started at a len of at most `pre.len + count`, with at most `count` absent keys
    /// inserted since, and the call's inserts evacuated at most `count` buckets' worth.
    fn after_extend(
        &mut self,
        key: u64,
        count: u8,
        pre: Shape,
        now: Shape,
    ) -> Result<(), ShapeViolation> {
        let (doublings, same_size) = growths_started(pre, now)?;
        check_b_moved_by(pre, now, doublings)?;
        for (k, _) in crate::op::Op::entries(key, count, 0) {
            self.follow_window(ShapeEvent::InsertAbsent { key: k });
        }
        if doublings > 0 && self.window.is_some() {
            return Err(ShapeViolation {
                rule: ShapeRule::Sizing,
                expected: format!(
                    "no doubling growth while at most the {} entries the map was made for have \
                     been inserted (B {} holds them)",
                    self.capacity, self.hinted_b
                ),
                found: format!("an extend started a doubling growth: before: {pre}; after: {now}"),
            });
        }
        self.check_b_bound(now)?;
        let count = usize::from(count);
        if doublings + same_size > 0 {
            self.growth_start_len = pre.len + count;
            self.growth_new_keys = count;
            self.growth_work_ops = 0;
        } else if pre.growing {
            self.growth_new_keys += count;
            self.growth_work_ops += count as u64;
        }
        if now.growing {
            self.overflow_allowance = self.growth_start_len / 8 + self.growth_new_keys;
        } else if count > 0 {
            // Each insert of the call that started no growth found fewer overflow buckets than
            // the threshold and added at most one; a growth that ended inside it compacted them.
            self.overflow_allowance = self
                .overflow_allowance
                .max(overflow_threshold(now.b))
                .max(overflow_threshold(pre.b));
        }
        if now.overflow_buckets > self.overflow_allowance {
            return Err(churn(
                format!(
                    "after an extend, overflow buckets <= {} (the bound of its inserts)",
                    self.overflow_allowance
                ),
                now,
            ));
        }
        Ok(())
    }

    fn follow_window(&mut self, event: ShapeEvent) {
        if let Some(keys) = &mut self.window {
            match event {
                ShapeEvent::InsertAbsent { key } | ShapeEvent::Update { key } => {
                    keys.insert(key);
                    if keys.len() > self.capacity {
                        self.window = None;
                    }
                }
                ShapeEvent::Clear => self.window = None,
                _ => {}
            }
        }
    }

    fn check(&mut self, event: ShapeEvent, pre: Shape, now: Shape) -> Result<(), ShapeViolation> {
        let (doublings, same_size) = growths_started(pre, now)?;
        let started = doublings + same_size;
        if started > 1 {
            return Err(trigger(
                "an op starts at most one growth".to_string(),
                format!(
                    "{} started {started}: before: {pre}; after: {now}",
                    event.what()
                ),
            ));
        }
        if started == 1 {
            check_trigger(event, pre, now, doublings == 1)?;
        }
        check_b_moved_by(pre, now, doublings)?;
        self.follow_window(event);
        if doublings == 1 && event != ShapeEvent::ForceGrow {
            if let Some(keys) = &self.window {
                return Err(ShapeViolation {
                    rule: ShapeRule::Sizing,
                    expected: format!(
                        "no doubling growth while at most the {} entries the map was made for \
                         have been inserted (B {} holds them)",
                        self.capacity, self.hinted_b
                    ),
                    found: format!(
                        "a doubling growth started with {} distinct keys inserted since creation: \
                         before: {pre}; after: {now}",
                        keys.len()
                    ),
                });
            }
        }
        if doublings == 1 && event == ShapeEvent::ForceGrow {
            self.forced_doublings += 1;
        }
        self.check_churn(event, pre, now, started == 1)
    }

    /// Follows the largest length and checks `B <= max(sized_b(hint), sized_b(max len)) +
    /// forced doublings`.
    fn check_b_bound(&mut self, now: Shape) -> Result<(), ShapeViolation> {
        self.follow_max_len(now.len);
        let b_bound =
            u64::from(self.hinted_b.max(self.max_len_b)) + u64::from(self.forced_doublings);
        if u64::from(now.b) > b_bound {
            return Err(churn(
                format!(
                    "B <= max(sized_b(hint {}), sized_b(max len {})) + forced doublings {} = {b_bound}",
                    self.capacity, self.max_len, self.forced_doublings
                ),
                now,
            ));
        }
        Ok(())
    }

    fn check_churn(
        &mut self,
        event: ShapeEvent,
        pre: Shape,
        now: Shape,
        started: bool,
    ) -> Result<(), ShapeViolation> {
        self.check_b_bound(now)?;
        let new_key = matches!(event, ShapeEvent::InsertAbsent { .. });
        if started {
            self.growth_start_len = pre.len;
            self.growth_new_keys = usize::from(new_key);
            self.growth_work_ops = u64::from(matches!(
                event,
                ShapeEvent::InsertAbsent { .. } | ShapeEvent::Update { .. }
            ));
        } else if pre.growing {
            self.growth_new_keys += usize::from(new_key);
            self.growth_work_ops += u64::from(event.does_growth_work());
        }
        let growth_bound = self.growth_start_len / 8 + self.growth_new_keys;
        if now.growing {
            let old_b = if now.same_size {
                now.b
            } else {
                now.b.saturating_sub(1)
            };
            let old_buckets = 1u64 << old_b.min(63);
            if self.growth_work_ops >= old_buckets {
                return Err(churn(
                    format!(
                        "a growth over {old_buckets} old buckets ends within {old_buckets} ops \
                         that evacuate (each moves nevacuate on)"
                    ),
                    now,
                )
                .with_found_prefix(format!(
                    "still growing after {} such ops: ",
                    self.growth_work_ops
                )));
            }
            self.overflow_allowance = growth_bound;
            if now.overflow_buckets > growth_bound {
                return Err(churn(
                    format!(
                        "during a growth, overflow buckets <= len at its start ({}) / 8 + inserts \
                         of absent keys since ({}) = {growth_bound}",
                        self.growth_start_len, self.growth_new_keys
                    ),
                    now,
                ));
            }
            return Ok(());
        }
        if new_key && !started && !pre.growing && pre.overflow_buckets >= overflow_threshold(pre.b)
        {
            return Err(churn(
                format!(
                    "an insert of an absent key with no growth under way and noverflow >= \
                     2^min(B, 15) = {} starts a growth (Go's tooManyOverflowBuckets): overflow \
                     buckets do not pile up",
                    overflow_threshold(pre.b)
                ),
                now,
            )
            .with_found_prefix(format!(
                "no growth started at {} overflow buckets: ",
                pre.overflow_buckets
            )));
        }
        let allowed = if new_key {
            overflow_threshold(now.b)
        } else if pre.growing {
            growth_bound
        } else {
            self.overflow_allowance
        };
        self.overflow_allowance = allowed;
        if now.overflow_buckets > allowed {
            let why = if new_key {
                format!(
                    "after an insert of an absent key with no growth under way, overflow buckets \
                     <= 2^min(B, 15) = {allowed} (the insert grows the map first at that many)"
                )
            } else {
                format!(
                    "with no growth under way, {} adds no overflow bucket: at most {allowed}",
                    event.what()
                )
            };
            return Err(churn(why, now));
        }
        Ok(())
    }
}

/// The doubling and same-size growths started between `pre` and `now`; the counters never go
/// down.
fn growths_started(pre: Shape, now: Shape) -> Result<(u64, u64), ShapeViolation> {
    match (
        now.doubling_growths.checked_sub(pre.doubling_growths),
        now.same_size_growths.checked_sub(pre.same_size_growths),
    ) {
        (Some(doublings), Some(same_size)) => Ok((doublings, same_size)),
        _ => Err(trigger(
            "the growth counters never go down".to_string(),
            format!("before: {pre}; after: {now}"),
        )),
    }
}

/// B changes only by the doublings started, one each.
fn check_b_moved_by(pre: Shape, now: Shape, doublings: u64) -> Result<(), ShapeViolation> {
    if u64::from(now.b) == u64::from(pre.b) + doublings {
        return Ok(());
    }
    Err(trigger(
        "B changes only by a doubling growth, by one".to_string(),
        format!(
            "B went from {} to {} with {doublings} doubling growths started",
            pre.b, now.b
        ),
    ))
}

fn check_trigger(
    event: ShapeEvent,
    pre: Shape,
    now: Shape,
    doubling: bool,
) -> Result<(), ShapeViolation> {
    let kind = if doubling { "doubling" } else { "same-size" };
    let found = || {
        format!(
            "{} started a {kind} growth: before: {pre}; after: {now}",
            event.what()
        )
    };
    let forced = match event {
        ShapeEvent::ForceGrow => Some(true),
        ShapeEvent::ForceSameSizeGrow => Some(false),
        _ => None,
    };
    if let Some(forced_doubling) = forced {
        if forced_doubling != doubling || pre.growing {
            return Err(trigger(
                format!(
                    "{} starts a {} growth, and only when none is under way",
                    event.what(),
                    if forced_doubling {
                        "doubling"
                    } else {
                        "same-size"
                    }
                ),
                found(),
            ));
        }
        return Ok(());
    }
    if !matches!(event, ShapeEvent::InsertAbsent { .. }) {
        return Err(trigger(
            format!(
                "only an insert of an absent key or a force op starts a growth; {} never does",
                event.what()
            ),
            found(),
        ));
    }
    let over = over_load_factor(pre.len + 1, pre.b);
    let threshold = overflow_threshold(pre.b);
    // Only a failure reads it: every growth an insert starts comes through here.
    let condition = || {
        format!(
            "count+1 = {} is {} the load factor (> 8 and > 6.5 * 2^{} = {}); noverflow = {} vs \
             2^min(B, 15) = {threshold}",
            pre.len + 1,
            if over { "over" } else { "not over" },
            pre.b,
            6.5 * 2f64.powi(i32::from(pre.b)),
            pre.overflow_buckets
        )
    };
    if doubling != over {
        return Err(trigger(
            format!(
                "an insert of an absent key starts a doubling growth iff count+1 > 8 && \
                 count+1 > 6.5 * 2^B, else a same-size one: {}",
                condition()
            ),
            found(),
        ));
    }
    if !doubling && !pre.growing && pre.overflow_buckets < threshold {
        return Err(trigger(
            format!(
                "a same-size growth starts only with noverflow >= 2^min(B, 15): {}",
                condition()
            ),
            found(),
        ));
    }
    Ok(())
}

fn trigger(expected: String, found: String) -> ShapeViolation {
    ShapeViolation {
        rule: ShapeRule::Trigger,
        expected,
        found,
    }
}

fn churn(expected: String, now: Shape) -> ShapeViolation {
    ShapeViolation {
        rule: ShapeRule::Churn,
        expected,
        found: now.to_string(),
    }
}

impl ShapeViolation {
    fn with_found_prefix(mut self, prefix: String) -> Self {
        self.found.insert_str(0, &prefix);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(len: usize, b: u8) -> Shape {
        Shape {
            len,
            b,
            ..Shape::default()
        }
    }

    #[test]
    fn sized_b_is_the_smallest_b_holding_the_hint_at_six_and_a_half_per_bucket() {
        let cases = [
            (0, 0),
            (8, 0),
            (9, 1),
            (13, 1),
            (14, 2),
            (26, 2),
            (27, 3),
            (52, 3),
        ];
        for (n, b) in cases {
            assert_eq!(sized_b(n), b, "hint {n}");
        }
        assert_eq!(sized_b(1 << 16), 14);
        assert_eq!(overflow_threshold(3), 8);
        assert_eq!(overflow_threshold(20), 1 << 15);
    }

    #[test]
    fn a_map_created_with_the_wrong_b_breaks_sizing() {
        assert!(ShapeChecker::new(14, shape(0, 2)).is_ok());
        let e = ShapeChecker::new(14, shape(0, 1)).unwrap_err();
        assert_eq!(e.rule, ShapeRule::Sizing);
        assert!(e.expected.contains("B 2"), "{}", e.expected);
    }

    /// The shape after an insert that started a growth of this kind.
    fn grown(pre: Shape, doubling: bool) -> Shape {
        Shape {
            len: pre.len + 1,
            b: pre.b + u8::from(doubling),
            growing: true,
            same_size: !doubling,
            doubling_growths: pre.doubling_growths + u64::from(doubling),
            same_size_growths: pre.same_size_growths + u64::from(!doubling),
            overflow_buckets: 0,
        }
    }

    fn checker_at(capacity: usize, at: Shape) -> ShapeChecker {
        let mut c = ShapeChecker::new(capacity, shape(0, sized_b(capacity))).unwrap();
        c.prev = at;
        c.max_len = at.len;
        c.max_len_b = sized_b(at.len);
        c.window = None;
        c.cache_prev();
        c
    }

    #[test]
    fn a_doubling_starts_only_on_a_new_key_past_the_load_factor() {
        let new = ShapeEvent::InsertAbsent { key: 1 };
        // 13 entries in B 1: the fourteenth key is over the load factor.
        let full = shape(13, 1);
        assert!(checker_at(0, full).after(new, grown(full, true)).is_ok());
        let update = ShapeEvent::Update { key: 1 };
        let e = checker_at(0, full)
            .after(
                update,
                Shape {
                    len: 13,
                    ..grown(full, true)
                },
            )
            .unwrap_err();
        assert_eq!(e.rule, ShapeRule::Trigger);
        // 12 entries: the thirteenth is not.
        let twelve = shape(12, 1);
        let e = checker_at(0, twelve)
            .after(new, grown(twelve, true))
            .unwrap_err();
        assert_eq!(e.rule, ShapeRule::Trigger);
        assert!(
            e.expected.contains("count+1 = 13 is not over"),
            "{}",
            e.expected
        );
        // Over the load factor, a same-size growth is the wrong kind.
        let e = checker_at(0, full)
            .after(new, grown(full, false))
            .unwrap_err();
        assert_eq!(e.rule, ShapeRule::Trigger);
        for event in [
            ShapeEvent::Remove,
            ShapeEvent::Clear,
            ShapeEvent::EvacuateStep,
            ShapeEvent::Other,
        ] {
            let e = checker_at(0, full)
                .after(event, grown(full, true))
                .unwrap_err();
            assert_eq!(e.rule, ShapeRule::Trigger, "{event:?}");
        }
    }

    #[test]
    fn a_same_size_growth_needs_too_many_overflow_buckets() {
        let new = ShapeEvent::InsertAbsent { key: 1 };
        let few = Shape {
            overflow_buckets: 3,
            ..shape(20, 2)
        };
        let e = checker_at(0, few)
            .after(new, grown(few, false))
            .unwrap_err();
        assert_eq!(e.rule, ShapeRule::Trigger);
        let many = Shape {
            overflow_buckets: 4,
            ..few
        };
        assert!(checker_at(0, many).after(new, grown(many, false)).is_ok());
        assert!(checker_at(0, few)
            .after(
                ShapeEvent::ForceSameSizeGrow,
                Shape {
                    len: 20,
                    ..grown(few, false)
                }
            )
            .is_ok());
    }

    #[test]
    fn doubling_within_the_capacity_hint_breaks_sizing() {
        // Made for 13 (B 1), forced down to B 0 by hand: the ninth key doubles.
        let mut c = ShapeChecker::new(13, shape(0, 1)).unwrap();
        for key in 0..8 {
            c.after(ShapeEvent::InsertAbsent { key }, shape(key as usize + 1, 1))
                .unwrap();
        }
        c.prev = shape(8, 0);
        c.cache_prev();
        let e = c
            .after(
                ShapeEvent::InsertAbsent { key: 8 },
                grown(shape(8, 0), true),
            )
            .unwrap_err();
        assert_eq!(e.rule, ShapeRule::Sizing);
    }

    #[test]
    fn overflow_at_the_threshold_must_grow_at_the_next_new_key() {
        let new = ShapeEvent::InsertAbsent { key: 1 };
        // B 1: the threshold is 2 overflow buckets. An insert may bring the map to 2...
        let at = Shape {
            overflow_buckets: 1,
            ..shape(10, 1)
        };
        let mut c = checker_at(0, at);
        let full = Shape {
            len: 11,
            overflow_buckets: 2,
            ..at
        };
        assert!(c.after(new, full).is_ok());
        // ...but the next insert of an absent key must grow, whether or not it adds one more.
        for overflow in [2, 3] {
            let mut c = checker_at(0, full);
            let e = c
                .after(
                    new,
                    Shape {
                        len: 12,
                        overflow_buckets: overflow,
                        ..full
                    },
                )
                .unwrap_err();
            assert_eq!(e.rule, ShapeRule::Churn);
            assert!(e.found.starts_with("no growth started at 2"), "{}", e.found);
        }
        // A remove adds none.
        let mut c = checker_at(0, full);
        c.overflow_allowance = 2;
        let e = c
            .after(
                ShapeEvent::Remove,
                Shape {
                    len: 10,
                    overflow_buckets: 3,
                    ..full
                },
            )
            .unwrap_err();
        assert_eq!(e.rule, ShapeRule::Churn);
    }

    #[test]
    fn buckets_past_the_largest_len_ever_break_the_churn_bound() {
        // A map that holds 10 entries at most needs B 1; one at B 3 is past the bound, however
        // it got there (here: the checker is told the map was already at B 3).
        let mut c = checker_at(0, shape(10, 1));
        c.prev = shape(10, 3);
        c.cache_prev();
        let e = c.after(ShapeEvent::Remove, shape(9, 3)).unwrap_err();
        assert_eq!(e.rule, ShapeRule::Churn);
        assert!(e.expected.contains("= 1"), "{}", e.expected);
        // Forced doublings are allowed for.
        let mut c = checker_at(0, shape(10, 1));
        c.prev = shape(10, 3);
        c.forced_doublings = 2;
        c.cache_prev();
        assert!(c.after(ShapeEvent::Remove, shape(9, 3)).is_ok());
    }

    #[test]
    fn a_growth_that_never_ends_breaks_the_churn_bound() {
        let growing = Shape {
            growing: true,
            doubling_growths: 1,
            ..shape(9, 1)
        };
        let mut c = checker_at(0, growing);
        // One old bucket: the first op that evacuates must finish the growth.
        let e = c
            .after(ShapeEvent::Remove, Shape { len: 8, ..growing })
            .unwrap_err();
        assert_eq!(e.rule, ShapeRule::Churn);
        assert!(e.found.starts_with("still growing after 1"), "{}", e.found);
    }
}
