//! Normalisation: every `.await` made reachable by the lowering.
//!
//! After this pass, each `.await` is in one of two places:
//!
//! * inside a construct that the lowering splits into blocks (a block, an
//!   `if`, a `match`, a `loop`, a labelled block) standing as a statement,
//!   as a `let` initialiser, or as the body of another such construct; or
//! * on a path of plain operands (calls, method calls, operators, fields,
//!   `?`, ...) of a statement, with everything evaluated *before* it on
//!   that path pure (paths, literals, borrows of paths, closures). The
//!   lowering cuts such a statement at the `.await` and evaluates it again
//!   after resuming, with the `.await` replaced by its result: evaluating
//!   a pure operand again is the same as having kept it.
//!
//! To get there:
//!
//! * `while`, `for`, `&&` and `||` around an `.await` become `loop`, `match`
//!   and `if` (a `for` as Rust itself desugars it, its iterable's
//!   temporaries kept for the whole loop);
//! * an `.await` in a `let` chain after its first condition, or in a match
//!   guard, becomes nested `if`s in a labelled block, so that a false
//!   condition or guard falls through to the `else` or the next arm as
//!   Rust says;
//! * impure operands evaluated before an `.await` are hoisted into
//!   `let __curio_tN = …;` temporaries, in evaluation order, and so is an
//!   operand that is itself a construct holding an `.await`;
//! * a construct holding an `.await` whose value is used (`let x = if … {
//!   … } else { … };`) becomes a deferred `let __curio_vN;` that each of its
//!   branches assigns (a block keeps its value: the lowering binds it where
//!   the block ends);
//! * a compound assignment evaluates its right-hand side first, as Rust
//!   does for primitive operands;
//! * temporaries of a `match` or `if let` scrutinee, and of a `for`
//!   iterable, whose body awaits, are kept until the construct ends, as
//!   Rust keeps them.
//!
//! Finally the `.await`s are numbered in evaluation order (inner before
//! outer), which is the order of the resume points.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Ident, Stmt, parse_quote};

use crate::scan::{bindings, expr_has_await, stmt_has_await};

/// One suspension point.
#[derive(Clone, Debug)]
pub struct AwaitSite {
    pub id: usize,
    pub line: usize,
    pub column: usize,
    /// The awaited expression as written, for docs and tracebacks.
    pub awaiting: String,
    /// The resume point's name: `Await3Recv`.
    pub variant: Ident,
}

/// Normalises `body` (a task's or a block's, whose tail is its output) in
/// place and returns its suspension points.
pub fn normalise(body: &mut Block) -> Vec<AwaitSite> {
    let mut n = Normaliser { temps: 0 };
    // The body's tail is the coroutine's output: with an `.await` in it, it
    // is returned from a statement instead.
    if let Some(Stmt::Expr(tail, None)) = body.stmts.last()
        && expr_has_await(tail)
    {
        let Some(Stmt::Expr(tail, None)) = body.stmts.pop() else {
            unreachable!()
        };
        if is_construct(&tail) && expr_diverges(&tail) {
            // A `loop` that never breaks has no value to return.
            body.stmts.push(Stmt::Expr(tail, Some(Default::default())));
        } else {
            body.stmts.push(parse_quote!(return #tail;));
        }
    }
    n.block(body, false);
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
/// operands; kinds without operands give none. An assignment evaluates its
/// right-hand side first (for a compound assignment, as Rust does when
/// both operands are primitive).
pub fn operands_mut(e: &mut Expr) -> Vec<&mut Expr> {
    match e {
        Expr::Array(a) => a.elems.iter_mut().collect(),
        Expr::Assign(a) => vec![&mut *a.right, &mut *a.left],
        Expr::Await(a) => vec![&mut *a.base],
        Expr::Binary(b) => {
            if is_compound(&b.op) {
                vec![&mut *b.right, &mut *b.left]
            } else {
                vec![&mut *b.left, &mut *b.right]
            }
        }
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

/// `+=`, `-=`, ...: a compound assignment.
fn is_compound(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
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

/// A construct the lowering splits into blocks when it holds an `.await`:
/// it cannot be cut at an `.await` and evaluated again.
pub fn is_construct(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Block(_)
            | Expr::Unsafe(_)
            | Expr::If(_)
            | Expr::Match(_)
            | Expr::Loop(_)
            | Expr::While(_)
            | Expr::ForLoop(_)
    )
}

/// A construct whose value comes from several places (branches, arms,
/// `break`s): it needs a deferred temporary when its value is used.
fn is_branching(e: &Expr) -> bool {
    match e {
        Expr::If(_) | Expr::Match(_) | Expr::Loop(_) => true,
        Expr::Block(b) => b.label.is_some(),
        _ => false,
    }
}

fn placeholder() -> Expr {
    Expr::Verbatim(TokenStream::new())
}

/// The parts of a condition joined by `&&`, in order.
fn chain_parts(cond: Expr, out: &mut Vec<Expr>) {
    match cond {
        Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            chain_parts(*b.left, out);
            chain_parts(*b.right, out);
        }
        other => out.push(other),
    }
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

/// Whether a block syntactically never completes: its last statement is a
/// `return`, `break`, `continue`, a `loop` without a `break`, or a
/// diverging macro. (A block that diverges in a way not seen here is given
/// a `()` value, which is a type error if the construct's value is not
/// `()`: safe, and rare.)
fn block_diverges(b: &Block) -> bool {
    let Some(last) = b.stmts.last() else {
        return false;
    };
    let e = match last {
        Stmt::Expr(e, _) => e,
        Stmt::Macro(m) => return diverging_macro(&m.mac),
        _ => return false,
    };
    expr_diverges(e)
}

fn expr_diverges(e: &Expr) -> bool {
    match e {
        Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
        Expr::Macro(m) => diverging_macro(&m.mac),
        Expr::Block(b) if b.label.is_none() => block_diverges(&b.block),
        Expr::Loop(l) => !crate::scan::breaks_out(&l.body, l.label.as_ref().map(|l| &l.name)),
        _ => false,
    }
}

fn diverging_macro(mac: &syn::Macro) -> bool {
    mac.path.segments.last().is_some_and(|s| {
        ["panic", "unreachable", "todo", "unimplemented"].contains(&s.ident.to_string().as_str())
    })
}

struct Normaliser {
    temps: usize,
}

impl Normaliser {
    fn fresh(&mut self, prefix: &str) -> Ident {
        self.temps += 1;
        format_ident!("__curio_{}{}", prefix, self.temps, span = Span::call_site())
    }

    /// Normalises a block's statements; `value`: the block's tail value is
    /// used (a `let` initialiser), so a tail that is a construct holding
    /// an `.await` is given its own `let`.
    fn block(&mut self, b: &mut Block, value: bool) {
        let mut stmts = std::mem::take(&mut b.stmts);
        let tail = match stmts.last() {
            Some(Stmt::Expr(_, None)) => match stmts.pop() {
                Some(Stmt::Expr(t, None)) => Some(t),
                _ => unreachable!(),
            },
            _ => None,
        };
        let mut out = Vec::with_capacity(stmts.len() + 1);
        for stmt in stmts {
            self.stmt(stmt, &mut out);
        }
        if let Some(tail) = tail {
            self.tail(tail, value, &mut out);
        }
        b.stmts = out;
    }

    fn tail(&mut self, tail: Expr, value: bool, out: &mut Vec<Stmt>) {
        if !expr_has_await(&tail) {
            out.push(Stmt::Expr(tail, None));
            return;
        }
        let tail = self.desugar(tail);
        if !value {
            // Its value is `()` (or never): a statement like any other.
            if is_construct(&tail) {
                self.stmt(Stmt::Expr(tail, None), out);
            } else {
                let (lets, tail) = self.simple(tail);
                self.lets_then(lets, tail, None, out);
            }
            return;
        }
        if is_construct(&tail) {
            let t = self.fresh("t");
            self.stmt(parse_quote!(let #t = #tail;), out);
            out.push(Stmt::Expr(parse_quote!(#t), None));
            return;
        }
        let (lets, tail) = self.simple(tail);
        if lets.is_empty() {
            out.push(Stmt::Expr(tail, None));
        } else {
            let t = self.fresh("t");
            let block: Expr = parse_quote!({ #(#lets)* #tail });
            self.stmt(parse_quote!(let #t = #block;), out);
            out.push(Stmt::Expr(parse_quote!(#t), None));
        }
    }

    /// Statement `stmt` (with its `;` if it had one), normalised into `out`.
    fn stmt(&mut self, stmt: Stmt, out: &mut Vec<Stmt>) {
        if !stmt_has_await(&stmt) {
            out.push(stmt);
            return;
        }
        match stmt {
            Stmt::Local(mut local) => {
                let init = local
                    .init
                    .as_mut()
                    .expect("a `let` holding an `.await` has an initialiser");
                let expr = self.desugar(std::mem::replace(&mut *init.expr, placeholder()));
                if let Some((_, diverge)) = &mut init.diverge {
                    let d = self.desugar(std::mem::replace(&mut **diverge, placeholder()));
                    **diverge = self.construct(d);
                }
                if !expr_has_await(&expr) {
                    *init.expr = expr;
                    out.push(Stmt::Local(local));
                } else if is_branching(&expr) {
                    // let PAT = if … { a } else { b };
                    //   =>  let __curio_vN; if … { __curio_vN = a; } else { __curio_vN = b; } let PAT = __curio_vN;
                    let v = self.fresh("v");
                    let declare: Stmt = match &local.pat {
                        syn::Pat::Type(t) => {
                            let ty = &t.ty;
                            parse_quote!(let #v: #ty;)
                        }
                        _ => parse_quote!(let #v;),
                    };
                    out.push(declare);
                    let assigned = assign_value(expr, &v);
                    self.stmt(Stmt::Expr(assigned, None), out);
                    *init.expr = parse_quote!(#v);
                    out.push(Stmt::Local(local));
                } else if is_construct(&expr) {
                    // A block (or `unsafe` block): its tail is the value, bound
                    // where the block ends.
                    *init.expr = self.value_block(expr);
                    out.push(Stmt::Local(local));
                } else {
                    let (lets, expr) = self.simple(expr);
                    if lets.is_empty() {
                        *init.expr = expr;
                        out.push(Stmt::Local(local));
                    } else {
                        let block: Expr = parse_quote!({ #(#lets)* #expr });
                        *init.expr = self.value_block(block);
                        out.push(Stmt::Local(local));
                    }
                }
            }
            Stmt::Expr(e, semi) => {
                let e = self.desugar(e);
                if is_construct(&e) {
                    let e = self.construct(e);
                    out.push(Stmt::Expr(e, semi.or_else(|| Some(Default::default()))));
                } else {
                    let (lets, e) = self.simple(e);
                    self.lets_then(lets, e, Some(semi.unwrap_or_default()), out);
                }
            }
            other => out.push(other),
        }
    }

    /// `{ lets; e }` as a statement (or just `e` when there are no lets).
    fn lets_then(
        &mut self,
        lets: Vec<Stmt>,
        e: Expr,
        semi: Option<syn::Token![;]>,
        out: &mut Vec<Stmt>,
    ) {
        if lets.is_empty() {
            out.push(Stmt::Expr(e, semi));
            return;
        }
        let mut block: Block = parse_quote!({ #(#lets)* #e; });
        self.block(&mut block, false);
        out.push(Stmt::Expr(
            Expr::Block(syn::ExprBlock {
                attrs: Vec::new(),
                label: None,
                block,
            }),
            semi.or_else(|| Some(Default::default())),
        ));
    }

    /// A block (or `unsafe` block) whose tail value is used.
    fn value_block(&mut self, e: Expr) -> Expr {
        match e {
            Expr::Block(mut b) => {
                self.block(&mut b.block, true);
                Expr::Block(b)
            }
            Expr::Unsafe(mut u) => {
                self.block(&mut u.block, true);
                Expr::Unsafe(u)
            }
            other => other,
        }
    }

    /// A construct in statement position: its parts normalised.
    fn construct(&mut self, e: Expr) -> Expr {
        if !expr_has_await(&e) {
            return e;
        }
        match e {
            Expr::Block(mut b) => {
                self.block(&mut b.block, false);
                Expr::Block(b)
            }
            Expr::Unsafe(mut u) => {
                self.block(&mut u.block, false);
                Expr::Unsafe(u)
            }
            Expr::Loop(mut l) => {
                self.block(&mut l.body, false);
                Expr::Loop(l)
            }
            Expr::If(mut i) => {
                // The condition is cut at its `.await`s like an operand;
                // the branches are blocks.
                let cond = self.desugar(std::mem::replace(&mut *i.cond, placeholder()));
                let (lets, cond) = self.head(cond);
                *i.cond = cond;
                self.block(&mut i.then_branch, false);
                if let Some((_, otherwise)) = &mut i.else_branch {
                    let e = self.desugar(std::mem::replace(&mut **otherwise, placeholder()));
                    **otherwise = self.construct(e);
                }
                self.with_lets(lets, Expr::If(i))
            }
            Expr::Match(mut m) => {
                let scrutinee = self.desugar(std::mem::replace(&mut *m.expr, placeholder()));
                let (lets, scrutinee) = self.head(scrutinee);
                *m.expr = scrutinee;
                for arm in &mut m.arms {
                    if expr_has_await(&arm.body) {
                        let body = std::mem::replace(&mut *arm.body, placeholder());
                        let body = match self.desugar(body) {
                            Expr::Block(b) if b.label.is_none() => Expr::Block(b),
                            other => parse_quote!({ #other }),
                        };
                        *arm.body = self.construct(body);
                    }
                }
                self.with_lets(lets, Expr::Match(m))
            }
            other => other,
        }
    }

    /// The part of a construct evaluated first (a condition, a
    /// scrutinee): cut at its `.await`s like an operand, or, if it is
    /// itself a construct holding one (`a && b.await` became an `if`),
    /// given a `let` of its own.
    fn head(&mut self, e: Expr) -> (Vec<Stmt>, Expr) {
        if is_construct(&e) && expr_has_await(&e) {
            let t = self.fresh("t");
            (vec![parse_quote!(let #t = #e;)], parse_quote!(#t))
        } else {
            self.simple(e)
        }
    }

    /// `{ lets; e }`, or `e` without lets.
    fn with_lets(&mut self, lets: Vec<Stmt>, e: Expr) -> Expr {
        if lets.is_empty() {
            return e;
        }
        let mut block: Block = parse_quote!({ #(#lets)* #e });
        self.block(&mut block, false);
        Expr::Block(syn::ExprBlock {
            attrs: Vec::new(),
            label: None,
            block,
        })
    }

    /// The rewrites of structures around an `.await`: `while`, `for`,
    /// `&&`, `||`, `let` chains and match guards that await.
    fn desugar(&mut self, e: Expr) -> Expr {
        if !expr_has_await(&e) {
            return e;
        }
        match e {
            Expr::While(w) => {
                // 'l: while C { B }  =>  'l: loop { if C { B } else { break } }
                let (label, cond, body) = (w.label, w.cond, w.body);
                self.desugar(parse_quote! { #label loop { if #cond #body else { break } } })
            }
            Expr::ForLoop(f) => {
                // 'l: for P in I { B }  =>  { let mut it = into_iter(I); 'l: loop { match next(&mut it) { Some(P) => B, None => break } } }
                // with the temporaries of I kept until the loop ends.
                let iter = self.fresh("iter");
                let (label, pat, mut source, body) = (f.label, f.pat, *f.expr, f.body);
                let kept = self.keep_temporaries(&mut source);
                self.desugar(parse_quote! {{
                    #(#kept)*
                    let mut #iter = ::core::iter::IntoIterator::into_iter(#source);
                    #label loop {
                        match ::core::iter::Iterator::next(&mut #iter) {
                            ::core::option::Option::Some(#pat) => #body,
                            ::core::option::Option::None => break,
                        }
                    }
                }})
            }
            Expr::Binary(b)
                if matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_))
                    && expr_has_await(&b.right) =>
            {
                let (left, right) = (b.left, b.right);
                if matches!(b.op, syn::BinOp::And(_)) {
                    parse_quote! { if #left { #right } else { false } }
                } else {
                    parse_quote! { if #left { true } else { #right } }
                }
            }
            Expr::If(i) if is_let_chain(&i.cond) && later_parts_await(&i.cond) => self.chain(i),
            Expr::If(mut i) => {
                // Temporaries of an `if let` scrutinee live through the
                // `then` block (edition 2024: not the `else`).
                let kept = match &mut *i.cond {
                    Expr::Let(l) if block_has_await(&i.then_branch) => {
                        self.keep_temporaries(&mut l.expr)
                    }
                    _ => Vec::new(),
                };
                if kept.is_empty() {
                    Expr::If(i)
                } else {
                    parse_quote!({ #(#kept)* #i })
                }
            }
            Expr::Match(m)
                if m.arms
                    .iter()
                    .any(|a| a.guard.as_ref().is_some_and(|(_, g)| expr_has_await(g))) =>
            {
                self.guards(m)
            }
            Expr::Match(mut m) => {
                let arms_await = m.arms.iter().any(|a| expr_has_await(&a.body));
                let kept = if arms_await {
                    self.keep_temporaries(&mut m.expr)
                } else {
                    Vec::new()
                };
                if kept.is_empty() {
                    Expr::Match(m)
                } else {
                    parse_quote!({ #(#kept)* #m })
                }
            }
            other => other,
        }
    }

    /// `if C1 && C2 && … { T } else { E }` with an `.await` after the first
    /// condition:
    ///
    /// ```text
    /// '__curio_chainN: { if C1 { if C2 { … { break '__curio_chainN { T } } … } } E }
    /// ```
    ///
    /// so that each condition runs only if the ones before held, and `E`
    /// runs when any failed (temporaries of a scrutinee end before `E`, as
    /// in edition 2024).
    fn chain(&mut self, i: syn::ExprIf) -> Expr {
        let label = syn::Lifetime::new(
            &format!("'__curio_chain{}", self.temps + 1),
            Span::call_site(),
        );
        self.temps += 1;
        let mut parts = Vec::new();
        chain_parts(*i.cond, &mut parts);
        let then = i.then_branch;
        let mut inner: Expr = parse_quote!({ break #label #then });
        for part in parts.into_iter().rev() {
            inner = parse_quote!({ if #part #inner });
        }
        let otherwise: Expr = match i.else_branch {
            Some((_, e)) => *e,
            None => parse_quote!({}),
        };
        parse_quote!(#label: { #inner #otherwise })
    }

    /// A `match` with an `.await` in a guard: the arms are tried in order as
    /// Rust tries them. An arm whose guard awaits is matched by reference
    /// first (its bindings are references in the guard, as Rust makes
    /// them), then, if the guard holds, matched again by value for its
    /// body; the other arms stay `match`es (ending in `_ => {}` to fall
    /// through to the next arm).
    fn guards(&mut self, m: syn::ExprMatch) -> Expr {
        let label = syn::Lifetime::new(
            &format!("'__curio_match{}", self.temps + 1),
            Span::call_site(),
        );
        self.temps += 1;
        let (scrutinee, lets): (Expr, Vec<Stmt>) = match &*m.expr {
            Expr::Path(p) if p.path.get_ident().is_some() => (*m.expr.clone(), Vec::new()),
            _ => {
                let s = self.fresh("m");
                let value = &m.expr;
                (parse_quote!(#s), vec![parse_quote!(let #s = #value;)])
            }
        };
        let mut parts: Vec<Stmt> = Vec::new();
        let mut plain: Vec<syn::Arm> = Vec::new();
        let arms = m.arms;
        let count = arms.len();
        for (index, arm) in arms.into_iter().enumerate() {
            let awaits = arm.guard.as_ref().is_some_and(|(_, g)| expr_has_await(g));
            if !awaits {
                plain.push(arm);
                if index + 1 < count {
                    continue;
                }
                // The last arms: the match's value.
                let arms = std::mem::take(&mut plain);
                parts.push(Stmt::Expr(
                    parse_quote!(match #scrutinee { #(#arms)* }),
                    None,
                ));
                break;
            }
            if !plain.is_empty() {
                let arms: Vec<syn::Arm> = std::mem::take(&mut plain)
                    .into_iter()
                    .map(|mut arm| {
                        let body = &arm.body;
                        arm.body = Box::new(parse_quote!(break #label #body));
                        arm.comma = Some(Default::default());
                        arm
                    })
                    .collect();
                parts.push(parse_quote!(match #scrutinee { #(#arms)* _ => {} }));
            }
            let (pat, guard, body) = (arm.pat, arm.guard.expect("a guard").1, arm.body);
            let by_ref = by_ref_pattern(&pat);
            let guard = deref_bindings(*guard, &pat);
            parts.push(parse_quote! {
                if let #by_ref = &#scrutinee {
                    if #guard {
                        break #label match #scrutinee {
                            #pat => #body,
                            _ => ::core::unreachable!(),
                        };
                    }
                }
            });
            if index + 1 == count {
                parts.push(Stmt::Expr(parse_quote!(::core::unreachable!()), None));
            }
        }
        parse_quote!({ #(#lets)* #label: { #(#parts)* } })
    }

    /// Normalises the operands of `e`, then hoists those evaluated before
    /// the last operand holding an `.await` (if impure), and that operand
    /// itself if it is a construct: the statements to run first, and what
    /// is left of `e`.
    fn simple(&mut self, mut e: Expr) -> (Vec<Stmt>, Expr) {
        if !expr_has_await(&e) {
            return (Vec::new(), e);
        }
        let receiver_is_first = matches!(e, Expr::MethodCall(_));
        let mut lets: Vec<Stmt> = Vec::new();
        {
            let mut ops = operands_mut(&mut e);
            for op in ops.iter_mut() {
                if !expr_has_await(op) {
                    continue;
                }
                let inner = self.desugar(std::mem::replace(&mut **op, placeholder()));
                if is_construct(&inner) {
                    **op = inner;
                    continue;
                }
                let (inner_lets, inner) = self.simple(inner);
                lets.extend(inner_lets);
                **op = inner;
            }
            if let Some(last) = ops.iter().rposition(|op| expr_has_await(op)) {
                for (index, op) in ops.iter_mut().enumerate().take(last + 1) {
                    let hoist = if index == last {
                        is_construct(op)
                    } else {
                        !is_pure(op)
                    };
                    if !hoist {
                        continue;
                    }
                    let temp = self.fresh("t");
                    let value = std::mem::replace(&mut **op, parse_quote!(#temp));
                    lets.push(if receiver_is_first && index == 0 {
                        parse_quote! { #[allow(unused_mut)] let mut #temp = #value; }
                    } else {
                        parse_quote! { let #temp = #value; }
                    });
                }
            }
        }
        (lets, e)
    }

    /// Hoists the temporaries of a scrutinee or iterable `e` (values used
    /// as places: `make().field`, `make().method()`, `&make()`, ...) into
    /// `let`s, so that they live until the construct ends, as Rust's
    /// temporaries do, although its body suspends. Operands evaluated
    /// before a hoisted one are hoisted too (if impure), to keep the order.
    /// The scrutinee's own value is not a temporary kept: it is matched.
    fn keep_temporaries(&mut self, e: &mut Expr) -> Vec<Stmt> {
        let mut lets = Vec::new();
        self.temporaries_in(e, &mut lets, false);
        lets
    }

    /// `place`: `e` is used as a place (its value would be a temporary).
    fn temporaries_in(&mut self, e: &mut Expr, lets: &mut Vec<Stmt>, place: bool) {
        self.temporaries_of_operands(e, lets);
        if place && is_value_expr(e) && !is_pure(e) {
            let temp = self.fresh("k");
            let value = std::mem::replace(e, parse_quote!(#temp));
            lets.push(parse_quote! { #[allow(unused_mut)] let mut #temp = #value; });
        }
    }

    /// The temporaries inside `e`'s operands, in evaluation order: an
    /// impure operand evaluated before one that had a temporary hoisted is
    /// hoisted too, so nothing runs out of order.
    fn temporaries_of_operands(&mut self, e: &mut Expr, lets: &mut Vec<Stmt>) {
        let places: Vec<bool> = match e {
            Expr::Field(_) => vec![true],
            Expr::Index(_) => vec![true, false],
            // A receiver is a place unless the method consumes it (by
            // the conventions of `scan::consumes`): then nothing is kept.
            Expr::MethodCall(m) => std::iter::once(!crate::moves::consumes(&m.method.to_string()))
                .chain(m.args.iter().map(|_| false))
                .collect(),
            Expr::Reference(_) => vec![true],
            Expr::Unary(u) => vec![matches!(u.op, syn::UnOp::Deref(_))],
            Expr::Binary(b) if is_comparison(&b.op) => vec![true, true],
            Expr::Closure(_) | Expr::Async(_) | Expr::Block(_) | Expr::If(_) | Expr::Match(_) => {
                return;
            }
            _ => Vec::new(),
        };
        let mut ops = operands_mut(e);
        let mut per_operand: Vec<Vec<Stmt>> = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter_mut().enumerate() {
            let mut own = Vec::new();
            let place = places.get(index).copied().unwrap_or(false);
            self.temporaries_in(op, &mut own, place);
            per_operand.push(own);
        }
        let Some(last) = per_operand.iter().rposition(|l| !l.is_empty()) else {
            return;
        };
        for (index, (op, own)) in ops.iter_mut().zip(per_operand).enumerate() {
            lets.extend(own);
            if index < last && !is_pure(op) {
                let temp = self.fresh("k");
                let value = std::mem::replace(&mut **op, parse_quote!(#temp));
                lets.push(parse_quote! { #[allow(unused_mut)] let mut #temp = #value; });
            }
        }
    }
}

/// An expression that produces a value (not a place): its value would be
/// a temporary where a place is needed.
fn is_value_expr(e: &Expr) -> bool {
    match e {
        Expr::Path(_) | Expr::Field(_) | Expr::Index(_) => false,
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => false,
        Expr::Paren(p) => is_value_expr(&p.expr),
        Expr::Lit(_) => false,
        _ => true,
    }
}

fn is_comparison(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(op, Eq(_) | Ne(_) | Lt(_) | Le(_) | Gt(_) | Ge(_))
}

fn block_has_await(b: &Block) -> bool {
    b.stmts.iter().any(stmt_has_await)
}

/// Whether a condition awaits after its first part.
fn later_parts_await(cond: &Expr) -> bool {
    let mut parts = Vec::new();
    chain_parts(cond.clone(), &mut parts);
    parts.iter().skip(1).any(expr_has_await)
}

/// The name a binding of `pat` has in the by-reference match of a guard:
/// a name of its own, so that the by-value match of the arm's body (inside
/// it) does not shadow it.
fn guard_name(ident: &Ident) -> Ident {
    // At the binding's span, for the error if it must live in the frame.
    Ident::new(
        &format!("__g_{}", ident.to_string().trim_start_matches("r#")),
        ident.span(),
    )
}

/// `pat` for matching a reference in a guard: bindings are renamed (see
/// [`guard_name`]) and lose `mut` (and `ref`), so that default binding
/// modes make them references.
fn by_ref_pattern(pat: &syn::Pat) -> syn::Pat {
    struct Strip(Vec<Ident>);
    impl VisitMut for Strip {
        fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
            p.by_ref = None;
            p.mutability = None;
            if self.0.contains(&p.ident) {
                p.ident = guard_name(&p.ident);
            }
            syn::visit_mut::visit_pat_ident_mut(self, p);
        }
    }
    let mut pat = pat.clone();
    Strip(bindings(&pat).into_iter().map(|b| b.ident).collect()).visit_pat_mut(&mut pat);
    pat
}

/// `guard` with the bindings of `pat` read through the references the
/// by-reference match gives them (`x` becomes `(*__g_x)`, `ref x` becomes
/// `__g_x`).
fn deref_bindings(mut guard: Expr, pat: &syn::Pat) -> Expr {
    for b in bindings(pat) {
        let renamed = guard_name(&b.ident);
        let to: Expr = if b.by_ref {
            parse_quote!(#renamed)
        } else {
            parse_quote!((*#renamed))
        };
        crate::rename::replace_free(&mut guard, &b.ident, &to);
    }
    guard
}

/// A construct whose value is used, rewritten so that each way it produces
/// its value assigns `v` instead: tails become `v = tail;`, `break value`
/// out of it becomes `{ v = value; break }`.
fn assign_value(e: Expr, v: &Ident) -> Expr {
    match e {
        Expr::Block(mut b) => {
            if let Some(label) = &b.label {
                let label = label.name.clone();
                assign_breaks(&mut b.block, Some(&label), v, false);
            }
            assign_tail(&mut b.block, v);
            Expr::Block(b)
        }
        Expr::Unsafe(mut u) => {
            assign_tail(&mut u.block, v);
            Expr::Unsafe(u)
        }
        Expr::If(mut i) => {
            assign_tail(&mut i.then_branch, v);
            match &mut i.else_branch {
                Some((_, otherwise)) => {
                    let e = std::mem::replace(&mut **otherwise, placeholder());
                    **otherwise = match e {
                        Expr::If(_) | Expr::Block(_) => assign_value(e, v),
                        other => {
                            let b: Expr = parse_quote!({ #other });
                            assign_value(b, v)
                        }
                    };
                }
                None => {
                    i.else_branch = Some((Default::default(), Box::new(parse_quote!({ #v = (); }))))
                }
            }
            Expr::If(i)
        }
        Expr::Match(mut m) => {
            for arm in &mut m.arms {
                let body = std::mem::replace(&mut *arm.body, placeholder());
                let body = match body {
                    Expr::Block(b) if b.label.is_none() => Expr::Block(b),
                    other => parse_quote!({ #other }),
                };
                *arm.body = assign_value(body, v);
                arm.comma = Some(Default::default());
            }
            Expr::Match(m)
        }
        Expr::Loop(mut l) => {
            let label = l.label.as_ref().map(|l| l.name.clone());
            assign_breaks(&mut l.body, label.as_ref(), v, true);
            Expr::Loop(l)
        }
        other => parse_quote!({ #v = #other; }),
    }
}

/// The tail of `b` assigned to `v` (a block without a tail gives `()`,
/// unless it diverges).
fn assign_tail(b: &mut Block, v: &Ident) {
    match b.stmts.pop() {
        Some(Stmt::Expr(tail, None)) => {
            if (is_branching(&tail) || matches!(tail, Expr::Block(_) | Expr::Unsafe(_)))
                && expr_has_await(&tail)
            {
                b.stmts.push(Stmt::Expr(assign_value(tail, v), None));
                return;
            }
            b.stmts.push(parse_quote!(#v = #tail;));
        }
        Some(last) => {
            b.stmts.push(last);
            if !block_diverges(b) {
                b.stmts.push(parse_quote!(#v = ();));
            }
        }
        None => b.stmts.push(parse_quote!(#v = ();)),
    }
}

/// `break` out of the construct (`label`, or for a loop an unlabelled
/// `break` outside inner loops) becomes `{ v = value; break }`.
fn assign_breaks(body: &mut Block, label: Option<&syn::Lifetime>, v: &Ident, unlabelled: bool) {
    struct Breaks<'a> {
        label: Option<&'a syn::Lifetime>,
        unlabelled: bool,
        v: &'a Ident,
        depth: usize,
    }
    impl VisitMut for Breaks<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            match e {
                Expr::Break(b) => {
                    let ours = match &b.label {
                        Some(l) => self.label == Some(l),
                        None => self.unlabelled && self.depth == 0,
                    };
                    if let Some(value) = &mut b.expr {
                        self.visit_expr_mut(value);
                    }
                    if ours {
                        let value = b.expr.take().map_or_else(|| parse_quote!(()), |v| *v);
                        let v = self.v;
                        *e = parse_quote!({ #v = #value; #b });
                    }
                }
                Expr::Loop(_) | Expr::While(_) | Expr::ForLoop(_) => {
                    self.depth += 1;
                    syn::visit_mut::visit_expr_mut(self, e);
                    self.depth -= 1;
                }
                Expr::Closure(_) | Expr::Async(_) => {}
                _ => syn::visit_mut::visit_expr_mut(self, e),
            }
        }
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    Breaks {
        label,
        unlabelled,
        v,
        depth: 0,
    }
    .visit_block_mut(body);
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
