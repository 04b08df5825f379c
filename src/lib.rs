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
//! assert!(matches!(c.throw(Error::cancelled()), Step::Return(Err(Error::TaskCancelled(_)))));
//! ```
//!
//! The kernel does the driving: [`run`] runs a main task, [`spawn`] starts
//! more, and [`timeout_after`], [`Task::cancel`] and friends deliver errors
//! at blocking operations, with Curio's rules:
//!
//! ```
//! use curio::{spawn, sleep, Result};
//!
//! #[curio::task]
//! async fn countdown(mut n: u32) -> Result<u32> {
//!     let mut ticks = 0;
//!     while n > 0 {
//!         sleep(0.001).await?;
//!         ticks += 1;
//!         n -= 1;
//!     }
//!     Ok(ticks)
//! }
//!
//! #[curio::task]
//! async fn parent() -> Result<u32> {
//!     let t = spawn(countdown(3)).await?;
//!     t.join().await
//! }
//!
//! assert_eq!(curio::run(parent()).unwrap(), 3);
//! ```
//!
//! The README lists the accepted syntax, the rejections with their fixes,
//! the exact semantics (drop order, which locals a state stores), the
//! kernel's rules and the Python-to-Rust mapping.
//!
//! This crate re-exports `curio-rt` (the runtime) and `curio-macros`.
pub use curio_rt::*;
