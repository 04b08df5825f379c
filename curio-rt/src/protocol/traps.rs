//! The leaf coroutines, one per kernel service (Curio's `traps.py`): the
//! only way into the kernel.
//!
//! A leaf is a three-state hand-written coroutine: the first `resume` yields
//! the trap, the second returns the kernel's reply, and a `throw` returns
//! the error as `Err`, so it surfaces at the `.await` that is suspended.

use std::marker::PhantomData;
use std::os::fd::RawFd;

use crate::error::{Error, Result};
use crate::protocol::coroutine::{Coroutine, Location, Step, Value};
use crate::protocol::trap::Trap;
use crate::task::Task;

/// A type the kernel's reply to a trap converts into.
///
/// The conversion is static (no function pointer), so a leaf's resume
/// inlines into the coroutine awaiting it and builds its result in
/// registers.
pub trait FromReply: Sized {
    /// Converts the kernel's reply; a reply of the wrong kind is an
    /// [`Error::Protocol`] error.
    fn from_reply(value: Value) -> Result<Self>;
}

impl FromReply for () {
    #[inline]
    fn from_reply(value: Value) -> Result<()> {
        value.discard();
        Ok(())
    }
}

impl FromReply for Task {
    #[inline]
    fn from_reply(value: Value) -> Result<Task> {
        match value {
            Value::Task(task) => Ok(task),
            other => Err(Error::protocol(format!(
                "expected a task in reply to GetCurrent, got {other:?}"
            ))),
        }
    }
}

impl FromReply for (Option<Task>, Option<Task>) {
    #[inline]
    fn from_reply(value: Value) -> Result<Self> {
        match value {
            Value::Waiting(tasks) => Ok(*tasks),
            other => Err(Error::protocol(format!(
                "expected the waiting tasks in reply to IoWaiting, got {other:?}"
            ))),
        }
    }
}

impl FromReply for Value {
    #[inline]
    fn from_reply(value: Value) -> Result<Value> {
        Ok(value)
    }
}

impl FromReply for f64 {
    /// A clock reading (`Value::None` reads as 0.0, for drivers that do not
    /// keep time).
    #[inline]
    fn from_reply(value: Value) -> Result<f64> {
        match value {
            Value::Float(x) => {
                std::mem::forget(value);
                Ok(x)
            }
            Value::None => {
                std::mem::forget(value);
                Ok(0.0)
            }
            other => Err(mismatch("a clock reading", other)),
        }
    }
}

impl FromReply for Option<f64> {
    /// A deadline: `Value::None` is no deadline.
    #[inline]
    fn from_reply(value: Value) -> Result<Option<f64>> {
        match value {
            Value::Float(x) => {
                std::mem::forget(value);
                Ok(Some(x))
            }
            Value::None => {
                std::mem::forget(value);
                Ok(None)
            }
            other => Err(mismatch("a deadline", other)),
        }
    }
}

/// The error for a reply of the wrong kind. Out of line and taking the
/// reply by value, so that the right kinds (which own nothing) leave no
/// drop of a `Value` behind in the leaf: measured, an out-of-line drop
/// per resume was 10 instructions of a 140-instruction resume.
#[cold]
#[inline(never)]
fn mismatch(expected: &str, got: Value) -> Error {
    Error::protocol(format!("expected {expected}, got {got:?}"))
}

/// `FromReply` for a type carried by one `Value` variant.
macro_rules! reply_variant {
    ($($ty:ty => $variant:ident, $what:literal;)*) => {$(
        impl FromReply for $ty {
            #[inline]
            fn from_reply(value: Value) -> Result<$ty> {
                match value {
                    // `value` owns nothing here: no drop to leave behind.
                    Value::$variant(v) => {
                        std::mem::forget(value);
                        Ok(v)
                    }
                    other => Err(mismatch($what, other)),
                }
            }
        }
    )*};
}

reply_variant! {
    i64 => Int, "an integer";
    bool => Bool, "a boolean";
}

/// The leaf coroutine behind every trap function: yields `trap` once, then
/// converts the kernel's reply into `T`.
#[derive(Debug)]
#[must_use = "a trap does nothing unless awaited"]
pub struct TrapCall<T> {
    state: CallState,
    reply: PhantomData<fn() -> T>,
}

/// Where a [`TrapCall`] is: one enum, so a leaf is no bigger than its trap.
#[derive(Debug)]
enum CallState {
    Pending(Trap),
    Issued,
    Done,
}

impl<T: FromReply> TrapCall<T> {
    /// A leaf coroutine that issues `trap` and returns the reply as `T`.
    pub fn new(trap: Trap) -> Self {
        TrapCall {
            state: CallState::Pending(trap),
            reply: PhantomData,
        }
    }
}

impl<T: FromReply> Coroutine for TrapCall<T> {
    type Output = Result<T>;

    #[inline(always)]
    fn resume(&mut self, value: Value) -> Step<Result<T>> {
        match std::mem::replace(&mut self.state, CallState::Done) {
            CallState::Pending(trap) => {
                value.discard();
                self.state = CallState::Issued;
                Step::Trap(trap)
            }
            CallState::Issued => Step::Return(T::from_reply(value)),
            CallState::Done => panic!("trap coroutine resumed after it returned"),
        }
    }

    fn throw(&mut self, error: Error) -> Step<Result<T>> {
        match std::mem::replace(&mut self.state, CallState::Done) {
            CallState::Issued => Step::Return(Err(error)),
            CallState::Pending(_) => {
                panic!("throw into a trap that was never issued: resume it first")
            }
            CallState::Done => panic!("trap coroutine thrown into after it returned"),
        }
    }

    fn traceback(&self, _visit: &mut dyn FnMut(&'static Location)) {}
}

/// Sleeps for `seconds` and returns the clock when woken (Curio's `sleep`).
/// `sleep(0.0)` switches to the other ready tasks and returns the clock.
/// `sleep(f64::INFINITY)` never wakes by itself: only a cancellation or a
/// timeout ends it.
///
/// # Errors
/// A cancellation or timeout delivered while sleeping;
/// [`Error::ValueError`] for a negative or NaN `seconds` (Python's
/// `time.sleep` and trio refuse them too; Curio sleeps 0).
pub fn sleep(seconds: f64) -> TrapCall<f64> {
    TrapCall::new(Trap::Sleep {
        seconds,
        absolute: false,
    })
}

/// Sleeps until the kernel clock reads `clock` (Curio's `wake_at`); see
/// [`clock()`]. A time already past wakes at the next scheduling pass.
///
/// # Errors
/// A cancellation or timeout delivered while sleeping;
/// [`Error::ValueError`] for a NaN `clock`.
pub fn wake_at(clock: f64) -> TrapCall<f64> {
    TrapCall::new(Trap::Sleep {
        seconds: clock,
        absolute: true,
    })
}

/// Reads the kernel's monotonic clock, in seconds (Curio's `clock`).
///
/// # Errors
/// Never from a kernel; the signature is that of every trap.
pub fn clock() -> TrapCall<f64> {
    TrapCall::new(Trap::Clock)
}

/// Waits until `fd` is readable (Curio's `_read_wait`).
pub fn read_wait(fd: RawFd) -> TrapCall<()> {
    TrapCall::new(Trap::ReadWait(fd))
}

/// Waits until `fd` is writable (Curio's `_write_wait`).
pub fn write_wait(fd: RawFd) -> TrapCall<()> {
    TrapCall::new(Trap::WriteWait(fd))
}

/// Releases the kernel's registration of `fd` (Curio's `_io_release`).
pub fn io_release(fd: RawFd) -> TrapCall<()> {
    TrapCall::new(Trap::IoRelease(fd))
}

/// Which tasks wait on `fd`: `(reader, writer)`, each only while it is
/// blocked there (Curio's `_io_waiting`).
pub fn io_waiting(fd: RawFd) -> TrapCall<(Option<Task>, Option<Task>)> {
    TrapCall::new(Trap::IoWaiting(fd))
}
