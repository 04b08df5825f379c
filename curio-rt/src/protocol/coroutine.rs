//! The protocol between a task and the kernel: [`Coroutine`], [`Step`], [`Value`].
//!
//! The rules a user needs are in the docs of [`Coroutine`], where rustdoc
//! shows them.

use crate::error::Error;
use crate::protocol::trap::Trap;

/// What one call of [`Coroutine::resume`] or [`Coroutine::throw`] produced.
#[derive(Debug, PartialEq)]
#[must_use = "a trap must be satisfied and a return value used"]
pub enum Step<T> {
    /// The coroutine is suspended on this kernel request.
    Trap(Trap),
    /// The coroutine finished with this output.
    Return(T),
}

impl<T> Step<T> {
    /// The output, if the coroutine finished.
    pub fn into_return(self) -> Option<T> {
        match self {
            Step::Return(out) => Some(out),
            Step::Trap(_) => None,
        }
    }

    /// The trap, if the coroutine suspended.
    pub fn into_trap(self) -> Option<Trap> {
        match self {
            Step::Trap(trap) => Some(trap),
            Step::Return(_) => None,
        }
    }
}

/// What the kernel sends back into a suspended coroutine: the reply to its
/// trap. Leaf trap coroutines turn it into a typed result.
///
/// The layout is fixed (a 64-bit tag, then the payload): two aligned
/// machine words, which every level of nested coroutines copies cheaply
/// (a packed layout measured 4x slower through eight levels).
///
/// ```
/// use curio::{clock, Coroutine, Step, Value};
///
/// // A hand driver answers the clock trap with `Value::Float`.
/// let mut c = clock();
/// assert!(matches!(c.resume(Value::None), Step::Trap(_)));
/// assert!(matches!(c.resume(Value::Float(1.5)), Step::Return(Ok(t)) if t == 1.5));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
#[repr(u64)]
pub enum Value {
    /// No reply (Python's `send(None)`); also the value that starts a coroutine.
    #[default]
    None,
    /// A boolean reply.
    Bool(bool),
    /// An integer reply (a count, an id).
    Int(i64),
    /// A clock reading or another floating point reply, in seconds.
    Float(f64),
    /// A task: the reply to [`Trap::GetCurrent`] (the task that asked).
    Task(crate::task::Task),
    /// The tasks blocked on a file descriptor, `(reader, writer)`: the
    /// reply to [`Trap::IoWaiting`]. Boxed: it is rare, and every other
    /// reply fits in two machine words.
    Waiting(Box<(Option<crate::task::Task>, Option<crate::task::Task>)>),
}

/// How a coroutine is continued: [`resume`](Coroutine::resume) with a
/// reply, or [`throw`](Coroutine::throw) an error. What a driver (the
/// kernel, or a hand-written loop) hands a suspended coroutine; nothing
/// here allocates.
#[derive(Debug)]
pub enum Input {
    /// `resume(value)`.
    Resume(Value),
    /// `throw(error)`.
    Throw(Error),
}

#[doc(hidden)]
impl Input {
    /// The input that starts a freshly awaited sub-coroutine.
    #[inline(always)]
    pub fn start() -> Self {
        Input::Resume(Value::None)
    }

    /// Continues `sub` with this input, in place.
    #[inline(always)]
    pub fn drive<C: Coroutine + ?Sized>(self, sub: &mut C) -> Step<C::Output> {
        let input = std::mem::ManuallyDrop::new(self);
        // SAFETY: handed over, not used again.
        unsafe { sub.__curio_drive(&input) }
    }

    #[doc(hidden)]
    /// Continues `sub` with the input a step was given, in place (a
    /// nested coroutine reads it where it is, not from a copy per level).
    ///
    /// # Safety
    /// As [`Input::take`]: the input is read once per step.
    #[inline(always)]
    pub unsafe fn drive_ref<C: Coroutine + ?Sized>(
        input: &std::mem::ManuallyDrop<Input>,
        sub: &mut C,
    ) -> Step<C::Output> {
        // SAFETY: the caller reads the input once (here).
        unsafe { sub.__curio_drive(input) }
    }

    #[doc(hidden)]
    /// Moves the input out of the step function's copy.
    ///
    /// # Safety
    /// Once per step: the copy is not read again (nor dropped: it is in a
    /// `ManuallyDrop`).
    #[inline(always)]
    pub unsafe fn take(input: &std::mem::ManuallyDrop<Input>) -> Input {
        // SAFETY: the caller reads it once.
        unsafe { std::ptr::read(&**input) }
    }

    #[doc(hidden)]
    /// The step of a coroutine that has not started: takes the input (once
    /// per step) and checks that it is a resume. Cold: it runs once per
    /// coroutine, so the resume points come first.
    ///
    /// # Safety
    /// As [`Input::take`].
    #[cold]
    #[inline(never)]
    pub unsafe fn start_step(input: &std::mem::ManuallyDrop<Input>) {
        // SAFETY: the caller reads it once.
        unsafe { Input::take(input) }.expect_start();
    }

    #[doc(hidden)]
    /// Checks that a coroutine that has not started is being resumed.
    #[inline(always)]
    pub fn expect_start(&self) {
        if let Input::Throw(error) = self {
            panic!("throw({error}) into a coroutine that has not started: resume it first");
        }
    }
}

/// Called when a finished coroutine is resumed again.
#[cold]
#[track_caller]
pub fn resumed_after_completion() -> ! {
    panic!("coroutine resumed after completion")
}

impl Value {
    /// Drops a reply the receiver has no use for. Inline and free for the
    /// common replies, which own nothing: a plain drop of a `Value` is an
    /// out-of-line call (it may hold a task), measured at 37 instructions
    /// per echo round trip.
    #[inline(always)]
    pub fn discard(self) {
        match self {
            Value::Task(_) | Value::Waiting(_) => drop_owning(self),
            other => std::mem::forget(other),
        }
    }
}

#[cold]
#[inline(never)]
fn drop_owning(value: Value) {
    drop(value);
}

/// A source position of a suspension point: where a coroutine is waiting.
///
/// Generated coroutines have one static `Location` per `.await`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// The function (or `coroutine!` block) that contains the `.await`.
    pub function: &'static str,
    /// The source file, as `file!()` gives it.
    pub file: &'static str,
    /// The 1-based line of the `.await`.
    pub line: u32,
    /// The 1-based column of the `.await`.
    pub column: u32,
    /// The awaited expression, as written (`sleep(1.0)`).
    pub awaiting: &'static str,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{} in {}, awaiting {}",
            self.file, self.line, self.column, self.function, self.awaiting
        )
    }
}

/// A resumable computation driven by `resume` (send) and `throw`.
///
/// Write one with `#[curio::task]` or [`coroutine!`](crate::coroutine);
/// hand-write one only for a new leaf trap.
///
/// # Send and throw
///
/// Python's Curio drives a coroutine with `coro.send(value)` and
/// `coro.throw(exc)`. Each call runs the coroutine until it either finishes
/// (`StopIteration`) or suspends on a *trap*, a small request to the kernel.
/// Here the same two calls are [`Coroutine::resume`] and [`Coroutine::throw`],
/// and the two outcomes are the two variants of [`Step`]:
///
/// ```
/// use curio::{Coroutine, Step, Trap, Value};
///
/// #[curio::task]
/// async fn main_task() -> curio::Result<&'static str> {
///     curio::traps::sleep(10.0).await?;
///     Ok("Awake at last!")
/// }
///
/// let mut c = main_task();
/// // The first resume runs up to the sleep trap, like `c.send(None)`.
/// let Step::Trap(request) = c.resume(Value::None) else { panic!() };
/// assert_eq!(request, Trap::Sleep { seconds: 10.0, absolute: false });
/// // The kernel satisfies the request, then resumes the task.
/// let Step::Return(out) = c.resume(Value::None) else { panic!() };
/// assert_eq!(out.unwrap(), "Awake at last!");
/// ```
///
/// # Rules every coroutine follows
///
/// * The first call is `resume(Value::None)`; it starts the body.
/// * After `Step::Trap(t)` the driver satisfies `t` and calls `resume` with
///   the reply, or `throw` with an error that surfaces at the suspended
///   `.await` (for a leaf trap, as `Err(error)`).
/// * After `Step::Return(_)` the coroutine is finished; calling it again
///   panics.
/// * Dropping a suspended coroutine drops its live locals and the awaited
///   sub-coroutine, exactly as dropping a suspended `async fn` future would.
///
/// # The replies
///
/// Everything the kernel tells a task travels as the value of `resume`
/// (or as the error of `throw`), so a driver of its own can run any task
/// by answering its traps. The kernel's answers, which a hand-written
/// driver gives too:
///
/// | trap | reply |
/// |---|---|
/// | [`Sleep`](Trap::Sleep) | `Value::Float(now)` when it wakes |
/// | [`Clock`](Trap::Clock) | `Value::Float(now)` |
/// | [`GetCurrent`](Trap::GetCurrent) | `Value::Task(task)`: the asker ([`Task::standalone`](crate::Task::standalone) makes one for a hand-driven coroutine) |
/// | [`IoWaiting`](Trap::IoWaiting) | `Value::Waiting((reader, writer))` |
/// | [`SetTimeout`](Trap::SetTimeout) | the previous deadline: `Value::Float(t)`, or `Value::None` for none |
/// | [`UnsetTimeout`](Trap::UnsetTimeout) | `Value::Float(now)` |
/// | every other trap | `Value::None` once satisfied |
///
/// A cancellation, a timeout or a misuse (a bad fd, a foreign queue) is a
/// `throw` at the blocking trap instead.
///
/// # Outside the protocol
///
/// Three things a task learns without a trap, each because the code that
/// needs it is synchronous (no `.await`, so no trap to carry a reply):
///
/// * **Which task is running**, for [`Local`](crate::Local): reading a
///   task-local is a plain function call. The kernel marks the running
///   task in a thread-local around each cycle; a hand driver marks none,
///   and `Local` then reports that it is outside a task.
/// * **The fairness budget** (`coop.rs`): an I/O operation that succeeds
///   at once does not trap, which is the point of it; the kernel writes the
///   budget to a thread-local. A hand driver leaves it unlimited.
/// * **File descriptors closed by `Drop`**: dropping the last handle of a
///   socket or file cannot trap, so it notes the fd for the kernels of the
///   thread, which forget their registration before the number is reused
///   (async code says so with the [`IoRelease`](Trap::IoRelease) trap).
#[must_use = "a coroutine does nothing unless it is awaited or spawned"]
pub trait Coroutine {
    /// What the coroutine returns when it finishes.
    type Output;

    /// Continues the coroutine with the kernel's reply (Python's `send`).
    ///
    /// # Panics
    /// When the coroutine has already returned.
    fn resume(&mut self, value: Value) -> Step<Self::Output>;

    /// Raises `error` at the current suspension point (Python's `throw`).
    /// The error is delivered to the innermost awaited coroutine; a leaf trap
    /// returns it as `Err(error)` from its `.await`.
    ///
    /// # Panics
    /// When the coroutine has not started (the kernel always resumes a task
    /// before it can throw into it) or has already returned.
    fn throw(&mut self, error: Error) -> Step<Self::Output>;

    /// Continues the coroutine with `input` (a resume or a throw), as
    /// [`resume`](Coroutine::resume) or [`throw`](Coroutine::throw). Generated
    /// machines override it so that a parent inlines its sub-coroutine's
    /// step once, not once for each of the two entries, and so that the
    /// input is passed down nested coroutines by reference, not copied at
    /// each level. Not meant to be called or overridden by hand.
    ///
    /// # Safety
    /// The input is moved out of `*input` (read once); the caller must not
    /// read or drop it afterwards.
    #[doc(hidden)]
    #[inline(always)]
    unsafe fn __curio_drive(
        &mut self,
        input: &core::mem::ManuallyDrop<Input>,
    ) -> Step<Self::Output> {
        // SAFETY: the caller hands the input over.
        match unsafe { Input::take(input) } {
            Input::Resume(value) => self.resume(value),
            Input::Throw(error) => self.throw(error),
        }
    }

    /// Starts the coroutine (`resume(Value::None)`) for a parent that has
    /// just begun to await it. Generated machines override it with a call
    /// that is not inlined, so that a parent inlines its sub-coroutine's
    /// step at the resume point only. Not meant to be called or overridden
    /// by hand.
    #[doc(hidden)]
    #[inline(always)]
    fn __curio_start(&mut self) -> Step<Self::Output> {
        self.resume(Value::None)
    }

    /// Visits the chain of suspension points, outermost first, down through
    /// awaited sub-coroutines (Curio's `traceback()`). Leaf traps visit
    /// nothing.
    fn traceback(&self, visit: &mut dyn FnMut(&'static Location)) {
        let _ = visit;
    }

    /// The coroutine's name: the function a `#[curio::task]` was written
    /// as (Curio names a task after its coroutine).
    fn name(&self) -> &'static str {
        "coroutine"
    }

    /// The innermost suspension point (Curio's `where()`), if suspended in
    /// generated code.
    fn location(&self) -> Option<&'static Location> {
        let mut innermost = None;
        self.traceback(&mut |loc| innermost = Some(loc));
        innermost
    }
}

impl<C: Coroutine + ?Sized> Coroutine for &mut C {
    type Output = C::Output;
    fn resume(&mut self, value: Value) -> Step<C::Output> {
        (**self).resume(value)
    }
    fn throw(&mut self, error: Error) -> Step<C::Output> {
        (**self).throw(error)
    }
    fn traceback(&self, visit: &mut dyn FnMut(&'static Location)) {
        (**self).traceback(visit)
    }
    fn name(&self) -> &'static str {
        (**self).name()
    }
}

impl<C: Coroutine + ?Sized> Coroutine for Box<C> {
    type Output = C::Output;
    fn resume(&mut self, value: Value) -> Step<C::Output> {
        (**self).resume(value)
    }
    fn throw(&mut self, error: Error) -> Step<C::Output> {
        (**self).throw(error)
    }
    fn traceback(&self, visit: &mut dyn FnMut(&'static Location)) {
        (**self).traceback(visit)
    }
    fn name(&self) -> &'static str {
        (**self).name()
    }
}

/// A boxed, type-erased coroutine.
pub type BoxCoroutine<T> = Box<dyn Coroutine<Output = T>>;

/// Boxes a coroutine, erasing its type. A task that awaits itself needs this:
/// `boxed(factorial(n - 1)).await`.
///
/// # Examples
/// ```
/// use curio::{boxed, Coroutine, Step, Value};
///
/// #[curio::task]
/// async fn factorial(n: u64) -> u64 {
///     if n <= 1 { 1 } else { n * boxed(factorial(n - 1)).await }
/// }
/// assert_eq!(factorial(5).resume(Value::None), Step::Return(120));
/// ```
pub fn boxed<C: Coroutine + 'static>(coroutine: C) -> BoxCoroutine<C::Output> {
    Box::new(coroutine)
}
