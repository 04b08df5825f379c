//! The task's shadow: its body once more, as an `async` block that rustc
//! checks and nobody runs (see `curio-rt/src/shadow.rs` for why).
//!
//! ```text
//! ::curio::__private::check(
//!     (ty(&a), (ty(&b), ())),                  // the parameters' types
//!     ty_of::<Output>(),
//!     |(a, (b, ()))| async move { BODY },     // its output type is Output
//! );
//! ```
//!
//! In `BODY`, `x.await` awaits `shadow(x)`, a future with the coroutine's
//! output, and a `coroutine!` block is its body as an `async` block (so a
//! nested block is not expanded twice); everything else is the user's
//! code as written, with the user's spans, so rustc's errors point at it.

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Pat, Type, parse_quote};

/// A parameter of the shadow: its pattern, and an expression whose type is
/// the parameter's (`ty(&arg)`, or `ty_of::<Self>()`).
pub struct ShadowParam {
    pub pat: Pat,
    pub ty: Expr,
}

/// The statement that type-checks `body` as async Rust.
pub fn shadow(params: &[ShadowParam], body: &Block, output: Option<&Type>) -> TokenStream {
    let rt = crate::runtime::path();
    let mut body = body.clone();
    Awaits.visit_block_mut(&mut body);
    let mut types: Expr = parse_quote!(());
    let mut pattern: TokenStream = quote!(());
    for p in params.iter().rev() {
        let (ty, pat) = (&p.ty, &p.pat);
        types = parse_quote!((#ty, #types));
        pattern = quote!((#pat, #pattern));
    }
    let output_ty = match output {
        Some(t) => quote!(#rt::__private::ty_of::<#t>()),
        None => quote!(#rt::__private::ty_of::<_>()),
    };
    quote! {
        // The body as the async Rust it reads as: rustc checks it (moves,
        // borrows, types) so that the state machine below only ever runs
        // programs that are valid Rust. Never run.
        let __curio_shadow = #rt::__private::check(#types, #output_ty,
            |#pattern| async move #body,
        );
    }
}

/// Rewrites `.await`s and `coroutine!` blocks for the shadow.
struct Awaits;

impl VisitMut for Awaits {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        let rt = crate::runtime::path();
        match e {
            Expr::Await(a) => {
                self.visit_expr_mut(&mut a.base);
                let base = &a.base;
                *a.base = parse_quote!(#rt::__private::shadow(#base));
            }
            Expr::Macro(m) if crate::scan::is_coroutine_macro(&m.mac) => {
                if let Ok(block) = syn::parse2::<crate::parse::BlockInput>(m.mac.tokens.clone()) {
                    let mut inner = block.block;
                    self.visit_block_mut(&mut inner);
                    let output = match block.output {
                        Some(t) => quote!(#t),
                        None => quote!(_),
                    };
                    *e =
                        parse_quote!(#rt::__private::shadow_block::<#output, _>(async move #inner));
                }
            }
            Expr::Closure(_) | Expr::Async(_) => {
                // Their `.await`s are rejected by the analysis; anything
                // else in them is plain Rust.
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
