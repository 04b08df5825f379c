//! Scheduler activations: hooks the kernel calls as tasks are created,
//! run, suspended and terminated (Curio's `Activation`). The tracers in
//! [`debug`](crate::debug) are built on them; so can be your own tools.

use crate::protocol::trap::Trap;
use crate::task::Task;

/// Hooks into the kernel's scheduling, called in this order for a task:
/// `created` once, then `running` before and `suspended` after each
/// scheduling cycle, and `terminated` right after the final `suspended`.
///
/// Every method has an empty default.
///
/// # Examples
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// use curio::{Activation, Kernel, Task, Trap, sleep, Result};
///
/// struct Count(Rc<RefCell<Vec<String>>>);
/// impl Activation for Count {
///     fn running(&mut self, task: &Task) {
///         self.0.borrow_mut().push(format!("run {}", task.name()));
///     }
///     fn terminated(&mut self, task: &Task) {
///         self.0.borrow_mut().push(format!("end {}", task.name()));
///     }
/// }
///
/// #[curio::task]
/// async fn demo() -> Result<()> {
///     sleep(0.0).await?;
///     Ok(())
/// }
///
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let mut kernel = Kernel::builder().activation(Count(log.clone())).build();
/// kernel.run(demo()).unwrap();
/// assert_eq!(*log.borrow(), ["run demo", "run demo", "end demo"]);
/// ```
pub trait Activation {
    /// Called once, when the kernel is built.
    fn activate(&mut self) {}
    /// Called right after a task was created.
    fn created(&mut self, task: &Task) {
        let _ = task;
    }
    /// Called right before the task's next scheduling cycle.
    fn running(&mut self, task: &Task) {
        let _ = task;
    }
    /// Called after the task suspended on `trap`, or finished (`None`).
    fn suspended(&mut self, task: &Task, trap: Option<&Trap>) {
        let _ = (task, trap);
    }
    /// Called after a task terminated, before anyone collected its result.
    fn terminated(&mut self, task: &Task) {
        let _ = task;
    }
}
