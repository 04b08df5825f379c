//! Tracers on the `log` crate (Curio's `curio.debug`): [`SchedTrace`],
//! [`TrapTrace`], [`LogCrash`] and [`LongBlock`]. Install them with
//! [`KernelBuilder::activation`](crate::KernelBuilder::activation); messages
//! go to the log target `curio::debug`, at the level each tracer is given.
//!
//! ```
//! use curio::debug::{LongBlock, SchedTrace};
//!
//! let kernel = curio::Kernel::builder()
//!     .activation(SchedTrace::new().filter(["worker"]))
//!     .activation(LongBlock::new(0.05))
//!     .build();
//! ```

use std::time::Instant;

use log::Level;

use crate::kernel::activation::Activation;
use crate::protocol::trap::Trap;
use crate::task::Task;

/// What the tracers share: a log level and an optional filter of task names.
#[derive(Debug, Clone)]
struct Base {
    level: Level,
    filter: Option<Vec<String>>,
}

impl Base {
    fn new(level: Level) -> Base {
        Base {
            level,
            filter: None,
        }
    }

    fn check(&self, task: &Task) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == task.name()))
    }

    fn log(&self, message: std::fmt::Arguments<'_>) {
        log::log!(target: "curio::debug", self.level, "{message}");
    }
}

/// Builder methods every tracer has.
macro_rules! tracer_options {
    ($ty:ident) => {
        impl $ty {
            /// Logs at `level` instead of the default.
            pub fn level(mut self, level: Level) -> Self {
                self.base.level = level;
                self
            }

            /// Traces only tasks with one of these names.
            pub fn filter<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
                self.base.filter = Some(names.into_iter().map(Into::into).collect());
                self
            }
        }
    };
}

fn clock() -> f64 {
    crate::kernel::monotonic()
}

/// Logs `CREATE`, `RUN`, `SUSPEND` and `TERMINATED` with the clock and the
/// task, at `INFO` (Curio's `schedtrace`).
#[derive(Debug, Clone)]
pub struct SchedTrace {
    base: Base,
}

impl SchedTrace {
    /// A scheduler tracer for every task.
    pub fn new() -> SchedTrace {
        SchedTrace {
            base: Base::new(Level::Info),
        }
    }

    fn event(&self, what: &str, task: &Task) {
        if self.base.check(task) {
            self.base.log(format_args!("{what}:{:.6}:{task}", clock()));
        }
    }
}

impl Default for SchedTrace {
    fn default() -> Self {
        SchedTrace::new()
    }
}

tracer_options!(SchedTrace);

impl Activation for SchedTrace {
    fn created(&mut self, task: &Task) {
        self.event("CREATE", task);
    }
    fn running(&mut self, task: &Task) {
        self.event("RUN", task);
    }
    fn suspended(&mut self, task: &Task, _: Option<&Trap>) {
        self.event("SUSPEND", task);
    }
    fn terminated(&mut self, task: &Task) {
        self.event("TERMINATED", task);
    }
}

/// [`SchedTrace`] plus a `TRAP` line for each trap a task suspends on
/// (Curio's `traptrace`).
#[derive(Debug, Clone)]
pub struct TrapTrace {
    base: Base,
    sched: SchedTrace,
}

impl TrapTrace {
    /// A trap tracer for every task.
    pub fn new() -> TrapTrace {
        TrapTrace {
            base: Base::new(Level::Info),
            sched: SchedTrace::new(),
        }
    }
}

impl Default for TrapTrace {
    fn default() -> Self {
        TrapTrace::new()
    }
}

tracer_options!(TrapTrace);

impl Activation for TrapTrace {
    fn created(&mut self, task: &Task) {
        self.sched.base = self.base.clone();
        self.sched.created(task);
    }
    fn running(&mut self, task: &Task) {
        self.sched.base = self.base.clone();
        self.sched.running(task);
    }
    fn suspended(&mut self, task: &Task, trap: Option<&Trap>) {
        if let Some(trap) = trap
            && self.base.check(task)
        {
            self.base.log(format_args!("TRAP:{trap:?}"));
        }
        self.sched.suspended(task, trap);
    }
    fn terminated(&mut self, task: &Task) {
        self.sched.terminated(task);
    }
}

/// Logs a task that failed with an error other than a cancellation, at
/// `ERROR` (Curio's `logcrash`).
#[derive(Debug, Clone)]
pub struct LogCrash {
    base: Base,
}

impl LogCrash {
    /// A crash logger for every task.
    pub fn new() -> LogCrash {
        LogCrash {
            base: Base::new(Level::Error),
        }
    }
}

impl Default for LogCrash {
    fn default() -> Self {
        LogCrash::new()
    }
}

tracer_options!(LogCrash);

impl Activation for LogCrash {
    fn terminated(&mut self, task: &Task) {
        if let Ok(Some(error)) = task.exception()
            && !error.is_cancelled()
            && self.base.check(task)
        {
            self.base.log(format_args!("Task Crash: {task}: {error}"));
        }
    }
}

/// Warns when a task runs longer than `max_time` seconds without
/// suspending, at `WARN` (Curio's `longblock`).
#[derive(Debug, Clone)]
pub struct LongBlock {
    base: Base,
    max_time: f64,
    started: Option<Instant>,
}

impl LongBlock {
    /// Warns about cycles longer than `max_time` seconds (Curio: 0.05).
    pub fn new(max_time: f64) -> LongBlock {
        LongBlock {
            base: Base::new(Level::Warn),
            max_time,
            started: None,
        }
    }
}

tracer_options!(LongBlock);

impl Activation for LongBlock {
    fn running(&mut self, _: &Task) {
        self.started = Some(Instant::now());
    }
    fn suspended(&mut self, task: &Task, _: Option<&Trap>) {
        let Some(started) = self.started.take() else {
            return;
        };
        let seconds = started.elapsed().as_secs_f64();
        if seconds > self.max_time && self.base.check(task) {
            self.base.log(format_args!(
                "Task {task} ran for {seconds:.6} seconds without blocking"
            ));
        }
    }
}
