//! Integration and property tests of map-core, as thin adapters over the harness in `sim`.
//!
//! Nothing here decides what the map may do: programs are run by `sim::exec::run`, and its model
//! is the only judge. This crate adds other ways of producing and keeping programs:
//! - [`strategy`]: proptest strategies that produce the simulator's [`sim::program::Program`];
//! - [`corpus`]: the regression corpus `tests/regressions/*.trace`, replayed by `cargo test`;
//! - [`digest`]: a digest of what a seed produces, compared across processes (the
//!   `seed-digest` binary prints it).
//!
//! The tests themselves are in `tests/tests/`.

pub mod corpus;
pub mod digest;
pub mod strategy;
