//! Lowering: one continuation per suspension point.
//!
//! # The idea
//!
//! Rust has no `goto`, so a state machine cannot jump into the middle of a
//! loop. Instead, for each `.await` we build its *continuation*: the code
//! that runs after it, written again as ordinary structured Rust. Walking
//! from the function body down to the `.await`, every enclosing construct
//! contributes a frame:
//!
//! * a block keeps its remaining statements, after re-binding the locals it
//!   had declared before the `.await` (restored from the state, in
//!   declaration order, so they drop exactly where they would have);
//! * an `if` or `match` whose branch holds the `.await` becomes that branch
//!   (the decision was already taken), with its pattern bindings restored;
//! * a `loop` becomes "finish this iteration, then loop as before";
//! * any other expression is rebuilt with the `.await` replaced by its
//!   result; normalisation made sure everything it evaluated earlier is
//!   pure, so evaluating it again is the same.
//!
//! The code in a continuation is the user's own code, so borrows, drops,
//! `break`s and shadowing behave exactly as rustc says. The price is size:
//! code after several `.await`s appears in several continuations.
//!
//! # What a state stores
//!
//! A local in scope at the `.await` is stored when the continuation
//! mentions it or when nothing before the `.await` may have moved it (see
//! [`crate::scan`]). A local shadowed by a later binding while still alive
//! cannot be named at the `.await`: lowering then asks for the shadowing
//! binding to be renamed ([`crate::rename`]) and runs again.

use std::collections::HashSet;

use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Ident, Stmt, parse_quote};

use crate::normalise::{AwaitSite, operands_mut};
use crate::rename::BindingSite;
use crate::scan::{
    Binding, assigned_before_use, await_id, bindings, binds_by_value, cond_bindings, expr_has,
    scan_expr, scan_stmts, shadowing_binding, stmt_has,
};

/// A local stored in a state.
#[derive(Clone, Debug)]
pub struct Stored {
    /// The binding's name in the user's code.
    pub ident: Ident,
    /// The state field that holds it.
    pub field: Ident,
    /// Declaration position along the path (for ordering).
    order: usize,
}

impl Stored {
    /// The local the continuation destructures the field into. The prefix
    /// keeps it apart from the generated names (`__curio_value`, ...), so a
    /// user's local may be called `value` or `state`.
    pub fn slot(&self) -> Ident {
        let field = self.field.to_string();
        format_ident!(
            "__curio_local_{}",
            field.trim_start_matches("__curio_"),
            span = Span::call_site()
        )
    }
}

/// One suspension point, lowered.
pub struct State {
    pub site: AwaitSite,
    /// Stored locals, in declaration order.
    pub stored: Vec<Stored>,
    /// The continuation: what runs when the awaited coroutine returns
    /// `__curio_value`; the stored locals are read from their slots.
    pub resume: Block,
}

/// What lowering found.
pub enum Lowered {
    /// Every suspension point, lowered.
    States(Vec<State>),
    /// These shadowing bindings hide live locals at some `.await`: rename
    /// them and lower again.
    Rename(Vec<BindingSite>),
}

/// Lowers every suspension point of the normalised `body`.
pub fn lower(
    body: &Block,
    sites: &[AwaitSite],
    repeated: &HashSet<String>,
) -> syn::Result<Lowered> {
    let mut states = Vec::with_capacity(sites.len());
    let mut renames: Vec<BindingSite> = Vec::new();
    let mut errors: Vec<syn::Error> = Vec::new();
    for site in sites {
        let mut cont = Cont {
            id: site.id,
            stack: Vec::new(),
            stored: Vec::new(),
            repeated,
            errors: Vec::new(),
            next: 0,
            loops: 0,
            renames: Vec::new(),
        };
        let resume = cont.block(body, Vec::new());
        cont.stored.sort_by_key(|s| s.order);
        errors.append(&mut cont.errors);
        renames.extend(
            cont.renames
                .drain(..)
                .filter(|r| !renames.contains(r))
                .collect::<Vec<_>>(),
        );
        states.push(State {
            site: site.clone(),
            stored: cont.stored,
            resume,
        });
    }
    match errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    }) {
        Some(e) => Err(e),
        None if renames.is_empty() => Ok(Lowered::States(states)),
        None => Ok(Lowered::Rename(renames)),
    }
}

/// A local declared before the `.await` on the path to it.
struct Candidate {
    binding: Binding,
    /// Something before the `.await` may have moved it.
    moved: bool,
    /// A later binding hides it at the `.await`: that binding.
    shadowed: Option<Ident>,
    /// `let r = &x;`: the local borrows another local.
    borrows: Option<(proc_macro2::TokenStream, String)>,
    order: usize,
}

struct Cont<'a> {
    id: usize,
    /// Candidates of the enclosing frames, outermost first.
    stack: Vec<Candidate>,
    stored: Vec<Stored>,
    repeated: &'a HashSet<String>,
    errors: Vec<syn::Error>,
    next: usize,
    /// Loop frames built so far, for unique labels.
    loops: usize,
    /// Shadowing bindings that hide a live local at the `.await`.
    renames: Vec<BindingSite>,
}

fn split_tail(b: &Block) -> (&[Stmt], Option<&Expr>) {
    match b.stmts.split_last() {
        Some((Stmt::Expr(e, None), rest)) => (rest, Some(e)),
        _ => (&b.stmts[..], None),
    }
}

/// `let r = &x` / `let r = &mut x.field`: the borrow and the root local.
fn borrowed_local(init: &Expr) -> Option<(proc_macro2::TokenStream, String)> {
    let Expr::Reference(r) = init else {
        return None;
    };
    let mut root = &*r.expr;
    while let Expr::Field(f) = root {
        root = &f.base;
    }
    match root {
        Expr::Path(p) => p
            .path
            .get_ident()
            .map(|i| (quote::ToTokens::to_token_stream(init), i.to_string())),
        _ => None,
    }
}

impl Cont<'_> {
    fn candidate(
        &mut self,
        binding: Binding,
        borrows: Option<(proc_macro2::TokenStream, String)>,
    ) -> Candidate {
        self.next += 1;
        Candidate {
            binding,
            moved: false,
            shadowed: None,
            borrows,
            order: self.next,
        }
    }

    /// Marks what `before` (the statements ahead of the `.await` in this
    /// block) does to the candidates of enclosing frames.
    fn mark_outer(&mut self, before: &[Stmt]) {
        for c in self.stack.iter_mut().filter(|c| c.shadowed.is_none()) {
            let usage = scan_stmts(before, &c.binding.ident);
            c.moved |= usage.moved;
            c.shadowed = shadowing_binding(before, &c.binding.ident);
        }
    }

    /// A pattern (arm, `if let`) binds these names around the `.await`:
    /// the scrutinee may be moved, and same-named outer locals are hidden.
    fn mark_pattern(&mut self, scrutinee: Option<&Expr>, by_value: bool, names: &[Binding]) {
        for c in self.stack.iter_mut().filter(|c| c.shadowed.is_none()) {
            match scrutinee {
                // `match x { P => … }` moves (out of) `x` only if `P` binds by value.
                Some(Expr::Path(p)) if p.path.is_ident(&c.binding.ident) => c.moved |= by_value,
                // Any other scrutinee or condition ran to completion.
                Some(other) => c.moved |= scan_expr(other, &c.binding.ident).moved,
                None => {}
            }
            if let Some(b) = names.iter().find(|b| b.ident == c.binding.ident) {
                c.shadowed = Some(b.ident.clone());
            }
        }
    }

    /// The continuation of a block containing the `.await`; `declared` are
    /// bindings in scope at the block's start (a pattern's).
    fn block(&mut self, b: &Block, declared: Vec<Binding>) -> Block {
        let (stmts, tail) = split_tail(b);
        let hole = stmts
            .iter()
            .position(|s| stmt_has(s, self.id))
            .unwrap_or(stmts.len());
        let before = &stmts[..hole];
        self.mark_outer(before);

        let base = self.stack.len();
        for binding in declared {
            let mut c = self.candidate(binding, None);
            c.moved = scan_stmts(before, &c.binding.ident).moved;
            c.shadowed = shadowing_binding(before, &c.binding.ident);
            self.stack.push(c);
        }
        for (index, stmt) in before.iter().enumerate() {
            let Stmt::Local(local) = stmt else { continue };
            let borrows = local.init.as_ref().and_then(|i| borrowed_local(&i.expr));
            for binding in bindings(&local.pat) {
                let mut c = self.candidate(binding, borrows.clone());
                c.moved = scan_stmts(&before[index + 1..], &c.binding.ident).moved;
                c.shadowed = shadowing_binding(&before[index + 1..], &c.binding.ident);
                self.stack.push(c);
            }
        }

        let mut after: Vec<Stmt> = Vec::new();
        if hole < stmts.len() {
            after.push(self.stmt(&stmts[hole]));
            after.extend(stmts[hole + 1..].iter().cloned());
            after.extend(tail.map(|t| Stmt::Expr(t.clone(), None)));
        } else if let Some(t) = tail {
            after.push(Stmt::Expr(self.expr(t), None));
        }

        let own = self.stack.split_off(base);
        let mut restores: Vec<Stmt> = Vec::new();
        for c in own {
            if let Some(by) = &c.shadowed {
                // Still alive but hidden at the `.await`: ask for the
                // shadowing binding to be renamed, then lower again.
                if !c.moved {
                    self.renames.push(BindingSite::of(by));
                }
                continue;
            }
            let ident = &c.binding.ident;
            if c.moved && !scan_stmts(&after, ident).mentioned {
                continue;
            }
            if c.moved && !c.binding.by_ref {
                // Moved away (into the awaited call, say) and given a new
                // value before any read: nothing to store, but the name
                // must exist where the assignment is.
                match assigned_before_use(&after, ident) {
                    Some(true) => {
                        let mutability = c.binding.mutable.then(|| quote!(mut));
                        restores.push(parse_quote! { let #mutability #ident; });
                        continue;
                    }
                    Some(false) => continue,
                    None => {}
                }
            }
            if let Some((tokens, root)) = &c.borrows {
                self.errors.push(syn::Error::new_spanned(
                    tokens,
                    format!(
                        "`{ident}` borrows the local `{root}` and is still in use after an `.await`; \
                         a task's state cannot point into itself\n\
                         help: clone or copy what you need from `{root}`, or borrow it again after the `.await`"
                    ),
                ));
            }
            let name = ident.to_string();
            let field = if self.repeated.contains(&name) {
                format_ident!(
                    "{}_{}",
                    name.trim_start_matches("r#"),
                    c.order,
                    span = Span::call_site()
                )
            } else {
                ident.clone()
            };
            let stored = Stored {
                ident: ident.clone(),
                field,
                order: c.order,
            };
            let slot = stored.slot();
            let mutability = c.binding.mutable.then(|| quote!(mut));
            let by_ref = c.binding.by_ref.then(|| quote!(ref));
            // A restore is a copy of the user's binding: kept for its drop
            // when unused, or used only in code a `break` makes unreachable.
            // A truly unused variable is still reported on the original.
            restores.push(
                parse_quote! { #[allow(unused_variables)] let #by_ref #mutability #ident = #slot; },
            );
            self.stored.push(stored);
        }
        restores.extend(after);
        Block {
            brace_token: b.brace_token,
            stmts: restores,
        }
    }

    fn stmt(&mut self, s: &Stmt) -> Stmt {
        match s {
            Stmt::Local(local) => {
                let mut local = local.clone();
                let init = local
                    .init
                    .as_mut()
                    .expect("a `let` holding an `.await` has an initialiser");
                if expr_has(&init.expr, self.id) {
                    *init.expr = self.expr(&init.expr);
                    Stmt::Local(local)
                } else {
                    let (_, diverge) = init
                        .diverge
                        .as_ref()
                        .expect("the `.await` is in the `else` block");
                    Stmt::Expr(self.expr(diverge), Some(Default::default()))
                }
            }
            Stmt::Expr(e, semi) => Stmt::Expr(self.expr(e), *semi),
            other => other.clone(),
        }
    }

    fn expr(&mut self, e: &Expr) -> Expr {
        match e {
            Expr::Await(a) if await_id(a) == Some(self.id) => {
                // The awaited expression ran before the suspension: what it
                // moved (into the sub-coroutine) is gone.
                for c in self.stack.iter_mut().filter(|c| c.shadowed.is_none()) {
                    c.moved |= scan_expr(&a.base, &c.binding.ident).moved;
                }
                parse_quote!(__curio_value)
            }
            Expr::Block(b) => {
                let mut b = b.clone();
                b.block = self.block(&b.block, Vec::new());
                Expr::Block(b)
            }
            Expr::Unsafe(u) => {
                let mut u = u.clone();
                u.block = self.block(&u.block, Vec::new());
                Expr::Unsafe(u)
            }
            Expr::If(i) if !expr_has(&i.cond, self.id) => {
                if self.block_has(&i.then_branch) {
                    let names = cond_bindings(&i.cond);
                    self.mark_cond(&i.cond, &names);
                    let block = self.block(&i.then_branch, names);
                    Expr::Block(syn::ExprBlock {
                        attrs: Vec::new(),
                        label: None,
                        block,
                    })
                } else {
                    let (_, otherwise) = i
                        .else_branch
                        .as_ref()
                        .expect("the `.await` is in the `else` branch");
                    self.mark_failed_cond(&i.cond);
                    self.expr(otherwise)
                }
            }
            Expr::Match(m) if !expr_has(&m.expr, self.id) => {
                let arm = m
                    .arms
                    .iter()
                    .find(|arm| expr_has(&arm.body, self.id))
                    .expect("an arm holds the `.await`");
                let names = bindings(&arm.pat);
                self.mark_pattern(Some(&m.expr), binds_by_value(&arm.pat), &names);
                let body: Block = match &*arm.body {
                    Expr::Block(b) if b.label.is_none() => b.block.clone(),
                    other => parse_quote!({ #other }),
                };
                let block = self.block(&body, names);
                Expr::Block(syn::ExprBlock {
                    attrs: Vec::new(),
                    label: None,
                    block,
                })
            }
            Expr::Loop(l) => {
                // Finish this iteration, then loop as before. The rest of the
                // iteration runs outside the loop (so its moves are not moves
                // "in a loop"); its `continue` leaves `'next`, its `break`
                // leaves the whole construct with the loop's value.
                let mut rest = self.block(&l.body, Vec::new());
                self.loops += 1;
                let done =
                    syn::Lifetime::new(&format!("'__curio_loop{}", self.loops), Span::call_site());
                let next =
                    syn::Lifetime::new(&format!("'__curio_next{}", self.loops), Span::call_site());
                let mut redirect = Redirect {
                    label: l.label.as_ref().map(|l| &l.name),
                    done: &done,
                    next: &next,
                    depth: 0,
                };
                redirect.visit_block_mut(&mut rest);
                let (label, body) = (&l.label, &l.body);
                parse_quote! {
                    #done: {
                        #next: #rest
                        #label loop #body
                    }
                }
            }
            other => {
                let mut rebuilt = other.clone();
                for op in operands_mut(&mut rebuilt) {
                    if expr_has(op, self.id) {
                        *op = self.expr(op);
                        break;
                    }
                }
                rebuilt
            }
        }
    }

    fn block_has(&self, b: &Block) -> bool {
        b.stmts.iter().any(|s| stmt_has(s, self.id))
    }

    /// The `let`s of a condition whose `then` block holds the `.await`.
    fn mark_cond(&mut self, cond: &Expr, names: &[Binding]) {
        match cond {
            Expr::Let(l) => self.mark_pattern(Some(&l.expr), binds_by_value(&l.pat), names),
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                self.mark_cond(&b.left, names);
                self.mark_cond(&b.right, names);
            }
            other => self.mark_pattern(Some(other), false, names),
        }
    }

    /// A condition that was evaluated and failed, before the `else` branch
    /// holding the `.await`: a failed `let` moved nothing out of a plain
    /// path; everything else it evaluated may have moved.
    fn mark_failed_cond(&mut self, cond: &Expr) {
        match cond {
            Expr::Let(l) if matches!(&*l.expr, Expr::Path(_)) => {}
            Expr::Let(l) => self.mark_pattern(Some(&l.expr), false, &[]),
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                self.mark_failed_cond(&b.left);
                self.mark_failed_cond(&b.right);
            }
            other => self.mark_pattern(Some(other), false, &[]),
        }
    }
}

/// Redirects the `break`s and `continue`s of one loop, found in the rest of
/// an iteration that now runs outside it, to the labelled blocks around it.
struct Redirect<'a> {
    label: Option<&'a syn::Lifetime>,
    done: &'a syn::Lifetime,
    next: &'a syn::Lifetime,
    /// Nesting depth of inner loops: unlabelled jumps there are theirs.
    depth: usize,
}

impl Redirect<'_> {
    fn ours(&self, label: &Option<syn::Lifetime>) -> bool {
        match label {
            None => self.depth == 0,
            Some(l) => self.label == Some(l),
        }
    }
}

impl VisitMut for Redirect<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Break(b) if self.ours(&b.label) => {
                if let Some(value) = &mut b.expr {
                    self.visit_expr_mut(value);
                }
                b.label = Some(self.done.clone());
            }
            Expr::Continue(c) if self.ours(&c.label) => {
                let next = self.next;
                *e = parse_quote!(break #next);
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
