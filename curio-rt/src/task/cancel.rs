//! Cancellation control: [`disable_cancellation`], [`check_cancellation`],
//! [`set_cancellation`].
//!
//! Cancellation (and timeouts) are delivered only at blocking operations.
//! Inside `disable_cancellation` they are not delivered at all: they stay
//! pending and arrive at the first blocking operation after the shield is
//! lifted, unless the code checks for them itself.

use crate::error::{Error, Result};
use crate::protocol::coroutine::Coroutine;
use crate::task::current_task;

/// Runs `coroutine` with cancellation shielded (Curio's
/// `disable_cancellation`): a cancel or timeout that arrives meanwhile
/// becomes pending and is delivered at the first blocking operation after
/// `coroutine` returns (with cancellation enabled again). The block form is
/// a [`coroutine!`](crate::coroutine) block.
///
/// A timeout that expires inside and belongs to a timeout block that also
/// ends inside is dropped with that block, as in Curio.
///
/// Curio makes a cancellation error that *the shielded code raises itself*
/// pending again when an outer shield is still up; here such an error is
/// simply returned, since it is the coroutine's output.
///
/// # Panics
/// When not run inside a kernel.
///
/// # Examples
/// ```
/// use curio::{coroutine, disable_cancellation, spawn, sleep, Result};
///
/// #[curio::task]
/// async fn worker() -> Result<&'static str> {
///     disable_cancellation(coroutine!({
///         sleep(0.02).await?;        // not interrupted by the cancel
///         Ok::<_, curio::Error>(())
///     })).await?;
///     sleep(1.0).await?;            // the pending cancel arrives here
///     Ok("finished")
/// }
///
/// #[curio::task]
/// async fn demo() -> Result<bool> {
///     let t = spawn(worker()).await?;
///     sleep(0.01).await?;
///     t.cancel().await?;
///     Ok(t.exception()?.unwrap().is_cancelled())
/// }
/// assert!(curio::run(demo()).unwrap());
/// ```
#[crate::task]
pub async fn disable_cancellation<C: Coroutine>(coroutine: C) -> C::Output {
    let task = current_task()
        .await
        .expect("disable_cancellation runs inside a curio kernel");
    let allowed = task.raw().header().allow_cancel(false);
    let output = coroutine.await;
    task.raw().header().allow_cancel(allowed);
    output
}

/// Checks for a pending cancellation (Curio's `check_cancellation`): with
/// cancellation enabled, a pending one is returned as `Err` (and cleared);
/// inside `disable_cancellation` it is returned as `Ok(Some(error))` and
/// stays pending.
///
/// # Errors
/// The pending cancellation, when cancellation is enabled.
#[crate::task]
pub async fn check_cancellation() -> Result<Option<Error>> {
    let task = current_task().await?;
    let h = task.raw().header();
    if h.cancel_allowed()
        && let Some(error) = h.take_pending()
    {
        return Err(error);
    }
    Ok(h.peek_pending())
}

/// [`check_cancellation`] for one kind of error (Curio's
/// `check_cancellation(exc)`): `Ok(None)` unless the pending cancellation
/// satisfies `matches`; if it does, it is cleared and returned (as `Err`
/// when cancellation is enabled).
///
/// # Errors
/// The matching pending cancellation, when cancellation is enabled.
#[crate::task]
pub async fn check_cancellation_if(matches: impl Fn(&Error) -> bool) -> Result<Option<Error>> {
    let task = current_task().await?;
    let h = task.raw().header();
    if !h.peek_pending().is_some_and(|e| matches(&e)) {
        return Ok(None);
    }
    let error = h.take_pending().expect("peeked");
    if h.cancel_allowed() {
        Err(error)
    } else {
        Ok(Some(error))
    }
}

/// Replaces the pending cancellation with `error` (`None` clears it) and
/// returns the previous one (Curio's `set_cancellation`).
///
/// # Errors
/// None of its own; the signature leaves room for the trap it issues.
#[crate::task]
pub async fn set_cancellation(error: Option<Error>) -> Result<Option<Error>> {
    let task = current_task().await?;
    let h = task.raw().header();
    Ok(h.replace_pending(error))
}
