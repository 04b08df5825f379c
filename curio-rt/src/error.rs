//! [`Error`]: Curio's exception model as a value.
//!
//! Cancellation and timeouts are errors that surface at a blocking `.await`
//! and propagate with `?`, as exceptions propagate in Python. Catch them
//! with `match`: `Err(e) if e.is_cancelled() => …` is `except CancelledError`.

use std::fmt;
use std::sync::Arc;

/// The result type of curio operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a curio operation can fail with.
///
/// Errors are cheap to clone (the I/O and custom payloads are shared), so a
/// task's failure can be reported to every task that joins it, as Curio
/// reports one exception object to all of them.
///
/// ```
/// use curio::{sleep, timeout_after, Error, Result};
///
/// #[curio::task]
/// async fn demo() -> Result<&'static str> {
///     // Curio's `except TaskTimeout:` is a match on the variant.
///     match timeout_after(0.01, sleep(1.0)).await {
///         Err(Error::TaskTimeout(expired)) => {
///             assert!(expired.clock().is_some());
///             Ok("timed out")
///         }
///         Err(e) => Err(e),
///         Ok(_) => Ok("slept"),
///     }
/// }
/// assert_eq!(curio::run(demo()).unwrap(), "timed out");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The task was cancelled (Curio's `TaskCancelled`). Match it as
    /// `Error::TaskCancelled(_)`; the payload says what the interrupted
    /// operation had done.
    TaskCancelled(Interrupted),
    /// The task's own timeout expired (Curio's `TaskTimeout`). The payload
    /// has the kernel clock when it expired (the timeout blocks compare it
    /// with their deadlines to find which one it belongs to) and what the
    /// interrupted operation had done.
    TaskTimeout(Interrupted),
    /// An outer timeout expired while an inner one was in force
    /// (Curio's `TimeoutCancellationError`); as `TaskTimeout`.
    TimeoutCancellationError(Interrupted),
    /// An inner timeout's error leaked out of its block
    /// (Curio's `UncaughtTimeoutError`).
    UncaughtTimeoutError,
    /// The joined task failed; `cause` is why (Curio's `TaskError`).
    TaskError {
        /// The error the task ended with.
        cause: Box<Error>,
    },
    /// Another task already waits on this resource in the same direction.
    ResourceBusy(String),
    /// A blocking operation was used outside a task (`AsyncOnlyError`).
    AsyncOnlyError(String),
    /// A synchronous I/O call was used on a non-blocking resource.
    SyncIOError(String),
    /// The API was used wrongly: a second kernel run in one thread, a
    /// result read before the task terminated, ... (Python's `RuntimeError`).
    RuntimeError(String),
    /// A bad argument: a duration that is not a number or is negative, ...
    /// (Python's `ValueError`).
    ValueError(String),
    /// An operating system I/O error.
    Io(Arc<std::io::Error>),
    /// A task panicked with this message.
    Panic(String),
    /// The driver broke the coroutine protocol (an unexpected reply).
    Protocol(String),
    /// A user error with a message.
    Message(String),
    /// A stream's `readline` found no newline within `limit` bytes (see
    /// [`Stream::set_max_line`](crate::io::stream::Stream::set_max_line)); the
    /// bytes stay buffered. asyncio's `LimitOverrunError`.
    LineTooLong {
        /// The longest line the stream accepts, newline included.
        limit: usize,
    },
    /// A user error of any type.
    Custom(Arc<dyn std::error::Error + Send + Sync + 'static>),
}

/// The payload of the cancellation family ([`Error::TaskCancelled`],
/// [`Error::TaskTimeout`], [`Error::TimeoutCancellationError`]): when a
/// timeout expired, and what the operation it interrupted had done (Curio
/// attaches the same to its exception as `bytes_sent` or
/// `bytes_written`).
#[derive(Debug, Clone, PartialEq)]
pub struct Interrupted {
    /// The kernel clock when a timeout expired (`NaN` for a cancellation).
    clock: f64,
    /// What the interrupted operation had done, if it moves data piece by
    /// piece.
    progress: Option<Progress>,
}

impl Interrupted {
    /// The kernel clock when the timeout expired; `None` for a plain
    /// cancellation.
    pub fn clock(&self) -> Option<f64> {
        Some(self.clock).filter(|c| !c.is_nan())
    }

    /// What the interrupted operation had done, if it moves data piece by
    /// piece (`sendall`, a stream's `write` and `writelines`).
    pub fn progress(&self) -> Option<&Progress> {
        self.progress.as_ref()
    }
}

/// What an operation that moves data piece by piece had done when a
/// cancellation or timeout interrupted it (see [`Interrupted`]). Reads
/// report nothing: what they had read stays buffered in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Bytes `sendall` had sent (Curio's `bytes_sent`).
    BytesSent(usize),
    /// Bytes a stream's `write` or `writelines` had written (Curio's
    /// `bytes_written`).
    BytesWritten(usize),
}

impl Error {
    /// True for the cancellation family (`TaskCancelled`, `TaskTimeout`,
    /// `TimeoutCancellationError`), like Python's `CancelledError`.
    pub fn is_cancelled(&self) -> bool {
        self.interrupted().is_some()
    }

    /// A cancellation ([`Error::TaskCancelled`]), as the kernel delivers it.
    pub fn cancelled() -> Self {
        Error::TaskCancelled(Interrupted {
            clock: f64::NAN,
            progress: None,
        })
    }

    /// A timeout that expired at `clock` ([`Error::TaskTimeout`]).
    pub fn timeout(clock: f64) -> Self {
        Error::TaskTimeout(Interrupted {
            clock,
            progress: None,
        })
    }

    /// The payload of the cancellation family, if this is one of them.
    pub fn interrupted(&self) -> Option<&Interrupted> {
        match self {
            Error::TaskCancelled(i)
            | Error::TaskTimeout(i)
            | Error::TimeoutCancellationError(i) => Some(i),
            _ => None,
        }
    }

    /// The same error with `progress` attached, if it is a cancellation
    /// or timeout (Curio attaches progress to `CancelledError` only; any
    /// other error is returned as it is).
    pub(crate) fn with_progress(mut self, progress: Progress) -> Self {
        if let Error::TaskCancelled(i)
        | Error::TaskTimeout(i)
        | Error::TimeoutCancellationError(i) = &mut self
        {
            i.progress = Some(progress);
        }
        self
    }

    /// What the interrupted operation had done, for a cancellation or
    /// timeout (see [`Interrupted::progress`]).
    pub fn progress(&self) -> Option<&Progress> {
        self.interrupted()?.progress()
    }

    /// Bytes `sendall` had sent when a cancellation or timeout stopped it
    /// (Curio's `e.bytes_sent`).
    pub fn bytes_sent(&self) -> Option<usize> {
        match self.progress()? {
            Progress::BytesSent(n) => Some(*n),
            _ => None,
        }
    }

    /// Bytes a stream's `write` or `writelines` had written when a
    /// cancellation or timeout stopped it (Curio's `e.bytes_written`).
    pub fn bytes_written(&self) -> Option<usize> {
        match self.progress()? {
            Progress::BytesWritten(n) => Some(*n),
            _ => None,
        }
    }

    /// A user error with a message.
    pub fn msg(message: impl Into<String>) -> Self {
        Error::Message(message.into())
    }

    /// Wraps any error type.
    pub fn custom(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Custom(Arc::new(error))
    }

    /// Python's `RuntimeError`: the API was used wrongly.
    pub fn runtime(message: impl Into<String>) -> Self {
        Error::RuntimeError(message.into())
    }

    /// Python's `ValueError`: a bad argument.
    pub fn value(message: impl Into<String>) -> Self {
        Error::ValueError(message.into())
    }

    /// Curio's `TaskError`: the joined task failed with `cause`.
    pub fn task_error(cause: Error) -> Self {
        Error::TaskError {
            cause: Box::new(cause),
        }
    }

    pub(crate) fn protocol(message: String) -> Self {
        Error::Protocol(message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TaskCancelled(i) => {
                f.write_str("task cancelled")?;
                i.fmt_progress(f)
            }
            Error::TaskTimeout(i) => {
                write!(f, "task timeout at clock {}", i.clock)?;
                i.fmt_progress(f)
            }
            Error::TimeoutCancellationError(i) => {
                write!(f, "cancelled by an outer timeout at clock {}", i.clock)?;
                i.fmt_progress(f)
            }
            Error::UncaughtTimeoutError => {
                f.write_str("uncaught timeout from an inner timeout block")
            }
            Error::TaskError { .. } => f.write_str("task failed"),
            Error::ResourceBusy(what) => write!(f, "resource busy: {what}"),
            Error::AsyncOnlyError(what) => write!(f, "only allowed inside a task: {what}"),
            Error::SyncIOError(what) => {
                write!(f, "synchronous I/O on a non-blocking resource: {what}")
            }
            Error::RuntimeError(message) | Error::ValueError(message) => f.write_str(message),
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Panic(message) => write!(f, "task panicked: {message}"),
            Error::Protocol(message) => write!(f, "coroutine protocol error: {message}"),
            Error::Message(message) => f.write_str(message),
            Error::LineTooLong { limit } => write!(
                f,
                "line too long: no newline within {limit} bytes (the stream's max_line)"
            ),
            Error::Custom(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl Interrupted {
    /// ` (after sending N bytes)`, if there is progress to tell.
    fn fmt_progress(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.progress {
            Some(Progress::BytesSent(n)) => write!(f, " (after sending {n} bytes)"),
            Some(Progress::BytesWritten(n)) => write!(f, " (after writing {n} bytes)"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::TaskError { cause } => Some(&**cause),
            Error::Io(e) => Some(&**e),
            Error::Custom(e) => Some(&**e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::Io(Arc::new(error))
    }
}
