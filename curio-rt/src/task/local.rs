//! [`Local`]: task-local storage (the older Curio's `curio.Local`).
//!
//! The rules a user needs are in the docs of [`Local`], where rustdoc
//! shows them.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::task::Header;

/// One task's local values, by `Local` key.
#[derive(Default)]
pub(crate) struct LocalMap {
    values: RefCell<HashMap<u64, Rc<dyn Any>>>,
}

impl LocalMap {
    /// A child's copy: the values are shared until either side sets one.
    pub fn copy_of(parent: &LocalMap) -> LocalMap {
        LocalMap {
            values: RefCell::new(parent.values.borrow().clone()),
        }
    }
}

thread_local! {
    /// The header of the task the kernel is running, while it runs it.
    static CURRENT: Cell<*const Header> = const { Cell::new(std::ptr::null()) };
}

/// The last key handed out: process-wide, so two `Local`s made in
/// different threads never share storage in one kernel.
static LAST_KEY: AtomicU64 = AtomicU64::new(0);

/// Marks a task as running for its lifetime (set by the kernel around each
/// scheduling cycle).
pub(crate) struct Current(());

impl Current {
    /// The kernel runs one task at a time and never inside another, so
    /// leaving marks no task as running (nothing to restore).
    #[inline]
    pub fn enter(header: &Header) -> Current {
        CURRENT.set(header);
        Current(())
    }
}

impl Drop for Current {
    #[inline]
    fn drop(&mut self) {
        CURRENT.set(std::ptr::null());
    }
}

/// Runs `f` with the running task's header.
///
/// # Errors
/// [`Error::RuntimeError`] if no task is running, as Curio's
/// "Accessing task local outside of the task context".
fn with_current<R>(f: impl FnOnce(&Header) -> R) -> Result<R> {
    let header = CURRENT.with(Cell::get);
    // SAFETY: `CURRENT` is non-null only while the kernel runs a task, and
    // then points at that task's header, which the kernel keeps alive (it
    // holds the task) until `Current` is dropped after the cycle.
    let header = unsafe { header.as_ref() };
    header
        .map(f)
        .ok_or_else(|| Error::runtime("Accessing task local outside of the task context"))
}

/// A task-local variable: each task sees its own value (Curio's `Local`).
/// Spawned tasks start with a copy of their parent's values.
///
/// A `Local` is a small key (`Copy`): keep one in a `thread_local!`, a
/// field, or pass it to the tasks that use it. Outside a running task (in
/// code driven by hand, or before the kernel runs), every method fails
/// with [`Error::RuntimeError`], as in Curio.
///
/// A value set in a task is visible only to that task and, as a copy, to
/// the tasks it spawns afterwards. Reading and writing need no `.await`, so
/// ordinary synchronous code (a logging function) can use it: the kernel
/// marks which task is running while it runs it. That mark is the one
/// thing a `Local` learns outside the coroutine protocol (a thread-local
/// pointer to the running task's header, set by the kernel around each
/// cycle): reading a variable is not a blocking operation, so it has no
/// trap. Outside a running task (before the kernel runs, or in a task
/// driven by hand) every access is an error, as in Curio.
///
/// ```
/// use curio::{spawn, Local, Result};
///
/// thread_local! {
///     static REQUEST: Local<u32> = Local::new();
/// }
///
/// fn tag() -> curio::Result<String> {
///     REQUEST.with(|r| Ok(format!("request {:?}", r.get()?)))
/// }
///
/// #[curio::task]
/// async fn helper() -> Result<String> {
///     tag()
/// }
///
/// #[curio::task]
/// async fn handle(n: u32) -> Result<String> {
///     REQUEST.with(|r| r.set(n))?;
///     let h = spawn(helper()).await?;   // inherits the tag
///     h.join().await
/// }
///
/// assert_eq!(curio::run(handle(7)).unwrap(), "request Some(7)");
/// ```
pub struct Local<T: Clone + 'static> {
    key: u64,
    value: PhantomData<fn() -> T>,
}

impl<T: Clone + 'static> std::fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").field("key", &self.key).finish()
    }
}

impl<T: Clone + 'static> Clone for Local<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Clone + 'static> Copy for Local<T> {}

impl<T: Clone + 'static> Default for Local<T> {
    fn default() -> Self {
        Local::new()
    }
}

impl<T: Clone + 'static> Local<T> {
    /// A new variable, unset in every task.
    pub fn new() -> Local<T> {
        let key = LAST_KEY.fetch_add(1, Ordering::Relaxed) + 1;
        Local {
            key,
            value: PhantomData,
        }
    }

    /// The running task's value, if it (or its parent, before spawning it)
    /// set one.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] outside a running task.
    pub fn get(&self) -> Result<Option<T>> {
        let value = with_current(|h| h.locals()?.values.borrow().get(&self.key).cloned())?;
        Ok(value.and_then(|v| v.downcast_ref::<T>().cloned()))
    }

    /// Sets the running task's value (its children spawned later inherit
    /// it).
    ///
    /// # Errors
    /// [`Error::RuntimeError`] outside a running task.
    pub fn set(&self, value: T) -> Result<()> {
        with_current(|h| {
            let map = h.extras(|e| e.locals.get_or_insert_default().clone());
            map.values
                .borrow_mut()
                .insert(self.key, Rc::new(value) as Rc<dyn Any>);
        })
    }

    /// Removes the running task's value (Python's `del local.attr`).
    ///
    /// # Errors
    /// [`Error::RuntimeError`] outside a running task, or if the task has
    /// no value to remove (Curio raises `AttributeError`).
    pub fn clear(&self) -> Result<()> {
        let removed = with_current(|h| {
            h.locals()
                .and_then(|map| map.values.borrow_mut().remove(&self.key))
        })?;
        match removed {
            Some(_) => Ok(()),
            None => Err(Error::runtime("the task-local has no value to clear")),
        }
    }
}
