//! `#[curio::task]` and `curio::coroutine!`: ordinary Rust control flow
//! rewritten into explicit, resumable state machines.
//!
//! This is the only file that touches `proc_macro` types; everything else
//! works on `proc_macro2`, so the expansion can be tested and snapshotted
//! directly (see `src/tests/`). The pipeline is in `expand`:
//!
//! 1. `parse`: the signature into a `parse::TaskSig` (owned parameters,
//!    receiver, output type), keeping spans for errors;
//! 2. `analyse`: rejections (each a `syn::Error` with a hint), plus the
//!    usage scanner that decides which locals a state stores;
//! 3. `normalise`: desugar `while`/`for`/`&&`/`||` around `.await`, hoist
//!    operands evaluated before an `.await` into temporaries, number the
//!    suspension points in evaluation order;
//! 4. `lower`: one continuation per suspension point and the set of live
//!    locals it stores;
//! 5. `emit`: the state enum, the step closure, the traceback walker.

mod analyse;
mod cfg;
mod emit;
mod expand;
mod locals;
mod mentions;
mod normalise;
mod parse;
mod rename;
mod runtime;
mod scan;
mod shadow;
#[cfg(test)]
mod tests;
mod unshadow;

use proc_macro::TokenStream;

/// Rewrites an `async fn` into a function returning `impl Coroutine`.
///
/// See the crate documentation of `curio` for the accepted syntax, the
/// rules (owned parameters, no `.await` in closures) and the shape of the
/// expansion.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::task(attr.into(), item.into()).into()
}

/// An inline coroutine: `coroutine!({ ... })` or `coroutine!(-> Type { ... })`,
/// the analogue of an `async move` block. Captured variables are moved in.
#[proc_macro]
pub fn coroutine(input: TokenStream) -> TokenStream {
    expand::block(input.into()).into()
}
