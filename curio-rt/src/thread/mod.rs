//! Work on other threads (Curio's `curio.thread` and `run_in_thread`).
//!
//! [`run_in_thread`] runs a blocking call (a database driver, `std::fs`,
//! a CPU-heavy parse) on a pool of worker threads while the other tasks
//! keep running. The result comes back to the task through the kernel's
//! cross-thread way in (see `kernel/external.rs`): the worker stores it
//! and readies the task, without the task polling.

mod pool;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::kernel::external::{Completion, External};
use crate::protocol::coroutine::{Coroutine, Step, Value};
use crate::protocol::trap::Trap;

pub use pool::{KEEP_ALIVE, MAX_WORKERS, workers};

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::HashMap;

use crate::sync::Lock;

thread_local! {
    /// `block_in_thread`'s one lock per callable, with how many tasks use
    /// it (dropped when none does).
    static BARRIERS: RefCell<HashMap<TypeId, (Lock, usize)>> = RefCell::new(HashMap::new());
}

/// Runs `f` on a worker thread, like [`run_in_thread`], but at most one
/// thread at a time runs a given callable: the other tasks calling it wait
/// in the kernel, in order (Curio's `block_in_thread`, for calls that block
/// for an unknown time, such as a foreign lock or queue: a thousand tasks
/// waiting on it use one thread, not a thousand).
///
/// "A given callable" is its type, as Curio keys by the callable object:
/// a closure written once (in a loop, or in a task spawned many times),
/// or a function named by its path. Two closures written apart are two
/// callables.
///
/// ```
/// use curio::{block_in_thread, spawn, Result};
///
/// fn blocking_get() -> u32 {
///     std::thread::sleep(std::time::Duration::from_millis(5));
///     7
/// }
///
/// #[curio::task]
/// async fn caller() -> Result<u32> {
///     block_in_thread(blocking_get).await
/// }
///
/// #[curio::task]
/// async fn demo() -> Result<u32> {
///     let a = spawn(caller()).await?;
///     let b = spawn(caller()).await?; // waits for a's call to finish
///     Ok(a.join().await? + b.join().await?)
/// }
/// assert_eq!(curio::run(demo()).unwrap(), 14);
/// ```
///
/// # Errors
/// As [`run_in_thread`]; a cancellation or timeout while waiting for the
/// callable's thread.
#[crate::task]
pub async fn block_in_thread<F, T>(f: F) -> Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let key = TypeId::of::<F>();
    let lock = BARRIERS.with(|b| {
        let mut b = b.borrow_mut();
        let entry = b.entry(key).or_insert_with(|| (Lock::new(), 0));
        entry.1 += 1;
        entry.0.clone()
    });
    let result = lock.with(run_in_thread(f)).await;
    BARRIERS.with(|b| {
        let mut b = b.borrow_mut();
        if let Some(entry) = b.get_mut(&key) {
            entry.1 -= 1;
            if entry.1 == 0 {
                b.remove(&key);
            }
        }
    });
    result
}

/// Runs `f` on a worker thread and returns its result (Curio's
/// `run_in_thread`). The task waits in state `FUTURE_WAIT`; the others
/// run meanwhile.
///
/// Up to [`MAX_WORKERS`] (64) calls run at once; more wait for a free
/// worker, in order. A cancellation or timeout releases the caller at
/// once; the thread runs `f` to completion in the background and its
/// result is dropped there, as in Curio (a thread cannot be stopped).
///
/// ```
/// use curio::{run_in_thread, Result};
///
/// #[curio::task]
/// async fn demo() -> Result<u64> {
///     // A blocking computation, off the kernel's thread.
///     run_in_thread(|| (1..=20u64).product()).await
/// }
/// assert_eq!(curio::run(demo()).unwrap(), 2_432_902_008_176_640_000);
/// ```
///
/// # Errors
/// [`Error::Panic`] if `f` panicked; a cancellation or timeout while
/// waiting.
pub fn run_in_thread<F, T>(f: F) -> RunInThread<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    RunInThread {
        f: Some(f),
        done: None,
    }
}

/// The coroutine [`run_in_thread`] returns.
#[must_use = "a thread call does nothing unless awaited"]
pub struct RunInThread<F, T: Send + 'static> {
    f: Option<F>,
    /// Set once the work is submitted: where its result will be.
    done: Option<Arc<Completion<std::thread::Result<T>>>>,
}

impl<F, T: Send + 'static> std::fmt::Debug for RunInThread<F, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunInThread")
            .field("submitted", &self.done.is_some())
            .finish()
    }
}

impl<F, T> Coroutine for RunInThread<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = Result<T>;

    fn resume(&mut self, value: Value) -> Step<Result<T>> {
        value.discard();
        if let Some(f) = self.f.take() {
            let done: Arc<Completion<std::thread::Result<T>>> = Arc::default();
            let result = done.clone();
            pool::submit(Box::new(move || {
                result.complete(catch_unwind(AssertUnwindSafe(f)));
            }));
            self.done = Some(done.clone());
            return Step::Trap(Trap::ExternalWait(External(done)));
        }
        let Some(done) = self.done.take() else {
            crate::protocol::coroutine::resumed_after_completion()
        };
        match done.take() {
            Some(Ok(value)) => Step::Return(Ok(value)),
            Some(Err(payload)) => {
                Step::Return(Err(Error::Panic(crate::task::panic_message(payload))))
            }
            None => Step::Return(Err(Error::protocol(
                "resumed before the thread finished".into(),
            ))),
        }
    }

    fn throw(&mut self, error: Error) -> Step<Result<T>> {
        use crate::kernel::external::Arm;
        if let Some(done) = self.done.take() {
            done.abandon();
        }
        Step::Return(Err(error))
    }

    fn name(&self) -> &'static str {
        "run_in_thread"
    }
}

impl<F, T: Send + 'static> Drop for RunInThread<F, T> {
    /// Dropped while waiting (its task was dropped): the result, when it
    /// comes, is dropped by the worker.
    fn drop(&mut self) {
        use crate::kernel::external::Arm;
        if let Some(done) = self.done.take() {
            done.abandon();
        }
    }
}
