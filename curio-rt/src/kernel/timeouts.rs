//! The kernel's side of timeouts, in one place: entering and leaving a
//! timeout block (the `SetTimeout` / `UnsetTimeout` traps) and a deadline
//! that expires. The task's timeout state is behind its header's timeout
//! methods (`task/cell.rs`); what a block does with an expired timeout
//! (its own, an outer one's, one that escaped) is `task/timeout.rs`.
//!
//! The deadline in force is the earliest of the enclosing blocks'. Each
//! block arms a timer entry for its deadline; an entry is live while the
//! header's deadline in force equals it, so a block that ends or a task
//! that is cancelled makes its entry stale by clearing the deadline (the
//! heap drops stale entries lazily: `timer.rs`).

use super::dispatch::answer;
use super::{Core, Next, TimerKind};
use crate::error::Error;
use crate::protocol::coroutine::{Input, Value};
use crate::task::TaskRef;

impl Core {
    /// Enters a timeout block: the effective deadline becomes the earlier
    /// of `deadline` and the one in force (`None` keeps the one in force).
    /// Answers the previous effective deadline.
    pub(super) fn trap_set_timeout(&mut self, task: &TaskRef, deadline: Option<f64>) -> Next {
        if deadline.is_some_and(f64::is_nan) {
            return Next::Resume(Input::Throw(Error::value(
                "set_timeout: the deadline must be a number, not NaN",
            )));
        }
        let h = task.header();
        let old = h.timeout_deadline();
        // An infinite deadline is no deadline.
        if let Some(deadline) = deadline.filter(|d| d.is_finite()) {
            let deadline = deadline.max(0.0);
            self.timers
                .push(deadline, h.key() as usize, h.id(), TimerKind::Timeout);
            if deadline <= old {
                h.set_timeout_deadline(deadline);
                if old.is_finite() {
                    // The old entry is stale until the block is left.
                    self.forget_timer();
                }
            } else {
                // The new entry is stale from the start.
                self.forget_timer();
            }
        }
        answer(deadline_value(old))
    }

    /// Leaves a timeout block, restoring `previous`. If `previous` has
    /// already passed, its timeout fires on the next pass (delivered at the
    /// next blocking operation, never here). Otherwise a `TaskTimeout` still
    /// pending from the block is dropped: the block is over. Answers the
    /// clock.
    pub(super) fn trap_unset_timeout(&mut self, task: &TaskRef, previous: Option<f64>) -> Next {
        let h = task.header();
        if h.clear_timeout() {
            self.forget_timer();
        }
        let now = self.clock.now();
        if let Some(previous) = previous.map(|p| p.max(0.0)) {
            h.set_timeout_deadline(previous);
            self.timers
                .push(previous, h.key() as usize, h.id(), TimerKind::Timeout);
            if previous < now {
                return answer(Value::Float(now));
            }
        }
        h.drop_pending_timeout();
        answer(Value::Float(now))
    }

    /// A deadline in force passed: the task gets `TaskTimeout` at once if
    /// it is blocked and accepts cancellation, else at its next blocking
    /// operation.
    pub(super) fn timeout_expired(&mut self, task: TaskRef, now: f64) {
        let h = task.header();
        h.clear_timeout();
        if h.cancel_allowed() && h.is_blocked() {
            self.unblock(&task);
            self.reschedule(task, Input::Throw(Error::timeout(now)));
        } else {
            h.set_pending(Error::timeout(now));
        }
    }
}

/// A deadline as a reply: `None` for no deadline.
fn deadline_value(deadline: f64) -> Value {
    if deadline.is_finite() {
        Value::Float(deadline)
    } else {
        Value::None
    }
}
