//! Synchronization: [`Event`], [`Lock`], [`RLock`], [`Semaphore`],
//! [`BoundedSemaphore`], [`Condition`] (Curio's `curio.sync`).
//!
//! Each is a cheap handle (clones share the primitive), built only from the
//! scheduler traps of [`SchedFifo`] and [`SchedBarrier`]: none reaches into
//! the kernel. As in Curio, releasing a lock or semaphore that has waiters
//! hands it straight to the first waiter, so ownership passes in strict
//! FIFO order and a task that releases and re-acquires at once queues
//! behind the others.
//!
//! Python's `async with lock:` is [`Lock::with`] (and the same method on
//! the others): it acquires, runs a coroutine or a
//! [`coroutine!`](crate::coroutine) block, and releases on every exit
//! (success, error, cancellation or timeout inside the block).
//!
//! ```
//! use curio::{coroutine, spawn, sleep, Lock, Result};
//!
//! #[curio::task]
//! async fn worker(lock: Lock, name: &'static str) -> Result<&'static str> {
//!     lock.with(coroutine!({
//!         sleep(0.01).await?;       // the lock is held across the await
//!         Ok::<_, curio::Error>(name)
//!     }))
//!     .await
//! }
//!
//! #[curio::task]
//! async fn demo() -> Result<bool> {
//!     let lock = Lock::new();
//!     let a = spawn(worker(lock.clone(), "a")).await?;
//!     let b = spawn(worker(lock.clone(), "b")).await?;
//!     a.join().await?;
//!     b.join().await?;
//!     Ok(lock.locked())
//! }
//! assert!(!curio::run(demo()).unwrap());
//! ```

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

pub mod queue;
mod result;
pub(crate) mod sched;

use crate::error::Error;
use crate::protocol::coroutine::Coroutine;
use crate::sync::sched::{SchedBarrier, SchedFifo};
use crate::task::{TaskState, current_task};

/// The scoped form every primitive shares: `acquire`, run `body`, then
/// `release` however the body ended (the `release` coroutine does nothing
/// until it is awaited).
#[crate::task]
async fn held<A, C, R, T>(acquire: A, body: C, release: R) -> crate::error::Result<T>
where
    A: Coroutine<Output = crate::error::Result<()>>,
    C: Coroutine<Output = crate::error::Result<T>>,
    R: Coroutine<Output = crate::error::Result<()>>,
{
    acquire.await?;
    let result = body.await;
    release.await?;
    result
}

/// An event to wait for (Curio's `Event`): `wait` blocks until `set`.
///
/// ```
/// use curio::{spawn, Event, Result};
///
/// #[curio::task]
/// async fn waiter(evt: Event) -> Result<&'static str> {
///     evt.wait().await?;
///     Ok("go")
/// }
///
/// #[curio::task]
/// async fn demo() -> Result<&'static str> {
///     let evt = Event::new();
///     let t = spawn(waiter(evt.clone())).await?;
///     evt.set().await?;
///     t.join().await
/// }
/// assert_eq!(curio::run(demo()).unwrap(), "go");
/// ```
#[derive(Clone, Default)]
pub struct Event {
    inner: Rc<EventInner>,
}

#[derive(Default)]
struct EventInner {
    set: Cell<bool>,
    waiting: SchedBarrier,
}

#[crate::task]
impl Event {
    /// A new event, not set.
    pub fn new() -> Event {
        Event::default()
    }

    /// Whether the event is set.
    pub fn is_set(&self) -> bool {
        self.inner.set.get()
    }

    /// Clears the event: later `wait`s block again.
    pub fn clear(&self) {
        self.inner.set.set(false);
    }

    /// Waits until the event is set (returns at once if it is).
    ///
    /// # Errors
    /// A cancellation or timeout while waiting.
    pub async fn wait(&self) -> crate::error::Result<()> {
        if !self.inner.set.get() {
            self.inner.waiting.suspend(TaskState::EventWait).await?;
        }
        Ok(())
    }

    /// Sets the event, waking every waiting task.
    ///
    /// # Errors
    /// None from a kernel; the signature is that of every trap.
    pub async fn set(&self) -> crate::error::Result<()> {
        self.inner.set.set(true);
        self.inner.waiting.wake_all().await
    }
}

/// A mutual-exclusion lock (Curio's `Lock`). Any task may release it.
///
/// ```
/// use curio::{Lock, Result};
///
/// #[curio::task]
/// async fn demo() -> Result<bool> {
///     let lock = Lock::new();
///     lock.acquire().await?;
///     let held = lock.locked();
///     lock.release().await?;
///     Ok(held && !lock.locked())
/// }
/// assert!(curio::run(demo()).unwrap());
/// ```
#[derive(Clone, Default)]
pub struct Lock {
    inner: Rc<LockInner>,
}

#[derive(Default)]
struct LockInner {
    acquired: Cell<bool>,
    waiting: SchedFifo,
}

#[crate::task]
impl Lock {
    /// A new, unlocked lock.
    pub fn new() -> Lock {
        Lock::default()
    }

    /// Whether the lock is held.
    pub fn locked(&self) -> bool {
        self.inner.acquired.get()
    }

    /// Acquires the lock, waiting in FIFO order if it is held.
    ///
    /// # Errors
    /// A cancellation or timeout while waiting; the lock is then not held.
    pub async fn acquire(&self) -> crate::error::Result<()> {
        if self.inner.acquired.get() {
            // `release` hands the lock over: it stays acquired, for us.
            self.inner.waiting.suspend(TaskState::LockAcquire).await?;
        } else {
            self.inner.acquired.set(true);
        }
        Ok(())
    }

    /// Releases the lock, handing it to the first waiter if there is one.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] if the lock is not held.
    pub async fn release(&self) -> crate::error::Result<()> {
        if !self.inner.acquired.get() {
            return Err(Error::runtime("Lock not acquired"));
        }
        if self.inner.waiting.is_empty() {
            self.inner.acquired.set(false);
        } else {
            self.inner.waiting.wake(1).await?;
        }
        Ok(())
    }

    /// Runs `coroutine` holding the lock (Python's `async with lock:`),
    /// releasing it however the coroutine ends.
    ///
    /// # Errors
    /// The coroutine's error, or a cancellation while acquiring.
    pub async fn with<C, T>(&self, coroutine: C) -> crate::error::Result<T>
    where
        C: Coroutine<Output = crate::error::Result<T>>,
    {
        held(self.acquire(), coroutine, self.release()).await
    }
}

/// A re-entrant lock (Curio's `RLock`): its owner may acquire it again, and
/// must release it as many times. Only the owner may release it.
///
/// ```
/// use curio::{RLock, Result};
///
/// #[curio::task]
/// async fn demo() -> Result<bool> {
///     let lock = RLock::new();
///     lock.acquire().await?;
///     lock.acquire().await?; // the owner may take it again
///     lock.release().await?;
///     let still = lock.locked();
///     lock.release().await?;
///     Ok(still && !lock.locked())
/// }
/// assert!(curio::run(demo()).unwrap());
/// ```
#[derive(Clone, Default)]
pub struct RLock {
    inner: Rc<RLockInner>,
}

#[derive(Default)]
struct RLockInner {
    lock: Lock,
    /// The owning task's id (0: none).
    owner: Cell<u64>,
    count: Cell<usize>,
}

#[crate::task]
impl RLock {
    /// A new, unlocked re-entrant lock.
    pub fn new() -> RLock {
        RLock::default()
    }

    /// Whether the lock is held.
    pub fn locked(&self) -> bool {
        self.inner.count.get() > 0
    }

    /// Acquires the lock, or counts one more acquisition by its owner.
    ///
    /// # Errors
    /// A cancellation or timeout while waiting.
    pub async fn acquire(&self) -> crate::error::Result<()> {
        let me = current_task().await?.id();
        if self.inner.owner.get() != me {
            self.inner.lock.acquire().await?;
            self.inner.owner.set(me);
        }
        self.inner.count.set(self.inner.count.get() + 1);
        Ok(())
    }

    /// Releases one acquisition; the last one releases the lock.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] if the caller does not own the lock.
    pub async fn release(&self) -> crate::error::Result<()> {
        let me = current_task().await?.id();
        if self.inner.owner.get() != me || self.inner.count.get() == 0 {
            return Err(Error::runtime("RLock can only be released by the owner"));
        }
        self.inner.count.set(self.inner.count.get() - 1);
        if self.inner.count.get() == 0 {
            self.inner.owner.set(0);
            self.inner.lock.release().await?;
        }
        Ok(())
    }

    /// Runs `coroutine` holding the lock, releasing it however it ends.
    ///
    /// # Errors
    /// The coroutine's error, or a cancellation while acquiring.
    pub async fn with<C, T>(&self, coroutine: C) -> crate::error::Result<T>
    where
        C: Coroutine<Output = crate::error::Result<T>>,
    {
        held(self.acquire(), coroutine, self.release()).await
    }
}

/// A counting semaphore (Curio's `Semaphore`). `release` may raise the
/// value above its start.
///
/// ```
/// use curio::{Result, Semaphore};
///
/// #[curio::task]
/// async fn demo() -> Result<(usize, bool)> {
///     let sema = Semaphore::new(2);
///     sema.acquire().await?;
///     sema.acquire().await?;
///     let (value, locked) = (sema.value(), sema.locked());
///     sema.release().await?;
///     Ok((value, locked))
/// }
/// assert_eq!(curio::run(demo()).unwrap(), (0, true));
/// ```
#[derive(Clone)]
pub struct Semaphore {
    inner: Rc<SemaInner>,
}

struct SemaInner {
    value: Cell<usize>,
    /// `Some(start)` for a [`BoundedSemaphore`].
    bound: Option<usize>,
    waiting: SchedFifo,
}

/// A semaphore whose value may not be released above its start (Curio's
/// `BoundedSemaphore`). It has all of [`Semaphore`]'s methods.
///
/// ```
/// use curio::{BoundedSemaphore, Result};
///
/// #[curio::task]
/// async fn demo() -> Result<bool> {
///     let sema = BoundedSemaphore::new(1);
///     // Releasing above the bound is an error.
///     Ok(sema.release().await.is_err() && sema.bound() == 1)
/// }
/// assert!(curio::run(demo()).unwrap());
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore(Semaphore);

impl std::ops::Deref for BoundedSemaphore {
    type Target = Semaphore;
    fn deref(&self) -> &Semaphore {
        &self.0
    }
}

impl BoundedSemaphore {
    /// A bounded semaphore starting (and capped) at `value`.
    pub fn new(value: usize) -> BoundedSemaphore {
        BoundedSemaphore(Semaphore::with_bound(value, Some(value)))
    }

    /// The value it may not be released above: its start (Curio's
    /// `bound`).
    pub fn bound(&self) -> usize {
        self.0.inner.bound.unwrap_or(usize::MAX)
    }
}

#[crate::task]
impl Semaphore {
    /// A semaphore starting at `value`.
    pub fn new(value: usize) -> Semaphore {
        Semaphore::with_bound(value, None)
    }

    fn with_bound(value: usize, bound: Option<usize>) -> Semaphore {
        Semaphore {
            inner: Rc::new(SemaInner {
                value: Cell::new(value),
                bound,
                waiting: SchedFifo::new(),
            }),
        }
    }

    /// The current value (Curio's `value`).
    pub fn value(&self) -> usize {
        self.inner.value.get()
    }

    /// Whether `acquire` would block.
    pub fn locked(&self) -> bool {
        self.inner.value.get() == 0
    }

    /// Decrements the value, waiting in FIFO order while it is zero.
    ///
    /// # Errors
    /// A cancellation or timeout while waiting; nothing is then acquired.
    pub async fn acquire(&self) -> crate::error::Result<()> {
        if self.inner.value.get() == 0 {
            // `release` hands its unit over without incrementing.
            self.inner.waiting.suspend(TaskState::SemaAcquire).await?;
        } else {
            self.inner.value.set(self.inner.value.get() - 1);
        }
        Ok(())
    }

    /// Increments the value, or hands the unit to the first waiter.
    ///
    /// # Errors
    /// For a [`BoundedSemaphore`], [`Error::RuntimeError`] if the value
    /// would exceed its start (Curio raises `ValueError`).
    pub async fn release(&self) -> crate::error::Result<()> {
        if !self.inner.waiting.is_empty() {
            return self.inner.waiting.wake(1).await;
        }
        if self
            .inner
            .bound
            .is_some_and(|b| self.inner.value.get() >= b)
        {
            return Err(Error::runtime("BoundedSemaphore released too many times"));
        }
        self.inner.value.set(self.inner.value.get() + 1);
        Ok(())
    }

    /// Runs `coroutine` holding one unit, releasing it however it ends.
    ///
    /// # Errors
    /// The coroutine's error, or a cancellation while acquiring.
    pub async fn with<C, T>(&self, coroutine: C) -> crate::error::Result<T>
    where
        C: Coroutine<Output = crate::error::Result<T>>,
    {
        held(self.acquire(), coroutine, self.release()).await
    }
}

/// A condition variable over a [`Lock`] (Curio's `Condition`).
///
/// ```
/// use curio::{coroutine, spawn, Condition, Result};
///
/// #[curio::task]
/// async fn waiter(cond: Condition) -> Result<&'static str> {
///     let c = cond.clone();
///     cond.with(coroutine!({
///         c.wait().await?;
///         Ok::<_, curio::Error>("notified")
///     }))
///     .await
/// }
///
/// #[curio::task]
/// async fn demo() -> Result<&'static str> {
///     let cond = Condition::new();
///     let t = spawn(waiter(cond.clone())).await?;
///     curio::sleep(0.0).await?; // let the waiter wait
///     let c = cond.clone();
///     cond.with(coroutine!({ c.notify(1).await })).await?;
///     t.join().await
/// }
/// assert_eq!(curio::run(demo()).unwrap(), "notified");
/// ```
#[derive(Clone, Default)]
pub struct Condition {
    inner: Rc<CondInner>,
}

#[derive(Default)]
struct CondInner {
    lock: Lock,
    waiting: SchedFifo,
}

#[crate::task]
impl Condition {
    /// A condition with a lock of its own.
    pub fn new() -> Condition {
        Condition::default()
    }

    /// A condition over an existing lock.
    pub fn with_lock(lock: Lock) -> Condition {
        Condition {
            inner: Rc::new(CondInner {
                lock,
                waiting: SchedFifo::new(),
            }),
        }
    }

    /// The condition's lock.
    pub fn lock(&self) -> &Lock {
        &self.inner.lock
    }

    /// Whether the lock is held.
    pub fn locked(&self) -> bool {
        self.inner.lock.locked()
    }

    /// Acquires the condition's lock.
    ///
    /// # Errors
    /// As [`Lock::acquire`].
    pub async fn acquire(&self) -> crate::error::Result<()> {
        self.inner.lock.acquire().await
    }

    /// Releases the condition's lock.
    ///
    /// # Errors
    /// As [`Lock::release`].
    pub async fn release(&self) -> crate::error::Result<()> {
        self.inner.lock.release().await
    }

    /// Runs `coroutine` holding the lock, releasing it however it ends.
    ///
    /// # Errors
    /// The coroutine's error, or a cancellation while acquiring.
    pub async fn with<C, T>(&self, coroutine: C) -> crate::error::Result<T>
    where
        C: Coroutine<Output = crate::error::Result<T>>,
    {
        self.inner.lock.with(coroutine).await
    }

    /// Releases the lock, waits for a notification, and re-acquires the
    /// lock before returning, also when the wait was cancelled.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] if the lock is not held; a cancellation or
    /// timeout while waiting (the lock is held again when it is returned).
    pub async fn wait(&self) -> crate::error::Result<()> {
        if !self.inner.lock.locked() {
            return Err(Error::runtime("Can't wait on unacquired lock"));
        }
        self.inner.lock.release().await?;
        let woken = self.inner.waiting.suspend(TaskState::CondWait).await;
        self.inner.lock.acquire().await?;
        woken
    }

    /// Waits until `predicate` returns something other than `None`, and
    /// returns it. The lock must be held; it is held on return.
    ///
    /// # Errors
    /// As [`wait`](Self::wait).
    pub async fn wait_for<R, F>(&self, predicate: F) -> crate::error::Result<R>
    where
        F: Fn() -> Option<R>,
    {
        loop {
            if let Some(result) = predicate() {
                return Ok(result);
            }
            self.wait().await?;
        }
    }

    /// Wakes up to `n` waiting tasks; with none waiting, does nothing.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] if the lock is not held.
    pub async fn notify(&self, n: usize) -> crate::error::Result<()> {
        if !self.inner.lock.locked() {
            return Err(Error::runtime("Can't notify on unacquired lock"));
        }
        self.inner.waiting.wake(n).await
    }

    /// Wakes every waiting task.
    ///
    /// # Errors
    /// As [`notify`](Self::notify).
    pub async fn notify_all(&self) -> crate::error::Result<()> {
        self.notify(usize::MAX).await
    }
}

/// Curio's `Result` under its own name: `curio::sync::Result` (the crate
/// root's `Result` is the type alias).
pub use result::Result;

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .field("waiting", &self.inner.waiting.len())
            .finish()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .field("waiting", &self.inner.waiting.len())
            .finish()
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let owner = Some(self.inner.owner.get()).filter(|&id| id != 0);
        f.debug_struct("RLock")
            .field("owner", &owner)
            .field("count", &self.inner.count.get())
            .field("waiting", &self.inner.lock.inner.waiting.len())
            .finish()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .field("waiting", &self.inner.waiting.len())
            .finish()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("bound", &self.bound())
            .field("waiting", &self.inner.waiting.len())
            .finish()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.locked())
            .field("waiting", &self.inner.waiting.len())
            .finish()
    }
}
