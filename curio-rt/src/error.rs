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
    /// An operating system I/O error.
    Io(Arc<std::io::Error>),
    /// A task panicked with this message.
    Panic(String),
    /// The driver broke the coroutine protocol (an unexpected reply).
    Protocol(String),
    /// A user error with a message.
    Message(String),
    /// A user error of any type.
    Custom(Arc<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// True for the cancellation family (`TaskCancelled`, `TaskTimeout`,
    /// `TimeoutCancellationError`), like Python's `CancelledError`.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            Error::TaskCancelled | Error::TaskTimeout(_) | Error::TimeoutCancellationError(_)
        )
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
            Error::RuntimeError(message) => f.write_str(message),
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Panic(message) => write!(f, "task panicked: {message}"),
            Error::Protocol(message) => write!(f, "coroutine protocol error: {message}"),
            Error::Message(message) => f.write_str(message),
            Error::Custom(e) => fmt::Display::fmt(e, f),
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
