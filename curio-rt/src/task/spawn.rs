//! [`spawn`] and [`current_task`]: the traps that create and name tasks.

use crate::error::{Error, Result};
use crate::protocol::coroutine::{Coroutine, Step, Value};
use crate::protocol::trap::Trap;
use crate::protocol::traps::TrapCall;
use crate::task::Task;
use crate::task::{TaskCell, TaskRef, TaskResult};

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
            task.raw().header().set_daemon(daemon);
        }
        self
    }
}

impl<T: 'static> Coroutine for Spawn<T> {
    type Output = Result<Task<T>>;

    fn resume(&mut self, value: Value) -> Step<Self::Output> {
        value.discard();
        if !self.issued {
            self.issued = true;
            if let Some(task) = &self.task {
                return Step::Trap(Trap::Spawn(Task::from_raw(task.raw().clone())));
            }
        }
        match self.task.take() {
            Some(task) => Step::Return(Ok(task)),
            None => crate::protocol::coroutine::resumed_after_completion(),
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
pub fn current_task() -> TrapCall<Task> {
    TrapCall::new(Trap::GetCurrent)
}
