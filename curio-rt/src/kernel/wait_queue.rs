//! [`Sched`]: the wait queue under every scheduler primitive, as a trap
//! names it. The kernel asks it to [`add`](Sched::add),
//! [`pop`](Sched::pop) and [`forget`](Sched::forget) a waiter; the queue
//! keeps its own entries.
//!
//! # Entries and stale entries
//!
//! A waiter is an entry: its task's table key and suspension number (a
//! [`Joiner`]). A waiter that is cancelled or times out is *forgotten*: it
//! no longer counts in [`len`](Sched::len), and its entry stays behind,
//! stale, until `pop` skips it or `add` compacts the queue (when stale
//! entries outnumber live ones). Whether an entry is stale is the
//! kernel's to say (it owns the task table), so `pop` and `add` take that
//! test as an argument.
//!
//! # One kernel at a time
//!
//! A primitive may serve several kernels of one thread in turn, never two
//! at once: the queue remembers whose tasks its entries name.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use crate::task::Joiner;

/// A wait queue, as a trap names it. Cheap to clone; clones are the same
/// queue.
#[derive(Clone)]
pub struct Sched(Rc<WaitQueue>);

struct WaitQueue {
    /// Waiters in arrival order, stale ones included.
    entries: RefCell<VecDeque<Joiner>>,
    /// Waiters not yet woken or forgotten.
    live: Cell<usize>,
    /// The serial number of the kernel whose tasks the entries name.
    kernel: Cell<u32>,
}

impl Sched {
    pub(crate) fn new() -> Sched {
        Sched(Rc::new(WaitQueue {
            entries: RefCell::new(VecDeque::new()),
            live: Cell::new(0),
            kernel: Cell::new(0),
        }))
    }

    /// The number of tasks suspended here.
    pub fn len(&self) -> usize {
        self.0.live.get()
    }

    /// Whether no task is suspended here.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether tasks of another kernel than `kernel` wait here.
    pub(crate) fn foreign(&self, kernel: u32) -> bool {
        self.0.live.get() > 0 && self.0.kernel.get() != kernel
    }

    /// Adds `waiter`, a task of `kernel`, at the back. `waiting` tells
    /// whether an entry's task still waits (stale entries are dropped
    /// when they outnumber the live ones).
    pub(crate) fn add(&self, kernel: u32, waiter: Joiner, waiting: impl Fn(Joiner) -> bool) {
        let q = &self.0;
        let mut entries = q.entries.borrow_mut();
        if q.kernel.replace(kernel) != kernel {
            // Entries left by another kernel's tasks name its keys.
            entries.clear();
        }
        if entries.len() > 2 * q.live.get() + 32 {
            entries.retain(|e| waiting(*e));
        }
        entries.push_back(waiter);
        q.live.set(q.live.get() + 1);
    }

    /// Takes the oldest waiter of `kernel` that still waits (`waiting`
    /// gives its task, or `None` for a stale entry), skipping stale
    /// entries. `None` when no one waits, or the waiters are another
    /// kernel's.
    pub(crate) fn pop<T>(&self, kernel: u32, waiting: impl Fn(Joiner) -> Option<T>) -> Option<T> {
        let q = &self.0;
        if q.kernel.get() != kernel {
            return None;
        }
        loop {
            let entry = q.entries.borrow_mut().pop_front()?;
            if let Some(task) = waiting(entry) {
                q.live.set(q.live.get() - 1);
                return Some(task);
            }
        }
    }

    /// A waiter left without being woken (cancelled, timed out): it no
    /// longer counts; its entry goes stale.
    pub(crate) fn forget(&self) {
        let live = &self.0.live;
        live.set(live.get().saturating_sub(1));
    }
}

impl PartialEq for Sched {
    /// The same queue.
    fn eq(&self, other: &Sched) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Sched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sched(waiting={})", self.len())
    }
}
