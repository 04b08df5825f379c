//! [`TaskGroup`]: tasks managed together (Curio's `TaskGroup`).
//!
//! A group learns that a member finished from a small *watcher* task per
//! member, which waits for the member with `Task::wait` and records it: so
//! the group hears of every end, a panic included, using nothing but the
//! traps (a member's own coroutine is not wrapped).
//!
//! # Failures
//!
//! `join` never fails because of a member: when a member fails (with the
//! `All` policy) or finishes (`Any`, `Object`), `join` cancels the others
//! and returns. The failure is reported by the group's accessors: `result`
//! and `exception` describe the *first* task that completed, `results`
//! returns the first failure in task-id order, and `exceptions` lists every
//! member's error, cancelled ones included.
//!
//! ```
//! use curio::{coroutine, sleep, Result, TaskGroup, Wait};
//!
//! #[curio::task]
//! async fn add(x: u32, y: u32, delay: f64) -> Result<u32> {
//!     sleep(delay).await?;
//!     Ok(x + y)
//! }
//!
//! #[curio::task]
//! async fn demo() -> Result<(Vec<u32>, u32)> {
//!     // `async with TaskGroup(wait=all) as g:`
//!     let g = TaskGroup::new(Wait::All);
//!     let h = g.clone();
//!     g.with(coroutine!({
//!         h.spawn(add(1, 1, 0.02)).await?;
//!         h.spawn(add(2, 2, 0.01)).await?;
//!         Ok::<_, curio::Error>(())
//!     }))
//!     .await?;
//!     let all = g.results()?;
//!
//!     let first = TaskGroup::new(Wait::Any);
//!     first.spawn(add(3, 3, 0.02)).await?;
//!     first.spawn(add(4, 4, 0.01)).await?;
//!     first.join().await?;              // the slower one is cancelled
//!     Ok((all, first.result()?))
//! }
//! assert_eq!(curio::run(demo()).unwrap(), (vec![2, 4], 8));
//! ```

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use crate::task::TaskResult;
use crate::{Coroutine, Error, Result, SchedBarrier, Task, TaskState, disable_cancellation, spawn};

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
    /// Non-daemon members, in the order they joined the group.
    tasks: RefCell<Vec<Task<T>>>,
    running: RefCell<Vec<Task<T>>>,
    daemonic: RefCell<Vec<Task<T>>>,
    /// Members that finished and were not yet collected, in finish order.
    finished: RefCell<VecDeque<Task<T>>>,
    /// Woken whenever a member finishes.
    done: SchedBarrier,
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
pub struct TaskGroup<T: 'static = ()> {
    group: Rc<Group<T>>,
}

impl<T: 'static> Clone for TaskGroup<T> {
    fn clone(&self) -> Self {
        TaskGroup {
            group: self.group.clone(),
        }
    }
}

/// Records that `task` finished, once it has.
#[crate::task]
async fn watch<T: 'static>(group: TaskGroup<T>, task: Task<T>) -> Result<()> {
    if task.wait().await.is_err() {
        // The watcher itself was cancelled (only kernel shutdown can reach
        // it). It stands for its member: cancel that, and still report its
        // end, or the group would wait for it forever.
        disable_cancellation(task.cancel()).await?;
    }
    let g = group.group.clone();
    if task.daemon() {
        g.daemonic.borrow_mut().retain(|t| *t != task);
        return Ok(());
    }
    let was_running = {
        let mut running = g.running.borrow_mut();
        let before = running.len();
        running.retain(|t| *t != task);
        running.len() != before
    };
    if was_running {
        g.finished.borrow_mut().push_back(task);
        group.group.done.wake_all().await?;
    }
    Ok(())
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
                tasks: RefCell::default(),
                running: RefCell::default(),
                daemonic: RefCell::default(),
                finished: RefCell::default(),
                done: SchedBarrier::new(),
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
        self.add_task(task.clone()).await?;
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
    /// [`Error::RuntimeError`] if the group was already joined or the task
    /// is already in this group.
    pub async fn add_task(&self, task: Task<T>) -> Result<()> {
        self.check_open()?;
        let g = self.group.clone();
        let known = g.tasks.borrow().contains(&task) || g.daemonic.borrow().contains(&task);
        if known {
            return Err(Error::runtime("Task is already part of the task group"));
        }
        if task.daemon() {
            g.daemonic.borrow_mut().push(task.clone());
        } else {
            g.tasks.borrow_mut().push(task.clone());
            g.running.borrow_mut().push(task.clone());
        }
        spawn(watch(self.clone(), task)).daemon(true).await?;
        Ok(())
    }

    /// Waits for the next member to finish and returns it, removing it
    /// from the group; `None` when no member is left.
    ///
    /// # Errors
    /// A cancellation or timeout while waiting.
    pub async fn next_done(&self) -> Result<Option<Task<T>>> {
        let g = self.group.clone();
        while g.finished.borrow().is_empty() && !g.running.borrow().is_empty() {
            g.done.suspend(TaskState::Suspend).await?;
        }
        let next = g.finished.borrow_mut().pop_front();
        if let Some(task) = &next {
            g.tasks.borrow_mut().retain(|t| t != task);
        }
        Ok(next)
    }

    /// The result of the next member to finish (its own error if it
    /// failed).
    ///
    /// # Errors
    /// The member's error; [`Error::RuntimeError`] if no member is left.
    pub async fn next_result(&self) -> Result<T> {
        match self.next_done().await? {
            Some(task) => task.result(),
            None => Err(Error::runtime("No task available")),
        }
    }

    /// Cancels every running non-daemon member and removes them from the
    /// group.
    ///
    /// # Errors
    /// A cancellation of the caller while it waits for them.
    pub async fn cancel_remaining(&self) -> Result<()> {
        let running: Vec<Task<T>> = self.group.running.borrow().clone();
        for task in running.clone() {
            task.cancel().blocking(false).await?;
        }
        for task in running {
            task.wait().await?;
            self.group.tasks.borrow_mut().retain(|t| *t != task);
            self.group.finished.borrow_mut().retain(|t| *t != task);
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
        if g.wait == Wait::None {
            return Ok(());
        }
        while !g.finished.borrow().is_empty() || !g.running.borrow().is_empty() {
            while g.finished.borrow().is_empty() {
                g.done.suspend(TaskState::Suspend).await?;
            }
            loop {
                let Some(task) = g.finished.borrow_mut().pop_front() else {
                    break;
                };
                if task.joined() {
                    // Joined directly: no longer the group's to judge.
                    continue;
                }
                let failed = task.exception().is_some();
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
        let g = self.group.clone();
        loop {
            let next = g.running.borrow_mut().pop();
            let Some(task) = next else { break };
            task.cancel().await?;
        }
        loop {
            let next = g.daemonic.borrow_mut().pop();
            let Some(task) = next else { break };
            task.cancel().await?;
        }
        g.joined.set(true);
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
        let mut tasks = self.group.tasks.borrow().clone();
        tasks.sort_by_key(Task::id);
        tasks
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
    /// failed).
    ///
    /// # Errors
    /// [`Error::RuntimeError`] before `join` or if no member completed;
    /// the member's own error.
    pub fn result(&self) -> Result<T> {
        self.check_joined()?;
        match self.completed() {
            Some(task) => task.result(),
            None => Err(Error::runtime("No task successfully completed")),
        }
    }

    /// The error of the first member that completed, if it failed.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] before `join`.
    pub fn exception(&self) -> Result<Option<Error>> {
        self.check_joined()?;
        Ok(self.completed().and_then(|t| t.exception()))
    }

    /// The members the group still collects: those not joined directly
    /// (`Task::join`, `Task::result`), as Curio removes a member from its
    /// group when it is joined.
    fn collected(&self) -> Vec<Task<T>> {
        self.tasks().into_iter().filter(|t| !t.joined()).collect()
    }

    /// Every member's result, in task-id order, taking the values (so a
    /// second call fails with "already taken").
    ///
    /// # Errors
    /// [`Error::RuntimeError`] before `join`; the first failure in id order.
    pub fn results(&self) -> Result<Vec<T>> {
        self.check_joined()?;
        self.collected().iter().map(Task::take_outcome).collect()
    }

    /// Every member's error (`None` for those that succeeded), by id.
    ///
    /// # Errors
    /// [`Error::RuntimeError`] before `join`.
    pub fn exceptions(&self) -> Result<Vec<Option<Error>>> {
        self.check_joined()?;
        Ok(self.collected().iter().map(Task::exception).collect())
    }
}
