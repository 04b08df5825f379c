//! # curio for Rust
//!
//! A port of David Beazley's [Curio](https://curio.readthedocs.io): a
//! coroutine kernel that is a *queuing system*. Every blocking `.await`
//! ends in a [`Trap`], a tiny system call, and the kernel drives tasks with
//! [`Coroutine::resume`] (Python's `send()`) and [`Coroutine::throw`].
//!
//! A task is an ordinary `async fn` marked [`#[curio::task]`](task). The
//! macro rewrites it into an explicit state machine: no `Future`, no
//! `Waker`, no `Pin`. You can drive one by hand and watch the traps:
//!
//! ```
//! use curio::{Coroutine, Step, Trap, Value};
//!
//! #[curio::task]
//! async fn greeting(name: String) -> String {
//!     format!("Hello {name}")
//! }
//!
//! #[curio::task]
//! async fn sleepy() -> curio::Result<()> {
//!     println!("Yawn. Getting sleepy.");
//!     curio::traps::sleep(10.0).await?;
//!     println!("Awake at last!");
//!     Ok(())
//! }
//!
//! // A task that never blocks finishes on the first resume.
//! let mut g = greeting("Dave".to_string());
//! assert_eq!(g.resume(Value::None), Step::Return("Hello Dave".to_string()));
//!
//! // A task that sleeps hands the kernel its request, then finishes.
//! let mut c = sleepy();
//! assert_eq!(c.resume(Value::None).into_trap(), Some(Trap::Sleep { seconds: 10.0, absolute: false }));
//! assert!(matches!(c.resume(Value::None), Step::Return(Ok(()))));
//! ```
//!
//! The kernel runs tasks: [`run`] starts a main task, [`spawn`] starts
//! more, and every blocking operation (sleep, join, timeouts, fd waits) is a
//! trap the kernel satisfies:
//!
//! ```
//! use curio::{spawn, sleep, timeout_after, Error, Result};
//!
//! #[curio::task]
//! async fn kid() -> Result<()> {
//!     sleep(1000.0).await?;
//!     Ok(())
//! }
//!
//! #[curio::task]
//! async fn parent() -> Result<&'static str> {
//!     let kid = spawn(kid()).await?;
//!     match timeout_after(0.01, kid.join()).await {
//!         Err(Error::TaskTimeout(_)) => {
//!             kid.cancel().await?;
//!             Ok("I warned you!")
//!         }
//!         other => other.map(|()| "joined"),
//!     }
//! }
//!
//! assert_eq!(curio::run(parent()).unwrap(), "I warned you!");
//! ```
//!
//! This crate is the runtime; users depend on the `curio` facade, which
//! re-exports it. Curio's names are the names here, so its manual reads as
//! this crate's manual; the README maps Python to Rust.
#![warn(missing_debug_implementations)]
#![warn(missing_docs)]

extern crate self as curio;

pub mod debug;
mod error;
mod future_wait;
mod io;
mod kernel;
mod protocol;
pub mod sync;
mod task;
pub mod thread;
mod transform;

pub use io::{net, socket, stream};
pub use sync::queue;

pub use curio_macros::{coroutine, task};
pub use error::{Error, Interrupted, Progress, Result};
pub use future_wait::{FutureWait, future_wait};
pub use io::coop::BUDGET;
pub use kernel::activation::Activation;
pub use kernel::wait_queue::Sched;
pub use kernel::{Kernel, KernelBuilder, KernelWaker, run};
pub use protocol::coroutine::{BoxCoroutine, Coroutine, Input, Location, Step, Value, boxed};
pub use protocol::trap::Trap;
pub use protocol::traps::{clock, sleep, wake_at};
pub use sync::queue::{LifoQueue, PriorityQueue, Queue};
pub use sync::sched::{SchedBarrier, SchedFifo};
pub use sync::{BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore};
pub use task::cancel::{
    check_cancellation, check_cancellation_if, disable_cancellation, set_cancellation,
};
pub use task::group::{TaskGroup, Wait};
pub use task::local::Local;
pub use task::timeout::{ignore_after, ignore_after_with, timeout_after};
pub use task::{Cancel, Spawn, Task, TaskResult, TaskState, Unknown, current_task, spawn};
pub use thread::{block_in_thread, run_in_thread};

/// The leaf trap coroutines: the only way into the kernel.
pub mod traps {
    pub use crate::protocol::trap::CancelRequest;
    pub use crate::protocol::traps::{
        FromReply, TrapCall, clock, io_release, io_waiting, read_wait, sleep, wake_at, write_wait,
    };
}

#[doc(hidden)]
pub mod __private {
    pub use crate::protocol::coroutine::{Coroutine, Location, Step, Value};
    pub use crate::protocol::coroutine::{Input, resumed_after_completion};
    pub use crate::transform::frame::{Anchor, Live, Slot, assign, take};
    pub use crate::transform::machine::{
        Branch, Frame, FromResidual, Machine, Rejected, machine, rejected, start, walk_sub,
    };
    pub use crate::transform::shadow::{
        Shadow, ShadowBlock, Ty, Types, check, same_output, shadow, shadow_block, ty, ty_of,
    };
}
