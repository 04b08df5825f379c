//! Fairness: a budget of non-blocking operations per task and cycle.
//!
//! The rules a user needs are in the docs of [`BUDGET`], where rustdoc
//! shows them.

use std::cell::Cell;

use crate::error::{Error, Result};
use crate::protocol::coroutine::{Coroutine, Step, Value};
use crate::protocol::trap::Trap;

/// Operations a task may start per scheduling cycle before it yields.
///
/// # Why
///
/// A task only gives the kernel back control at a blocking operation. A
/// task whose reads and writes keep succeeding (a client streaming as fast
/// as the network allows, or a flood of short lines already buffered)
/// never blocks, and every other task waits for it: Curio has this flaw.
/// Measured before this module existed: one bulk client made a probe's
/// round trips take 28-68 ms at the median.
///
/// # How
///
/// Each time the kernel runs a task it gives it a budget of
/// [`BUDGET`] operations. Every I/O operation that starts (a socket's or
/// a file's read or write, a stream's read or line served from its
/// buffer) spends one. When the budget is spent, the next operation first
/// yields, exactly as `sleep(0)` does: the task goes to the back of the
/// ready queue, the others run, and a pending cancellation or timeout is
/// delivered there (it is a blocking operation). tokio's cooperative
/// budget works the same way.
///
/// The size was measured (`BENCH_PARTS=fairness` in the echo bench: a
/// probe's round trips beside a client streaming 64 KiB writes): with
/// 128 operations (tokio's number) the probe's p99 was 1.9 ms against
/// tokio's 1.3 ms; with 64, 0.92 against 0.90 ms; with 32, 0.52 against
/// 0.92 ms, and the bulk client's throughput the same (1436 against 1434
/// MB/s). A task that blocks before its budget is spent (an echo server
/// blocks after each reply) never pays anything.
///
/// A task that blocks before spending its budget never notices: an echo
/// server's reads block after each reply.
///
/// # Outside the protocol
///
/// The budget is a thread-local the kernel writes, not a reply carried by
/// `resume`: the operations that spend it do not trap at all when they
/// succeed, which is the point of them. A coroutine driven by hand (no
/// kernel running) has an unlimited budget.
pub const BUDGET: u32 = 32;

thread_local! {
    /// What the running task may still spend; unlimited outside a kernel.
    static LEFT: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// Gives the task the kernel is about to run a fresh budget.
#[inline]
pub(crate) fn refill() {
    LEFT.set(BUDGET);
}

/// Lifts the limit (the kernel stopped running a task).
#[inline]
pub(crate) fn unlimited() {
    LEFT.set(u32::MAX);
}

/// Spends one operation; `false` when the budget is gone (yield first).
#[inline]
pub(crate) fn spend() -> bool {
    let left = LEFT.get();
    if left == 0 {
        return false;
    }
    LEFT.set(left - 1);
    true
}

/// The trap that yields: `sleep(0)`.
#[inline]
pub(crate) fn yield_trap() -> Trap {
    Trap::Sleep {
        seconds: 0.0,
        absolute: false,
    }
}

/// A leaf that spends one operation, yielding first if the budget is
/// gone: for operations served without a system call (a line already
/// buffered).
#[must_use = "spending the budget does nothing unless awaited"]
pub(crate) struct Proceed {
    yielded: bool,
}

/// Spends one operation of the running task's budget (see the module).
pub(crate) fn proceed() -> Proceed {
    Proceed { yielded: false }
}

impl Coroutine for Proceed {
    type Output = Result<()>;

    #[inline]
    fn resume(&mut self, value: Value) -> Step<Result<()>> {
        value.discard();
        if !self.yielded && !spend() {
            self.yielded = true;
            return Step::Trap(yield_trap());
        }
        Step::Return(Ok(()))
    }

    fn throw(&mut self, error: Error) -> Step<Result<()>> {
        assert!(self.yielded, "throw into a budget check that never yielded");
        Step::Return(Err(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_budget_yields_once() {
        refill();
        for _ in 0..BUDGET {
            assert!(spend());
        }
        let mut p = proceed();
        assert!(matches!(p.resume(Value::None), Step::Trap(t) if t == yield_trap()));
        assert!(matches!(p.resume(Value::None), Step::Return(Ok(()))));
        unlimited();
        let mut p = proceed();
        assert!(matches!(p.resume(Value::None), Step::Return(Ok(()))));
    }
}
