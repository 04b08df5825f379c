//! Support for generated code: a task's *shadow*, the same body compiled a
//! second time as an `async` block that is never run, so that rustc checks
//! it as the async Rust it reads as.
//!
//! # Why
//!
//! The state machine keeps locals in place in its frame and moves them
//! with raw reads (see `frame.rs`). That is sound only for a program that
//! Rust itself accepts: one that never uses a moved value, never lets a
//! borrow outlive its owner, never mutates through a shared reference.
//! A proc macro sees no types and cannot check that; rustc can, on the
//! shadow. Every `.await` there awaits a [`Shadow`], a future with the
//! same output as the coroutine (never polled); everything else is the
//! user's code as written. If the shadow does not compile, neither does
//! the task, and the error points at the user's own code.
//!
//! The shadow is a closure taking the task's parameters (their types come
//! from [`ty`]), passed to [`check`] and never called: it costs nothing at
//! run time and is not even code-generated.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::Error;
use crate::protocol::coroutine::{Coroutine, Step, Value};

/// The type of a value, without the value: `ty(&x)`.
#[derive(Debug)]
pub struct Ty<T>(PhantomData<fn() -> T>);

/// The type of `value`.
#[inline(always)]
pub fn ty<T>(_value: &T) -> Ty<T> {
    Ty(PhantomData)
}

/// The type `T` itself (the task's output).
#[inline(always)]
pub fn ty_of<T>() -> Ty<T> {
    Ty(PhantomData)
}

/// Types of the shadow's parameters: a `Ty`, or a pair of them (the
/// parameters as a right-nested list `(ty(&a), (ty(&b), ()))`).
pub trait Types {
    /// The values of those types.
    type Values;
}

impl Types for () {
    type Values = ();
}

impl<T> Types for Ty<T> {
    type Values = T;
}

impl<A: Types, B: Types> Types for (A, B) {
    type Values = (A::Values, B::Values);
}

/// Type-checks `shadow`, a closure from the task's parameters to its body
/// as an `async` block with output `O`; never calls it. Returns `O`, for
/// [`same_output`].
#[inline(always)]
pub fn check<P: Types, O, F, Fut>(_params: P, output: Ty<O>, _shadow: F) -> Ty<O>
where
    F: FnOnce(P::Values) -> Fut,
    Fut: Future<Output = O>,
{
    output
}

/// Says that a coroutine's output is `O` (the shadow's, for inference).
#[inline(always)]
pub fn same_output<C: Coroutine>(_coroutine: &C, _output: Ty<C::Output>) {}

/// What an `.await` awaits in the shadow: a future with the coroutine's
/// output. Never polled.
#[derive(Debug)]
pub struct Shadow<T>(PhantomData<fn() -> T>);

impl<T> Future for Shadow<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<T> {
        unreachable!("a task's shadow is never run")
    }
}

/// The shadow of `coroutine.await`: `shadow(coroutine).await`.
#[inline(always)]
pub fn shadow<C: Coroutine>(coroutine: C) -> Shadow<C::Output> {
    drop(coroutine);
    Shadow(PhantomData)
}

/// The shadow of a `coroutine!` block: its body as an `async` block, seen
/// as a coroutine with the same output (so nested blocks are not expanded
/// twice). Never run.
pub struct ShadowBlock<F>(F);

impl<F> std::fmt::Debug for ShadowBlock<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShadowBlock")
    }
}

/// A `coroutine!` block's shadow.
#[inline(always)]
pub fn shadow_block<T, F: Future<Output = T>>(body: F) -> ShadowBlock<F> {
    ShadowBlock(body)
}

impl<F: Future> Coroutine for ShadowBlock<F> {
    type Output = F::Output;
    fn resume(&mut self, value: Value) -> Step<F::Output> {
        value.discard();
        unreachable!("a task's shadow is never run")
    }
    fn throw(&mut self, _: Error) -> Step<F::Output> {
        unreachable!("a task's shadow is never run")
    }
}
