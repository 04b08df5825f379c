//! Lowering helpers around the body: the parameters' slots, nested items
//! hoisted to the task's scope, the loops' extents, and the variables a
//! `coroutine!` block captures.

use std::collections::HashSet;

use proc_macro2::Span;
use quote::format_ident;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Block, Expr, Ident, ItemFn, Pat, Stmt, parse_quote};

use crate::analyse::{combine, local_names};
use crate::parse::BlockInput;

/// The parameters of a task (or the captures of a block): what their
/// slots start with, the locals they are, and how the shadow binds them.
#[derive(Default)]
pub struct Params {
    /// Slot name and initial value.
    pub inits: Vec<(Ident, Expr)>,
    /// The locals.
    pub bindings: Vec<crate::scan::Binding>,
    /// The shadow's parameters.
    pub shadow: Vec<crate::shadow::ShadowParam>,
    /// Destructuring `let`s at the top of the body.
    pub lets: Vec<Stmt>,
}

impl Params {
    pub fn add(&mut self, name: Ident, mutable: bool, value: Expr, pat: Pat, ty: Expr) {
        self.inits.push((name.clone(), value));
        self.bindings.push(crate::scan::Binding {
            ident: name,
            mutable,
            by_ref: false,
        });
        self.shadow.push(crate::shadow::ShadowParam { pat, ty });
    }
}

/// `pat` with each `_` replaced by a fresh binding, so that the parts it
/// ignores stay alive to the end of the body (an `async fn` keeps its
/// whole argument until then).
pub fn keep_ignored(mut pat: Pat, param: usize) -> Pat {
    struct Keep(usize, usize);
    impl syn::visit_mut::VisitMut for Keep {
        fn visit_pat_mut(&mut self, p: &mut Pat) {
            if matches!(p, Pat::Wild(_)) {
                let name = format_ident!(
                    "__curio_keep{}_{}",
                    self.0,
                    self.1,
                    span = Span::call_site()
                );
                self.1 += 1;
                *p = parse_quote!(#name);
                return;
            }
            syn::visit_mut::visit_pat_mut(self, p);
        }
    }
    syn::visit_mut::VisitMut::visit_pat_mut(&mut Keep(param, 0), &mut pat);
    pat
}

pub fn typed_patterns(item: &ItemFn) -> impl Iterator<Item = &syn::Pat> {
    item.sig.inputs.iter().filter_map(|arg| match arg {
        syn::FnArg::Typed(pt) => Some(&*pt.pat),
        syn::FnArg::Receiver(_) => None,
    })
}

/// The source ranges of the body's loops, from the keyword to the closing
/// brace (for "is this mention the last": one in a loop runs again).
pub fn loop_ranges(body: &Block) -> Vec<(crate::mentions::Pos, crate::mentions::Pos)> {
    struct Loops(Vec<(crate::mentions::Pos, crate::mentions::Pos)>);
    impl Loops {
        pub fn add(&mut self, start: Span, body: &Block) {
            let (s, e) = (start.start(), body.brace_token.span.close().end());
            self.0.push(((s.line, s.column), (e.line, e.column)));
        }
    }
    impl<'ast> Visit<'ast> for Loops {
        fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
            self.add(l.loop_token.span, &l.body);
            syn::visit::visit_expr_loop(self, l);
        }
        fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
            self.add(w.while_token.span, &w.body);
            syn::visit::visit_expr_while(self, w);
        }
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            self.add(f.for_token.span, &f.body);
            syn::visit::visit_expr_for_loop(self, f);
        }
        fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
            // A closure may run many times too.
            let (s, e) = (
                c.or1_token.span.start(),
                syn::spanned::Spanned::span(&c.body).end(),
            );
            self.0.push(((s.line, s.column), (e.line, e.column)));
            syn::visit::visit_expr_closure(self, c);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut loops = Loops(Vec::new());
    loops.visit_block(body);
    loops.0
}

/// Moves the items declared in the body (nested `fn`s, `struct`s, `const`s,
/// `use`s) to the generated function's scope. Items have no run-time
/// effect and are visible throughout their block, but each state's arm
/// rebuilds only part of the body: defined once outside, they are the same
/// items in every arm.
pub fn hoist_items(root: &mut Block) -> syn::Result<Vec<syn::Item>> {
    struct Hoist(Vec<syn::Item>);
    impl syn::visit_mut::VisitMut for Hoist {
        fn visit_block_mut(&mut self, b: &mut Block) {
            let (items, stmts): (Vec<Stmt>, Vec<Stmt>) =
                b.stmts.drain(..).partition(|s| matches!(s, Stmt::Item(_)));
            self.0.extend(items.into_iter().filter_map(|s| match s {
                Stmt::Item(item) => Some(item),
                _ => None,
            }));
            b.stmts = stmts;
            syn::visit_mut::visit_block_mut(self, b);
        }
        fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
        fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    let mut hoist = Hoist(Vec::new());
    syn::visit_mut::VisitMut::visit_block_mut(&mut hoist, root);
    match combine(crate::analyse::duplicate_items(&hoist.0)) {
        Some(error) => Err(error),
        None => Ok(hoist.0),
    }
}

/// What a `coroutine!` block captures: the free variables of its body,
/// or nothing if its tokens are not a block.
pub fn captures(mac: &syn::Macro) -> Vec<Ident> {
    match syn::parse2::<BlockInput>(mac.tokens.clone()) {
        Ok(input) => {
            let locals = local_names(&input.block, std::iter::empty());
            free_variables(&input.block, &locals)
        }
        Err(_) => Vec::new(),
    }
}

/// Lower-case single-name paths used as values and bound nowhere inside,
/// in order of first mention: in expressions, in the expressions of
/// macro calls (`println!("{}", x)`, inline `"{x}"`), and captured by
/// nested `coroutine!` blocks.
pub fn free_variables(block: &Block, bound: &HashSet<String>) -> Vec<Ident> {
    struct Free {
        bound: HashSet<String>,
        seen: Vec<Ident>,
    }
    impl Free {
        pub fn add(&mut self, ident: &Ident) {
            let name = ident.to_string();
            let value_like =
                name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') && name != "self";
            if value_like && !self.bound.contains(&name) && !self.seen.iter().any(|s| *s == name) {
                self.seen.push(ident.clone());
            }
        }
    }
    impl<'ast> Visit<'ast> for Free {
        fn visit_expr(&mut self, e: &'ast Expr) {
            match e {
                // A callee is a function name, not a captured value.
                Expr::Call(c) if matches!(&*c.func, Expr::Path(_)) => {
                    c.args.iter().for_each(|a| self.visit_expr(a));
                }
                Expr::Path(p) if p.qself.is_none() => {
                    if let Some(ident) = p.path.get_ident() {
                        self.add(ident);
                    }
                }
                _ => syn::visit::visit_expr(self, e),
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if crate::scan::is_coroutine_macro(m) {
                for ident in captures(m) {
                    self.add(&ident);
                }
                return;
            }
            let exprs = crate::moves::macro_exprs(m).unwrap_or_default();
            // Names bound inside the arguments (a closure's parameters)
            // are theirs.
            let saved = self.bound.clone();
            for e in &exprs {
                let block: Block = parse_quote!({ #e });
                self.bound.extend(local_names(&block, std::iter::empty()));
            }
            for e in &exprs {
                self.visit_expr(e);
            }
            self.bound = saved;
            for name in crate::moves::macro_format_names(m) {
                self.add(&Ident::new(&name, m.path.span()));
            }
        }
    }
    let mut free = Free {
        bound: bound.clone(),
        seen: Vec::new(),
    };
    free.visit_block(block);
    free.seen
}
