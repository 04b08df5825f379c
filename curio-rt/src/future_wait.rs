//! [`future_wait`]: any Rust `Future` awaited inside a task (Curio's
//! `_future_wait`).
//!
//! The future is polled on the kernel's thread, by the task that awaits
//! it. Its `Waker` readies the task through the kernel's cross-thread way
//! in (`kernel/external.rs`), from whatever thread wakes it (a tokio
//! driver thread, a timer thread, another kernel): the task then polls the
//! future again. While it waits, the task shows `FUTURE_WAIT`. A
//! cancellation or timeout drops the future.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use crate::error::{Error, Result};
use crate::kernel::external::{Arm, External, Waiter};
use crate::protocol::coroutine::{Coroutine, Step, Value};
use crate::protocol::trap::Trap;

/// Awaits `future` inside a task and returns its output.
///
/// ```
/// use curio::{future_wait, Result};
///
/// #[curio::task]
/// async fn demo() -> Result<u32> {
///     // Any `std::future::Future`: here one that is ready at once, and
///     // one made by an `async` block.
///     let a = future_wait(std::future::ready(40)).await?;
///     let b = future_wait(async { 2 }).await?;
///     Ok(a + b)
/// }
/// assert_eq!(curio::run(demo()).unwrap(), 42);
/// ```
///
/// # Errors
/// A cancellation or timeout while the future is pending; the future is
/// dropped then.
pub fn future_wait<F: Future>(future: F) -> FutureWait<F> {
    FutureWait {
        future: Some(Box::pin(future)),
        wake: Arc::default(),
    }
}

/// The coroutine [`future_wait`] returns.
#[must_use = "a future does nothing unless awaited"]
pub struct FutureWait<F> {
    future: Option<Pin<Box<F>>>,
    wake: Arc<TaskWake>,
}

impl<F> std::fmt::Debug for FutureWait<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FutureWait")
            .field("done", &self.future.is_none())
            .finish()
    }
}

impl<F: Future> Coroutine for FutureWait<F> {
    type Output = Result<F::Output>;

    fn resume(&mut self, value: Value) -> Step<Result<F::Output>> {
        value.discard();
        let Some(future) = self.future.as_mut() else {
            crate::protocol::coroutine::resumed_after_completion()
        };
        self.wake.reset();
        let waker = Waker::from(self.wake.clone());
        match future.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(output) => {
                self.future = None;
                Step::Return(Ok(output))
            }
            Poll::Pending => Step::Trap(Trap::ExternalWait(External(self.wake.clone()))),
        }
    }

    fn throw(&mut self, error: Error) -> Step<Result<F::Output>> {
        // Cancelled or timed out: the future goes now.
        self.future = None;
        self.wake.abandon();
        Step::Return(Err(error))
    }

    fn name(&self) -> &'static str {
        "future_wait"
    }
}

/// The `Waker` of a future a task waits for, and the kernel's handle on
/// it: a wake-up before the task suspends is remembered (the task polls
/// again at once), one after it readies the task.
#[derive(Default)]
struct TaskWake {
    state: Mutex<WakeState>,
}

#[derive(Default)]
struct WakeState {
    woken: bool,
    waiter: Option<Waiter>,
}

impl TaskWake {
    fn lock(&self) -> std::sync::MutexGuard<'_, WakeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Before a poll: no wake-up seen, nobody waiting.
    fn reset(&self) {
        let mut state = self.lock();
        state.woken = false;
        state.waiter = None;
    }
}

impl Wake for TaskWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waiter = {
            let mut state = self.lock();
            state.woken = true;
            state.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.notify();
        }
    }
}

impl Arm for TaskWake {
    fn arm(&self, waiter: Waiter) -> bool {
        let mut state = self.lock();
        if state.woken {
            return false;
        }
        state.waiter = Some(waiter);
        true
    }

    fn abandon(&self) {
        self.lock().waiter = None;
    }
}
