//! A seeded, deterministic simulator that checks `map_core::GoMap` against a model.
//!
//! A seed draws a [`program::Program`] ([`gen`]); the executor ([`exec`]) runs it against the map
//! and the reference [`model`], checking every step; a failing program is minimized ([`shrink`])
//! and saved as a text [`trace`] that replays exactly. Fuzz targets and property tests produce the
//! same `Program` and call the same executor. The `sim` binary drives all of it from the command
//! line; [`runner`] runs many seeds in parallel with a result that depends only on the seeds.
//!
//! Determinism is the product: everything a seed replays derives from that seed through
//! `ChaCha8Rng`, including the map's own seed; nothing depends on the clock, threads or
//! `RandomState`.

pub mod concurrent;
pub mod confirm;
pub mod coverage;
pub mod detection;
pub mod exec;
pub mod export;
pub mod failure;
#[cfg(feature = "arbitrary")]
pub mod fuzz_input;
pub mod gen;
pub mod hasher;
mod key_index;
pub mod model;
pub mod op;
pub mod program;
pub mod results;
pub mod runner;
pub mod shape;
pub mod shrink;
pub mod target;
pub mod trace;
pub mod watchdog;
