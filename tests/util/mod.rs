//! Shared helpers for the integration tests: a trace log, drop-logging
//! values and a scripted driver.
#![allow(dead_code)]

use std::cell::RefCell;

use curio::{Coroutine, Error, Step, Trap, Value};

thread_local! {
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Appends one event to this thread's trace.
pub fn log(event: impl Into<String>) {
    LOG.with(|l| l.borrow_mut().push(event.into()));
}

/// Takes this thread's trace.
pub fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// A value that logs its drop.
#[derive(Debug)]
pub struct Noisy(pub &'static str);

impl Drop for Noisy {
    fn drop(&mut self) {
        log(format!("drop {}", self.0));
    }
}

/// What a scripted driver does at each trap.
pub enum Reply {
    Resume(Value),
    Throw(Error),
}

/// Drives `co` to completion: resumes with `Value::None` at the start, then
/// with the scripted replies in order (`Value::None` when they run out).
/// Each trap is logged.
pub fn drive<C: Coroutine>(co: &mut C, replies: Vec<Reply>) -> C::Output {
    let mut replies = replies.into_iter();
    let mut step = co.resume(Value::None);
    loop {
        match step {
            Step::Return(out) => return out,
            Step::Trap(trap) => {
                log(format!("trap {}", describe(&trap)));
                step = match replies.next() {
                    Some(Reply::Throw(e)) => co.throw(e),
                    Some(Reply::Resume(v)) => co.resume(v),
                    None => co.resume(Value::None),
                };
            }
        }
    }
}

/// Runs `co` to completion, answering every trap with `Value::None`.
pub fn run<C: Coroutine>(mut co: C) -> C::Output {
    drive(&mut co, Vec::new())
}

/// A short text for a trap.
pub fn describe(trap: &Trap) -> String {
    match trap {
        Trap::Sleep { seconds, .. } => format!("sleep {seconds}"),
        other => format!("{other:?}"),
    }
}

/// Runs `main` on a fresh kernel with a virtual clock (instant, exact
/// clock readings), then shuts the kernel down.
pub fn vrun<C>(main: C) -> curio::Result<<C::Output as curio::TaskResult>::Ok>
where
    C: Coroutine<Output: curio::TaskResult> + 'static,
{
    let mut kernel = curio::Kernel::builder().virtual_clock().build();
    let result = kernel.run(main);
    kernel.shutdown().expect("shutdown");
    result
}

/// `log(format!(..))`.
#[macro_export]
macro_rules! logf {
    ($($arg:tt)*) => { $crate::util::log(format!($($arg)*)) };
}

/// The built example binary. `cargo test` builds the examples before the
/// tests; a filtered run (`--test examples`) may not, so build it then.
pub fn example(name: &str) -> std::path::PathBuf {
    let mut path = std::env::current_exe().expect("test binary path");
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    let path = path.join("examples").join(name);
    if !path.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", name])
            .status()
            .expect("run cargo");
        assert!(status.success(), "building example {name}");
    }
    path
}

/// Open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// A pipe: (read end, write end), close-on-exec.
pub fn pipe() -> (std::fs::File, std::fs::File) {
    let (r, w) = std::io::pipe().expect("a pipe");
    (
        std::fs::File::from(std::os::fd::OwnedFd::from(r)),
        std::fs::File::from(std::os::fd::OwnedFd::from(w)),
    )
}
