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
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The task was cancelled (Curio's `TaskCancelled`).
    TaskCancelled,
    /// The task's own timeout expired (Curio's `TaskTimeout`). The value is
    /// the kernel clock when it expired; the timeout blocks compare it with
    /// their deadlines to find which one it belongs to.
    TaskTimeout(f64),
    /// An outer timeout expired while an inner one was in force
    /// (Curio's `TimeoutCancellationError`); the kernel clock at expiry.
    TimeoutCancellationError(f64),
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
    /// An operation that moves data piece by piece (`sendall`, a stream's
    /// `write`, `writelines`, `readlines`) failed part way: `cause` is why,
    /// `progress` what it had done. Curio attaches the same thing to its
    /// exception as `bytes_sent`, `bytes_written` or `lines_read`.
    ///
    /// The cause may be a cancellation or timeout:
    /// [`is_cancelled`](Self::is_cancelled) and the timeout blocks look
    /// through the wrapper,
    /// and [`root`](Self::root) gives the cause to `match` on.
    Partial {
        /// Why the operation stopped.
        cause: Box<Error>,
        /// What it had done by then.
        progress: Progress,
    },
}

/// What an operation had done when it failed (see [`Error::Partial`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Bytes `sendall` had sent.
    BytesSent(usize),
    /// Bytes a stream's `write` or `writelines` had written.
    BytesWritten(usize),
    /// Lines `readlines` had read (they are no longer buffered).
    LinesRead(Vec<Vec<u8>>),
}

impl Error {
    /// True for the cancellation family (`TaskCancelled`, `TaskTimeout`,
    /// `TimeoutCancellationError`), like Python's `CancelledError`.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self.root(),
            Error::TaskCancelled | Error::TaskTimeout(_) | Error::TimeoutCancellationError(_)
        )
    }

    /// The error itself, looking through [`Error::Partial`]: what to
    /// `match` on when an operation may report partial progress.
    pub fn root(&self) -> &Error {
        match self {
            Error::Partial { cause, .. } => cause.root(),
            other => other,
        }
    }

    /// Replaces the root error (see [`root`](Self::root)), keeping any
    /// partial progress around it.
    pub(crate) fn map_root(self, f: impl FnOnce(Error) -> Error) -> Error {
        match self {
            Error::Partial { cause, progress } => Error::Partial {
                cause: Box::new(cause.map_root(f)),
                progress,
            },
            other => f(other),
        }
    }

    /// `cause`, reported with what the operation had done.
    pub(crate) fn partial(cause: Error, progress: Progress) -> Self {
        Error::Partial {
            cause: Box::new(cause),
            progress,
        }
    }

    fn progress(&self) -> Option<&Progress> {
        match self {
            Error::Partial { progress, .. } => Some(progress),
            _ => None,
        }
    }

    /// Bytes `sendall` had sent when it failed (Curio's `e.bytes_sent`).
    pub fn bytes_sent(&self) -> Option<usize> {
        match self.progress()? {
            Progress::BytesSent(n) => Some(*n),
            _ => None,
        }
    }

    /// Bytes a stream's `write` or `writelines` had written when it failed
    /// (Curio's `e.bytes_written`).
    pub fn bytes_written(&self) -> Option<usize> {
        match self.progress()? {
            Progress::BytesWritten(n) => Some(*n),
            _ => None,
        }
    }

    /// Lines `readlines` had read when it failed (Curio's `e.lines_read`).
    pub fn lines_read(&self) -> Option<&[Vec<u8>]> {
        match self.progress()? {
            Progress::LinesRead(lines) => Some(lines),
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
            Error::TaskCancelled => f.write_str("task cancelled"),
            Error::TaskTimeout(clock) => write!(f, "task timeout at clock {clock}"),
            Error::TimeoutCancellationError(clock) => {
                write!(f, "cancelled by an outer timeout at clock {clock}")
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
            Error::Partial { cause, progress } => match progress {
                Progress::BytesSent(n) => write!(f, "{cause} (after sending {n} bytes)"),
                Progress::BytesWritten(n) => write!(f, "{cause} (after writing {n} bytes)"),
                Progress::LinesRead(lines) => {
                    write!(f, "{cause} (after reading {} lines)", lines.len())
                }
            },
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::TaskError { cause } | Error::Partial { cause, .. } => Some(&**cause),
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
