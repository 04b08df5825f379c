//! Lowering, last step: the jumps between blocks. A jump to a small loop
//! head or join is replaced by that block's code, written out where it is
//! jumped to (no dispatch), when copying it is sound and cheap
//! ([`duplicable`]); the blocks the lowering opened that declare nothing
//! are spliced away ([`flatten`]). Emission prints what this leaves.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use syn::{Expr, Ident, Stmt, parse_quote};

pub fn token_count(tokens: &TokenStream) -> usize {
    tokens
        .clone()
        .into_iter()
        .map(|tt| match tt {
            proc_macro2::TokenTree::Group(g) => 1 + token_count(&g.stream()),
            _ => 1,
        })
        .sum()
}

/// Whether code can be written twice without changing what it means: no
/// closure, `async` block or item (each written copy would be a type of its
/// own, which a slot holding it could not be), and no macro but the
/// formatting, assertion and logging macros and a few that expand to plain
/// expressions (any other may expand to one of those).
pub fn duplicable(tokens: &TokenStream) -> bool {
    // Besides the formatting, assertion and logging macros: these expand
    // to plain expressions.
    const MACROS: &[&str] = &[
        "vec",
        "matches",
        "concat",
        "stringify",
        "line",
        "file",
        "column",
    ];
    const ITEMS: &[&str] = &[
        "async",
        "move",
        "fn",
        "struct",
        "enum",
        "union",
        "impl",
        "trait",
        "static",
        "mod",
        "type",
        "macro_rules",
    ];
    let mut previous: Option<proc_macro2::Ident> = None;
    for tt in tokens.clone() {
        match tt {
            proc_macro2::TokenTree::Group(g) => {
                if !duplicable(&g.stream()) {
                    return false;
                }
                previous = None;
            }
            proc_macro2::TokenTree::Punct(p) => {
                if p.as_char() == '|' {
                    return false;
                }
                if p.as_char() == '!'
                    && let Some(name) = &previous
                    && !MACROS
                        .iter()
                        .chain(crate::mentions::BY_REFERENCE)
                        .any(|m| name == m)
                {
                    return false;
                }
                previous = None;
            }
            proc_macro2::TokenTree::Ident(i) => {
                if ITEMS.iter().any(|k| i == k) {
                    return false;
                }
                previous = Some(i);
            }
            proc_macro2::TokenTree::Literal(_) => previous = None,
        }
    }
    true
}

/// `stmts` with the blocks in statement position that declare nothing
/// spliced into the list (the lowering opens a block per scope and the
/// markers expand to blocks; most declare nothing), recursively.
pub fn flatten(stmts: Vec<Stmt>) -> Vec<Stmt> {
    struct Flatten;
    impl syn::visit_mut::VisitMut for Flatten {
        fn visit_block_mut(&mut self, b: &mut syn::Block) {
            syn::visit_mut::visit_block_mut(self, b);
            b.stmts = splice(std::mem::take(&mut b.stmts));
        }
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
        fn visit_macro_mut(&mut self, _: &mut syn::Macro) {}
    }
    fn declares(stmts: &[Stmt]) -> bool {
        stmts.iter().any(|s| match s {
            Stmt::Local(_) | Stmt::Item(_) => true,
            // A macro of the user's may declare a local; the standard
            // formatting ones do not.
            Stmt::Macro(m) => !m.mac.path.segments.last().is_some_and(|s| {
                crate::mentions::BY_REFERENCE.contains(&s.ident.to_string().as_str())
            }),
            Stmt::Expr(..) => false,
        })
    }
    fn splice(stmts: Vec<Stmt>) -> Vec<Stmt> {
        let count = stmts.len();
        let mut out = Vec::with_capacity(count);
        for (index, stmt) in stmts.into_iter().enumerate() {
            let is_tail = index + 1 == count;
            match stmt {
                Stmt::Expr(Expr::Block(b), semi)
                    if b.label.is_none()
                        && b.attrs.is_empty()
                        && (semi.is_some() || !is_tail)
                        && !declares(&b.block.stmts) =>
                {
                    // The block's value was discarded: its tail becomes
                    // a statement (other statements without `;` are
                    // block-like, of type `()`).
                    let inner_count = b.block.stmts.len();
                    for (inner_index, inner) in b.block.stmts.into_iter().enumerate() {
                        out.push(match inner {
                            Stmt::Expr(e, None)
                                if inner_index + 1 == inner_count || !is_block_like(&e) =>
                            {
                                Stmt::Expr(e, Some(Default::default()))
                            }
                            other => other,
                        });
                    }
                }
                other => out.push(other),
            }
        }
        out
    }
    let mut block = syn::Block {
        brace_token: Default::default(),
        stmts,
    };
    syn::visit_mut::VisitMut::visit_block_mut(&mut Flatten, &mut block);
    block.stmts
}

/// An expression that may stand as a statement without a `;`.
fn is_block_like(e: &Expr) -> bool {
    crate::normalise::is_construct(e) || matches!(e, Expr::Const(_))
}

/// `body` with each `__curio_inline!(target)` placeholder a plain jump
/// through the dispatch.
pub fn without_inlining(body: Vec<Stmt>, names: &[Ident]) -> Vec<Stmt> {
    replace_inlines(body, &mut |target| {
        let name = &names[target];
        parse_quote!({
            __curio_pc = __CurioAt::#name;
            continue '__curio_dispatch;
        })
    })
}

/// Block `from`'s code, each jump placeholder replaced by the target's code
/// when `inlined` has it (and it is not `from` itself), else by a jump.
pub fn inline_jumps(
    body: Vec<Stmt>,
    from: usize,
    inlined: &HashMap<usize, TokenStream>,
    names: &[Ident],
) -> Vec<Stmt> {
    replace_inlines(body, &mut |target| match inlined.get(&target) {
        Some(code) if target != from => parse_quote!(break '__curio_dispatch ({ #code })),
        _ => {
            let name = &names[target];
            parse_quote!({
                __curio_pc = __CurioAt::#name;
                continue '__curio_dispatch;
            })
        }
    })
}

/// Replaces each `__curio_inline!(n)` expression in `body` by `with(n)`.
pub fn replace_inlines(body: Vec<Stmt>, with: &mut dyn FnMut(usize) -> Expr) -> Vec<Stmt> {
    struct Replace<'a>(&'a mut dyn FnMut(usize) -> Expr);
    impl syn::visit_mut::VisitMut for Replace<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if let Expr::Macro(m) = e
                && m.mac.path.is_ident("__curio_inline")
            {
                let target: syn::LitInt = m.mac.parse_body().expect("the emitter's marker");
                *e = (self.0)(target.base10_parse().expect("a block number"));
                return;
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
        fn visit_stmt_mut(&mut self, s: &mut Stmt) {
            if let Stmt::Macro(m) = s
                && m.mac.path.is_ident("__curio_inline")
            {
                let target: syn::LitInt = m.mac.parse_body().expect("the emitter's marker");
                let e = (self.0)(target.base10_parse().expect("a block number"));
                *s = Stmt::Expr(e, Some(Default::default()));
                return;
            }
            syn::visit_mut::visit_stmt_mut(self, s);
        }
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    let mut block = syn::Block {
        brace_token: Default::default(),
        stmts: body,
    };
    syn::visit_mut::VisitMut::visit_block_mut(&mut Replace(with), &mut block);
    block.stmts
}
