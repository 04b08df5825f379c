//! [`spawn`] and [`current_task`]: the traps that create and name tasks.

use std::cell::RefCell;

use crate::task::{TaskCell, TaskRef, TaskResult};
use crate::trap::TrapCall;
use crate::{Coroutine, Error, Result, Step, Task, Trap, Value};

/// Starts `coroutine` as a new task and returns its handle (Curio's
/// `spawn`). The new task goes to the back of the ready queue; the caller
/// keeps running.
///
/// # Examples
/// ```
/// use curio::{spawn, Result};
///
/// #[curio::task]
/// async fn hello() -> Result<&'static str> {
///     Ok("hello")
/// }
///
/// #[curio::task]
/// async fn demo() -> Result<&'static str> {
///     let t = spawn(hello()).daemon(false).await?;
///     t.join().await
/// }
/// assert_eq!(curio::run(demo()).unwrap(), "hello");
/// ```
///
/// The task is created here, not when the result is awaited, so the
/// awaiting coroutine's type does not contain the child's: deep chains of
/// spawning tasks keep small types (and quick builds).
pub fn spawn<C>(coroutine: C) -> Spawn<<C::Output as TaskResult>::Ok>
where
    C: Coroutine<Output: TaskResult> + 'static,
{
    Spawn {
        task: Some(Task::from_raw(TaskRef(TaskCell::new(coroutine)))),
        issued: false,
    }
}

/// The coroutine [`spawn`] returns. Options go before the `.await`:
/// `spawn(c).daemon(true).await?`.
#[must_use = "a task is spawned only when this is awaited"]
#[derive(Debug)]
pub struct Spawn<T: 'static> {
    task: Option<Task<T>>,
    issued: bool,
}

impl<T: 'static> Spawn<T> {
    /// Makes the task a daemon (Curio's `daemon=True`): nobody is expected
    /// to join it, and kernel shutdown cancels it.
    pub fn daemon(self, daemon: bool) -> Self {
        if let Some(task) = &self.task {
            task.raw().header().daemon.set(daemon);
        }
        self
    }
}

impl<T: 'static> Coroutine for Spawn<T> {
    type Output = Result<Task<T>>;

    fn resume(&mut self, _: Value) -> Step<Self::Output> {
        if !self.issued {
            self.issued = true;
            if let Some(task) = &self.task {
                return Step::Trap(Trap::Spawn(Task::from_raw(task.raw().clone())));
            }
        }
        match self.task.take() {
            Some(task) => Step::Return(Ok(task)),
            None => crate::machine::resumed_after_completion(),
        }
    }

    fn throw(&mut self, error: Error) -> Step<Self::Output> {
        assert!(
            self.issued,
            "throw into a spawn that was never issued: resume it first"
        );
        self.task = None;
        Step::Return(Err(error))
    }

    fn name(&self) -> &'static str {
        "spawn"
    }
}

/// A task-valued reply from the kernel, passed beside the trap's `Value`.
pub(crate) enum Reply {
    None,
    Task(TaskRef),
    Tasks(Option<TaskRef>, Option<TaskRef>),
}

thread_local! {
    /// Replies that do not fit in a [`Value`]: set by the kernel right
    /// before it resumes the task that asked, taken by that task's leaf.
    pub(crate) static REPLY: RefCell<Reply> = const { RefCell::new(Reply::None) };
}

pub(crate) fn take_reply() -> Reply {
    REPLY.with(|reply| std::mem::replace(&mut *reply.borrow_mut(), Reply::None))
}

/// Returns the calling task's handle (Curio's `current_task`).
///
/// # Examples
/// ```
/// use curio::{current_task, Result};
///
/// #[curio::task]
/// async fn demo() -> Result<String> {
///     let me = current_task().await?;
///     Ok(format!("{} {}", me.name(), me.state()))
/// }
/// assert_eq!(curio::run(demo()).unwrap(), "demo RUNNING");
/// ```
#[crate::task]
pub async fn current_task() -> Result<Task> {
    TrapCall::<()>::new(Trap::GetCurrent).await?;
    match take_reply() {
        Reply::Task(raw) => Ok(Task::from_raw(raw)),
        _ => Err(Error::protocol(
            "the GetCurrent trap was answered without a task".into(),
        )),
    }
}
