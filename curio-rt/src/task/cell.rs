//! The kernel's record of a task: a [`Header`] of attributes shared with
//! every handle, and the coroutine itself, in one allocation.
//!
//! # Layout
//!
//! A spawned task is one `Rc<TaskCell<Frame<C>>>`. The kernel holds it
//! type-erased as a [`TaskRef`] (`Rc<TaskCell<dyn AnyTask>>`: the header
//! is a plain field, only the coroutine is behind the vtable) in its task
//! table, ready queue and wait lists; a [`Task<T>`](crate::Task) handle
//! holds another clone. The header is all `Cell`s: the kernel writes it
//! between steps and handles read it synchronously, as Curio's `Task`
//! attributes are read. Its fields are private to this file: the kernel
//! and the handles change them through methods named after what happens
//! (`admit`, `suspend`, `mark_cancelled`, `finish`, ...), which check the
//! invariants below in debug builds.
//!
//! # Invariants
//!
//! * `body` is borrowed mutably only inside [`AnyTask::step`]; handles read
//!   it only after `terminated` is set, so a task inspecting itself never
//!   meets a borrowed body.
//! * `blocked` is not [`Blocked::None`] exactly while the task is
//!   suspended on something it can be taken off (Curio's `cancel_func`):
//!   `suspend` finds it `None`, and readying or finishing the task clears
//!   it.
//! * A task is admitted to one kernel once, cancelled at most once,
//!   terminates once, and keeps its state after that; `joined` never goes
//!   back to false.
//! * A timer entry for the task is live only while `sleep` (or `timeout`)
//!   still holds that entry's deadline; clearing the field is how a timer is
//!   cancelled.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::os::fd::RawFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::{Rc, Weak};

use crate::error::{Error, Result};
use crate::kernel::external::External;
use crate::kernel::wait_queue::Sched;
use crate::protocol::coroutine::Input;
use crate::protocol::coroutine::{Coroutine, Location, Step};
use crate::protocol::trap::Trap;
use crate::task::members::Members;
use crate::task::{TaskResult, TaskState, Unknown};

/// What a suspended task can be taken off when it is cancelled or timed
/// out (Curio's `cancel_func`, as data).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Blocked {
    /// Running, ready, or terminated: nothing to undo.
    #[default]
    None,
    /// A sleep timer; cancelled by clearing `sleep`.
    Sleep,
    /// Waiting for `fd` to become readable.
    Read(RawFd),
    /// Waiting for `fd` to become writable.
    Write(RawFd),
    /// On another task's joiner list; the entry goes stale when
    /// `wait_seq` moves on.
    Join,
    /// On this scheduler primitive's wait queue ([`SchedFifo`](crate::SchedFifo)
    /// or [`SchedBarrier`](crate::SchedBarrier)), which forgets the task
    /// if it leaves early.
    Sched(Sched),
    /// On work another thread will complete, which the kernel abandons if
    /// the task leaves early.
    /// (Boxed: a fat pointer would make every header 8 bytes larger.)
    External(Box<External>),
}

#[cold]
#[inline(never)]
fn drop_blocked(on: Blocked) {
    drop(on);
}

/// A task waiting for another to terminate, by table key and suspension
/// number: stale unless the task at `key` is still in that suspension
/// (`seq == wait_seq`, which the kernel numbers uniquely) and joining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Joiner {
    pub key: u32,
    pub seq: u32,
}

impl Joiner {
    /// No joiner.
    pub const NONE: Joiner = Joiner {
        key: u32::MAX,
        seq: 0,
    };
}

/// The attributes of a task, shared by the kernel and every handle.
pub(crate) struct Header {
    /// Unique, increasing id (per thread, starting at 1).
    id: u64,
    /// The coroutine's name (`#[curio::task]` function name).
    name: &'static str,
    /// Id of the spawning task; 0 for a task started by `Kernel::run`.
    parent_id: Cell<u64>,
    /// Key in the kernel's task table while the task is in it.
    key: Cell<u32>,
    /// The serial number of the kernel that runs the task (0 before it is
    /// spawned): a handle used in another kernel is refused.
    kernel: Cell<u32>,
    /// Curio's state name.
    state: Cell<TaskState>,
    /// Daemon tasks are not joined and are cancelled at shutdown.
    daemon: Cell<bool>,
    /// A cancellation was requested (`cancel` sets it once).
    cancelled: Cell<bool>,
    /// The task has finished (returned, failed or panicked).
    terminated: Cell<bool>,
    /// Someone collected the task's outcome.
    joined: Cell<bool>,
    /// Cancellation may be delivered (cleared by `disable_cancellation`).
    allow_cancel: Cell<bool>,
    /// Scheduling cycles run.
    cycles: Cell<u64>,
    /// A cancellation waiting for the next blocking operation.
    cancel_pending: Cell<Option<Box<Error>>>,
    /// Effective timeout deadline (`f64::INFINITY`: none).
    timeout: Cell<f64>,
    /// Wake-up time of the current sleep (`f64::INFINITY`: none).
    sleep: Cell<f64>,
    /// What to undo if the task is cancelled while suspended (read it
    /// with the `blocked_*` methods).
    blocked: Cell<Blocked>,
    /// The kernel's number for the current suspension, so stale joiner
    /// entries can be recognised.
    wait_seq: Cell<u32>,
    /// The first task waiting for this one to terminate (more are kept by
    /// the kernel): most tasks have at most one joiner.
    joiner: Cell<Joiner>,
    /// What few tasks use (task-locals, timeout blocks, a task group), in
    /// one box made on first use: one word in every task instead of five.
    extras: Cell<Option<Box<Extras>>>,
}

/// The rarely used attributes of a task (see `Header::extras`).
#[derive(Default)]
pub(crate) struct Extras {
    /// Task-local values ([`Local`](crate::Local)); copied into spawned
    /// children.
    pub locals: Option<Rc<crate::task::local::LocalMap>>,
    /// Deadlines of the enclosing timeout blocks, outermost first
    /// (`f64::INFINITY` for `None`).
    pub deadlines: Vec<f64>,
    /// The task group the task belongs to, until the group lets it go
    /// (collected by `next_done`, joined directly, cancelled by
    /// `cancel_remaining`). Weak: a group that is dropped lets its members
    /// go; the kernel reports a member's end to a live group (see
    /// `task/group.rs`).
    pub group: Option<Weak<Members>>,
}

thread_local! {
    static LAST_ID: Cell<u64> = const { Cell::new(0) };
}

impl Header {
    fn new(name: &'static str) -> Header {
        let id = LAST_ID.with(|last| {
            last.set(last.get() + 1);
            last.get()
        });
        Header {
            id,
            name,
            parent_id: Cell::new(0),
            key: Cell::new(u32::MAX),
            kernel: Cell::new(0),
            state: Cell::new(TaskState::Initial),
            daemon: Cell::new(false),
            cancelled: Cell::new(false),
            terminated: Cell::new(false),
            joined: Cell::new(false),
            allow_cancel: Cell::new(true),
            cycles: Cell::new(0),
            cancel_pending: Cell::new(None),
            timeout: Cell::new(f64::INFINITY),
            sleep: Cell::new(f64::INFINITY),
            blocked: Cell::new(Blocked::None),
            wait_seq: Cell::new(0),
            joiner: Cell::new(Joiner::NONE),
            extras: Cell::new(None),
        }
    }

    // ---- Identity and the kernel's bookkeeping -------------------------

    /// Unique, increasing id (per thread, starting at 1).
    #[inline]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The coroutine's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The spawning task's id; 0 for a task started by `Kernel::run`.
    pub fn parent_id(&self) -> u64 {
        self.parent_id.get()
    }

    /// The task's key in its kernel's table (`u32::MAX` outside one).
    #[inline]
    pub fn key(&self) -> u32 {
        self.key.get()
    }

    /// The serial number of the kernel running the task (0: none yet).
    pub fn kernel(&self) -> u32 {
        self.kernel.get()
    }

    /// Enters a kernel: spawned by `parent_id` (0 for a main task), in
    /// the kernel `serial`, at `key` in its table. Once per task.
    pub fn admit(&self, parent_id: u64, serial: u32, key: u32) {
        debug_assert_eq!(self.kernel.get(), 0, "a task is admitted once");
        self.parent_id.set(parent_id);
        self.kernel.set(serial);
        self.key.set(key);
    }

    // ---- State ---------------------------------------------------------

    /// Curio's state name.
    #[inline]
    pub fn state(&self) -> TaskState {
        self.state.get()
    }

    /// Shows `state` (ready, running, or what the task waits in).
    #[inline]
    pub fn set_state(&self, state: TaskState) {
        debug_assert!(!self.terminated.get(), "a terminated task keeps its state");
        self.state.set(state);
    }

    /// The kernel runs the task for one more cycle.
    #[inline]
    pub fn start_cycle(&self) {
        self.set_state(TaskState::Running);
        self.cycles.set(self.cycles.get() + 1);
    }

    /// Scheduling cycles run.
    pub fn cycles(&self) -> u64 {
        self.cycles.get()
    }

    /// Marks the task finished and out of its kernel's table; returns the
    /// key it had there. Clears what it waited on and any timeout (the
    /// result says whether a timeout timer was armed). Once per task.
    pub fn finish(&self) -> (u32, bool) {
        debug_assert!(!self.terminated.get(), "a task terminates once");
        self.state.set(TaskState::Terminated);
        self.terminated.set(true);
        self.clear_blocked();
        let armed = self.clear_timeout();
        (self.key.replace(u32::MAX), armed)
    }

    /// Whether the task has finished (returned, failed or panicked).
    #[inline]
    pub fn terminated(&self) -> bool {
        self.terminated.get()
    }

    /// Whether the task is a daemon (not joined; cancelled at shutdown).
    pub fn daemon(&self) -> bool {
        self.daemon.get()
    }

    /// Makes the task a daemon or not (before it is spawned).
    pub fn set_daemon(&self, daemon: bool) {
        self.daemon.set(daemon);
    }

    /// Whether someone collected the task's outcome.
    pub fn joined(&self) -> bool {
        self.joined.get()
    }

    /// Someone collected the outcome (a join, `result`, a cancel of a
    /// finished task, the kernel for a main task). It stays so.
    pub fn mark_joined(&self) {
        self.joined.set(true);
    }

    // ---- Cancellation --------------------------------------------------

    /// Whether a cancellation was requested.
    pub fn cancelled(&self) -> bool {
        self.cancelled.get()
    }

    /// Records the one cancellation request a task gets. Its timeout no
    /// longer matters: the result says whether a timeout timer was armed.
    pub fn mark_cancelled(&self) -> bool {
        debug_assert!(!self.cancelled.get(), "a task is cancelled once");
        self.cancelled.set(true);
        self.clear_timeout()
    }

    /// Whether a cancellation may be delivered now.
    #[inline]
    pub fn cancel_allowed(&self) -> bool {
        self.allow_cancel.get()
    }

    /// Allows or forbids delivering cancellations (`disable_cancellation`);
    /// returns the previous setting.
    pub fn allow_cancel(&self, allowed: bool) -> bool {
        self.allow_cancel.replace(allowed)
    }

    /// Leaves `error` pending, for the next blocking operation.
    pub fn set_pending(&self, error: Error) {
        self.cancel_pending.set(Some(Box::new(error)));
    }

    /// Takes the pending cancellation, if any.
    pub fn take_pending(&self) -> Option<Error> {
        self.cancel_pending.take().map(|e| *e)
    }

    /// Replaces the pending cancellation; returns the previous one.
    pub fn replace_pending(&self, error: Option<Error>) -> Option<Error> {
        self.cancel_pending.replace(error.map(Box::new)).map(|e| *e)
    }

    // ---- Sleeping ------------------------------------------------------

    /// When the current sleep ends (`f64::INFINITY`: not sleeping).
    pub fn sleep_deadline(&self) -> f64 {
        self.sleep.get()
    }

    /// The task sleeps until `deadline`.
    pub fn sleep_until(&self, deadline: f64) {
        self.sleep.set(deadline);
    }

    /// The sleep is over (woken or cancelled); whether a timer was armed
    /// for it (a finite deadline), which is now stale.
    pub fn clear_sleep(&self) -> bool {
        self.sleep.replace(f64::INFINITY).is_finite()
    }

    // ---- Timeouts: all of a task's timeout state, in one place ---------
    //
    // `timeout` is the deadline in force: the earliest of the enclosing
    // timeout blocks' (`f64::INFINITY`: none). The kernel's timer entry
    // for the task is live while `timeout` holds that entry's deadline
    // (clearing it is how the timer is cancelled). Each block's own
    // deadline is kept too (`extras.deadlines`, outermost first), so that
    // a block can tell whether an expired timeout is its own, an outer
    // one's, or one that escaped (see `task/timeout.rs`).

    /// The deadline in force (`f64::INFINITY`: none).
    pub fn timeout_deadline(&self) -> f64 {
        self.timeout.get()
    }

    /// Puts `deadline` in force (it is earlier than the one it replaces,
    /// or restores the one before a block).
    pub fn set_timeout_deadline(&self, deadline: f64) {
        self.timeout.set(deadline);
    }

    /// No deadline in force any more (it expired, the block ended, the
    /// task was cancelled or finished); whether one was armed, whose timer
    /// entry is now stale.
    pub fn clear_timeout(&self) -> bool {
        self.timeout.replace(f64::INFINITY).is_finite()
    }

    /// Drops a pending timeout (its block is over); a pending cancellation
    /// of another kind stays.
    pub fn drop_pending_timeout(&self) {
        let pending = self.cancel_pending.take();
        if !matches!(pending.as_deref(), Some(Error::TaskTimeout(_))) {
            self.cancel_pending.set(pending);
        }
    }

    /// Runs `f` on the deadlines of the enclosing timeout blocks,
    /// outermost first (`f64::INFINITY` for a block without one).
    pub fn with_block_deadlines<R>(&self, f: impl FnOnce(&mut Vec<f64>) -> R) -> R {
        self.extras(|e| f(&mut e.deadlines))
    }

    // ---- Joiners -------------------------------------------------------

    /// The kernel's number for the task's current suspension.
    #[inline]
    pub fn suspension(&self) -> u32 {
        self.wait_seq.get()
    }

    /// Suspends the task in `state`, on `on`, as suspension number `seq`.
    #[inline(always)]
    pub fn suspend(&self, state: TaskState, on: Blocked, seq: u32) {
        self.set_state(state);
        self.block(on);
        self.wait_seq.set(seq);
    }

    /// The first task waiting for this one to end (`Joiner::NONE`).
    pub fn first_joiner(&self) -> Joiner {
        self.joiner.get()
    }

    /// Records the first joiner.
    pub fn set_first_joiner(&self, joiner: Joiner) {
        self.joiner.set(joiner);
    }

    /// Takes the first joiner, to wake it.
    pub fn take_first_joiner(&self) -> Joiner {
        self.joiner.replace(Joiner::NONE)
    }

    // ---- What the task is blocked on -----------------------------------

    /// The pending cancellation, if any (left pending).
    pub fn peek_pending(&self) -> Option<Error> {
        let pending = self.cancel_pending.take();
        let copy = pending.as_deref().cloned();
        self.cancel_pending.set(pending);
        copy
    }

    /// Records what the task is suspended on (it was on nothing: see
    /// [`clear_blocked`](Self::clear_blocked)).
    #[inline(always)]
    fn block(&self, on: Blocked) {
        let before = self.blocked.replace(on);
        debug_assert!(
            before == Blocked::None,
            "suspended while blocked on {before:?}"
        );
        std::mem::forget(before);
    }

    /// Marks the task as suspended on nothing (it is ready, running or
    /// done). Inline and branch-light: only a wait queue needs dropping
    /// (out of line), and this runs on every wake-up.
    #[inline(always)]
    pub fn clear_blocked(&self) {
        match self.blocked.take() {
            on @ (Blocked::Sched(_) | Blocked::External(_)) => drop_blocked(on),
            other => std::mem::forget(other),
        }
    }

    /// Takes the task off what it was suspended on: returns it, and leaves
    /// `Blocked::None`.
    pub fn unblock(&self) -> Blocked {
        self.blocked.take()
    }

    /// Whether the task is suspended on something it can be taken off.
    pub fn is_blocked(&self) -> bool {
        self.peek_blocked(|b| *b != Blocked::None)
    }

    /// Whether the task waits on another task's end.
    pub fn is_joining(&self) -> bool {
        self.peek_blocked(|b| *b == Blocked::Join)
    }

    /// Whether the task waits for another thread's work.
    pub fn is_waiting_external(&self) -> bool {
        self.peek_blocked(|b| matches!(b, Blocked::External(_)))
    }

    /// Whether the task waits on a scheduler primitive's queue.
    pub fn is_on_queue(&self) -> bool {
        self.peek_blocked(|b| matches!(b, Blocked::Sched(_)))
    }

    fn peek_blocked<R>(&self, f: impl FnOnce(&Blocked) -> R) -> R {
        let blocked = self.blocked.take();
        let out = f(&blocked);
        std::mem::forget(self.blocked.replace(blocked));
        out
    }

    /// Runs `f` on the rarely used attributes, making them on first use.
    /// `f` must not reach this header's extras again.
    pub fn extras<R>(&self, f: impl FnOnce(&mut Extras) -> R) -> R {
        let mut extras = self.extras.take().unwrap_or_default();
        let out = f(&mut extras);
        self.extras.set(Some(extras));
        out
    }

    /// Runs `f` on the rarely used attributes if the task has any.
    pub fn peek_extras<R>(&self, f: impl FnOnce(Option<&mut Extras>) -> R) -> R {
        let mut extras = self.extras.take();
        let out = f(extras.as_deref_mut());
        self.extras.set(extras);
        out
    }

    /// The task-locals, if the task has any.
    pub fn locals(&self) -> Option<Rc<crate::task::local::LocalMap>> {
        self.peek_extras(|e| e.and_then(|e| e.locals.clone()))
    }

    /// Makes the task a member of `group`.
    pub fn join_group(&self, group: &Rc<Members>) {
        self.extras(|e| e.group = Some(Rc::downgrade(group)));
    }

    /// The task group the task belongs to, if any (and still alive).
    pub fn group(&self) -> Option<Rc<Members>> {
        self.peek_extras(|e| e.and_then(|e| e.group.as_ref()?.upgrade()))
    }

    /// Takes the task out of its group (Curio's `task.taskgroup = None`).
    pub fn leave_group(&self) -> Option<Rc<Members>> {
        self.peek_extras(|e| e.and_then(|e| e.group.take()?.upgrade()))
    }

    /// Whether the task is in a task group.
    pub fn in_group(&self) -> bool {
        self.group().is_some()
    }
}

/// The type-erased face of a task's coroutine, as the kernel and untyped
/// handles see it (the header beside it needs no virtual call).
pub(crate) trait AnyTask {
    /// Continues the coroutine; `None` when it finished (the outcome is
    /// stored). A panic is caught and stored as the task's error.
    fn step(&self, input: Input) -> Option<Trap>;
    /// The chain of suspension points, outermost first.
    fn traceback(&self, visit: &mut dyn FnMut(&'static Location));
    /// The error the task failed with, once terminated.
    fn error(&self) -> Option<Error>;
    /// Writes the outcome into `out`, an `Option<Result<T>>` for the task's
    /// own result type (taking the value) or for [`Unknown`].
    fn outcome(&self, out: &mut dyn Any);
    /// Shows the returned value (if any, and not taken) to `look`.
    fn peek(&self, look: &mut dyn FnMut(&dyn Any));
    /// Whether the coroutine returned a value that nobody took.
    fn unclaimed(&self) -> bool;
}

/// A shared, type-erased task: what the kernel queues.
#[derive(Clone)]
pub(crate) struct TaskRef(pub Rc<TaskCell<dyn AnyTask>>);

impl TaskRef {
    /// The shared attributes: a field, not a virtual call (the kernel
    /// reads them several times per trap).
    #[inline]
    pub fn header(&self) -> &Header {
        &self.0.header
    }

    /// The coroutine and its outcome.
    #[inline]
    pub fn body(&self) -> &dyn AnyTask {
        &self.0.body
    }
}

impl PartialEq for TaskRef {
    fn eq(&self, other: &TaskRef) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.header();
        write!(
            f,
            "Task(id={}, name={:?}, state={})",
            h.id,
            h.name,
            h.state.get()
        )
    }
}

/// The coroutine, then its outcome.
enum Body<C: Coroutine<Output: TaskResult>> {
    Live(C),
    /// Returned; `None` once a join took the value.
    Returned(Option<<C::Output as TaskResult>::Ok>),
    /// Boxed: failures are rare, and the body stays as small as the
    /// coroutine.
    Failed(Box<Error>),
}

/// One task in one allocation: the header, then the coroutine (a
/// [`Frame`], seen by the kernel as `dyn AnyTask`).
pub(crate) struct TaskCell<B: ?Sized + AnyTask> {
    header: Header,
    body: B,
}

/// A task's coroutine, then its outcome.
pub(crate) struct Frame<C: Coroutine<Output: TaskResult>>(RefCell<Body<C>>);

impl<C> TaskCell<Frame<C>>
where
    C: Coroutine<Output: TaskResult> + 'static,
{
    /// A new task record, not yet in any kernel.
    pub fn new(coroutine: C) -> Rc<TaskCell<Frame<C>>> {
        Rc::new(TaskCell {
            header: Header::new(coroutine.name()),
            body: Frame(RefCell::new(Body::Live(coroutine))),
        })
    }
}

impl<B: ?Sized + AnyTask> Drop for TaskCell<B> {
    /// Curio's `Task.__del__`: a task that finished well but whose result
    /// nobody collected (not joined or taken, not cancelled, not a daemon)
    /// is probably a mistake; say so.
    fn drop(&mut self) {
        let h = &self.header;
        if h.terminated.get()
            && self.body.unclaimed()
            && !h.joined.get()
            && !h.cancelled.get()
            && !h.daemon.get()
        {
            log::warn!(target: "curio::task", "Task(id={}, name={:?}) never joined", h.id, h.name);
        }
    }
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_string(),
            Err(_) => "panic with a non-string payload".to_string(),
        },
    }
}

impl<C> AnyTask for Frame<C>
where
    C: Coroutine<Output: TaskResult> + 'static,
{
    fn step(&self, input: Input) -> Option<Trap> {
        let mut body = self.0.borrow_mut();
        let Body::Live(coroutine) = &mut *body else {
            unreachable!("the kernel stepped a terminated task");
        };
        let outcome = match catch_unwind(AssertUnwindSafe(|| input.drive(coroutine))) {
            Ok(Step::Trap(trap)) => return Some(trap),
            Ok(Step::Return(output)) => match output.into_result() {
                Ok(value) => Body::Returned(Some(value)),
                Err(error) => Body::Failed(Box::new(error)),
            },
            Err(payload) => Body::Failed(Box::new(Error::Panic(panic_message(payload)))),
        };
        let finished = std::mem::replace(&mut *body, outcome);
        drop(body);
        // Dropping a coroutine that panicked runs its locals' destructors;
        // one of those may panic too.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(finished))) {
            log::error!(target: "curio::kernel", "panic while dropping a finished task: {}", panic_message(payload));
        }
        None
    }

    fn traceback(&self, visit: &mut dyn FnMut(&'static Location)) {
        if let Ok(body) = self.0.try_borrow()
            && let Body::Live(coroutine) = &*body
        {
            coroutine.traceback(visit);
        }
    }

    fn error(&self) -> Option<Error> {
        match &*self.0.try_borrow().ok()? {
            Body::Failed(error) => Some((**error).clone()),
            _ => None,
        }
    }

    fn peek(&self, look: &mut dyn FnMut(&dyn Any)) {
        if let Ok(body) = self.0.try_borrow()
            && let Body::Returned(Some(value)) = &*body
        {
            look(value);
        }
    }

    fn unclaimed(&self) -> bool {
        matches!(self.0.try_borrow().as_deref(), Ok(Body::Returned(Some(_))))
    }

    fn outcome(&self, out: &mut dyn Any) {
        let Ok(mut body) = self.0.try_borrow_mut() else {
            return;
        };
        if let Some(slot) = out.downcast_mut::<Option<Result<<C::Output as TaskResult>::Ok>>>() {
            *slot = match &mut *body {
                Body::Live(_) => None,
                Body::Returned(value) => Some(value.take().ok_or_else(|| {
                    Error::runtime("the task's result was already taken (by join or take_result)")
                })),
                Body::Failed(error) => Some(Err((**error).clone())),
            };
        } else if let Some(slot) = out.downcast_mut::<Option<Result<Unknown>>>() {
            *slot = match &*body {
                Body::Live(_) => None,
                Body::Returned(_) => Some(Ok(Unknown)),
                Body::Failed(error) => Some(Err((**error).clone())),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every task pays for its header: keep it from growing unnoticed.
    /// (120 bytes since a task blocked on a wait queue names the queue in
    /// its header: the kernel's side table of 8 bytes per task is gone.)
    #[test]
    fn header_and_leaf_sizes() {
        assert_eq!(std::mem::size_of::<Header>(), 120);
        assert_eq!(std::mem::size_of::<Input>(), 32);
        assert_eq!(
            std::mem::size_of::<crate::protocol::traps::TrapCall<f64>>(),
            24
        );
    }
}
