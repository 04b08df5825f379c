//! [`TaskGroup`]: tasks managed together (Curio's `TaskGroup`).
//!
//! The rules a user needs are in the docs of [`TaskGroup`], where rustdoc
//! shows them.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::protocol::coroutine::Coroutine;
use crate::task::cancel::disable_cancellation;
use crate::task::{Members, TaskResult};
use crate::task::{Task, TaskState, current_task};

/// When [`TaskGroup::join`] returns (Curio's `wait=` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// When every member has finished, or one has failed (`wait=all`).
    All,
    /// When any member has finished (`wait=any`).
    Any,
    /// When a member has returned something other than `None`, or failed
    /// (`wait=object`; for groups of `Option<T>` results).
    Object,
    /// At once: the remaining members are cancelled (`wait=None`).
    None,
}

struct Group<T: 'static> {
    wait: Wait,
    /// Who is in the group; the kernel reports each member's end here.
    members: Rc<Members>,
    completed: RefCell<Option<Task<T>>>,
    joined: Cell<bool>,
    /// For `Wait::Object`: whether a result counts as an object.
    is_object: fn(&T) -> bool,
}

/// A group of tasks that finish together (Curio's `TaskGroup`). Cheap to
/// clone; clones are the same group.
///
/// Python's `async with TaskGroup() as g:` is [`with`](TaskGroup::with):
/// it runs the body, cancels every member if the body fails, then joins.
/// When it returns, no member is running.
///
/// A member that finishes stays in the group until it is collected
/// ([`next_done`](Self::next_done), `async for task in g`) or the group is
/// dropped; a long-lived group that is never joined (a server's) should
/// collect its members as they finish, as [`run_server`](crate::io::net::run_server)
/// does. Adding, finishing and collecting a member cost `O(log n)`.
///
/// A member reports its own end to the group: the kernel does it when the
/// member terminates, however it ends (a panic included), as Curio's task
/// runner calls `taskgroup._task_done(task)` (see `task/group.rs`).
///
/// # Failures
///
/// `join` never fails because of a member: when a member fails (with the
/// `All` policy) or finishes (`Any`, `Object`), `join` cancels the others
/// and returns. The failure is reported by the group's accessors: `result`
/// and `exception` describe the *first* task that completed, `results`
/// returns the first failure in task-id order, and `exceptions` lists every
/// member's error, cancelled ones included.
///
/// ```
/// use curio::{coroutine, sleep, Result, TaskGroup, Wait};
///
/// #[curio::task]
/// async fn add(x: u32, y: u32, delay: f64) -> Result<u32> {
///     sleep(delay).await?;
///     Ok(x + y)
/// }
///
/// #[curio::task]
/// async fn demo() -> Result<(Vec<u32>, u32)> {
///     // `async with TaskGroup(wait=all) as g:`
///     let g = TaskGroup::new(Wait::All);
///     let h = g.clone();
///     g.with(coroutine!({
///         h.spawn(add(1, 1, 0.02)).await?;
///         h.spawn(add(2, 2, 0.01)).await?;
///         Ok::<_, curio::Error>(())
///     }))
///     .await?;
///     let all = g.results()?;
///
///     let first = TaskGroup::new(Wait::Any);
///     first.spawn(add(3, 3, 0.02)).await?;
///     first.spawn(add(4, 4, 0.01)).await?;
///     first.join().await?;              // the slower one is cancelled
///     Ok((all, first.result()?))
/// }
/// assert_eq!(curio::run(demo()).unwrap(), (vec![2, 4], 8));
/// ```
pub struct TaskGroup<T: 'static = ()> {
    group: Rc<Group<T>>,
}

impl<T: 'static> std::fmt::Debug for TaskGroup<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = &self.group;
        f.debug_struct("TaskGroup")
            .field("wait", &g.wait)
            .field("tasks", &g.members.tasks().len())
            .field("running", &g.members.running().len())
            .field("joined", &g.joined.get())
            .finish()
    }
}

impl<T: 'static> Clone for TaskGroup<T> {
    fn clone(&self) -> Self {
        TaskGroup {
            group: self.group.clone(),
        }
    }
}

#[crate::task]
impl<T: 'static> TaskGroup<T> {
    /// An empty group with the given wait policy. With [`Wait::Object`],
    /// every successful result counts; see [`wait_object`](Self::wait_object).
    pub fn new(wait: Wait) -> TaskGroup<T> {
        Self::build(wait, |_| true)
    }

    /// A group with [`Wait::Object`] whose `join` returns at the first
    /// result for which `is_object` holds (Curio: "not None"), e.g.
    /// `TaskGroup::wait_object(Option::is_some)`.
    pub fn wait_object(is_object: fn(&T) -> bool) -> TaskGroup<T> {
        Self::build(Wait::Object, is_object)
    }

    fn build(wait: Wait, is_object: fn(&T) -> bool) -> TaskGroup<T> {
        TaskGroup {
            group: Rc::new(Group {
                wait,
                members: Rc::default(),
                completed: RefCell::new(None),
                joined: Cell::new(false),
                is_object,
            }),
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.group.joined.get() {
            return Err(Error::runtime("TaskGroup already joined"));
        }
        Ok(())
    }

    /// Spawns `coroutine` as a member of the group.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] if the group was already joined.
    pub fn spawn<C>(&self, coroutine: C) -> impl Coroutine<Output = Result<Task<T>>> + use<T, C>
    where
        C: Coroutine<Output: TaskResult<Ok = T>> + 'static,
    {
        // The task is made now: the returned coroutine's type does not
        // contain the member's (see `spawn`).
        self.spawn_member(crate::task::spawn(coroutine))
    }

    /// Issues `spawn` and adds the new task.
    async fn spawn_member(&self, spawn: crate::task::Spawn<T>) -> Result<Task<T>> {
        self.check_open()?;
        let task = spawn.await?;
        self.enrol(&task);
        Ok(task)
    }

    /// Spawns `coroutine` as a daemon member: never collected, cancelled
    /// when the group is joined.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] if the group was already joined.
    pub fn spawn_daemon<C>(
        &self,
        coroutine: C,
    ) -> impl Coroutine<Output = Result<Task<T>>> + use<T, C>
    where
        C: Coroutine<Output: TaskResult<Ok = T>> + 'static,
    {
        self.spawn_member(crate::task::spawn(coroutine).daemon(true))
    }

    /// Adds an existing task to the group.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] if the group was already joined, the task is
    /// already in a group, or it runs in another kernel.
    pub async fn add_task(&self, task: Task<T>) -> Result<()> {
        self.check_open()?;
        let here = current_task().await?.raw().header().kernel();
        let h = task.raw().header();
        if h.kernel() != here {
            return Err(Error::runtime(format!(
                "{task} runs in another kernel: it cannot join this one's task group"
            )));
        }
        if h.in_group() || self.group.members.contains(task.id()) {
            return Err(Error::runtime("Task is already part of a task group"));
        }
        self.enrol(&task);
        Ok(())
    }

    /// Makes `task` a member: the kernel reports its end to the group.
    fn enrol(&self, task: &Task<T>) {
        let members = &self.group.members;
        let raw = task.raw().clone();
        raw.header().join_group(members);
        if task.terminated() {
            members.add_finished(raw);
        } else {
            members.add_running(raw, task.daemon());
        }
    }

    /// Waits for the next member to finish and returns it, removing it
    /// from the group; `None` when no member is left.
    ///
    /// # Errors
    /// A cancellation or timeout while waiting.
    pub async fn next_done(&self) -> Result<Option<Task<T>>> {
        let m = self.group.members.clone();
        while !m.any_finished() && m.any_running() {
            m.done().suspend(TaskState::Suspend).await?;
        }
        let next = m.pop_finished();
        Ok(next.map(|raw| {
            m.remove(raw.header().id());
            raw.header().leave_group();
            Task::from_raw(raw)
        }))
    }

    /// The result of the next member to finish (its own error if it
    /// failed), moved out of the member.
    ///
    /// # Errors
    /// The member's error; [`Error::RuntimeError`] if no member is left.
    pub async fn next_result(&self) -> Result<T> {
        match self.next_done().await? {
            Some(task) => task.take_result(),
            None => Err(Error::runtime("No task available")),
        }
    }

    /// Cancels every running non-daemon member and removes them from the
    /// group.
    ///
    /// # Errors
    /// A cancellation of the caller while it waits for them.
    pub async fn cancel_remaining(&self) -> Result<()> {
        let running: Vec<Task<T>> = self
            .group
            .members
            .running()
            .into_iter()
            .map(Task::from_raw)
            .collect();
        for task in running.clone() {
            task.cancel().blocking(false).await?;
        }
        for task in running {
            task.wait().await?;
            self.group.members.remove(task.id());
            task.raw().header().leave_group();
        }
        Ok(())
    }

    /// Waits for the members according to the wait policy, then cancels
    /// every member still running (daemons included). Member failures do
    /// not make `join` fail: see the accessors. If the caller is cancelled
    /// while waiting, the members are cancelled all the same and the
    /// cancellation is returned.
    ///
    /// # Errors
    /// A cancellation or timeout of the caller.
    pub async fn join(&self) -> Result<()> {
        let waited = self.wait_policy().await;
        // Whatever happened, leave no member running.
        disable_cancellation(self.cancel_all()).await?;
        waited
    }

    async fn wait_policy(&self) -> Result<()> {
        let g = self.group.clone();
        let m = g.members.clone();
        if g.wait == Wait::None {
            return Ok(());
        }
        while m.any_finished() || m.any_running() {
            while !m.any_finished() {
                m.done().suspend(TaskState::Suspend).await?;
            }
            while let Some(raw) = m.pop_finished() {
                let task: Task<T> = Task::from_raw(raw);
                let failed = matches!(task.exception(), Ok(Some(_)));
                let produced = !failed && task.peek_value(g.is_object).unwrap_or(false);
                if g.completed.borrow().is_none() && (g.wait != Wait::Object || failed || produced)
                {
                    *g.completed.borrow_mut() = Some(task.clone());
                }
                if failed || g.wait == Wait::Any || (g.wait == Wait::Object && produced) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    async fn cancel_all(&self) -> Result<()> {
        let m = self.group.members.clone();
        while let Some(raw) = m.pop_running() {
            Task::<T>::from_raw(raw).cancel().await?;
        }
        while let Some(raw) = m.pop_daemon() {
            Task::<T>::from_raw(raw).cancel().await?;
        }
        self.group.joined.set(true);
        Ok(())
    }

    /// Runs `body`, then joins (Python's `async with TaskGroup() as g:`).
    /// If the body fails, every member is cancelled first and the body's
    /// error is returned.
    ///
    /// # Errors
    /// The body's error, or a cancellation of the caller.
    pub async fn with<C, R>(&self, body: C) -> Result<R>
    where
        C: Coroutine<Output = Result<R>>,
    {
        let result = body.await;
        if result.is_err() {
            disable_cancellation(self.cancel_remaining()).await?;
        }
        self.join().await?;
        result
    }

    fn check_joined(&self) -> Result<()> {
        if !self.group.joined.get() {
            return Err(Error::runtime("Task group not yet terminated"));
        }
        Ok(())
    }

    /// The non-daemon members still in the group, by id.
    pub fn tasks(&self) -> Vec<Task<T>> {
        self.group
            .members
            .tasks()
            .into_iter()
            .map(Task::from_raw)
            .collect()
    }

    /// Whether the group was joined.
    pub fn joined(&self) -> bool {
        self.group.joined.get()
    }

    /// The first member that completed (for `Object`: that failed or
    /// produced a value), once joined.
    pub fn completed(&self) -> Option<Task<T>> {
        self.group.completed.borrow().clone()
    }

    /// The result of the first member that completed (its error if it
    /// failed). Repeatable, like [`Task::result`]; for results that are
    /// not `Clone`, see [`take_result`](Self::take_result).
    ///
    /// # Errors
    /// [`Error::RuntimeError`] before `join` or if no member completed;
    /// the member's own error.
    pub fn result(&self) -> Result<T>
    where
        T: Clone,
    {
        self.first_completed()?.result()
    }

    /// [`result`](Self::result), moving the value out of the member.
    ///
    /// # Errors
    /// As `result`; also [`Error::RuntimeError`] if the value was already
    /// taken.
    pub fn take_result(&self) -> Result<T> {
        self.first_completed()?.take_result()
    }

    fn first_completed(&self) -> Result<Task<T>> {
        self.check_joined()?;
        self.completed()
            .ok_or_else(|| Error::runtime("No task successfully completed"))
    }

    /// The error of the first member that completed, if it failed.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] before `join`.
    pub fn exception(&self) -> Result<Option<Error>> {
        self.check_joined()?;
        Ok(match self.completed() {
            Some(task) => task.exception()?,
            None => None,
        })
    }

    /// Every member's result, in task-id order (Curio's `results`):
    /// the members still in the group, that is all but those collected by
    /// [`next_done`](Self::next_done), cancelled by
    /// [`cancel_remaining`](Self::cancel_remaining) or joined directly with
    /// [`Task::join`]. Repeatable; reading a member's `result` first does
    /// not remove it. For results that are not `Clone`, see
    /// [`take_results`](Self::take_results).
    ///
    /// # Errors
    /// [`Error::RuntimeError`] before `join`; the first failure in id order.
    pub fn results(&self) -> Result<Vec<T>>
    where
        T: Clone,
    {
        self.check_joined()?;
        self.tasks().iter().map(Task::result).collect()
    }

    /// [`results`](Self::results), moving the values out of the members
    /// (a second call reports them taken).
    ///
    /// # Errors
    /// As `results`.
    pub fn take_results(&self) -> Result<Vec<T>> {
        self.check_joined()?;
        self.tasks().iter().map(Task::take_result).collect()
    }

    /// Every member's error (`None` for those that succeeded), by id, of
    /// the same members as [`results`](Self::results).
    ///
    /// # Errors
    /// [`Error::RuntimeError`] before `join`.
    pub fn exceptions(&self) -> Result<Vec<Option<Error>>> {
        self.check_joined()?;
        self.tasks().iter().map(Task::exception).collect()
    }
}
