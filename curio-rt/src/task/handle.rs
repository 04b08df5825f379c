//! [`Task`]: the handle `spawn` returns, and [`Cancel`].

use std::fmt;
use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::protocol::coroutine::{Coroutine, Location, Step, Value};
use crate::protocol::trap::CancelRequest;
use crate::protocol::trap::Trap;
use crate::protocol::traps::TrapCall;
use crate::task::{TaskRef, TaskState, Unknown};

/// A handle to a task (Curio's `Task`). Cheap to clone; every clone refers
/// to the same task.
///
/// The attributes are read without `.await`. `join`, `wait` and `cancel`
/// block, so they are coroutines: `t.join().await?`.
///
/// `T` is the task's result type; a handle from [`current_task`](crate::current_task)
/// has the result type [`Unknown`].
///
/// ```
/// use curio::{spawn, Result};
///
/// #[curio::task]
/// async fn child(x: u32) -> Result<u32> {
///     Ok(2 * x)
/// }
///
/// #[curio::task]
/// async fn demo() -> Result<(u32, u32, String)> {
///     let t = spawn(child(21)).await?;
///     let first = t.join().await?;
///     // A result can be read again, as in Curio.
///     Ok((first, t.result()?, format!("{} {}", t.name(), t.state())))
/// }
/// assert_eq!(curio::run(demo()).unwrap(), (42, 42, "child TERMINATED".to_string()));
/// ```
pub struct Task<T: 'static = Unknown> {
    raw: TaskRef,
    result: PhantomData<fn() -> T>,
}

impl<T: 'static> Clone for Task<T> {
    fn clone(&self) -> Self {
        Task::from_raw(self.raw.clone())
    }
}

impl<T: 'static> PartialEq for Task<T> {
    /// Two handles are equal when they refer to the same task.
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl<T: 'static> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.raw, f)
    }
}

impl<T: 'static> fmt::Display for Task<T> {
    /// `Task(id=3, name="countdown", state=TIME_SLEEP)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.raw, f)
    }
}

#[crate::task]
impl<T: 'static> Task<T> {
    pub(crate) fn from_raw(raw: TaskRef) -> Self {
        Task {
            raw,
            result: PhantomData,
        }
    }

    pub(crate) fn raw(&self) -> &TaskRef {
        &self.raw
    }

    /// The same task, without its result type.
    pub fn erase(&self) -> Task {
        Task::from_raw(self.raw.clone())
    }

    /// The task's id: unique in this thread, increasing, starting at 1.
    pub fn id(&self) -> u64 {
        self.raw.header().id()
    }

    /// The id of the task that spawned this one; `None` for a task started
    /// by [`Kernel::run`](crate::Kernel::run).
    pub fn parent_id(&self) -> Option<u64> {
        Some(self.raw.header().parent_id()).filter(|&id| id != 0)
    }

    /// The task's name: its `#[curio::task]` function's name.
    pub fn name(&self) -> &'static str {
        self.raw.header().name()
    }

    /// The task's state, with Curio's names.
    pub fn state(&self) -> TaskState {
        self.raw.header().state()
    }

    /// How many scheduling cycles the task has run.
    pub fn cycles(&self) -> u64 {
        self.raw.header().cycles()
    }

    /// Whether the task is a daemon (not joined; cancelled at shutdown).
    pub fn daemon(&self) -> bool {
        self.raw.header().daemon()
    }

    /// Whether a cancellation was requested. Stays `false` if `cancel` was
    /// called on a task that had already terminated, as in Curio.
    pub fn cancelled(&self) -> bool {
        self.raw.header().cancelled()
    }

    /// Whether the task has finished.
    pub fn terminated(&self) -> bool {
        self.raw.header().terminated()
    }

    /// Whether the task's outcome has been collected (by `join`, `result`,
    /// `cancel` or the kernel for a main task).
    pub fn joined(&self) -> bool {
        self.raw.header().joined()
    }

    /// Where the task is waiting: its innermost `.await` (Curio's
    /// `where()`; `where` is a keyword in Rust). `None` while it runs, before
    /// it first suspends, and after it terminates.
    pub fn location(&self) -> Option<&'static Location> {
        let mut innermost = None;
        self.raw.body().traceback(&mut |loc| innermost = Some(loc));
        innermost
    }

    /// The chain of suspension points, outermost first, one per line:
    /// the task's `.await`, then the `.await`s inside what it awaits.
    pub fn traceback(&self) -> String {
        let mut out = format!("{self}\n");
        self.raw
            .body()
            .traceback(&mut |loc| out.push_str(&format!("  {loc}\n")));
        out
    }

    /// The task's result (Curio's `result` property): a clone of the value
    /// it returned, or its own error (not wrapped in `TaskError`, as Curio
    /// re-raises it). It can be read any number of times, by the task's
    /// handles and by its group; reading it marks the task joined. For a
    /// result that is not `Clone`, see [`take_result`](Self::take_result).
    ///
    /// # Errors
    /// [`Error::RuntimeError`] if the task has not terminated, or if its
    /// value was moved out by [`join`](Self::join) or `take_result`; the
    /// task's own error if it failed.
    pub fn result(&self) -> Result<T>
    where
        T: Clone,
    {
        self.check_terminated()?;
        self.raw.header().mark_joined();
        if let Some(value) = self.peek_value(T::clone) {
            return Ok(value);
        }
        // Failed, taken, or a handle of unknown type: none of these moves
        // anything.
        self.outcome()
    }

    /// The task's result, moving the value out (for results that are not
    /// `Clone`); afterwards [`result`](Self::result) and `take_result`
    /// report it taken. Marks the task joined.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] if the task has not terminated or the value
    /// was already taken; the task's own error if it failed.
    pub fn take_result(&self) -> Result<T> {
        self.check_terminated()?;
        self.raw.header().mark_joined();
        self.outcome()
    }

    /// The error the task failed with, or `None` if it returned a value
    /// (Curio's `exception` property).
    ///
    /// # Errors
    /// [`Error::RuntimeError`] if the task has not terminated, as in Curio.
    pub fn exception(&self) -> Result<Option<Error>> {
        self.check_terminated()?;
        Ok(self.raw.body().error())
    }

    fn check_terminated(&self) -> Result<()> {
        if self.terminated() {
            Ok(())
        } else {
            Err(Error::runtime("Task not terminated"))
        }
    }

    /// Applies `f` to the task's value, if it returned one that was not
    /// taken yet.
    pub(crate) fn peek_value<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        let mut f = Some(f);
        let mut out = None;
        self.raw.body().peek(&mut |v| {
            if let (Some(v), Some(f)) = (v.downcast_ref::<T>(), f.take()) {
                out = Some(f(v));
            }
        });
        out
    }

    fn outcome(&self) -> Result<T> {
        let mut slot: Option<Result<T>> = None;
        self.raw.body().outcome(&mut slot);
        slot.unwrap_or_else(|| {
            Err(Error::runtime(format!(
                "the result of {self} is not a {}",
                std::any::type_name::<T>()
            )))
        })
    }

    /// Waits for the task to terminate and returns (a clone of) its
    /// result. As in Curio, the result stays readable afterwards, by
    /// [`result`](Self::result), by another `join` and by a task group the
    /// task is later added to. A task joined directly leaves its task
    /// group. For results that are not `Clone`, see
    /// [`join_take`](Self::join_take).
    ///
    /// # Errors
    /// [`Error::TaskError`] whose cause is the task's error if it failed
    /// (a panic is [`Error::Panic`]); a cancellation or timeout of the
    /// *joining* task, unwrapped.
    pub async fn join(&self) -> Result<T>
    where
        T: Clone,
    {
        self.wait().await?;
        self.collect();
        self.wrap_failure(self.result())
    }

    /// [`join`](Self::join), moving the value out: for any `T`. Afterwards
    /// the result reads as taken.
    ///
    /// # Errors
    /// As `join`; [`Error::RuntimeError`] if the value was already taken.
    pub async fn join_take(&self) -> Result<T> {
        self.wait().await?;
        self.collect();
        self.wrap_failure(self.take_result())
    }

    /// The task's own failure becomes a [`Error::TaskError`]; a misuse
    /// (the value already taken) is reported as itself.
    fn wrap_failure(&self, outcome: Result<T>) -> Result<T> {
        match outcome {
            Err(e) if self.raw.body().error().is_some() => Err(Error::task_error(e)),
            other => other,
        }
    }

    /// Takes a joined task out of its group (Curio's `_task_discard`).
    fn collect(&self) {
        let h = self.raw.header();
        if let Some(group) = h.leave_group() {
            group.remove(h.id());
        }
    }

    /// Waits for the task to terminate, returning nothing.
    pub async fn wait(&self) -> Result<()> {
        if !self.terminated() {
            TrapCall::<()>::new(Trap::TaskWait(self.erase())).await?;
        }
        Ok(())
    }

    /// Cancels the task: delivers [`Error::TaskCancelled`] (or the error set
    /// with [`Cancel::exc`]) at its current or next blocking operation, then
    /// waits until it has terminated (unless [`Cancel::blocking`] is false).
    ///
    /// A task is cancelled once: a second `cancel` only waits. Cancelling a
    /// terminated task does nothing. Whatever the task ends with is not
    /// returned here; `cancel` fails only if the *caller* is cancelled
    /// while it waits.
    ///
    /// ```
    /// use curio::{spawn, sleep, Result};
    ///
    /// #[curio::task]
    /// async fn forever() -> Result<()> {
    ///     loop { sleep(1.0).await?; }
    /// }
    ///
    /// #[curio::task]
    /// async fn demo() -> Result<bool> {
    ///     let t = spawn(forever()).await?;
    ///     t.cancel().await?;
    ///     Ok(t.cancelled() && t.terminated())
    /// }
    /// assert!(curio::run(demo()).unwrap());
    /// ```
    pub fn cancel(&self) -> Cancel {
        Cancel {
            task: self.erase(),
            error: None,
            blocking: true,
            stage: CancelStage::Start,
        }
    }
}

impl Task {
    /// A handle for a coroutine you drive by hand, to answer its
    /// [`Trap::GetCurrent`] with (`Value::Task(me.clone())`): it has an
    /// id and `name`, and the attributes a task's helpers keep on it
    /// (timeout deadlines, cancellation state, task-locals), but no kernel
    /// runs it. Its state stays `INITIAL` unless the driver's traps change
    /// it.
    ///
    /// ```
    /// use curio::{current_task, Coroutine, Step, Task, Trap, Value};
    ///
    /// #[curio::task]
    /// async fn who() -> curio::Result<String> {
    ///     Ok(current_task().await?.name().to_string())
    /// }
    ///
    /// let me = Task::standalone("by hand");
    /// let mut c = who();
    /// assert!(matches!(c.resume(Value::None), Step::Trap(Trap::GetCurrent)));
    /// let Step::Return(name) = c.resume(Value::Task(me)) else { panic!() };
    /// assert_eq!(name.unwrap(), "by hand");
    /// ```
    pub fn standalone(name: &'static str) -> Task {
        Task::from_raw(TaskRef(crate::task::TaskCell::new(HandDriven(name))))
    }
}

/// The body of a [`Task::standalone`]: its coroutine is the driver's,
/// elsewhere, so a kernel given this task has nothing to run.
struct HandDriven(&'static str);

impl Coroutine for HandDriven {
    type Output = Result<()>;

    fn resume(&mut self, value: Value) -> Step<Result<()>> {
        value.discard();
        Step::Return(Err(Error::runtime(format!(
            "{}: a standalone task is driven by hand; a kernel cannot run it",
            self.0
        ))))
    }

    fn throw(&mut self, error: Error) -> Step<Result<()>> {
        Step::Return(Err(error))
    }

    fn name(&self) -> &'static str {
        self.0
    }
}

/// The coroutine [`Task::cancel`] returns; set options before awaiting it,
/// like Curio's keyword arguments: `t.cancel().exc(e).blocking(false).await?`.
#[must_use = "a cancellation does nothing unless awaited"]
#[derive(Debug)]
pub struct Cancel {
    task: Task,
    error: Option<Error>,
    blocking: bool,
    stage: CancelStage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CancelStage {
    Start,
    Requested,
    Waiting,
    Done,
}

impl Cancel {
    /// Cancels with `error` instead of [`Error::TaskCancelled`] (Curio's
    /// `exc=`). Any error works; the cancellation family is the usual one.
    pub fn exc(mut self, error: Error) -> Self {
        self.error = Some(error);
        self
    }

    /// With `false`, requests the cancellation and returns at once
    /// (Curio's `blocking=False`).
    pub fn blocking(mut self, blocking: bool) -> Self {
        self.blocking = blocking;
        self
    }

    fn done(&mut self) -> Step<Result<()>> {
        self.stage = CancelStage::Done;
        Step::Return(Ok(()))
    }
}

impl Coroutine for Cancel {
    type Output = Result<()>;

    fn resume(&mut self, value: Value) -> Step<Result<()>> {
        value.discard();
        match self.stage {
            CancelStage::Start => {
                if self.task.terminated() {
                    self.task.raw.header().mark_joined();
                    return self.done();
                }
                self.stage = CancelStage::Requested;
                let task = self.task.clone();
                Step::Trap(match self.error.take() {
                    None => Trap::CancelTask(task),
                    Some(error) => Trap::CancelTaskWith(Box::new(CancelRequest { task, error })),
                })
            }
            CancelStage::Requested => {
                if !self.blocking || self.task.terminated() {
                    return self.done();
                }
                self.stage = CancelStage::Waiting;
                Step::Trap(Trap::TaskWait(self.task.clone()))
            }
            CancelStage::Waiting => self.done(),
            CancelStage::Done => crate::protocol::coroutine::resumed_after_completion(),
        }
    }

    fn throw(&mut self, error: Error) -> Step<Result<()>> {
        assert!(
            matches!(self.stage, CancelStage::Requested | CancelStage::Waiting),
            "throw into a cancel that is not suspended"
        );
        self.stage = CancelStage::Done;
        Step::Return(Err(error))
    }

    fn name(&self) -> &'static str {
        "cancel"
    }
}
