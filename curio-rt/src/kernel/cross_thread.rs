//! The kernel's side of the cross-thread way in (`external.rs`): the
//! `ExternalWait` trap and draining the inbox each pass.

use super::external::{External, Waiter};

impl super::Core {
    /// Suspends `task` until another thread completes `work`.
    pub(super) fn trap_external_wait(
        &mut self,
        task: &crate::task::TaskRef,
        work: External,
    ) -> super::Next {
        use crate::protocol::coroutine::Input;
        if let Some(next) = self.deliver_pending(task) {
            work.0.abandon();
            return next;
        }
        let waker = match self.io.waker() {
            Ok(waker) => waker,
            Err(error) => {
                work.0.abandon();
                return super::Next::Resume(Input::Throw(error.into()));
            }
        };
        let arm = work.clone();
        let next = self.suspend(
            task,
            crate::task::TaskState::FutureWait,
            crate::task::Blocked::External(Box::new(work)),
        );
        self.external_waiting += 1;
        let h = task.header();
        let waiter = Waiter::new(self.inbox.clone(), waker, h.key(), h.suspension());
        if !arm.0.arm(waiter) {
            // Already done: no need to wait.
            self.external_waiting -= 1;
            self.reschedule(task.clone(), Input::start());
        }
        next
    }

    /// Readies the tasks whose work another thread completed.
    #[inline]
    pub(super) fn drain_inbox(&mut self) {
        if !self.inbox.any() {
            return;
        }
        self.drain_inbox_slow();
    }

    #[cold]
    fn drain_inbox_slow(&mut self) {
        for (key, seq) in self.inbox.drain() {
            let Some(task) = self.tasks.get(key as usize) else {
                continue;
            };
            let h = task.header();
            if h.suspension() == seq && h.is_waiting_external() {
                let task = task.clone();
                self.external_waiting -= 1;
                self.reschedule(task, crate::protocol::coroutine::Input::start());
            }
        }
    }
}
