//! [`Members`]: the part of a task group the kernel sees, so that a member
//! reports its own end (Curio's `Task._task_runner` calling
//! `taskgroup._task_done(task)` in its `finally`).
//!
//! # Why the kernel calls in
//!
//! A member that returns, fails, panics or is cancelled ends in the
//! kernel's `terminate`, which is the one place that sees every end (a
//! panic never reaches code inside the task). There the kernel calls
//! [`Members::exited`] and, if it says so, wakes the group's waiters. A
//! member costs one pointer in its header, and no helper task.
//!
//! # Bounded memory
//!
//! Members are kept by id in ordered maps, so adding, finishing and
//! collecting one costs `O(log n)` whatever the group's size, and a
//! member collected with `next_done` leaves nothing behind: a server that
//! reaps its clients stays the same size over millions of connections.
//!
//! The member's header holds the group weakly until the group lets it go
//! (collected, joined directly, cancelled by `cancel_remaining`): no
//! cycle, so a group dropped without being joined frees itself and its
//! finished members.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

use crate::sync::sched::SchedBarrier;
use crate::task::TaskRef;

/// The members of one task group, type-erased.
#[derive(Default)]
pub(crate) struct Members {
    /// Non-daemon members still in the group (finished or not), by id.
    tasks: RefCell<BTreeMap<u64, TaskRef>>,
    /// Non-daemon members that have not finished, by id.
    running: RefCell<BTreeMap<u64, TaskRef>>,
    /// Daemon members that have not finished, by id.
    daemonic: RefCell<BTreeMap<u64, TaskRef>>,
    /// Non-daemon members that finished and were not yet collected, in
    /// the order they finished. An entry whose task has left `tasks`
    /// since (cancelled by `cancel_remaining`) is skipped when popped.
    finished: RefCell<VecDeque<TaskRef>>,
    /// Woken whenever a non-daemon member finishes.
    done: SchedBarrier,
}

impl Members {
    /// Records a new member that is still running.
    pub fn add_running(&self, task: TaskRef, daemon: bool) {
        let id = task.header().id();
        if daemon {
            self.daemonic.borrow_mut().insert(id, task);
        } else {
            self.tasks.borrow_mut().insert(id, task.clone());
            self.running.borrow_mut().insert(id, task);
        }
    }

    /// Records a member that had already finished when it was added.
    pub fn add_finished(&self, task: TaskRef) {
        if !task.header().daemon() {
            self.tasks
                .borrow_mut()
                .insert(task.header().id(), task.clone());
            self.finished.borrow_mut().push_back(task);
        }
    }

    /// Whether `id` is a member (daemon or not).
    pub fn contains(&self, id: u64) -> bool {
        self.tasks.borrow().contains_key(&id) || self.daemonic.borrow().contains_key(&id)
    }

    /// Called by the kernel when `task`, a member, terminates: whether the
    /// group's waiters must be woken (a non-daemon member that was still
    /// counted as running finished).
    pub fn exited(&self, task: &TaskRef) -> bool {
        let id = task.header().id();
        if self.daemonic.borrow_mut().remove(&id).is_some() {
            return false;
        }
        if self.running.borrow_mut().remove(&id).is_none() {
            return false;
        }
        self.finished.borrow_mut().push_back(task.clone());
        true
    }

    /// The wait queue that [`exited`](Self::exited) asks to be woken.
    pub fn done(&self) -> &SchedBarrier {
        &self.done
    }

    /// Whether a non-daemon member is still running.
    pub fn any_running(&self) -> bool {
        !self.running.borrow().is_empty()
    }

    /// Whether a finished member waits to be collected.
    pub fn any_finished(&self) -> bool {
        self.prune_finished();
        !self.finished.borrow().is_empty()
    }

    /// Drops finished entries of tasks no longer in the group.
    fn prune_finished(&self) {
        let tasks = self.tasks.borrow();
        let mut finished = self.finished.borrow_mut();
        while finished
            .front()
            .is_some_and(|t| !tasks.contains_key(&t.header().id()))
        {
            finished.pop_front();
        }
    }

    /// The next finished member, in finish order; it stays in the group.
    pub fn pop_finished(&self) -> Option<TaskRef> {
        self.prune_finished();
        self.finished.borrow_mut().pop_front()
    }

    /// Removes a member from the group (collected, or joined directly).
    pub fn remove(&self, id: u64) {
        self.tasks.borrow_mut().remove(&id);
    }

    /// Takes the running non-daemon member with the highest id out of the
    /// running set (it will not be reported as finished).
    pub fn pop_running(&self) -> Option<TaskRef> {
        self.running.borrow_mut().pop_last().map(|(_, t)| t)
    }

    /// Takes the daemon member with the highest id out of the group.
    pub fn pop_daemon(&self) -> Option<TaskRef> {
        self.daemonic.borrow_mut().pop_last().map(|(_, t)| t)
    }

    /// The running non-daemon members, by id.
    pub fn running(&self) -> Vec<TaskRef> {
        self.running.borrow().values().cloned().collect()
    }

    /// The non-daemon members still in the group, by id.
    pub fn tasks(&self) -> Vec<TaskRef> {
        self.tasks.borrow().values().cloned().collect()
    }
}
