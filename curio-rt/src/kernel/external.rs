//! The cross-thread way in: another thread makes a task ready.
//!
//! A task that waits for something done elsewhere (a worker thread's
//! result, later a Rust future's) issues [`Trap::ExternalWait`] with a
//! [`Completion`] handle. The kernel *arms* it with a [`Waiter`]: its
//! [`Inbox`], its wake-up (`mio::Waker`) and the task's key and suspension
//! number. When the other side completes, it stores the result in the
//! completion, posts the waiter to the inbox and wakes the kernel; each
//! pass, the kernel drains the inbox and readies the tasks still waiting
//! there. The task's leaf then takes the result out of the completion.
//!
//! Nothing crosses threads but the completion (`Send + Sync`) and the
//! task's numbers: task handles stay on their kernel's thread. Unused, the
//! path costs one relaxed atomic load per pass.
//!
//! A task cancelled or timed out while it waits is released at once: the
//! kernel *abandons* the completion, so the result, when it comes, is
//! dropped by the thread that produced it (Curio's `run_in_thread`).
//!
//! [`Trap::ExternalWait`]: crate::Trap::ExternalWait

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::waker::KernelWaker;

/// Completions posted by other threads, for one kernel.
#[derive(Default)]
pub(crate) struct Inbox {
    posted: Mutex<Vec<(u32, u32)>>,
    any: AtomicBool,
}

impl Inbox {
    /// Whether anything was posted since the last drain (cheap: the
    /// kernel asks every pass).
    #[inline]
    pub fn any(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// Takes what was posted: `(key, suspension)` of each task to ready.
    pub fn drain(&self) -> Vec<(u32, u32)> {
        self.any.store(false, Ordering::Release);
        std::mem::take(&mut *self.posted.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn post(&self, key: u32, seq: u32) {
        self.posted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((key, seq));
        self.any.store(true, Ordering::Release);
    }
}

/// Who waits for a completion: which kernel, and which suspension of
/// which task.
pub struct Waiter {
    inbox: Arc<Inbox>,
    waker: KernelWaker,
    key: u32,
    seq: u32,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("key", &self.key)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Waiter {
    pub(crate) fn new(inbox: Arc<Inbox>, waker: KernelWaker, key: u32, seq: u32) -> Waiter {
        Waiter {
            inbox,
            waker,
            key,
            seq,
        }
    }

    /// Readies the task (from any thread).
    pub(crate) fn notify(self) {
        self.inbox.post(self.key, self.seq);
        // A kernel that is gone has nobody left to wake.
        let _ = self.waker.wake();
    }
}

/// What the kernel needs of a completion: to arm it, and to abandon it.
/// Implemented by [`Completion`]; the trap carries it type-erased.
pub trait Arm: Send + Sync {
    /// Registers `waiter`; `false` if the result is already there (the
    /// task need not wait).
    fn arm(&self, waiter: Waiter) -> bool;
    /// The task no longer waits (cancelled, timed out, dropped): the
    /// result, when it comes, is dropped where it is produced.
    fn abandon(&self);
}

/// A result produced on another thread for a task of a kernel.
pub struct Completion<T> {
    state: Mutex<State<T>>,
}

enum State<T> {
    Pending(Option<Waiter>),
    Done(T),
    Taken,
    Abandoned,
}

impl<T: Send> Default for Completion<T> {
    fn default() -> Self {
        Completion {
            state: Mutex::new(State::Pending(None)),
        }
    }
}

impl<T: Send> Completion<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores the result (from any thread) and readies the waiting task;
    /// drops it if the task stopped waiting.
    pub fn complete(&self, value: T) {
        let mut state = self.lock();
        match std::mem::replace(&mut *state, State::Taken) {
            State::Pending(waiter) => {
                *state = State::Done(value);
                drop(state);
                if let Some(waiter) = waiter {
                    waiter.notify();
                }
            }
            State::Abandoned => {
                *state = State::Abandoned;
                drop(state);
                drop(value);
            }
            other => {
                *state = other;
                debug_assert!(false, "a completion completes once");
            }
        }
    }

    /// Takes the result, if it is there.
    pub fn take(&self) -> Option<T> {
        let mut state = self.lock();
        match std::mem::replace(&mut *state, State::Taken) {
            State::Done(value) => Some(value),
            other => {
                *state = other;
                None
            }
        }
    }
}

impl<T: Send> Arm for Completion<T> {
    fn arm(&self, waiter: Waiter) -> bool {
        let mut state = self.lock();
        match &mut *state {
            State::Pending(slot) => {
                *slot = Some(waiter);
                true
            }
            _ => false,
        }
    }

    fn abandon(&self) {
        let mut state = self.lock();
        if let State::Pending(_) | State::Done(_) = &*state {
            // A result already there is dropped here, on the kernel's
            // thread: it was made for this task.
            *state = State::Abandoned;
        }
    }
}

/// The type-erased completion a trap carries.
#[derive(Clone)]
pub struct External(pub(crate) Arc<dyn Arm>);

impl std::fmt::Debug for External {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("External")
    }
}

impl PartialEq for External {
    /// The same completion.
    fn eq(&self, other: &External) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
