//! The ready queue's one way in, shared by the scheduler and the I/O
//! phase.

use crate::protocol::coroutine::Input;
use crate::task::{TaskRef, TaskState};

/// Puts a task on the ready queue, to be resumed with `input`. A free
/// function so that the I/O phase can call it while the poller is borrowed.
/// Always inlined: it is on every wake-up (measured: out of line, 49
/// instructions a call).
#[inline(always)]
pub(super) fn push_ready(ready: &mut Vec<(TaskRef, Input)>, task: TaskRef, input: Input) {
    let h = task.header();
    h.set_state(TaskState::Ready);
    h.clear_blocked();
    ready.push((task, input));
}
