//! The trap handlers: one `trap_*` method per [`Trap`], as in Curio's
//! kernel. Each either answers at once (`Next::Resume`: the task goes on
//! in the same cycle) or blocks the task (`Next::Suspend`), recording in
//! its header what to undo if it is cancelled while blocked.
//!
//! Only the blocking traps (sleep, I/O waits, task waits) deliver a pending
//! cancellation; spawn, clock, cancel and the timeout traps never do.

use std::os::fd::RawFd;
use std::rc::Rc;

use super::{Core, Next, TimerKind};
use crate::error::Error;
use crate::kernel::wait_queue::Sched;
use crate::protocol::coroutine::Input;
use crate::protocol::coroutine::Value;
use crate::protocol::trap::Trap;
use crate::task::{Blocked, Joiner, TaskRef};
use crate::task::{Task, TaskState};

/// The reply to a trap that answers at once.
pub(super) fn answer(value: Value) -> Next {
    Next::Resume(Input::Resume(value))
}

impl Core {
    /// Satisfies `trap`, issued by `task`.
    pub(super) fn trap(&mut self, task: &TaskRef, trap: Trap) -> Next {
        match trap {
            Trap::Sleep { seconds, absolute } => self.trap_sleep(task, seconds, absolute),
            Trap::ReadWait(fd) => self.trap_io(task, fd, true),
            Trap::WriteWait(fd) => self.trap_io(task, fd, false),
            Trap::IoRelease(fd) => self.trap_io_release(fd),
            Trap::IoWaiting(fd) => self.trap_io_waiting(fd),
            Trap::Clock => self.trap_clock(),
            Trap::GetCurrent => self.trap_get_current(task),
            Trap::SetTimeout(deadline) => self.trap_set_timeout(task, deadline),
            Trap::UnsetTimeout(previous) => self.trap_unset_timeout(task, previous),
            Trap::Spawn(new) => self.trap_spawn(task, new),
            Trap::CancelTask(target) => self.trap_cancel_task(target, Error::cancelled()),
            Trap::CancelTaskWith(request) => {
                let request = *request;
                self.trap_cancel_task(request.task, request.error)
            }
            Trap::TaskWait(target) => self.trap_task_wait(task, target),
            Trap::SchedulerWait { sched, state } => self.trap_sched_wait(task, sched, state),
            Trap::SchedulerWake { sched, n } => self.trap_sched_wake(sched, n),
            Trap::ExternalWait(work) => self.trap_external_wait(task, work),
        }
    }

    /// A pending cancellation, delivered instead of blocking (Curio's
    /// `check_cancellation` inside the kernel).
    pub(super) fn deliver_pending(&mut self, task: &TaskRef) -> Option<Next> {
        let h = task.header();
        if !h.cancel_allowed() {
            return None;
        }
        let error = h.take_pending()?;
        Some(Next::Resume(Input::Throw(error)))
    }

    /// Sleeps: `seconds == 0` yields to the other ready tasks and returns
    /// the clock; otherwise the task waits on a timer. An infinite sleep
    /// never wakes (only a cancellation ends it) and arms no timer; a
    /// duration that is not a number, or a negative one, is an error for
    /// the sleeper (an absolute time in the past wakes at once).
    fn trap_sleep(&mut self, task: &TaskRef, seconds: f64, absolute: bool) -> Next {
        if seconds.is_nan() || (!absolute && seconds < 0.0) {
            let what = if absolute { "wake_at" } else { "sleep" };
            return Next::Resume(Input::Throw(Error::value(format!(
                "{what}: the time must be a non-negative number, not {seconds}"
            ))));
        }
        if let Some(next) = self.deliver_pending(task) {
            return next;
        }
        if !absolute && seconds == 0.0 {
            let now = self.pass_clock();
            self.reschedule(task.clone(), Input::Resume(Value::Float(now)));
            return Next::Suspend;
        }
        let now = self.clock.now();
        let deadline = if absolute { seconds } else { now + seconds }.max(0.0);
        let h = task.header();
        h.sleep_until(deadline);
        if deadline.is_finite() {
            self.timers
                .push(deadline, h.key() as usize, h.id(), TimerKind::Sleep);
        }
        self.suspend(task, TaskState::TimeSleep, Blocked::Sleep)
    }

    /// Waits until `fd` is readable (`read`) or writable.
    fn trap_io(&mut self, task: &TaskRef, fd: RawFd, read: bool) -> Next {
        if let Some(next) = self.deliver_pending(task) {
            return next;
        }
        self.forget_closed();
        match self.io.register(fd, read, task) {
            Err(error) => return Next::Resume(Input::Throw(error)),
            Ok(false) => return answer(Value::None),
            Ok(true) => {}
        }
        if read {
            self.suspend(task, TaskState::ReadWait, Blocked::Read(fd))
        } else {
            self.suspend(task, TaskState::WriteWait, Blocked::Write(fd))
        }
    }

    /// Deregisters `fd` before it is closed. A task still blocked on it
    /// would never be woken: it gets an error instead.
    fn trap_io_release(&mut self, fd: RawFd) -> Next {
        self.release_fd(fd, false);
        answer(Value::None)
    }

    /// Forgets `fd`'s registration (it is `closed` already, or about to
    /// be); tasks blocked on it get an error.
    pub(super) fn release_fd(&mut self, fd: RawFd, closed: bool) {
        for stranded in self.io.release(fd, closed) {
            stranded.header().unblock();
            let error = std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                format!("file descriptor {fd} was released while this task waited on it"),
            );
            self.reschedule(stranded, Input::Throw(error.into()));
        }
    }

    /// Releases the fds that were closed by `Drop` since the last look.
    pub(super) fn forget_closed(&mut self) {
        if let Some(closed) = self.io.closed_since() {
            for fd in closed {
                self.release_fd(fd, true);
            }
        }
    }

    /// Which tasks are blocked on `fd`.
    fn trap_io_waiting(&mut self, fd: RawFd) -> Next {
        let (reader, writer) = self.io.waiting(fd);
        answer(Value::Waiting(Box::new((
            reader.map(Task::from_raw),
            writer.map(Task::from_raw),
        ))))
    }

    fn trap_clock(&mut self) -> Next {
        answer(Value::Float(self.clock.now()))
    }

    fn trap_get_current(&mut self, task: &TaskRef) -> Next {
        answer(Value::Task(Task::from_raw(task.clone())))
    }

    /// Starts a task built by the caller's `spawn`.
    fn trap_spawn(&mut self, task: &TaskRef, new: Task) -> Next {
        let raw = new.raw().clone();
        if raw.header().state() != TaskState::Initial {
            return Next::Resume(Input::Throw(Error::runtime(format!(
                "{new} was already spawned"
            ))));
        }
        // Task-local values are inherited: the child starts with a copy.
        if let Some(map) = task.header().locals() {
            let copy = Rc::new(crate::task::local::LocalMap::copy_of(&map));
            raw.header().extras(|e| e.locals = Some(copy));
        }
        self.admit(raw, task.header().id());
        answer(Value::None)
    }

    /// The error for a task handle used in a kernel that does not run it,
    /// if `task` is one: its key and wait numbers mean nothing here.
    fn foreign(&self, task: &TaskRef) -> Option<Next> {
        let kernel = task.header().kernel();
        if kernel == self.serial {
            return None;
        }
        let why = if kernel == 0 {
            "was never spawned"
        } else {
            "belongs to another kernel"
        };
        Some(Next::Resume(Input::Throw(Error::runtime(format!(
            "{task:?} {why}: a task can only be joined or cancelled from its own kernel"
        )))))
    }

    /// The error for a wait queue that has waiters of another kernel (a
    /// `Lock`, `Event`, `Queue`, ... shared by two kernels of one thread).
    fn foreign_queue(&self, sched: &Sched) -> Option<Next> {
        sched.foreign(self.serial).then(|| {
            Next::Resume(Input::Throw(Error::runtime(
                "tasks of another kernel are waiting on this primitive (Lock, Event, Queue, ...): \
                 it cannot be used by two kernels at once",
            )))
        })
    }

    /// Requests a cancellation: delivered now if the target is blocked and
    /// accepts it, else left pending for its next blocking operation. A
    /// second request for the same task does nothing.
    fn trap_cancel_task(&mut self, target: Task, error: Error) -> Next {
        let target = target.raw().clone();
        let h = target.header();
        if h.cancelled() || h.terminated() {
            return answer(Value::None);
        }
        if let Some(refused) = self.foreign(&target) {
            return refused;
        }
        // A cancelled task no longer cares about its timeout.
        if h.mark_cancelled() {
            self.forget_timer();
        }
        if !h.cancel_allowed() || !h.is_blocked() {
            h.set_pending(error);
            return answer(Value::None);
        }
        self.unblock(&target);
        self.reschedule(target, Input::Throw(error));
        answer(Value::None)
    }

    /// Waits for `target` to terminate.
    fn trap_task_wait(&mut self, task: &TaskRef, target: Task) -> Next {
        let target = target.raw().clone();
        if target.header().terminated() {
            return answer(Value::None);
        }
        if let Some(refused) = self.foreign(&target) {
            return refused;
        }
        if let Some(next) = self.deliver_pending(task) {
            return next;
        }
        if target == *task {
            return Next::Resume(Input::Throw(Error::runtime(
                "a task cannot wait for itself to terminate",
            )));
        }
        let next = self.suspend(task, TaskState::TaskJoin, Blocked::Join);
        let me = Joiner {
            key: task.header().key(),
            seq: task.header().suspension(),
        };
        let th = target.header();
        let first = th.first_joiner();
        if first == Joiner::NONE || self.joiner_task(first).is_none() {
            th.set_first_joiner(me);
        } else {
            let more = self.more_joiners.entry(th.id()).or_default();
            // Joiners that timed out or were cancelled leave stale
            // entries: drop them each time the list doubles, so a task
            // joined with a timeout again and again costs no memory.
            if more.len() >= 8 && more.len().is_power_of_two() {
                let tasks = &self.tasks;
                more.retain(|j| super::joiner_task(tasks, *j).is_some());
            }
            more.push(me);
        }
        next
    }

    /// Suspends the task on a scheduler primitive.
    fn trap_sched_wait(&mut self, task: &TaskRef, sched: Sched, state: TaskState) -> Next {
        if let Some(refused) = self.foreign_queue(&sched) {
            return refused;
        }
        if let Some(next) = self.deliver_pending(task) {
            return next;
        }
        let next = self.suspend(task, state, Blocked::Sched(sched.clone()));
        let h = task.header();
        let me = Joiner {
            key: h.key(),
            seq: h.suspension(),
        };
        sched.add(self.serial, me, |e| self.sched_waiter(e).is_some());
        next
    }

    /// The task behind a wait-queue entry, if it still waits there.
    fn sched_waiter(&self, entry: Joiner) -> Option<TaskRef> {
        let task = self.tasks.get(entry.key as usize)?;
        let h = task.header();
        (h.suspension() == entry.seq && h.is_on_queue()).then(|| task.clone())
    }

    /// Wakes up to `n` tasks of a scheduler primitive, oldest first.
    fn trap_sched_wake(&mut self, sched: Sched, n: usize) -> Next {
        if let Some(refused) = self.foreign_queue(&sched) {
            return refused;
        }
        self.wake_sched(&sched, n);
        answer(Value::None)
    }

    /// Reschedules up to `n` tasks waiting on `sched`, oldest first.
    /// Entries of another kernel's tasks are not this kernel's to wake.
    pub(super) fn wake_sched(&mut self, sched: &Sched, n: usize) {
        for _ in 0..n {
            let Some(waiter) = sched.pop(self.serial, |e| self.sched_waiter(e)) else {
                break;
            };
            self.reschedule(waiter, Input::start());
        }
    }
}
