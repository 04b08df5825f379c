//! Small syntactic queries shared by the phases: where the `.await`s are,
//! which names a pattern binds, where a loop is left. What counts as a
//! *move* is in `moves.rs`.

use syn::visit::Visit;
use syn::{Expr, ExprAwait, Ident, Pat, Stmt};

/// The id the normaliser gave an `.await`, kept in a marker attribute.
pub fn await_id(a: &ExprAwait) -> Option<usize> {
    a.attrs
        .iter()
        .find(|at| at.path().is_ident("__curio_await"))
        .and_then(|at| {
            at.parse_args::<syn::LitInt>()
                .ok()
                .and_then(|lit| lit.base10_parse().ok())
        })
}

/// Whether `.await` `id` (or, with `None`, any `.await`) occurs in `node`,
/// outside closures, async blocks and nested items.
pub struct HasAwait {
    pub id: Option<usize>,
    pub found: bool,
}

impl<'ast> Visit<'ast> for HasAwait {
    fn visit_expr_await(&mut self, a: &'ast ExprAwait) {
        if self.id.is_none() || await_id(a) == self.id {
            self.found = true;
        }
        syn::visit::visit_expr_await(self, a);
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Whether `e` contains any `.await` of this task.
pub fn expr_has_await(e: &Expr) -> bool {
    let mut v = HasAwait {
        id: None,
        found: false,
    };
    v.visit_expr(e);
    v.found
}

/// Whether `s` contains any `.await` of this task.
pub fn stmt_has_await(s: &Stmt) -> bool {
    let mut v = HasAwait {
        id: None,
        found: false,
    };
    v.visit_stmt(s);
    v.found
}

/// One binding a pattern introduces.
#[derive(Clone, Debug)]
pub struct Binding {
    pub ident: Ident,
    pub mutable: bool,
    pub by_ref: bool,
}

/// The bindings of `pat`, in source order.
pub fn bindings(pat: &Pat) -> Vec<Binding> {
    struct Collect(Vec<Binding>);
    impl<'ast> Visit<'ast> for Collect {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            // A lone uppercase identifier is a unit struct or variant, not a binding.
            let name = p.ident.to_string();
            let constant = p.subpat.is_none()
                && p.mutability.is_none()
                && p.by_ref.is_none()
                && name.starts_with(|c: char| c.is_ascii_uppercase());
            if !constant {
                self.0.push(Binding {
                    ident: p.ident.clone(),
                    mutable: p.mutability.is_some(),
                    by_ref: p.by_ref.is_some(),
                });
            }
            syn::visit::visit_pat_ident(self, p);
        }
        fn visit_expr(&mut self, _: &'ast Expr) {}
    }
    let mut c = Collect(Vec::new());
    c.visit_pat(pat);
    c.0
}

/// The bindings introduced by an `if`/`while` condition (`let` chains).
pub fn cond_bindings(cond: &Expr) -> Vec<Binding> {
    cond_bindings_by_scrutinee(cond)
        .into_iter()
        .map(|(b, _)| b)
        .collect()
}

/// The bindings of a condition's `let`s, each with whether it has no drop
/// glue for certain (its scrutinee is borrowed: see `moves::borrowed`).
pub fn cond_bindings_by_scrutinee(cond: &Expr) -> Vec<(Binding, bool)> {
    match cond {
        Expr::Let(l) => {
            let no_drop = crate::moves::borrowed(&l.expr);
            bindings(&l.pat).into_iter().map(|b| (b, no_drop)).collect()
        }
        Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            let mut all = cond_bindings_by_scrutinee(&b.left);
            all.extend(cond_bindings_by_scrutinee(&b.right));
            all
        }
        Expr::Paren(p) => cond_bindings_by_scrutinee(&p.expr),
        _ => Vec::new(),
    }
}

/// Whether `mac` is `coroutine!` (or `curio::coroutine!`): a nested
/// coroutine whose `.await`s are its own.
pub fn is_coroutine_macro(mac: &syn::Macro) -> bool {
    mac.path
        .segments
        .last()
        .is_some_and(|s| s.ident == "coroutine")
}

/// Whether `body` contains a `break` out of the loop it belongs to: one
/// naming `label`, or an unlabelled one outside inner loops.
pub fn breaks_out(body: &syn::Block, label: Option<&syn::Lifetime>) -> bool {
    struct Find<'a> {
        label: Option<&'a syn::Lifetime>,
        depth: usize,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Find<'_> {
        fn visit_expr(&mut self, e: &'ast Expr) {
            match e {
                Expr::Break(b) => {
                    self.found |= match &b.label {
                        Some(l) => self.label == Some(l),
                        None => self.depth == 0,
                    };
                    syn::visit::visit_expr(self, e);
                }
                Expr::Loop(_) | Expr::While(_) | Expr::ForLoop(_) => {
                    self.depth += 1;
                    syn::visit::visit_expr(self, e);
                    self.depth -= 1;
                }
                Expr::Closure(_) | Expr::Async(_) => {}
                _ => syn::visit::visit_expr(self, e),
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut find = Find {
        label,
        depth: 0,
        found: false,
    };
    find.visit_block(body);
    find.found
}
