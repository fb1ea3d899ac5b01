//! A hash map built on the algorithm of Go's runtime map (runtime/map.go, the classic map of Go
//! 1.18-1.23), in safe Rust, with a [`Cursor`] that keeps working while the map is inserted into,
//! removed from, cleared and grown between its steps.
//!
//! The parts of Go's algorithm reproduced here, each in its module:
//! - [`bucket`](crate) layout: 8-slot buckets with a tophash byte per slot, five marker values,
//!   and overflow chains (Go's `bmap`);
//! - `map`: lookup, insert, remove, clear (`mapaccess`, `mapassign`, `mapdelete`, `mapclear`);
//! - `grow`: growth at load factor 6.5 (doubling) or with too many overflow buckets (same size),
//!   incremental evacuation with the X/Y split (`hashGrow`, `growWork`, `evacuate`,
//!   `advanceEvacuationMark`);
//! - `cursor`: iteration from a random bucket and slot offset, the `checkBucket` filter, re-lookup
//!   of evacuated entries, old arrays kept readable (`mapiterinit`, `mapiternext`);
//! - `audit`: the structural invariants, checked on demand ([`GoMap::check_invariants`]);
//! - `diagram`: a picture of the buckets for debugging ([`GoMap::diagram`]).
//!
// `GoMap::inject` exists only with the feature, so the link to it is written only then.
#![cfg_attr(
    feature = "faults",
    doc = "The `faults` feature adds [`GoMap::inject`], which switches on one [`Fault`]: a \
           deliberate bug for testing the tools that test maps."
)]
#![cfg_attr(
    not(feature = "faults"),
    doc = "The `faults` feature adds `GoMap::inject`, which switches on one [`Fault`]: a \
           deliberate bug for testing the tools that test maps."
)]
//!
//! ```
//! use map_core::GoMap;
//! let mut map = GoMap::with_seed(42);
//! map.insert("a", 1);
//! map.insert("b", 2);
//! assert_eq!(map.get("a"), Some(&1));
//! assert_eq!(map.remove("b"), Some(2));
//! assert_eq!(map.len(), 1);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit;
mod bucket;
mod cursor;
mod diagram;
mod fault;
mod grow;
mod hash;
mod iter;
mod map;
mod stats;

pub use audit::{ArrayKind, Invariant, InvariantError, Location};
pub use cursor::{Cursor, CursorStats};
pub use diagram::Diagram;
pub use fault::{Fault, UnknownFault};
pub use hash::DefaultHashBuilder;
pub use iter::Iter;
pub use map::GoMap;
pub use stats::{MapShape, MapStats};
