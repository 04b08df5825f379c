//! Normalisation: make every `.await` reachable by plugging a value into an
//! expression.
//!
//! After this pass, for every `.await`, all operands evaluated *before* it
//! in the same expression are pure (paths, literals, borrows of paths,
//! closures), so the code after the suspension point can be rebuilt by
//! replacing the `.await` with its result and re-evaluating those operands.
//! Impure ones are hoisted into `let __curio_tN = …;` temporaries, in
//! evaluation order. `while`, `for`, `&&` and `||` around an `.await` are
//! desugared into `loop`, `match` and `if`. Finally the `.await`s are
//! numbered in evaluation order (inner before outer), which is the order of
//! the states.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Ident, Stmt, parse_quote};

use crate::scan::{expr_has_await, stmt_has_await};

/// One suspension point.
#[derive(Clone, Debug)]
pub struct AwaitSite {
    pub id: usize,
    pub line: usize,
    pub column: usize,
    /// The awaited expression as written, for docs and tracebacks.
    pub awaiting: String,
    /// The state's name: `Await3Recv`.
    pub variant: Ident,
}

/// Normalises `body` in place and returns its suspension points.
pub fn normalise(body: &mut Block) -> Vec<AwaitSite> {
    let mut n = Normaliser { temps: 0, iters: 0 };
    n.block(body);
    let mut tagger = Tagger { sites: Vec::new() };
    tagger.visit_block_mut(body);
    tagger.sites
}

/// Renames `self` to `__curio_self` in expressions and macro arguments.
pub fn rename_self(body: &mut Block) {
    let from = Ident::new("self", Span::call_site());
    crate::rename::rename_free(body, &from, &crate::parse::self_ident());
}

/// The operands of `e` that are evaluated eagerly, in evaluation order.
/// Deferred parts (branches, arms, loop bodies, closure bodies) are not
/// operands; kinds without operands give none.
pub fn operands_mut(e: &mut Expr) -> Vec<&mut Expr> {
    match e {
        Expr::Array(a) => a.elems.iter_mut().collect(),
        Expr::Assign(a) => vec![&mut *a.right, &mut *a.left],
        Expr::Await(a) => vec![&mut *a.base],
        Expr::Binary(b) => vec![&mut *b.left, &mut *b.right],
        Expr::Break(b) => b.expr.iter_mut().map(|e| &mut **e).collect(),
        Expr::Call(c) => std::iter::once(&mut *c.func)
            .chain(c.args.iter_mut())
            .collect(),
        Expr::Cast(c) => vec![&mut *c.expr],
        Expr::Field(f) => vec![&mut *f.base],
        Expr::Group(g) => vec![&mut *g.expr],
        Expr::If(i) => vec![&mut *i.cond],
        Expr::Index(i) => vec![&mut *i.expr, &mut *i.index],
        Expr::Let(l) => vec![&mut *l.expr],
        Expr::Match(m) => vec![&mut *m.expr],
        Expr::MethodCall(m) => std::iter::once(&mut *m.receiver)
            .chain(m.args.iter_mut())
            .collect(),
        Expr::Paren(p) => vec![&mut *p.expr],
        Expr::Range(r) => r
            .start
            .iter_mut()
            .chain(r.end.iter_mut())
            .map(|e| &mut **e)
            .collect(),
        Expr::Reference(r) => vec![&mut *r.expr],
        Expr::Repeat(r) => vec![&mut *r.expr],
        Expr::Return(r) => r.expr.iter_mut().map(|e| &mut **e).collect(),
        Expr::Struct(s) => s
            .fields
            .iter_mut()
            .map(|f| &mut f.expr)
            .chain(s.rest.iter_mut().map(|e| &mut **e))
            .collect(),
        Expr::Try(t) => vec![&mut *t.expr],
        Expr::Tuple(t) => t.elems.iter_mut().collect(),
        Expr::Unary(u) => vec![&mut *u.expr],
        _ => Vec::new(),
    }
}

/// Evaluating a pure expression has no effect and gives the same result
/// later, so it need not be saved across an `.await`.
fn is_pure(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) | Expr::Path(_) | Expr::Closure(_) => true,
        Expr::Reference(r) => is_pure(&r.expr),
        Expr::Field(f) => is_pure(&f.base),
        Expr::Paren(p) => is_pure(&p.expr),
        Expr::Group(g) => is_pure(&g.expr),
        Expr::Cast(c) => is_pure(&c.expr),
        Expr::Unary(u) => matches!(u.op, syn::UnOp::Deref(_)) && is_pure(&u.expr),
        _ => false,
    }
}

fn placeholder() -> Expr {
    Expr::Verbatim(TokenStream::new())
}

fn is_let_chain(cond: &Expr) -> bool {
    match cond {
        Expr::Let(_) => true,
        Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            is_let_chain(&b.left) || is_let_chain(&b.right)
        }
        Expr::Paren(p) => is_let_chain(&p.expr),
        _ => false,
    }
}

struct Normaliser {
    temps: usize,
    iters: usize,
}

impl Normaliser {
    fn block(&mut self, b: &mut Block) {
        for stmt in &mut b.stmts {
            if !stmt_has_await(stmt) {
                continue;
            }
            match stmt {
                Stmt::Local(local) => {
                    if let Some(init) = &mut local.init {
                        *init.expr = self.expr(std::mem::replace(&mut *init.expr, placeholder()));
                        if let Some((_, diverge)) = &mut init.diverge {
                            **diverge = self.expr(std::mem::replace(&mut **diverge, placeholder()));
                        }
                    }
                }
                Stmt::Expr(e, _) => *e = self.expr(std::mem::replace(e, placeholder())),
                Stmt::Item(_) | Stmt::Macro(_) => {}
            }
        }
    }

    /// A condition: in a `let` chain only the first operand may await.
    fn cond(&mut self, cond: &mut Expr) {
        if !is_let_chain(cond) {
            *cond = self.expr(std::mem::replace(cond, placeholder()));
            return;
        }
        let mut first = &mut *cond;
        while let Expr::Binary(b) = first {
            first = &mut *b.left;
        }
        if let Expr::Let(l) = first {
            *l.expr = self.expr(std::mem::replace(&mut *l.expr, placeholder()));
        }
    }

    fn expr(&mut self, e: Expr) -> Expr {
        if !expr_has_await(&e) {
            return e;
        }
        match e {
            Expr::Block(mut b) => {
                self.block(&mut b.block);
                Expr::Block(b)
            }
            Expr::Unsafe(mut u) => {
                self.block(&mut u.block);
                Expr::Unsafe(u)
            }
            Expr::Loop(mut l) => {
                self.block(&mut l.body);
                Expr::Loop(l)
            }
            Expr::If(mut i) => {
                self.cond(&mut i.cond);
                self.block(&mut i.then_branch);
                if let Some((_, e)) = &mut i.else_branch {
                    **e = self.expr(std::mem::replace(&mut **e, placeholder()));
                }
                Expr::If(i)
            }
            Expr::Match(mut m) => {
                *m.expr = self.expr(std::mem::replace(&mut *m.expr, placeholder()));
                for arm in &mut m.arms {
                    *arm.body = self.expr(std::mem::replace(&mut *arm.body, placeholder()));
                }
                Expr::Match(m)
            }
            Expr::While(w) => {
                // 'l: while C { B }  =>  'l: loop { if C { B } else { break } }
                let (label, cond, body) = (w.label, w.cond, w.body);
                let desugared: Expr =
                    parse_quote! { #label loop { if #cond #body else { break } } };
                self.expr(desugared)
            }
            Expr::ForLoop(f) => {
                // 'l: for P in I { B }  =>  { let mut it = I.into_iter(); 'l: loop { match it.next() { Some(P) => B, None => break } } }
                let iter = format_ident!("__curio_iter{}", self.iters, span = Span::call_site());
                self.iters += 1;
                let (label, pat, source, body) = (f.label, f.pat, f.expr, f.body);
                let desugared: Expr = parse_quote! {{
                    let mut #iter = ::core::iter::IntoIterator::into_iter(#source);
                    #label loop {
                        match ::core::iter::Iterator::next(&mut #iter) {
                            ::core::option::Option::Some(#pat) => #body,
                            ::core::option::Option::None => break,
                        }
                    }
                }};
                self.expr(desugared)
            }
            Expr::Binary(b)
                if matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_))
                    && expr_has_await(&b.right) =>
            {
                let (left, right) = (b.left, b.right);
                let desugared: Expr = if matches!(b.op, syn::BinOp::And(_)) {
                    parse_quote! { if #left { #right } else { false } }
                } else {
                    parse_quote! { if #left { true } else { #right } }
                };
                self.expr(desugared)
            }
            other => self.hoist(other),
        }
    }

    /// Normalises the operands of `e`, then hoists the impure ones that are
    /// evaluated before the last operand containing an `.await`.
    fn hoist(&mut self, mut e: Expr) -> Expr {
        let receiver_is_first = matches!(e, Expr::MethodCall(_));
        let mut lets: Vec<Stmt> = Vec::new();
        {
            let mut ops = operands_mut(&mut e);
            for op in ops.iter_mut() {
                **op = self.expr(std::mem::replace(&mut **op, placeholder()));
            }
            let Some(last) = ops.iter().rposition(|op| expr_has_await(op)) else {
                return e;
            };
            for (index, op) in ops.iter_mut().take(last).enumerate() {
                if is_pure(op) {
                    continue;
                }
                let temp = format_ident!("__curio_t{}", self.temps, span = Span::call_site());
                self.temps += 1;
                let value = std::mem::replace(&mut **op, parse_quote!(#temp));
                lets.push(if receiver_is_first && index == 0 {
                    parse_quote! { #[allow(unused_mut)] let mut #temp = #value; }
                } else {
                    parse_quote! { let #temp = #value; }
                });
            }
        }
        if lets.is_empty() {
            return e;
        }
        parse_quote! {{ #(#lets)* #e }}
    }
}

/// Numbers the `.await`s in evaluation order (inner first) and names the
/// states after what they wait on.
struct Tagger {
    sites: Vec<AwaitSite>,
}

impl VisitMut for Tagger {
    fn visit_expr_await_mut(&mut self, a: &mut syn::ExprAwait) {
        syn::visit_mut::visit_expr_await_mut(self, a);
        let id = self.sites.len();
        let start = a.base.span().start();
        let awaiting = tidy(&a.base.to_token_stream().to_string());
        let variant = format_ident!(
            "Await{}{}",
            id + 1,
            callee(&a.base),
            span = Span::call_site()
        );
        self.sites.push(AwaitSite {
            id,
            line: start.line,
            column: start.column + 1,
            awaiting,
            variant,
        });
        let lit = syn::LitInt::new(&id.to_string(), Span::call_site());
        a.attrs.push(parse_quote!(#[__curio_await(#lit)]));
    }
    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// `CamelCase` of the awaited function or method name.
fn callee(base: &Expr) -> String {
    let ident = match base {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        },
        Expr::MethodCall(m) => Some(m.method.to_string()),
        Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Expr::Paren(p) => return callee(&p.expr),
        Expr::Try(t) => return callee(&t.expr),
        _ => None,
    };
    let ident = ident.unwrap_or_default();
    ident
        .trim_start_matches("r#")
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
                .collect::<String>()
        })
        .collect()
}

/// Token text with the spaces `to_string` puts around punctuation removed.
fn tidy(text: &str) -> String {
    let mut out = text.to_string();
    for (from, to) in [
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" ,", ","),
        (" . ", "."),
        (" .", "."),
        (":: ", "::"),
        (" ::", "::"),
        ("& ", "&"),
        (" !", "!"),
        (" ?", "?"),
        ("[ ", "["),
        (" ]", "]"),
    ] {
        out = out.replace(from, to);
    }
    out.replace("__curio_self", "self")
}

#[cfg(test)]
mod tests {
    use super::*;

    use quote::quote;

    #[test]
    fn awaited_text_is_tidy() {
        let e: Expr = syn::parse_str("sock.recv(100)").unwrap();
        assert_eq!(tidy(&e.to_token_stream().to_string()), "sock.recv(100)");
        assert_eq!(callee(&e), "Recv");
        let e: Expr = syn::parse_str("curio::traps::read_wait(fd)").unwrap();
        assert_eq!(callee(&e), "ReadWait");
        assert_eq!(tidy(&quote!(#e).to_string()), "curio::traps::read_wait(fd)");
    }
}
