//! Support for generated code: the state-machine adapter and `?` lowering.
//!
//! `#[curio::task]` declares a function-local generic frame struct (where
//! it is, what it awaits, and its locals in place: see `frame.rs`) and a
//! step closure over `&mut` that frame. [`machine`] pairs the two (plus a
//! walker for tracebacks) into a [`Coroutine`]. Because the frame is
//! generic and the closure is type-checked in the same function, rustc
//! infers the type of every stored local: users never annotate.
//!
//! Nothing here is a stable API; generated code names it through
//! `::curio::__private`.

use std::ops::ControlFlow;

use crate::error::Error;
use crate::protocol::coroutine::Input;
use crate::protocol::coroutine::{Coroutine, Location, Step, Value};

/// A generated state machine: `state`, the `step` function over it, and the
/// `walk` function that reports its suspension points.
#[must_use = "a coroutine does nothing unless it is awaited or spawned"]
pub struct Machine<S, F, W, N> {
    state: S,
    step: F,
    walk: W,
    /// A zero-sized closure returning the function's name (task names).
    name: N,
}

impl<S, F, W, N: Fn() -> &'static str> std::fmt::Debug for Machine<S, F, W, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("name", &(self.name)())
            .finish_non_exhaustive()
    }
}

/// The state of a generated coroutine.
pub trait Frame {
    /// The coroutine returned: drops the locals it still holds (before
    /// the caller sees the output, as a function drops its locals before
    /// it returns).
    fn finish(&mut self);
}

/// Builds a [`Machine`]. The argument order matters for inference: `step`
/// is type-checked before `walk`, so `walk` can call methods on the stored
/// sub-coroutines. `name` is a capture-free closure, so it costs no space.
#[inline(always)]
pub fn machine<S, T, F, W, N>(state: S, step: F, walk: W, name: N) -> Machine<S, F, W, N>
where
    S: Frame,
    F: FnMut(&mut S, &std::mem::ManuallyDrop<Input>) -> Step<T>,
    W: Fn(&S, &mut dyn FnMut(&'static Location)),
    N: Fn() -> &'static str,
{
    Machine {
        state,
        step,
        walk,
        name,
    }
}

impl<S, F, W, N> Machine<S, F, W, N> {
    #[inline(always)]
    fn step<T>(&mut self, input: &std::mem::ManuallyDrop<Input>) -> Step<T>
    where
        S: Frame,
        F: FnMut(&mut S, &std::mem::ManuallyDrop<Input>) -> Step<T>,
    {
        match (self.step)(&mut self.state, input) {
            Step::Trap(trap) => Step::Trap(trap),
            Step::Return(value) => {
                self.state.finish();
                Step::Return(value)
            }
        }
    }
}

impl<S, T, F, W, N> Coroutine for Machine<S, F, W, N>
where
    S: Frame,
    F: FnMut(&mut S, &std::mem::ManuallyDrop<Input>) -> Step<T>,
    W: Fn(&S, &mut dyn FnMut(&'static Location)),
    N: Fn() -> &'static str,
{
    type Output = T;

    #[inline]
    fn resume(&mut self, value: Value) -> Step<T> {
        self.step(&std::mem::ManuallyDrop::new(Input::Resume(value)))
    }

    #[inline]
    fn throw(&mut self, error: Error) -> Step<T> {
        self.step(&std::mem::ManuallyDrop::new(Input::Throw(error)))
    }

    #[inline(always)]
    unsafe fn __curio_drive(&mut self, input: &std::mem::ManuallyDrop<Input>) -> Step<T> {
        self.step(input)
    }

    #[inline(never)]
    fn __curio_start(&mut self) -> Step<T> {
        self.step(&std::mem::ManuallyDrop::new(Input::start()))
    }

    fn traceback(&self, visit: &mut dyn FnMut(&'static Location)) {
        (self.walk)(&self.state, visit)
    }

    fn name(&self) -> &'static str {
        (self.name)()
    }
}

/// Starts `sub`, which a parent has just begun to await, in place.
#[inline(always)]
pub fn start<C: Coroutine + ?Sized>(sub: &mut C) -> Step<C::Output> {
    sub.__curio_start()
}

/// Visits `here`, then the suspension points of `sub`.
#[inline]
pub fn walk_sub<C: Coroutine + ?Sized>(
    here: &'static Location,
    sub: &C,
    visit: &mut dyn FnMut(&'static Location),
) {
    visit(here);
    sub.traceback(visit);
}

/// The stable stand-in for the `Try` trait: what `?` does to its operand.
pub trait Branch {
    /// The value `?` produces on success.
    type Output;
    /// What `?` returns on failure, before conversion.
    type Residual;
    /// Splits the operand into continue / break.
    fn branch(self) -> ControlFlow<Self::Residual, Self::Output>;
}

/// The stable stand-in for `FromResidual`: how the function's return type
/// absorbs the failure of a `?`.
pub trait FromResidual<R> {
    /// Converts the residual, applying `From` to errors as `?` does.
    fn from_residual(residual: R) -> Self;
}

impl<T, E> Branch for Result<T, E> {
    type Output = T;
    type Residual = Result<std::convert::Infallible, E>;
    #[inline]
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Ok(v) => ControlFlow::Continue(v),
            Err(e) => ControlFlow::Break(Err(e)),
        }
    }
}

impl<T> Branch for Option<T> {
    type Output = T;
    type Residual = Option<std::convert::Infallible>;
    #[inline]
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Some(v) => ControlFlow::Continue(v),
            None => ControlFlow::Break(None),
        }
    }
}

impl<T, E, F: From<E>> FromResidual<Result<std::convert::Infallible, E>> for Result<T, F> {
    #[inline]
    fn from_residual(residual: Result<std::convert::Infallible, E>) -> Self {
        match residual {
            Err(e) => Err(From::from(e)),
        }
    }
}

impl<T> FromResidual<Option<std::convert::Infallible>> for Option<T> {
    #[inline]
    fn from_residual(_: Option<std::convert::Infallible>) -> Self {
        None
    }
}

/// The body of a task the macro rejected: it type-checks so that callers
/// see only the macro's error, and it can never run.
#[derive(Debug)]
pub struct Rejected<T>(std::marker::PhantomData<T>);

/// See [`Rejected`].
pub fn rejected<T>() -> Rejected<T> {
    Rejected(std::marker::PhantomData)
}

impl<T> Coroutine for Rejected<T> {
    type Output = T;
    fn resume(&mut self, value: Value) -> Step<T> {
        value.discard();
        unreachable!("a task rejected by #[curio::task] cannot run")
    }
    fn throw(&mut self, _: Error) -> Step<T> {
        unreachable!("a task rejected by #[curio::task] cannot run")
    }
}
