//! I/O: file descriptors made non-blocking (`fd.rs`: the [`Transport`]
//! trait and the leaf coroutine that tries a system call and waits when it
//! would block), the fairness budget (`coop.rs`), sockets, buffered
//! streams and the servers built on them.
//!
//! [`Transport`]: fd::Transport

pub(crate) mod coop;
pub(crate) mod fd;
pub mod net;
pub mod socket;
pub mod stream;
