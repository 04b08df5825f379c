//! `#[curio::task]` and `curio::coroutine!`: ordinary Rust control flow
//! rewritten into explicit, resumable state machines.
//!
//! This is the only file that touches `proc_macro` types; everything else
//! works on `proc_macro2`, so the expansion can be tested and snapshotted
//! directly (see `src/tests/`). `expand.rs` only orchestrates the phases,
//! each a file that does one thing:
//!
//! 1. **parse** (`parse.rs`): the attribute's and `coroutine!`'s
//!    arguments, and the signature into a `parse::TaskSig` (owned
//!    parameters, receiver, output type), keeping spans for errors;
//!    `runtime.rs` finds the runtime's path;
//! 2. **analyse** (`analyse/`): every rejection, each a `syn::Error` at
//!    the user's span with a hint (the signature, awaits in closures and
//!    macros, tasks awaiting each other, duplicate nested items; and, in
//!    `analyse/borrows.rs`, run on the lowered blocks, borrows held across
//!    an `.await`). The one exception is a shadowed binding made by
//!    another macro, which `unshadow.rs` cannot rename;
//! 3. **normalise** (`normalise.rs`, `rename.rs`, `unshadow.rs`): desugar
//!    `while`/`for`/`&&`/`||` around `.await`, hoist operands evaluated
//!    before an `.await` into temporaries, number the suspension points in
//!    evaluation order, rename shadowed bindings;
//! 4. **lower** (`lower.rs`: parameters' slots, hoisted nested items,
//!    captures; `cfg.rs`: blocks written once; `locals.rs`: which locals
//!    live in the frame, using `moves.rs`, what counts as a move;
//!    `mentions.rs`: locals through their slots, `?` and `return` as the
//!    step's exits; `inline.rs`: small jumps written out);
//! 5. **emit** (`emit.rs`): prints the frame, the step function and the
//!    traceback walker; `wrap.rs` the function around it (or the fallback
//!    of a rejected task); `shadow.rs` the never-run async copy that rustc
//!    checks.
//!
//! `scan.rs` holds the small syntactic queries every phase shares. Every
//! identifier the expansion declares starts with `__curio_` (or
//! `__Curio` for its types), and it names the runtime, `core` and `std`
//! by absolute paths (`tests/runtime_path.rs`).

mod analyse;
mod cfg;
mod emit;
mod expand;
mod inline;
mod locals;
mod lower;
mod macros;
mod mentions;
mod moves;
mod normalise;
mod parse;
mod rename;
mod runtime;
mod scan;
mod shadow;
#[cfg(test)]
mod tests;
mod unshadow;
mod wrap;

use proc_macro::TokenStream;

/// Rewrites an `async fn` (or every `async fn` of an `impl` block) into a
/// function returning `impl Coroutine`: an explicit state machine driven
/// by `resume` and `throw`.
///
/// ```
/// use curio::{sleep, Result};
///
/// #[curio::task]
/// async fn countdown(mut n: u32) -> Result<u32> {
///     let mut ticks = 0;
///     while n > 0 {
///         sleep(0.0).await?;
///         n -= 1;
///         ticks += 1;
///     }
///     Ok(ticks)
/// }
/// assert_eq!(curio::run(countdown(3)).unwrap(), 3);
/// ```
///
/// One optional argument, `crate = path`, says where the runtime is when
/// the macro cannot find it in your `Cargo.toml` (a re-export from another
/// crate): `#[curio::task(crate = my_crate::curio)]`.
///
/// The README's "What the macro does" shows the expansion; the rules
/// follow.
///
#[doc = include_str!("../doc/task.md")]
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::task(attr.into(), item.into()).into()
}

/// An inline coroutine: `coroutine!({ ... })` or `coroutine!(-> Type { ... })`,
/// the analogue of an `async move` block. Captured variables are moved in.
/// `coroutine!(crate = path, { ... })` names the runtime, as
/// [`task`](macro@task)'s `crate = path` does. The rules are those of
/// [`task`](macro@task).
///
/// ```
/// use curio::{coroutine, sleep, timeout_after, Result};
///
/// #[curio::task]
/// async fn demo() -> Result<u32> {
///     let n = 20;
///     // Python's `async with timeout_after(1):` around a block.
///     timeout_after(1.0, coroutine!({
///         sleep(0.0).await?;
///         Ok::<_, curio::Error>(n + 1)
///     }))
///     .await
/// }
/// assert_eq!(curio::run(demo()).unwrap(), 21);
/// ```
#[proc_macro]
pub fn coroutine(input: TokenStream) -> TokenStream {
    expand::block(input.into()).into()
}
