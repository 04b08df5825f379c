//! Queues: [`Queue`] (FIFO), [`PriorityQueue`] (smallest first) and
//! [`LifoQueue`] (last in, first out), Curio's `curio.queue`.
//!
//! A queue is a cheap handle: clone it into the tasks that share it. It is
//! built from three wait queues and never touches the kernel: getters wait
//! on a [`SchedFifo`] (a `get` waits if other getters are already waiting,
//! so getters are served in order), putters on another while the queue is
//! full, and `join` on a [`SchedBarrier`] until every item put has been
//! marked done with `task_done`.
//!
//! **Cancellation safety.** A `get` that is cancelled or times out while it
//! waits takes nothing: the item stays for the next getter. A `put`
//! cancelled while it waits for room enqueues nothing (the item is dropped
//! with the `put`; keep a clone if you need to retry). No item is lost or
//! delivered twice.
//!
//! ```
//! use curio::{spawn, Queue, Result};
//!
//! #[curio::task]
//! async fn consumer(q: Queue<Option<u32>>) -> Result<u32> {
//!     let mut sum = 0;
//!     while let Some(n) = q.get().await? {
//!         sum += n;
//!         q.task_done().await?;
//!     }
//!     q.task_done().await?;
//!     Ok(sum)
//! }
//!
//! #[curio::task]
//! async fn demo() -> Result<u32> {
//!     let q = Queue::new(2);
//!     let c = spawn(consumer(q.clone())).await?;
//!     for n in 1..=4 {
//!         q.put(Some(n)).await?;   // waits while 2 items are queued
//!     }
//!     q.put(None).await?;
//!     q.join().await?;             // every item was processed
//!     c.join().await
//! }
//! assert_eq!(curio::run(demo()).unwrap(), 10);
//! ```

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::protocol::coroutine::Coroutine;
use crate::sync::sched::{SchedBarrier, SchedFifo};
use crate::task::TaskState;

/// How a queue orders its items.
pub trait Store: Default + 'static {
    /// The items.
    type Item: 'static;
    /// Adds an item.
    fn push(&mut self, item: Self::Item);
    /// Removes the next item.
    fn pop(&mut self) -> Option<Self::Item>;
    /// The number of items.
    fn len(&self) -> usize;
    /// Whether there are no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// First in, first out ([`Queue`]).
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);
/// Smallest first ([`PriorityQueue`]).
#[derive(Debug)]
pub struct Priority<T: Ord>(BinaryHeap<Reverse<T>>);
/// Last in, first out ([`LifoQueue`]).
#[derive(Debug)]
pub struct Lifo<T>(Vec<T>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}
impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority(BinaryHeap::new())
    }
}
impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}

impl<T: 'static> Store for Fifo<T> {
    type Item = T;
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord + 'static> Store for Priority<T> {
    type Item = T;
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: 'static> Store for Lifo<T> {
    type Item = T;
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// The state every queue kind shares.
struct Core<S> {
    items: RefCell<S>,
    /// 0: unbounded.
    maxsize: usize,
    get_waiting: SchedFifo,
    put_waiting: SchedFifo,
    join_waiting: SchedBarrier,
    /// Items put and not yet marked done.
    unfinished: Cell<usize>,
}

/// A queue of any ordering; the public types fix the ordering.
struct Shared<S>(Rc<Core<S>>);

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

#[crate::task]
impl<S: Store> Shared<S> {
    fn new(maxsize: usize) -> Self {
        Shared(Rc::new(Core {
            items: RefCell::new(S::default()),
            maxsize,
            get_waiting: SchedFifo::new(),
            put_waiting: SchedFifo::new(),
            join_waiting: SchedBarrier::new(),
            unfinished: Cell::new(0),
        }))
    }

    fn size(&self) -> usize {
        self.0.items.borrow().len()
    }

    fn full(&self) -> bool {
        self.0.maxsize > 0 && self.size() >= self.0.maxsize
    }

    async fn get(&self) -> Result<S::Item> {
        let core = self.0.clone();
        // Getters already waiting go first.
        let mut must_wait = !core.get_waiting.is_empty();
        while must_wait || core.items.borrow().is_empty() {
            must_wait = false;
            core.get_waiting.suspend(TaskState::QueueGet).await?;
        }
        let item = core
            .items
            .borrow_mut()
            .pop()
            .expect("the queue has an item");
        if !core.put_waiting.is_empty() {
            core.put_waiting.wake(1).await?;
        }
        Ok(item)
    }

    async fn put(&self, item: S::Item) -> Result<()> {
        let core = self.0.clone();
        while self.full() {
            core.put_waiting.suspend(TaskState::QueuePut).await?;
        }
        core.items.borrow_mut().push(item);
        core.unfinished.set(core.unfinished.get() + 1);
        if !core.get_waiting.is_empty() {
            core.get_waiting.wake(1).await?;
        }
        Ok(())
    }

    async fn join(&self) -> Result<()> {
        if self.0.unfinished.get() > 0 {
            self.0.join_waiting.suspend(TaskState::QueueJoin).await?;
        }
        Ok(())
    }

    async fn task_done(&self) -> Result<()> {
        let core = self.0.clone();
        let Some(left) = core.unfinished.get().checked_sub(1) else {
            return Err(Error::runtime(
                "task_done() called more times than items were put",
            ));
        };
        core.unfinished.set(left);
        if left == 0 {
            core.join_waiting.wake_all().await?;
        }
        Ok(())
    }
}

macro_rules! queue_type {
    ($(#[$doc:meta])* $name:ident, $store:ident, [$($bound:tt)*]) => {
        $(#[$doc])*
        pub struct $name<T: $($bound)* 'static> {
            shared: Shared<$store<T>>,
        }

        impl<T: $($bound)* 'static> Default for $name<T> {
            /// An unbounded queue.
            fn default() -> Self {
                Self::new(0)
            }
        }

        impl<T: $($bound)* 'static> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("size", &self.size())
                    .field("maxsize", &self.maxsize())
                    .finish()
            }
        }

        impl<T: $($bound)* 'static> PartialEq for $name<T> {
            /// Two handles are equal when they are the same queue.
            fn eq(&self, other: &Self) -> bool {
                Rc::ptr_eq(&self.shared.0, &other.shared.0)
            }
        }

        impl<T: $($bound)* 'static> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name { shared: self.shared.clone() }
            }
        }

        impl<T: $($bound)* 'static> $name<T> {
            /// A queue holding at most `maxsize` items (`0`: unbounded).
            pub fn new(maxsize: usize) -> Self {
                $name { shared: Shared::new(maxsize) }
            }

            /// An unbounded queue.
            pub fn unbounded() -> Self {
                Self::new(0)
            }

            /// The number of items queued (Curio's `qsize`).
            pub fn size(&self) -> usize {
                self.shared.size()
            }

            /// The capacity given to `new` (`0`: unbounded).
            pub fn maxsize(&self) -> usize {
                self.shared.0.maxsize
            }

            /// Whether no item is queued.
            pub fn empty(&self) -> bool {
                self.size() == 0
            }

            /// Whether the queue is at its capacity.
            pub fn full(&self) -> bool {
                self.shared.full()
            }

            /// Takes the next item, waiting for one (and behind earlier
            /// getters) if need be.
            ///
            /// # Errors
            /// A cancellation or timeout while waiting; nothing is taken.
            pub fn get(&self) -> impl Coroutine<Output = Result<T>> + use<T> {
                self.shared.get()
            }

            /// Adds an item, waiting while the queue is full.
            ///
            /// # Errors
            /// A cancellation or timeout while waiting; nothing is added.
            pub fn put(&self, item: T) -> impl Coroutine<Output = Result<()>> + use<T> {
                self.shared.put(item)
            }

            /// Waits until every item put has been marked done.
            ///
            /// # Errors
            /// A cancellation or timeout while waiting.
            pub fn join(&self) -> impl Coroutine<Output = Result<()>> + use<T> {
                self.shared.join()
            }

            /// Marks one item as processed; the last one wakes `join`.
            ///
            /// # Errors
            /// [`Error::RuntimeError`] if called more often than items were put.
            pub fn task_done(&self) -> impl Coroutine<Output = Result<()>> + use<T> {
                self.shared.task_done()
            }
        }
    };
}

queue_type!(
    /// A first-in, first-out queue (Curio's `Queue`).
    ///
    /// ```
    /// use curio::{spawn, Queue, Result};
    ///
    /// #[curio::task]
    /// async fn producer(q: Queue<u32>) -> Result<()> {
    ///     for n in 1..=3 {
    ///         q.put(n).await?; // waits while the queue is full
    ///     }
    ///     Ok(())
    /// }
    ///
    /// #[curio::task]
    /// async fn demo() -> Result<Vec<u32>> {
    ///     let q = Queue::new(1);
    ///     let p = spawn(producer(q.clone())).await?;
    ///     let mut got = Vec::new();
    ///     for _ in 0..3 {
    ///         got.push(q.get().await?);
    ///     }
    ///     p.join().await?;
    ///     Ok(got)
    /// }
    /// assert_eq!(curio::run(demo()).unwrap(), [1, 2, 3]);
    /// ```
    Queue, Fifo, []
);
queue_type!(
    /// A queue that hands out its smallest item first (Curio's
    /// `PriorityQueue`; use `(priority, item)` tuples as in Python).
    ///
    /// ```
    /// use curio::{PriorityQueue, Result};
    ///
    /// #[curio::task]
    /// async fn demo() -> Result<Vec<(u8, &'static str)>> {
    ///     let q = PriorityQueue::unbounded();
    ///     q.put((2, "later")).await?;
    ///     q.put((1, "first")).await?;
    ///     let (a, b) = (q.get().await?, q.get().await?);
    ///     Ok(vec![a, b])
    /// }
    /// assert_eq!(curio::run(demo()).unwrap(), [(1, "first"), (2, "later")]);
    /// ```
    PriorityQueue, Priority, [Ord +]
);
queue_type!(
    /// A last-in, first-out queue (Curio's `LifoQueue`).
    ///
    /// ```
    /// use curio::{LifoQueue, Result};
    ///
    /// #[curio::task]
    /// async fn demo() -> Result<(u32, u32)> {
    ///     let q = LifoQueue::unbounded();
    ///     q.put(1).await?;
    ///     q.put(2).await?;
    ///     Ok((q.get().await?, q.get().await?))
    /// }
    /// assert_eq!(curio::run(demo()).unwrap(), (2, 1));
    /// ```
    LifoQueue, Lifo, []
);
