//! The kernel: a queuing system that runs tasks until they trap, and
//! satisfies each trap by moving the task between queues.
//!
//! The rules a user needs are in the docs of [`Kernel`], where rustdoc
//! shows them.

pub(crate) mod activation;
mod cross_thread;
mod dispatch;
pub(crate) mod external;
mod io;
mod ready;
mod timeouts;
mod timer;
pub(crate) mod wait_queue;
mod waker;

pub(crate) use io::note_closed;
pub use waker::KernelWaker;

use std::cell::Cell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use slab::Slab;

use crate::error::{Error, Result};
use crate::kernel::activation::Activation;
use crate::protocol::coroutine::Input;
use crate::protocol::coroutine::{Coroutine, Value};
use crate::task::Task;
use crate::task::{Blocked, Joiner, TaskCell, TaskRef, TaskResult, TaskState};
use io::Io;
use ready::push_ready;
use timer::{Entry, TimeQueue, TimerKind};

/// Seconds on the process's monotonic clock (the real-time kernel clock).
pub(crate) fn monotonic() -> f64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_secs_f64()
}

thread_local! {
    /// Whether a kernel is running in this thread.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as running a kernel for its lifetime.
struct RunningGuard;

impl RunningGuard {
    fn enter() -> Result<RunningGuard> {
        if RUNNING.with(|r| r.replace(true)) {
            return Err(Error::runtime(
                "a kernel is already running in this thread (curio::run inside a task?)",
            ));
        }
        Ok(RunningGuard)
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        RUNNING.with(|r| r.set(false));
    }
}

/// The kernel clock.
enum Clock {
    Real,
    /// Advanced only by the kernel, to the next timer, when nothing is ready.
    Virtual(f64),
}

impl Clock {
    fn now(&self) -> f64 {
        match self {
            Clock::Real => monotonic(),
            Clock::Virtual(now) => *now,
        }
    }
}

/// Everything the kernel loop and the trap handlers work on.
struct Core {
    /// Every live task, by key (`Header::key`).
    tasks: Slab<TaskRef>,
    /// Completions posted from other threads (`external.rs`).
    inbox: std::sync::Arc<external::Inbox>,
    /// Tasks waiting for another thread's work.
    external_waiting: usize,
    /// Tasks ready to run, each with what it will be resumed with, in
    /// order: the next scheduling pass runs them all.
    ready: Vec<(TaskRef, Input)>,
    /// The pass being run: the queue as it was when the pass began (tasks
    /// made ready meanwhile wait in `ready` for the next pass, as in
    /// Curio). Kept between passes for its allocation.
    running: Vec<(TaskRef, Input)>,
    /// Sleeps and timeouts.
    timers: TimeQueue,
    /// File descriptor waits and the thread wake-up.
    io: Io,
    clock: Clock,
    activations: Vec<Box<dyn Activation>>,
    /// The task `Kernel::run` is running, if any.
    main: Option<TaskRef>,
    /// The clock as read once in this scheduling pass (for `sleep(0)`).
    pass_clock: Option<f64>,
    /// Joiners after the first, by the id of the task they wait for.
    more_joiners: HashMap<u64, Vec<Joiner>>,
    /// Numbers suspensions (`Header::wait_seq`).
    seq: u32,
    /// This kernel's serial number, unique in the process: tasks and wait
    /// queues record it, so that a handle used in the wrong kernel is
    /// refused instead of corrupting this one's tables.
    serial: u32,
}

/// Gives each kernel its serial number (0 is never given: it marks a
/// task that no kernel runs yet).
fn next_serial() -> u32 {
    static SERIAL: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// How the kernel ended up after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Usable,
    ShutDown,
    /// The kernel itself failed (its poller broke); it cannot run again.
    Crashed,
}

/// A curio kernel (Curio's `Kernel`): runs tasks in this thread.
///
/// Most programs call [`run`](crate::run), which makes a kernel, runs one
/// main task and shuts down. Make a `Kernel` to run several main tasks in
/// turn (tasks left running by one `run` continue in the next), to step it
/// one cycle at a time, or to install [activations](Activation).
///
/// Dropping a kernel shuts it down (cancelling every task left).
///
/// # Examples
/// ```
/// use curio::{Kernel, sleep, Result};
///
/// #[curio::task]
/// async fn add(a: i64, b: i64) -> Result<i64> {
///     sleep(0.0).await?;
///     Ok(a + b)
/// }
///
/// let mut kernel = Kernel::new();
/// assert_eq!(kernel.run(add(1, 2)).unwrap(), 3);
/// assert_eq!(kernel.run(add(3, 4)).unwrap(), 7);
/// kernel.shutdown().unwrap();
/// ```
///
/// # The loop
///
/// Each pass has three phases, as in Curio's `kernel_run`:
///
/// 1. **Poll I/O.** Wait for file descriptors: not at all if tasks are
///    ready, else until the next timer is due (or without limit).
///    Tasks whose fd is ready go to the back of the ready queue.
/// 2. **Expire timers.** Sleeps that are due reschedule their task with the
///    clock; timeouts that are due throw `TaskTimeout` into a blocked task
///    (or leave it pending for a running or shielded one).
/// 3. **Run ready tasks.** Exactly the tasks ready at this point, in FIFO
///    order; tasks made ready meanwhile wait for the next pass, so a task
///    yielding with `sleep(0)` cannot starve the others. (The queue is a
///    vector, swapped for an empty one when the pass begins: running it
///    is a walk over an array.) Each task runs until it blocks: traps
///    that do not block (`clock`, `spawn`, ...) are answered at once and
///    the task continues in the same cycle.
///
/// The trap handlers, one per trap, are in `dispatch.rs`. The kernel does
/// no I/O of its own and knows nothing of sockets, locks or queues: those
/// are coroutines over the traps.
///
/// # Time
///
/// The clock is monotonic, in seconds as `f64`. A kernel built with
/// [`KernelBuilder::virtual_clock`] instead jumps its clock to the next
/// timer whenever nothing is ready, so timed programs run instantly and
/// deterministically (for tests and simulations).
pub struct Kernel {
    core: Core,
    status: Status,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel").finish_non_exhaustive()
    }
}

/// Options for a [`Kernel`]: `Kernel::builder().….build()`.
///
/// ```
/// use curio::{sleep, Kernel, Result};
///
/// #[curio::task]
/// async fn slow() -> Result<f64> {
///     sleep(3600.0).await?; // an hour, at once on the virtual clock
///     curio::clock().await
/// }
///
/// let mut kernel = Kernel::builder().virtual_clock().build();
/// assert!(kernel.run(slow()).unwrap() >= 3600.0);
/// ```
#[derive(Default)]
#[must_use = "call build() to make the kernel"]
pub struct KernelBuilder {
    activations: Vec<Box<dyn Activation>>,
    virtual_clock: bool,
}

impl std::fmt::Debug for KernelBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelBuilder")
            .field("activations", &self.activations.len())
            .field("virtual_clock", &self.virtual_clock)
            .finish()
    }
}

impl KernelBuilder {
    /// Installs a scheduler activation or tracer (Curio's `activations=`
    /// and `debug=`); they are called in the order installed.
    pub fn activation(mut self, activation: impl Activation + 'static) -> Self {
        self.activations.push(Box::new(activation));
        self
    }

    /// Uses a virtual clock: it starts at 0.0 and, whenever no task is ready
    /// and no I/O is pending, jumps straight to the next timer. Timed
    /// programs then run instantly and give the same clock readings every
    /// time. A program that would wait forever gets an error instead.
    pub fn virtual_clock(mut self) -> Self {
        self.virtual_clock = true;
        self
    }

    /// Makes the kernel. This makes no system calls: the I/O poller is
    /// created when a task first waits on a file descriptor.
    pub fn build(self) -> Kernel {
        let mut activations = self.activations;
        for a in &mut activations {
            a.activate();
        }
        Kernel {
            core: Core {
                tasks: Slab::new(),
                ready: Vec::new(),
                running: Vec::new(),
                timers: TimeQueue::default(),
                io: Io::new(),
                clock: if self.virtual_clock {
                    Clock::Virtual(0.0)
                } else {
                    Clock::Real
                },
                activations,
                main: None,
                pass_clock: None,
                more_joiners: HashMap::new(),
                seq: 0,
                serial: next_serial(),
                inbox: std::sync::Arc::default(),
                external_waiting: 0,
            },
            status: Status::Usable,
        }
    }
}

impl Default for Kernel {
    fn default() -> Self {
        Kernel::new()
    }
}

impl Kernel {
    /// A kernel with the real clock and no activations.
    pub fn new() -> Kernel {
        KernelBuilder::default().build()
    }

    /// Options: activations, tracers, a virtual clock.
    pub fn builder() -> KernelBuilder {
        KernelBuilder::default()
    }

    fn enter(&self) -> Result<RunningGuard> {
        match self.status {
            Status::Usable => RunningGuard::enter(),
            _ => Err(Error::runtime(
                "can't run a kernel that's been shut down or crashed; create a new kernel",
            )),
        }
    }

    /// Runs `coroutine` as the main task until it terminates and returns its
    /// result; its error comes out unwrapped (not as `TaskError`). Other
    /// tasks still running stay in the kernel for the next `run`.
    ///
    /// # Errors
    /// The main task's error (a panic is [`Error::Panic`]);
    /// [`Error::RuntimeError`] if a kernel is already running in this thread
    /// or this one was shut down.
    pub fn run<C>(&mut self, coroutine: C) -> Result<<C::Output as TaskResult>::Ok>
    where
        C: Coroutine<Output: TaskResult> + 'static,
    {
        let _running = self.enter()?;
        let main = TaskRef(TaskCell::new(coroutine));
        self.core.admit(main.clone(), 0);
        self.run_main(&main)?;
        main.header().mark_joined();
        Task::<<C::Output as TaskResult>::Ok>::from_raw(main).take_result()
    }

    fn run_main(&mut self, main: &TaskRef) -> Result<()> {
        self.core.main = Some(main.clone());
        let outcome = self.core.run_cycles(Some(main));
        self.core.main = None;
        if let Err(Error::Io(_)) = &outcome {
            self.status = Status::Crashed;
        }
        outcome
    }

    /// Runs one scheduling cycle: polls I/O without blocking, expires due
    /// timers and runs the tasks that were ready (Curio's `run()` with no
    /// coroutine).
    ///
    /// # Errors
    /// As [`run`](Kernel::run), for the kernel itself.
    pub fn step(&mut self) -> Result<()> {
        let _running = self.enter()?;
        self.core.run_cycles(None)
    }

    /// The number of tasks in the kernel (running, ready or waiting).
    pub fn task_count(&self) -> usize {
        self.core.tasks.len()
    }

    /// The current kernel clock.
    pub fn clock(&self) -> f64 {
        self.core.clock.now()
    }

    /// A handle that wakes this kernel from another thread.
    ///
    /// # Errors
    /// If the poller or its wake-up fd cannot be created.
    pub fn waker(&mut self) -> Result<KernelWaker> {
        Ok(self.core.io.waker()?)
    }

    /// Cancels every remaining task, daemons included, newest first (in
    /// descending id order, as Curio does), waiting for each to terminate;
    /// then the kernel cannot run again. Shutting down twice does nothing.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] if a kernel is running in this thread.
    pub fn shutdown(&mut self) -> Result<()> {
        if self.status == Status::ShutDown {
            return Ok(());
        }
        let _running = RunningGuard::enter()?;
        if self.status == Status::Usable {
            // Tasks may spawn tasks while they are cancelled: repeat.
            while !self.core.tasks.is_empty() {
                let mut remaining: Vec<Task> = self
                    .core
                    .tasks
                    .iter()
                    .map(|(_, t)| Task::from_raw(t.clone()))
                    .collect();
                remaining.sort_by_key(|t| std::cmp::Reverse(t.id()));
                let main = TaskRef(TaskCell::new(shutdown_tasks(remaining)));
                self.core.admit(main.clone(), 0);
                self.run_main(&main)?;
            }
        }
        self.status = Status::ShutDown;
        self.core.ready.clear();
        self.core.tasks.clear();
        Ok(())
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        if self.status != Status::ShutDown && !std::thread::panicking() {
            let _ = self.shutdown();
        }
    }
}

/// The kernel's shutdown task: cancel each remaining task in turn.
#[crate::task]
async fn shutdown_tasks(tasks: Vec<Task>) -> Result<()> {
    for task in tasks {
        task.cancel().await?;
    }
    Ok(())
}

/// Runs `coroutine` as the main task of a new kernel, shuts the kernel
/// down, and returns the main task's result (Curio's `run`).
///
/// # Errors
/// The main task's error, unwrapped; [`Error::RuntimeError`] if called
/// from inside a task.
///
/// # Examples
/// ```
/// #[curio::task]
/// async fn countdown(mut n: u32) -> curio::Result<Vec<u32>> {
///     let mut seen = Vec::new();
///     while n > 0 {
///         seen.push(n);
///         curio::sleep(0.001).await?;
///         n -= 1;
///     }
///     Ok(seen)
/// }
///
/// assert_eq!(curio::run(countdown(3)).unwrap(), [3, 2, 1]);
/// ```
pub fn run<C>(coroutine: C) -> Result<<C::Output as TaskResult>::Ok>
where
    C: Coroutine<Output: TaskResult> + 'static,
{
    let mut kernel = Kernel::new();
    let result = kernel.run(coroutine);
    let shutdown = kernel.shutdown();
    match (result, shutdown) {
        (Ok(_), Err(e)) if !matches!(e, Error::RuntimeError(_)) => Err(e),
        (result, _) => result,
    }
}

/// What the task that trapped does next.
enum Next {
    /// Continue at once with this input, in the same cycle.
    Resume(Input),
    /// It is blocked (or back on the ready queue); run the next task.
    Suspend,
}

/// The task behind a joiner entry, if it still waits in that join.
fn joiner_task(tasks: &Slab<TaskRef>, joiner: Joiner) -> Option<TaskRef> {
    let task = tasks.get(joiner.key as usize)?;
    let h = task.header();
    (h.suspension() == joiner.seq && h.is_joining()).then(|| task.clone())
}

/// Whether `entry` is the timer its task is still waiting for.
fn timer_task(tasks: &Slab<TaskRef>, entry: &Entry) -> Option<TaskRef> {
    let task = tasks.get(entry.key as usize)?;
    let h = task.header();
    let armed = match entry.kind {
        TimerKind::Sleep => h.sleep_deadline(),
        TimerKind::Timeout => h.timeout_deadline(),
    };
    (h.id() == entry.id && armed == entry.deadline()).then(|| task.clone())
}

impl Core {
    /// The clock, read at most once per scheduling pass: what `sleep(0)`
    /// answers (switching tasks need not pay for a clock read each).
    fn pass_clock(&mut self) -> f64 {
        *self.pass_clock.get_or_insert_with(|| self.clock.now())
    }

    /// Puts a new task in the table and on the ready queue.
    fn admit(&mut self, task: TaskRef, parent_id: u64) {
        let key = self.tasks.insert(task.clone());
        let key = u32::try_from(key).expect("fewer than 4 billion tasks");
        task.header().admit(parent_id, self.serial, key);
        self.reschedule(task.clone(), Input::start());
        if !self.activations.is_empty() {
            let handle = Task::from_raw(task);
            for a in &mut self.activations {
                a.created(&handle);
            }
        }
    }

    /// Puts a task on the ready queue, to be resumed with `input`.
    fn reschedule(&mut self, task: TaskRef, input: Input) {
        push_ready(&mut self.ready, task, input);
    }

    /// Blocks the task in `state` until something reschedules it.
    fn suspend(&mut self, task: &TaskRef, state: TaskState, on: Blocked) -> Next {
        self.seq = self.seq.wrapping_add(1);
        task.header().suspend(state, on, self.seq);
        Next::Suspend
    }

    /// Takes a blocked task off whatever it waits on (Curio's `cancel_func`).
    fn unblock(&mut self, task: &TaskRef) {
        let h = task.header();
        match h.unblock() {
            Blocked::None | Blocked::Join => {}
            Blocked::Sleep => {
                // An infinite sleep armed no timer.
                if h.clear_sleep() {
                    self.forget_timer();
                }
            }
            Blocked::Read(fd) => self.io.unregister(fd, true),
            Blocked::Write(fd) => self.io.unregister(fd, false),
            // The entry stays in the queue, stale; it no longer counts.
            Blocked::Sched(sched) => sched.forget(),
            Blocked::External(work) => {
                work.0.abandon();
                self.external_waiting -= 1;
            }
        }
    }

    /// Notes that a timer entry went stale.
    fn forget_timer(&mut self) {
        let tasks = &self.tasks;
        self.timers
            .forget(|entry| timer_task(tasks, entry).is_some());
    }

    /// The three phases, until `main` terminates (or once, without `main`).
    fn run_cycles(&mut self, main: Option<&TaskRef>) -> Result<()> {
        loop {
            self.poll_io(main.is_none())?;
            self.pass_clock = None;
            self.expire_timers();
            self.run_ready();
            match main {
                Some(main) if !main.header().terminated() => {}
                _ => return Ok(()),
            }
        }
    }

    /// Phase 3: runs the tasks that were ready when it began, in order.
    fn run_ready(&mut self) {
        let mut pass = std::mem::replace(&mut self.ready, std::mem::take(&mut self.running));
        let mut tasks = pass.drain(..);
        // Tasks catch their own panics; one from an activation unwinds
        // out of the kernel, but the tasks not yet run stay queued.
        let ran = catch_unwind(AssertUnwindSafe(|| {
            for (task, input) in &mut tasks {
                self.run_task(task, input);
            }
        }));
        if let Err(panic) = ran {
            let rest: Vec<_> = tasks.collect();
            self.ready.splice(0..0, rest);
            resume_unwind(panic);
        }
        drop(tasks);
        // A burst of spawns leaves a big, empty queue behind.
        if pass.capacity() > 1024 {
            pass.shrink_to(self.ready.len().max(64));
        }
        self.running = pass;
    }

    /// Phase 1: wait for I/O, as long as nothing else can happen.
    fn poll_io(&mut self, single_step: bool) -> Result<()> {
        self.forget_closed();
        self.drain_inbox();
        let busy = self.io.has_waiters() || self.io.woken();
        if !self.ready.is_empty() || single_step {
            if busy {
                self.io.wait(Some(Duration::ZERO), &mut self.ready)?;
            }
            return Ok(());
        }
        let tasks = &self.tasks;
        let next = self
            .timers
            .next_deadline(|entry| timer_task(tasks, entry).is_some());
        match &mut self.clock {
            Clock::Real => {
                // A deadline too far to express (`sleep(1e20)`) is waited
                // for without a limit: it is never reached.
                let timeout = next.and_then(|deadline| {
                    Duration::try_from_secs_f64((deadline - monotonic()).max(0.0)).ok()
                });
                self.io.wait(timeout, &mut self.ready)?;
                self.drain_inbox();
            }
            Clock::Virtual(now) => {
                if busy {
                    self.io.wait(Some(Duration::ZERO), &mut self.ready)?;
                }
                if self.ready.is_empty() {
                    match next {
                        Some(deadline) => *now = now.max(deadline),
                        None if self.io.has_waiters() || self.external_waiting > 0 => {
                            self.io.wait(None, &mut self.ready)?;
                            self.drain_inbox();
                        }
                        None => {
                            return Err(Error::runtime(
                                "deadlock: no task is ready and none waits for time or I/O",
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Phase 2: wake sleepers and deliver timeouts that are due.
    fn expire_timers(&mut self) {
        if self.timers.len() == 0 {
            return;
        }
        let now = self.clock.now();
        self.pass_clock = Some(now);
        while let Some(entry) = self.timers.pop_expired(now) {
            let Some(task) = timer_task(&self.tasks, &entry) else {
                continue;
            };
            let h = task.header();
            match entry.kind {
                TimerKind::Sleep => {
                    h.clear_sleep();
                    self.reschedule(task, Input::Resume(Value::Float(now)));
                }
                TimerKind::Timeout => self.timeout_expired(task, now),
            }
        }
    }

    /// Phase 3, for one task: run it until it blocks or terminates.
    fn run_task(&mut self, task: TaskRef, mut input: Input) {
        let tracing = !self.activations.is_empty();
        let handle = tracing.then(|| Task::from_raw(task.clone()));
        if let Some(handle) = &handle {
            for a in &mut self.activations {
                a.running(handle);
            }
        }
        let h = task.header();
        h.start_cycle();
        let _current = crate::task::local::Current::enter(h);
        crate::io::coop::refill();
        let mut last_trap = None;
        loop {
            let Some(trap) = task.body().step(input) else {
                self.terminate(&task);
                break;
            };
            if tracing {
                last_trap = Some(trap.clone());
            }
            match self.trap(&task, trap) {
                Next::Resume(next) => input = next,
                Next::Suspend => break,
            }
        }
        crate::io::coop::unlimited();
        if let Some(handle) = &handle {
            let terminated = h.terminated();
            for a in &mut self.activations {
                a.suspended(handle, last_trap.as_ref().filter(|_| !terminated));
                if terminated {
                    a.terminated(handle);
                }
            }
        }
    }

    /// The task behind a joiner entry, if it still waits in that join.
    fn joiner_task(&self, joiner: Joiner) -> Option<TaskRef> {
        joiner_task(&self.tasks, joiner)
    }

    /// Reschedules a joiner that still waits.
    fn wake_joiner(&mut self, joiner: Joiner) {
        if let Some(task) = self.joiner_task(joiner) {
            self.reschedule(task, Input::start());
        }
    }

    /// Records a task's end: out of the table, joiners woken.
    fn terminate(&mut self, task: &TaskRef) {
        let h = task.header();
        let (key, timer_armed) = h.finish();
        self.tasks.remove(key as usize);
        if timer_armed {
            self.forget_timer();
        }
        let first = h.take_first_joiner();
        if first != Joiner::NONE {
            self.wake_joiner(first);
            for joiner in self.more_joiners.remove(&h.id()).unwrap_or_default() {
                self.wake_joiner(joiner);
            }
        }
        // A group member reports its end to the group (Curio's
        // `_task_done`), however it ended: a panic included.
        if let Some(group) = h.group()
            && group.exited(task)
        {
            self.wake_sched(group.done().queue(), usize::MAX);
        }
        if self.main.as_ref() != Some(task)
            && let Some(error) = task.body().error()
            && !error.is_cancelled()
        {
            log::error!(target: "curio::kernel", "Task Crash: {task:?}: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_kernel_in_a_thread_is_refused() {
        let _outer = RunningGuard::enter().unwrap();
        assert!(matches!(RunningGuard::enter(), Err(Error::RuntimeError(_))));
    }

    #[test]
    fn trap_size_stays_three_words() {
        assert_eq!(std::mem::size_of::<crate::protocol::trap::Trap>(), 24);
    }
}
