//! Tasks: [`spawn`], [`current_task`] and the [`Task`] handle.
//!
//! A task is a coroutine the kernel schedules. `spawn` hands one to the
//! kernel and returns a `Task<T>` handle at once; the parent keeps running.
//! The handle reads the task's attributes synchronously (`id`, `state`,
//! `cycles`, ...) and offers the blocking operations `join`, `wait` and
//! `cancel`, which are coroutines like everything else that waits.
//!
//! ```
//! use curio::{spawn, sleep, Result};
//!
//! #[curio::task]
//! async fn child(n: i64) -> Result<i64> {
//!     sleep(0.01).await?;
//!     Ok(n * 2)
//! }
//!
//! #[curio::task]
//! async fn parent() -> Result<i64> {
//!     let t = spawn(child(21)).await?;
//!     assert_eq!(t.name(), "child");
//!     t.join().await
//! }
//!
//! assert_eq!(curio::run(parent()).unwrap(), 42);
//! ```

pub(crate) mod cancel;
mod cell;
pub(crate) mod group;
mod handle;
pub(crate) mod local;
mod members;
mod spawn;
pub(crate) mod timeout;

pub(crate) use cell::{Blocked, Header, Joiner, TaskCell, TaskRef, panic_message};
pub use handle::{Cancel, Task};
pub(crate) use members::Members;
pub use spawn::{Spawn, current_task, spawn};

use std::fmt;

use crate::error::{Error, Result};

/// A task's state, displayed with Curio's names (`READY`, `TIME_SLEEP`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Created, not yet given to a kernel.
    Initial,
    /// On the ready queue.
    Ready,
    /// Being run by the kernel.
    Running,
    /// Finished.
    Terminated,
    /// In `sleep`.
    TimeSleep,
    /// Waiting for a file descriptor to become readable.
    ReadWait,
    /// Waiting for a file descriptor to become writable.
    WriteWait,
    /// Waiting for another task to terminate (`join`, `wait`, `cancel`).
    TaskJoin,
    /// Waiting for an [`Event`](crate::Event).
    EventWait,
    /// Waiting for a [`Lock`](crate::Lock) or [`RLock`](crate::RLock).
    LockAcquire,
    /// Waiting for a [`Semaphore`](crate::Semaphore).
    SemaAcquire,
    /// Waiting on a [`Condition`](crate::Condition).
    CondWait,
    /// Waiting for an item of a queue.
    QueueGet,
    /// Waiting for room in a queue.
    QueuePut,
    /// Waiting for a queue's items to be processed.
    QueueJoin,
    /// Suspended on a scheduler primitive for no named reason (Curio's
    /// default, `SUSPEND`).
    Suspend,
    /// Waiting for work done on another thread (`run_in_thread`; Curio's
    /// `FUTURE_WAIT`).
    FutureWait,
}

impl TaskState {
    /// Curio's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            TaskState::Initial => "INITIAL",
            TaskState::Ready => "READY",
            TaskState::Running => "RUNNING",
            TaskState::Terminated => "TERMINATED",
            TaskState::TimeSleep => "TIME_SLEEP",
            TaskState::ReadWait => "READ_WAIT",
            TaskState::WriteWait => "WRITE_WAIT",
            TaskState::TaskJoin => "TASK_JOIN",
            TaskState::EventWait => "EVENT_WAIT",
            TaskState::LockAcquire => "LOCK_ACQUIRE",
            TaskState::SemaAcquire => "SEMA_ACQUIRE",
            TaskState::CondWait => "COND_WAIT",
            TaskState::QueueGet => "QUEUE_GET",
            TaskState::QueuePut => "QUEUE_PUT",
            TaskState::QueueJoin => "QUEUE_JOIN",
            TaskState::Suspend => "SUSPEND",
            TaskState::FutureWait => "FUTURE_WAIT",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a task's coroutine may return: `()`, or a `Result` whose error
/// converts into [`Error`]. `Err` means the task failed: joining it gives
/// [`Error::TaskError`] with the error as its cause.
///
/// `-> curio::Result<T>` is the usual choice; `-> ()` suits a task that
/// cannot fail.
pub trait TaskResult: 'static {
    /// The value a successful task produces.
    type Ok: 'static;
    /// Splits success from failure.
    fn into_result(self) -> Result<Self::Ok>;
}

impl TaskResult for () {
    type Ok = ();
    fn into_result(self) -> Result<()> {
        Ok(())
    }
}

impl TaskResult for std::convert::Infallible {
    type Ok = std::convert::Infallible;
    fn into_result(self) -> Result<std::convert::Infallible> {
        match self {}
    }
}

impl<T: 'static, E: Into<Error> + 'static> TaskResult for std::result::Result<T, E> {
    type Ok = T;
    fn into_result(self) -> Result<T> {
        self.map_err(Into::into)
    }
}

/// The result type of a handle whose task's type is not known, such as
/// the one [`current_task`] returns. Joining such a handle reports whether
/// the task succeeded, not its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unknown;
