//! Timeouts: [`timeout_after`], [`ignore_after`] and [`ignore_after_with`].
//!
//! The rules a user needs are in the docs of [`timeout_after`], where rustdoc
//! shows them.

use crate::error::{Error, Result};
use crate::protocol::coroutine::Coroutine;
use crate::protocol::trap::Trap;
use crate::protocol::traps::TrapCall;
use crate::task::current_task;

/// How a timeout block ended.
enum Outcome<T> {
    Done(T),
    Expired,
}

/// Runs `coroutine` with the deadline `seconds` from now; `ignore` turns
/// this block's own timeout into `Outcome::Expired`.
#[crate::task]
async fn timeout_block<C, T>(seconds: Option<f64>, coroutine: C, ignore: bool) -> Result<Outcome<T>>
where
    C: Coroutine<Output = Result<T>>,
{
    if let Some(s) = seconds.filter(|s| s.is_nan() || *s < 0.0) {
        return Err(Error::value(format!(
            "timeout: the time must be a non-negative number of seconds, not {s}"
        )));
    }
    // An infinite timeout is no deadline of the block's own.
    let seconds = seconds.filter(|s| s.is_finite());
    let task = current_task().await?;
    let deadline = match seconds {
        Some(seconds) => seconds + crate::protocol::traps::clock().await?,
        None => f64::INFINITY,
    };
    let prior: Option<f64> = TrapCall::new(Trap::SetTimeout(seconds.map(|_| deadline))).await?;
    task.raw()
        .header()
        .with_block_deadlines(|stack| stack.push(deadline));
    let result = coroutine.await;
    let now: f64 = TrapCall::new(Trap::UnsetTimeout(prior)).await?;
    let outcome = task
        .raw()
        .header()
        .with_block_deadlines(|stack| settle(stack, result, now, ignore, &task));
    task.raw()
        .header()
        .with_block_deadlines(|stack| stack.pop());
    outcome
}

/// The rules of the module docs, for the innermost block of `stack`.
fn settle<T>(
    stack: &[f64],
    result: Result<T>,
    now: f64,
    ignore: bool,
    task: &crate::task::Task,
) -> Result<Outcome<T>> {
    let own = stack.len() - 1;
    match result {
        Ok(value) => {
            if now > stack[own] {
                log::warn!(
                    target: "curio::timeout",
                    "{task}: operation completed successfully, but it took longer than an \
                     enclosing timeout. Badness delta={}",
                    now - stack[own]
                );
            }
            Ok(Outcome::Done(value))
        }
        Err(error) => {
            let (Error::TaskTimeout(expired) | Error::TimeoutCancellationError(expired)) = error
            else {
                return Err(error);
            };
            let clock = expired.clock().unwrap_or(f64::NAN);
            // The progress of what the timeout interrupted (`sendall`'s
            // bytes sent, ...) stays with whichever error comes out.
            match stack.iter().position(|&deadline| deadline <= clock) {
                None => Err(Error::UncaughtTimeoutError),
                Some(outer) if outer < own => Err(Error::TimeoutCancellationError(expired)),
                Some(_) if ignore => Ok(Outcome::Expired),
                Some(_) => Err(Error::TaskTimeout(expired)),
            }
        }
    }
}

/// Runs `coroutine`, failing with [`Error::TaskTimeout`] at its blocking
/// operation if it has not finished after `seconds` (Curio's
/// `timeout_after`). `None` sets no deadline of its own.
///
/// # Examples
/// ```
/// use curio::{sleep, timeout_after, Error, Result};
///
/// #[curio::task]
/// async fn demo() -> Result<&'static str> {
///     match timeout_after(0.01, sleep(10.0)).await {
///         Err(Error::TaskTimeout(_)) => Ok("timed out"),
///         other => other.map(|_| "slept"),
///     }
/// }
/// assert_eq!(curio::run(demo()).unwrap(), "timed out");
/// ```
///
/// # Nested timeouts
///
/// A task keeps a stack of the deadlines of the timeout blocks it is in;
/// the kernel enforces the smallest. When it expires, the blocked operation
/// fails with `TaskTimeout` (carrying the clock), and each block on the way out decides
/// what that means for it:
///
/// 1. The outermost block whose deadline has passed owns the timeout: it
///    reports `TaskTimeout` (`ignore_after` returns its timeout result).
/// 2. A block inside it sees `TimeoutCancellationError`: it is cancelled
///    because time ran out elsewhere.
/// 3. A block none of whose enclosing deadlines has passed, seeing a
///    timeout error, reports `UncaughtTimeoutError`: an inner timeout
///    escaped its own block.
///
/// `None` sets no deadline and leaves the enclosing ones in force. The
/// block form (`async with timeout_after(s):`) is a
/// [`coroutine!`](crate::coroutine) block passed as `coroutine`.
///
/// `f64::INFINITY` is the same as `None`; a huge but finite time is a
/// deadline that is never reached.
///
/// # Errors
/// `TaskTimeout` when this block's deadline passed, the errors of the
/// rules above, and `coroutine`'s own errors; [`Error::ValueError`] (before
/// `coroutine` starts) for a negative or NaN `seconds` (trio's rule; Curio
/// would time out at once, or, for NaN, report a misleading
/// `UncaughtTimeoutError`).
///
/// # Nested timeouts
///
/// A task keeps a stack of the deadlines of the timeout blocks it is in.
/// The kernel enforces the smallest. When it expires, the blocked
/// operation fails with `TaskTimeout` (carrying the clock), and each block on the way
/// out decides what the error means for it, using the clock value:
///
/// 1. The outermost block whose deadline has passed owns the timeout: it
///    reports `TaskTimeout` (`timeout_after`) or returns its timeout result
///    (`ignore_after`).
/// 2. A block inside it sees `TimeoutCancellationError`: it is being
///    cancelled because time ran out elsewhere.
/// 3. A block none of whose enclosing deadlines has passed, seeing a
///    timeout error, reports `UncaughtTimeoutError`: an inner timeout
///    escaped its own block.
///
/// A block with no deadline (`None`) leaves the enclosing deadlines in
/// force and never owns a timeout (Curio's manual; Python Curio fails with a
/// `TypeError` here).
///
/// # Block form
///
/// Curio's `async with timeout_after(s):` is a [`coroutine!`](crate::coroutine)
/// block passed as the coroutine:
///
/// ```
/// use curio::{coroutine, ignore_after, sleep, Result};
///
/// #[curio::task]
/// async fn demo() -> Result<Option<&'static str>> {
///     ignore_after(0.01, coroutine!({
///         sleep(10.0).await?;
///         Ok("slept")
///     }))
///     .await
/// }
/// assert_eq!(curio::run(demo()).unwrap(), None);
/// ```
#[crate::task]
pub async fn timeout_after<C, T>(seconds: impl Into<Option<f64>>, coroutine: C) -> Result<T>
where
    C: Coroutine<Output = Result<T>>,
{
    match timeout_block(seconds.into(), coroutine, false).await? {
        Outcome::Done(value) => Ok(value),
        Outcome::Expired => unreachable!("timeout_after does not ignore its timeout"),
    }
}

/// Runs `coroutine`; if it has not finished after `seconds`, cancels it and
/// returns `Ok(None)` instead of an error (Curio's `ignore_after`).
///
/// # Errors
/// `coroutine`'s own errors, outer timeouts as in
/// [`timeout_after`](crate::timeout_after#nested-timeouts), and
/// [`Error::ValueError`] for a negative or NaN `seconds`.
#[crate::task]
pub async fn ignore_after<C, T>(seconds: impl Into<Option<f64>>, coroutine: C) -> Result<Option<T>>
where
    C: Coroutine<Output = Result<T>>,
{
    match timeout_block(seconds.into(), coroutine, true).await? {
        Outcome::Done(value) => Ok(Some(value)),
        Outcome::Expired => Ok(None),
    }
}

/// [`ignore_after`] returning `timeout_result` when time runs out (Curio's
/// `timeout_result=` argument).
///
/// # Examples
/// ```
/// use curio::{ignore_after_with, sleep, Result};
///
/// #[curio::task]
/// async fn demo() -> Result<f64> {
///     ignore_after_with(0.01, sleep(10.0), -1.0).await
/// }
/// assert_eq!(curio::run(demo()).unwrap(), -1.0);
/// ```
///
/// # Errors
/// As [`ignore_after`].
#[crate::task]
pub async fn ignore_after_with<C, T>(
    seconds: impl Into<Option<f64>>,
    coroutine: C,
    timeout_result: T,
) -> Result<T>
where
    C: Coroutine<Output = Result<T>>,
{
    match timeout_block(seconds.into(), coroutine, true).await? {
        Outcome::Done(value) => Ok(value),
        Outcome::Expired => Ok(timeout_result),
    }
}
