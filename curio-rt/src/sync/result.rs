//! [`Result`]: an event that carries a value or an error (Curio's
//! `curio.sync.Result`). It is `curio::sync::Result`, apart from the
//! `curio::Result` type alias.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::Error;
use crate::sync::Event;

/// A synchronized result: like an [`Event`], but it carries a value or an
/// error. `unwrap` waits until one is set and returns (a clone of) it.
///
/// ```
/// use curio::{spawn, sleep, sync, Result};
///
/// #[curio::task]
/// async fn compute(r: sync::Result<u32>) -> Result<()> {
///     sleep(0.01).await?;
///     r.set_value(42).await
/// }
///
/// #[curio::task]
/// async fn demo() -> Result<u32> {
///     let r = sync::Result::new();
///     spawn(compute(r.clone())).await?;
///     r.unwrap().await
/// }
/// assert_eq!(curio::run(demo()).unwrap(), 42);
/// ```
pub struct Result<T: Clone + 'static> {
    value: Rc<RefCell<Option<std::result::Result<T, Error>>>>,
    event: Event,
}

impl<T: Clone + std::fmt::Debug + 'static> std::fmt::Debug for Result<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Result")
            .field("value", &*self.value.borrow())
            .finish()
    }
}

impl<T: Clone + 'static> Clone for Result<T> {
    fn clone(&self) -> Self {
        Result {
            value: self.value.clone(),
            event: self.event.clone(),
        }
    }
}

impl<T: Clone + 'static> Default for Result<T> {
    fn default() -> Self {
        Result::new()
    }
}

#[crate::task]
impl<T: Clone + 'static> Result<T> {
    /// A result with nothing set.
    pub fn new() -> Self {
        Result {
            value: Rc::default(),
            event: Event::new(),
        }
    }

    /// Whether a value or an error has been set.
    pub fn is_set(&self) -> bool {
        self.value.borrow().is_some()
    }

    /// Sets the value (replacing any earlier one), waking every waiter.
    ///
    /// # Errors
    /// None from a kernel; the signature is that of every trap.
    pub async fn set_value(&self, value: T) -> crate::error::Result<()> {
        *self.value.borrow_mut() = Some(Ok(value));
        self.event.set().await
    }

    /// Sets an error (replacing any earlier value), waking every waiter.
    ///
    /// # Errors
    /// None from a kernel; the signature is that of every trap.
    pub async fn set_exception(&self, error: Error) -> crate::error::Result<()> {
        *self.value.borrow_mut() = Some(Err(error));
        self.event.set().await
    }

    /// Waits until something is set and returns it: the value, or the
    /// error that was set.
    ///
    /// # Errors
    /// The error that was set; a cancellation or timeout while waiting.
    pub async fn unwrap(&self) -> crate::error::Result<T> {
        self.event.wait().await?;
        self.value
            .borrow()
            .clone()
            .unwrap_or_else(|| Err(Error::runtime("Result set without a value")))
    }
}
