//! # curio for Rust
//!
//! A port of David Beazley's Curio: a coroutine kernel that is a queuing
//! system. Every blocking `.await` ends in a [`Trap`], a tiny system call,
//! and the kernel drives tasks with [`Coroutine::resume`] (Python's
//! `send()`) and [`Coroutine::throw`].
//!
//! A task is an `async fn` marked [`#[curio::task]`](macro@task); the macro
//! rewrites it into an explicit state machine that you can drive by hand:
//!
//! ```
//! use curio::traps::sleep;
//! use curio::{Coroutine, Error, Step, Trap, Value};
//!
//! #[curio::task]
//! async fn main_task() -> curio::Result<&'static str> {
//!     println!("Yawn. Getting sleepy.");
//!     sleep(10.0).await?;
//!     Ok("Awake at last!")
//! }
//!
//! let mut c = main_task();
//! // The first resume runs to the first trap, like `c.send(None)`.
//! assert_eq!(c.resume(Value::None).into_trap(), Some(Trap::Sleep { seconds: 10.0, absolute: false }));
//! // The "kernel" satisfied the request: resume with its reply.
//! assert!(matches!(c.resume(Value::None), Step::Return(Ok("Awake at last!"))));
//!
//! // Or raise an error at the suspended `.await`, as Curio's cancel does:
//! let mut c = main_task();
//! let _ = c.resume(Value::None);
//! assert!(matches!(c.throw(Error::TaskCancelled), Step::Return(Err(Error::TaskCancelled))));
//! ```
//!
//! The README lists the accepted syntax, the rejections with their fixes,
//! and the exact semantics (drop order, which locals a state stores).
//!
//! This crate re-exports `curio-rt` (the runtime) and `curio-macros`.
pub use curio_rt::*;
