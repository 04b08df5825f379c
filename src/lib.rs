//! # curio for Rust
//!
//! The facade crate: everything lives in `curio-rt` and `curio-macros` and
//! is re-exported here. See the README for the tour.
pub use curio_rt::*;
