//! Scheduler primitives: [`SchedFifo`] and [`SchedBarrier`], the wait
//! queues every synchronization primitive and queue is built from (Curio's
//! `curio.sched`).
//!
//! The rules a user needs are in the docs of [`SchedFifo`], where rustdoc
//! shows them.

use crate::kernel::wait_queue::Sched;
use crate::protocol::trap::Trap;
use crate::protocol::traps::TrapCall;
use crate::task::TaskState;

/// A FIFO wait queue (Curio's `SchedFIFO`): tasks are woken in the order
/// they suspended. Locks, semaphores and queues use it.
///
/// A task suspends itself on one with the `scheduler_wait` trap and another
/// task wakes it with `scheduler_wake`. The queue itself is a
/// [`Sched`] (`kernel/wait_queue.rs`), which the kernel asks to add, pop
/// and forget waiters.
///
/// Here is the manual's `Event`, as written in Rust:
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use curio::{SchedBarrier, TaskState, Result, spawn, sleep};
///
/// #[derive(Clone, Default)]
/// struct Event {
///     value: Rc<Cell<bool>>,
///     sched: SchedBarrier,
/// }
///
/// #[curio::task]
/// impl Event {
///     async fn wait(&self) -> Result<()> {
///         if !self.value.get() {
///             self.sched.suspend(TaskState::EventWait).await?;
///         }
///         Ok(())
///     }
///
///     async fn set(&self) -> Result<()> {
///         self.value.set(true);
///         self.sched.wake(self.sched.len()).await
///     }
/// }
///
/// #[curio::task]
/// async fn waiter(e: Event) -> Result<&'static str> {
///     e.wait().await?;
///     Ok("woken")
/// }
///
/// #[curio::task]
/// async fn demo() -> Result<&'static str> {
///     let e = Event::default();
///     let t = spawn(waiter(e.clone())).await?;
///     sleep(0.01).await?;
///     e.set().await?;
///     t.join().await
/// }
/// assert_eq!(curio::run(demo()).unwrap(), "woken");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SchedFifo(Sched);

/// A barrier (Curio's `SchedBarrier`): used to wake every waiting task at
/// once, as events and joins do. Tasks are woken in the order they
/// suspended.
#[derive(Clone, Debug, PartialEq)]
pub struct SchedBarrier(Sched);

macro_rules! sched_methods {
    ($ty:ident) => {
        impl Default for $ty {
            fn default() -> Self {
                $ty::new()
            }
        }

        impl $ty {
            /// An empty queue.
            pub fn new() -> Self {
                $ty(Sched::new())
            }

            /// The number of tasks suspended here (Curio's `len(s)`).
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Whether no task is suspended here.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            /// Suspends the calling task here, showing `state` as its state
            /// (Curio's `await s.suspend(reason)`).
            ///
            /// # Errors
            /// A cancellation or timeout, delivered instead of blocking if
            /// one is pending, or while suspended.
            pub fn suspend(&self, state: TaskState) -> TrapCall<()> {
                TrapCall::new(Trap::SchedulerWait {
                    sched: self.0.clone(),
                    state,
                })
            }

            /// Wakes up to `n` suspended tasks, oldest first (Curio's
            /// `await s.wake(n)`). Never blocks; waking more tasks than are
            /// waiting wakes those there are.
            ///
            /// # Errors
            /// None from a kernel; the signature is that of every trap.
            pub fn wake(&self, n: usize) -> TrapCall<()> {
                TrapCall::new(Trap::SchedulerWake {
                    sched: self.0.clone(),
                    n,
                })
            }

            /// Wakes every suspended task.
            ///
            /// # Errors
            /// As [`wake`](Self::wake).
            pub fn wake_all(&self) -> TrapCall<()> {
                self.wake(usize::MAX)
            }
        }
    };
}

sched_methods!(SchedFifo);
sched_methods!(SchedBarrier);

impl SchedBarrier {
    /// The wait queue itself, as the kernel names it.
    pub(crate) fn queue(&self) -> &Sched {
        &self.0
    }
}
