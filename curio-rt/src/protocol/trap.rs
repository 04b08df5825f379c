//! [`Trap`]: the kernel's system calls. As in Curio's `traps.py`, every
//! blocking operation ends in one of these; the leaf coroutines that issue
//! them are in `traps.rs`.

use std::os::fd::RawFd;

use crate::error::Error;
use crate::kernel::external::External;
use crate::kernel::wait_queue::Sched;
use crate::task::{Task, TaskState};

/// A request from a task to the kernel, one variant per kernel service.
///
/// Small and allocation-free in the common variants (three machine words):
/// it is returned on every task switch.
///
/// The layout is fixed (a 64-bit tag, then aligned payload) because a trap
/// is copied out of a state that was written a moment before: a packed
/// layout made those copies stall on every switch.
///
/// ```
/// use curio::{Coroutine, Step, Trap, Value};
///
/// #[curio::task]
/// async fn nap() -> curio::Result<f64> {
///     curio::sleep(2.5).await
/// }
///
/// let mut c = nap();
/// let Step::Trap(trap) = c.resume(Value::None) else { panic!() };
/// assert_eq!(trap, Trap::Sleep { seconds: 2.5, absolute: false });
/// // The kernel answers a sleep with the clock when it wakes.
/// let Step::Return(clock) = c.resume(Value::Float(12.5)) else { panic!() };
/// assert_eq!(clock.unwrap(), 12.5);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[repr(u64)]
pub enum Trap {
    /// Sleep for `seconds` (or until the clock reads `seconds`, if `absolute`).
    /// Curio's `_sleep(clock, absolute)`.
    Sleep {
        /// Duration, or deadline when `absolute`.
        seconds: f64,
        /// Whether `seconds` is a deadline on the kernel clock.
        absolute: bool,
    },
    /// Wait until the file descriptor is readable (`_read_wait`).
    ReadWait(RawFd),
    /// Wait until the file descriptor is writable (`_write_wait`).
    WriteWait(RawFd),
    /// Forget any registration of the file descriptor (`_io_release`).
    IoRelease(RawFd),
    /// Ask which tasks wait on the file descriptor (`_io_waiting`).
    IoWaiting(RawFd),
    /// Ask for the kernel clock (`_clock`).
    Clock,
    /// Ask for the current task (`_get_current`).
    GetCurrent,
    /// Start a new task (`_spawn`). The task is built by the caller; the
    /// kernel gives it a parent and a place on the ready queue.
    Spawn(Task),
    /// Cancel a task with [`Error::TaskCancelled`] (`_cancel_task`).
    CancelTask(Task),
    /// Cancel a task with a chosen error (`_cancel_task(task, exc)`).
    CancelTaskWith(Box<CancelRequest>),
    /// Wait until a task terminates (Curio's `_scheduler_wait` on the
    /// task's `joining` barrier, state `TASK_JOIN`).
    TaskWait(Task),
    /// Suspend on a scheduler primitive, showing `state`
    /// (`_scheduler_wait`).
    SchedulerWait {
        /// The wait queue.
        sched: Sched,
        /// The state the task shows meanwhile.
        state: TaskState,
    },
    /// Wake up to `n` tasks suspended on a scheduler primitive, oldest
    /// first (`_scheduler_wake`).
    SchedulerWake {
        /// The wait queue.
        sched: Sched,
        /// How many to wake at most.
        n: usize,
    },
    /// Wait until another thread completes `External` (Curio's
    /// `_future_wait`): the kernel arms it with a way to ready the task
    /// from any thread, and abandons it if the task is cancelled first.
    ExternalWait(External),
    /// Push a timeout deadline on the task's timeout stack (`_set_timeout`).
    SetTimeout(Option<f64>),
    /// Pop a timeout deadline, restoring the previous one (`_unset_timeout`).
    UnsetTimeout(Option<f64>),
}

/// The payload of [`Trap::CancelTaskWith`]: which task, and the error to
/// deliver.
#[derive(Debug, Clone)]
pub struct CancelRequest {
    /// The task to cancel.
    pub task: Task,
    /// The error it receives at its blocking operation.
    pub error: Error,
}

impl PartialEq for CancelRequest {
    /// Same task, and errors with the same message.
    fn eq(&self, other: &CancelRequest) -> bool {
        self.task == other.task && self.error.to_string() == other.error.to_string()
    }
}
