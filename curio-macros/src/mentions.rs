//! Mentions of the task's locals, and how each is written in the machine.
//!
//! A local kept in the frame is reached, in each block, through a `&mut`
//! reference bound under the local's own name. Where the user wrote `x`:
//!
//! * as a place (`x.len()`, `&x`, `x[i]`, `x.f`, `x += 1`, a comparison, a
//!   macro's argument): `(*x)`, the slot itself;
//! * by value (`f(x)`, `let y = x`, `x?`, an operand, a struct field, a
//!   `return`): the value is read out of the slot and its drop flag
//!   cleared; for a `Copy` type this is a copy and the slot stays valid,
//!   for any other the program never reads it again (rustc checked that
//!   on the task's shadow);
//! * as the whole target of an assignment (`x = v`): the old value is
//!   dropped if the flag says there is one, the new one written;
//! * as the receiver of a method that consumes `self` by Rust's
//!   conventions (`into_*`, `unwrap`, `expect`, the `Option`, `Result` and
//!   iterator combinators) at its last mention, or as the scrutinee of a
//!   `match` or `if let` that binds by value at its last mention: moved
//!   out, like a value; elsewhere, a place;
//! * captured by a `move` closure (or by a closure that uses it by value,
//!   or a `coroutine!` block): moved out just before the closure is made,
//!   which then owns it as Rust's closure would;
//! * named inside a format string (`"{x}"`): left alone (it formats
//!   through the reference).
//!
//! A use that needs to move part of a kept local (`let a = x.field;` with
//! a non-`Copy` field, a consuming method the list above does not know)
//! gets rustc's "cannot move out of … behind a mutable reference": the
//! macro cannot see whether a method consumes its receiver or a field is
//! `Copy`, and guessing wrong would drop a value twice. Moving the whole
//! local out first (`let x = x;`) is the fix.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::quote_spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Ident, Stmt, parse_quote};

use crate::moves::{binds_by_value, consumes, format_arguments};
use crate::scan::{bindings, is_coroutine_macro};

/// A position in the source: line and column of a mention.
pub type Pos = (usize, usize);

/// How a mention uses the local.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Use {
    Place,
    Move,
    /// The whole target of `=`.
    Assign,
    /// The receiver of a method call: the method's name.
    Receiver(String),
    /// The scrutinee of a `match`, `if let` or `let`: whether a pattern
    /// binds by value.
    Scrutinee(bool),
    /// An identifier in a macro's arguments.
    Macro,
    /// An inline format argument (`"{x}"`).
    Format,
    /// Captured by a closure, an `async` block or a `coroutine!` block that
    /// takes it by value.
    Capture,
}

/// One mention found.
#[derive(Clone, Debug)]
pub struct Mention {
    pub name: String,
    pub usage: Use,
    pub pos: Pos,
}

/// How the machine reaches a frame local (its slot number), and what the
/// markers of the lowering become.
pub struct Slots<'a> {
    /// Frame locals by name.
    pub slot: &'a HashMap<String, usize>,
    /// Whether a mention at `pos` of `name` is its last (see the module docs).
    pub last: &'a dyn Fn(&str, Pos) -> bool,
    /// Per scope: its first slot.
    pub first_slot: &'a [usize],
    /// Per binding: how many slots the bindings before it have.
    pub slots_before: &'a [usize],
    /// The locals of the slots, in slot order.
    pub names: &'a [Ident],
    /// How many slots there are.
    pub slots: usize,
    /// Per block: its name in `__CurioAt`.
    pub blocks: &'a [Ident],
    /// Per `.await`: the block that resumes after it.
    pub resumes: &'a [usize],
    /// Per `.await`: its field in `__CurioSub`.
    pub subs: &'a [Ident],
    /// Per block: whether its jumps may be replaced by their target's code.
    pub inline_from: &'a [bool],
    /// Per slot: its drop flag's bit (none for a local without drop glue).
    pub flags: &'a [Option<usize>],
}

/// Finds (`slots: None`) or rewrites (`slots: Some`) the mentions of
/// `tracked` names in expressions.
pub struct Walk<'a> {
    tracked: &'a HashSet<String>,
    slots: Option<&'a Slots<'a>>,
    found: Vec<Mention>,
    /// Names hidden here by a closure's parameters, a pattern inside a
    /// closure, or a local moved into a closure.
    hidden: Vec<String>,
    /// Closures around the code being walked (their patterns hide names).
    in_closure: usize,
    /// The block whose code is walked, when rewriting.
    block: Option<usize>,
    /// The tracked names in scope so far (when known): a name is a local
    /// only after its declaration (`let kid = spawn(kid())` calls the
    /// function `kid`).
    in_scope: Option<HashSet<String>>,
}

fn pos(ident: &Ident) -> Pos {
    let start = ident.span().start();
    (start.line, start.column)
}

impl<'a> Walk<'a> {
    /// A walk that only records mentions.
    pub fn find(tracked: &'a HashSet<String>) -> Self {
        Walk {
            tracked,
            slots: None,
            found: Vec::new(),
            hidden: Vec::new(),
            in_closure: 0,
            in_scope: None,
            block: None,
        }
    }

    /// A walk that rewrites mentions of the frame locals in `slots`.
    pub fn rewrite(tracked: &'a HashSet<String>, slots: &'a Slots<'a>) -> Self {
        Walk {
            tracked,
            slots: Some(slots),
            found: Vec::new(),
            hidden: Vec::new(),
            in_closure: 0,
            in_scope: None,
            block: None,
        }
    }

    /// Only `names` (and what is declared from here on) are in scope.
    pub fn scoped(mut self, names: impl IntoIterator<Item = String>) -> Self {
        self.in_scope = Some(names.into_iter().collect());
        self
    }

    /// Slot `slot`'s drop flag (none for a local without drop glue).
    fn flag(&self, slot: usize) -> Option<usize> {
        self.slots.and_then(|s| s.flags[slot])
    }

    /// The code walked is block `block`'s.
    pub fn in_block(mut self, block: usize) -> Self {
        self.block = Some(block);
        self
    }

    /// Whether a jump from this block may be replaced by the target's code
    /// (it holds no local of its own that would be dropped after that
    /// code instead of before it).
    fn may_inline(&self) -> bool {
        match (self.slots, self.block) {
            (Some(slots), Some(b)) => slots.inline_from[b],
            _ => false,
        }
    }

    /// `names` are declared here.
    fn declare(&mut self, names: impl IntoIterator<Item = String>) {
        if let Some(scope) = &mut self.in_scope {
            scope.extend(names);
        }
    }

    /// What was found.
    pub fn mentions(self) -> Vec<Mention> {
        self.found
    }

    fn is_tracked(&self, name: &str) -> bool {
        self.tracked.contains(name)
            && !self.hidden.iter().any(|h| h == name)
            && self.in_scope.as_ref().is_none_or(|s| s.contains(name))
    }

    /// The slot of a frame local mentioned here, if rewriting.
    fn frame_slot(&self, name: &str) -> Option<usize> {
        self.slots?.slot.get(name).copied()
    }

    fn is_last(&self, name: &str, at: Pos) -> bool {
        self.slots.is_some_and(|s| (s.last)(name, at))
    }

    /// The path `e` names a tracked local: its ident.
    fn tracked_path(&self, e: &Expr) -> Option<Ident> {
        match e {
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => {
                let ident = p.path.get_ident()?;
                self.is_tracked(&ident.to_string()).then(|| ident.clone())
            }
            _ => None,
        }
    }

    /// Walks a statement list (rewriting: expanding lowered `let`s and
    /// pattern markers into the frame's writes).
    pub fn stmts(&mut self, stmts: &mut Vec<Stmt>) {
        let depth = self.hidden.len();
        let mut out = Vec::with_capacity(stmts.len());
        for mut stmt in std::mem::take(stmts) {
            if let Stmt::Macro(m) = &stmt
                && m.mac.path.is_ident("__curio_bind")
            {
                self.bind_marker(&m.mac, &mut out);
                continue;
            }
            let lowered = matches!(&stmt, Stmt::Local(l) if l.attrs.iter().any(|a| a.path().is_ident("__curio_let")));
            self.stmt(&mut stmt);
            if let Stmt::Local(local) = &stmt {
                self.declare(
                    bindings(&local.pat)
                        .into_iter()
                        .map(|b| b.ident.to_string()),
                );
            }
            if lowered {
                self.lowered_let(stmt, &mut out);
            } else {
                out.push(stmt);
            }
        }
        *stmts = out;
        self.hidden.truncate(depth);
    }

    /// `__curio_bind!(a, b)`: a pattern has just bound these natively;
    /// those kept in the frame go to their slots.
    fn bind_marker(&mut self, mac: &syn::Macro, out: &mut Vec<Stmt>) {
        let names: syn::punctuated::Punctuated<Ident, syn::Token![,]> = mac
            .parse_body_with(syn::punctuated::Punctuated::parse_terminated)
            .expect("the lowering's marker");
        self.declare(names.iter().map(ToString::to_string));
        for name in names {
            if let Some(slot) = self.frame_slot(&name.to_string()) {
                out.extend(to_frame(&name, self.flag(slot), None));
            }
        }
    }

    /// A `let` of a lowered scope (its initialiser already rewritten): the
    /// frame locals it binds go to their slots.
    fn lowered_let(&mut self, stmt: Stmt, out: &mut Vec<Stmt>) {
        let rt = crate::runtime::path();
        let Stmt::Local(mut local) = stmt else {
            unreachable!()
        };
        local.attrs.retain(|a| !a.path().is_ident("__curio_let"));
        let frame: Vec<(Ident, usize)> = bindings(&local.pat)
            .into_iter()
            .filter_map(|b| Some((b.ident.clone(), self.frame_slot(&b.ident.to_string())?)))
            .collect();
        if frame.is_empty() {
            out.push(Stmt::Local(local));
            return;
        }
        // `let x = v;`, `let x: T = v;`, `let x;`: straight into the slot.
        let simple = match &local.pat {
            syn::Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => {
                Some((p.ident.clone(), None))
            }
            syn::Pat::Type(t) => match &*t.pat {
                syn::Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => {
                    Some((p.ident.clone(), Some((*t.ty).clone())))
                }
                _ => None,
            },
            _ => None,
        };
        if let Some((ident, ty)) = simple
            && local.init.as_ref().is_none_or(|i| i.diverge.is_none())
        {
            let slot = frame[0].1;
            match local.init {
                Some(init) => {
                    // The value first: computing it may use the frame.
                    let value = init.expr;
                    out.push(match &ty {
                        Some(ty) => parse_quote!(let __curio_init: #ty = #value;),
                        None => parse_quote!(let __curio_init = #value;),
                    });
                    let sref = slot_ref(&ident);
                    out.push(parse_quote!(#sref.write(__curio_init);));
                    out.extend(to_frame(&ident, self.flag(slot), Some(ty)));
                }
                None => {
                    let sref = slot_ref(&ident);
                    let ty = ty.map(|t| quote::quote!(: &mut #t));
                    out.push(parse_quote! {
                            // SAFETY: the slot is only written through
                            // until it holds a value (Rust's definite
                            // initialisation, checked on the shadow).
                            let #ident #ty = unsafe { #rt::__private::Slot::at(&mut *#sref, &__curio_anchor) };
                        });
                }
            }
            return;
        }
        // Any other pattern: bind natively, then move each frame local in.
        out.push(Stmt::Local(local));
        for (ident, slot) in frame {
            let sref = slot_ref(&ident);
            out.push(parse_quote!(#sref.write(#ident);));
            out.extend(to_frame(&ident, self.flag(slot), Some(None)));
        }
    }

    pub fn stmt(&mut self, stmt: &mut Stmt) {
        match stmt {
            Stmt::Local(local) => {
                if let Some(init) = &mut local.init {
                    let usage = if binds_by_value(&local.pat) {
                        if matches!(local.pat, syn::Pat::Ident(_) | syn::Pat::Type(_)) {
                            Use::Move
                        } else {
                            Use::Scrutinee(true)
                        }
                    } else {
                        Use::Place
                    };
                    self.expr(&mut init.expr, usage);
                    if let Some((_, diverge)) = &mut init.diverge {
                        self.expr(diverge, Use::Move);
                    }
                }
                // A binding inside the code walked here that reuses a
                // tracked name (only inside closures, which are not
                // renamed) hides it from now on.
                for b in bindings(&local.pat) {
                    if self.hidden_scope() {
                        self.hidden.push(b.ident.to_string());
                    }
                }
            }
            Stmt::Expr(e, _) => self.expr(e, Use::Move),
            Stmt::Macro(m) => {
                if is_coroutine_macro(&m.mac) || m.mac.path.is_ident("__curio_bind") {
                    return;
                }
                self.macro_call(&mut m.mac);
            }
            Stmt::Item(_) => {}
        }
    }

    /// Whether bindings met now hide names (inside a closure's body).
    fn hidden_scope(&self) -> bool {
        self.in_closure > 0
    }

    /// Records or rewrites one mention.
    fn mention(&mut self, e: &mut Expr, ident: &Ident, usage: Use) {
        let name = ident.to_string();
        let at = pos(ident);
        self.found.push(Mention {
            name: name.clone(),
            usage: usage.clone(),
            pos: at,
        });
        let Some(slot) = self.frame_slot(&name) else {
            return;
        };
        let moves = match &usage {
            Use::Move | Use::Capture => true,
            Use::Receiver(method) => consumes(method) && self.is_last(&name, at),
            Use::Scrutinee(true) => self.is_last(&name, at),
            _ => false,
        };
        *e = if moves {
            take(ident, self.flag(slot))
        } else {
            let span = ident.span();
            syn::parse2(quote_spanned!(span=> (*#ident))).expect("a deref")
        };
    }

    /// Walks `e`, used as `usage`.
    pub fn expr(&mut self, e: &mut Expr, usage: Use) {
        use syn::BinOp::*;
        match e {
            Expr::Path(_) => {
                if let Some(ident) = self.tracked_path(e) {
                    self.mention(e, &ident, usage);
                }
            }
            Expr::Lit(_) | Expr::Continue(_) | Expr::Verbatim(_) | Expr::Infer(_) => {}
            Expr::Call(c) => {
                self.expr(&mut c.func, Use::Place);
                c.args.iter_mut().for_each(|a| self.expr(a, Use::Move));
                self.marker(e);
            }
            Expr::MethodCall(m) => {
                let method = m.method.to_string();
                self.expr(&mut m.receiver, Use::Receiver(method));
                m.args.iter_mut().for_each(|a| self.expr(a, Use::Move));
            }
            Expr::Binary(b) => {
                let (left, right) = match b.op {
                    Eq(_) | Ne(_) | Lt(_) | Le(_) | Gt(_) | Ge(_) => (Use::Place, Use::Place),
                    AddAssign(_) | SubAssign(_) | MulAssign(_) | DivAssign(_) | RemAssign(_)
                    | BitXorAssign(_) | BitAndAssign(_) | BitOrAssign(_) | ShlAssign(_)
                    | ShrAssign(_) => (Use::Place, Use::Move),
                    _ => (Use::Move, Use::Move),
                };
                self.expr(&mut b.right, right);
                self.expr(&mut b.left, left);
            }
            Expr::Assign(a) => {
                self.expr(&mut a.right, Use::Move);
                if let Some(ident) = self.tracked_path(&a.left) {
                    self.assign(e, &ident);
                } else if is_destructuring(&a.left) && self.slots.is_some() {
                    self.destructure(e);
                } else {
                    self.expr(&mut a.left, Use::Place);
                }
            }
            Expr::Unary(u) => {
                let inner = if matches!(u.op, syn::UnOp::Deref(_)) {
                    Use::Place
                } else {
                    Use::Move
                };
                self.expr(&mut u.expr, inner);
            }
            Expr::Reference(r) => self.expr(&mut r.expr, Use::Place),
            Expr::RawAddr(r) => self.expr(&mut r.expr, Use::Place),
            Expr::Field(f) => self.expr(&mut f.base, Use::Place),
            Expr::Index(i) => {
                self.expr(&mut i.expr, Use::Place);
                self.expr(&mut i.index, Use::Move);
            }
            Expr::Paren(p) => self.expr(&mut p.expr, usage),
            Expr::Group(g) => self.expr(&mut g.expr, usage),
            Expr::Block(b) => self.block(&mut b.block),
            Expr::Unsafe(b) => self.block(&mut b.block),
            Expr::Const(b) => self.block(&mut b.block),
            Expr::Loop(l) => self.block(&mut l.body),
            Expr::If(i) => {
                // A condition's `let` bindings are native in the condition;
                // the `then` block moves the kept ones to the frame first.
                let depth = self.hidden.len();
                self.expr(&mut i.cond, Use::Move);
                self.hidden.truncate(depth);
                self.block(&mut i.then_branch);
                if let Some((_, e)) = &mut i.else_branch {
                    self.expr(e, Use::Move);
                }
            }
            Expr::While(w) => {
                let depth = self.hidden.len();
                self.expr(&mut w.cond, Use::Move);
                self.block(&mut w.body);
                self.hidden.truncate(depth);
            }
            Expr::Let(l) => {
                let usage = Use::Scrutinee(binds_by_value(&l.pat));
                self.expr(&mut l.expr, usage);
                self.hidden
                    .extend(bindings(&l.pat).into_iter().map(|b| b.ident.to_string()));
            }
            Expr::Match(m) => {
                let by_value = m.arms.iter().any(|arm| binds_by_value(&arm.pat));
                self.expr(&mut m.expr, Use::Scrutinee(by_value));
                for arm in &mut m.arms {
                    // The guard sees the pattern's bindings natively; the
                    // arm's body moves the kept ones to the frame first.
                    let depth = self.hidden.len();
                    self.hidden
                        .extend(bindings(&arm.pat).into_iter().map(|b| b.ident.to_string()));
                    if let Some((_, guard)) = &mut arm.guard {
                        self.expr(guard, Use::Move);
                    }
                    self.hidden.truncate(depth);
                    self.patterns(std::slice::from_ref(&arm.pat));
                    self.expr(&mut arm.body, Use::Move);
                    self.hidden.truncate(depth);
                }
            }
            Expr::ForLoop(f) => {
                self.expr(&mut f.expr, Use::Move);
                let depth = self.hidden.len();
                self.patterns(std::slice::from_ref(&*f.pat));
                self.block(&mut f.body);
                self.hidden.truncate(depth);
            }
            Expr::Closure(c) => {
                let move_all = c.capture.is_some();
                let params: Vec<String> = c
                    .inputs
                    .iter()
                    .flat_map(bindings)
                    .map(|b| b.ident.to_string())
                    .collect();
                self.capture(e, move_all, params);
            }
            Expr::Async(a) => {
                let move_all = a.capture.is_some();
                self.capture(e, move_all, Vec::new());
            }
            Expr::Macro(m) if is_coroutine_macro(&m.mac) => self.coroutine_macro(e),
            Expr::Macro(m) if m.mac.path.is_ident("__curio_bind") => {}
            Expr::Macro(m) => self.macro_call(&mut m.mac),
            Expr::Return(r) => r.expr.iter_mut().for_each(|e| self.expr(e, Use::Move)),
            Expr::Break(b) => b.expr.iter_mut().for_each(|e| self.expr(e, Use::Move)),
            Expr::Yield(y) => y.expr.iter_mut().for_each(|e| self.expr(e, Use::Move)),
            Expr::Try(t) => self.expr(&mut t.expr, Use::Move),
            Expr::Await(a) => self.expr(&mut a.base, Use::Move),
            Expr::Cast(c) => self.expr(&mut c.expr, Use::Move),
            Expr::Tuple(t) => t.elems.iter_mut().for_each(|e| self.expr(e, Use::Move)),
            Expr::Array(a) => a.elems.iter_mut().for_each(|e| self.expr(e, Use::Move)),
            Expr::Repeat(r) => self.expr(&mut r.expr, Use::Move),
            Expr::Range(r) => {
                r.start.iter_mut().for_each(|e| self.expr(e, Use::Move));
                r.end.iter_mut().for_each(|e| self.expr(e, Use::Move));
            }
            Expr::Struct(s) => {
                for field in &mut s.fields {
                    if field.colon_token.is_none() {
                        // `S { x }`: spell it `S { x: x }`, so the value
                        // can be written out.
                        field.colon_token = Some(Default::default());
                    }
                    self.expr(&mut field.expr, Use::Move);
                }
                s.rest.iter_mut().for_each(|e| self.expr(e, Use::Move));
            }
            _ => {}
        }
    }

    /// `e` preceded by `let x = <x moved out of its slot>;` for each of
    /// `names` that is a frame local (what a `move` closure or a
    /// `coroutine!` block takes).
    fn move_in(&self, names: &[Ident], e: &mut Expr) {
        let moves: Vec<Stmt> = names
            .iter()
            .filter_map(|ident| {
                let slot = self.frame_slot(&ident.to_string())?;
                let value = take(ident, self.flag(slot));
                Some(parse_quote!(let #ident = #value;))
            })
            .collect();
        if !moves.is_empty() {
            let inner = e.clone();
            *e = parse_quote!({ #(#moves)* #inner });
        }
    }

    pub fn block(&mut self, b: &mut Block) {
        self.stmts(&mut b.stmts);
    }

    /// A marker call of the lowering (its arguments already walked), as
    /// the machine's code.
    fn marker(&self, e: &mut Expr) {
        let rt = crate::runtime::path();
        let Some(slots) = self.slots else { return };
        let Expr::Call(c) = e else { return };
        let Expr::Path(p) = &*c.func else { return };
        let Some(func) = p.path.get_ident().map(ToString::to_string) else {
            return;
        };
        let number = |i: usize| -> usize {
            match &c.args[i] {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) => n.base10_parse().expect("a number"),
                _ => panic!("a marker's number"),
            }
        };
        *e = match func.as_str() {
            "__curio_suspend" => {
                let k = number(0);
                let base = &c.args[1];
                let (sub, resume) = (&slots.subs[k], &slots.blocks[slots.resumes[k]]);
                let now = now_slot(k);
                parse_quote!({
                    __curio_sub.#sub = ::core::mem::ManuallyDrop::new(#base);
                    *__curio_at = __CurioAt::#resume;
                    // Started at once: most coroutines trap on their first
                    // step, and then it goes straight out to the kernel. (A
                    // generated coroutine starts in a function of its own:
                    // inlined here as well as at the resume point, each
                    // level of nesting would double the code.)
                    // SAFETY: the field was just written.
                    match #rt::__private::start(unsafe { &mut *__curio_sub.#sub }) {
                        #rt::__private::Step::Trap(__curio_trap) => return #rt::__private::Step::Trap(__curio_trap),
                        #rt::__private::Step::Return(__curio_v) => {
                            // It finished without trapping: its value
                            // goes to the resume point.
                            #now = ::core::option::Option::Some(__curio_v);
                            __curio_pc = __CurioAt::#resume;
                            continue '__curio_dispatch;
                        }
                    }
                })
            }
            "__curio_goto" => {
                let target = &slots.blocks[number(0)];
                let first = slots.first_slot[number(1)];
                let inline = c.args.len() == 3 && first >= slots.slots && self.may_inline();
                if inline {
                    let id = number(0);
                    parse_quote!(__curio_inline!(#id))
                } else if first < slots.slots {
                    parse_quote!({
                        __curio_drop = __curio_drop.min(#first);
                        __curio_pc = __CurioAt::#target;
                        continue '__curio_dispatch;
                    })
                } else {
                    parse_quote!({
                        __curio_pc = __CurioAt::#target;
                        continue '__curio_dispatch;
                    })
                }
            }
            "__curio_jump" if self.may_inline() => {
                let id = number(0);
                parse_quote!(__curio_inline!(#id))
            }
            "__curio_jump" => {
                let target = &slots.blocks[number(0)];
                parse_quote!({
                    __curio_pc = __CurioAt::#target;
                    continue '__curio_dispatch;
                })
            }
            "__curio_return" => {
                let value = &c.args[0];
                parse_quote!(break '__curio_dispatch (#value))
            }
            "__curio_try" => {
                let value = &c.args[0];
                parse_quote!(match #rt::__private::Branch::branch(#value) {
                    ::core::ops::ControlFlow::Continue(__curio_ok) => __curio_ok,
                    ::core::ops::ControlFlow::Break(__curio_residual) => {
                        break '__curio_dispatch (#rt::__private::FromResidual::from_residual(__curio_residual))
                    }
                })
            }
            "__curio_close" => {
                // The scope's frame locals, innermost first. Only their
                // fields are touched: the block holds references into
                // the others.
                let (first, end) = (slots.first_slot[number(0)], slots.slots_before[number(1)]);
                let drops = (first..end)
                    .rev()
                    .filter_map(|i| Some((i, slots.flags[i]?)))
                    .map(|(i, bit)| {
                        let sref = slot_ref(&slots.names[i]);
                        quote::quote! {
                            if __curio_live.take(#bit) {
                                // SAFETY: the flag said the slot holds a value;
                                // it is cleared, so it is dropped once.
                                unsafe { #sref.assume_init_drop() };
                            }
                        }
                    });
                parse_quote!({ #(#drops)* })
            }
            _ => return,
        };
    }

    /// Patterns bind names here: inside a closure, they hide tracked ones.
    fn patterns(&mut self, pats: &[syn::Pat]) {
        if self.hidden_scope() {
            for p in pats {
                self.hidden
                    .extend(bindings(p).into_iter().map(|b| b.ident.to_string()));
            }
        }
    }

    /// `x = v` with `x` a tracked local (`v` already walked).
    fn assign(&mut self, e: &mut Expr, ident: &Ident) {
        let rt = crate::runtime::path();
        let name = ident.to_string();
        self.found.push(Mention {
            name: name.clone(),
            usage: Use::Assign,
            pos: pos(ident),
        });
        let Some(slot) = self.frame_slot(&name) else {
            return;
        };
        let Expr::Assign(a) = e else { unreachable!() };
        let value = &a.right;
        let Some(bit) = self.flag(slot) else {
            // No drop glue: the old value (if any) needs nothing.
            *e = parse_quote!({
                let __curio_new = #value;
                // SAFETY: the slot is valid for writes.
                unsafe { #rt::__private::assign(#ident, false, __curio_new) };
            });
            return;
        };
        *e = parse_quote!({
            let __curio_new = #value;
            let __curio_had = __curio_live.take(#bit);
            // SAFETY: the flag says whether the slot holds a value.
            unsafe { #rt::__private::assign(#ident, __curio_had, __curio_new) };
            __curio_live.set(#bit);
        });
    }

    /// `(a, b) = v`: a destructuring assignment, as Rust desugars it,
    /// `let (t0, t1) = v; a = t0; b = t1;`, so that each kept local is
    /// assigned with its drop flag.
    fn destructure(&mut self, e: &mut Expr) {
        let Expr::Assign(a) = e else { unreachable!() };
        let mut targets: Vec<Expr> = Vec::new();
        let pat = assignee_pattern(&a.left, &mut targets);
        let value = &a.right;
        let mut stmts: Vec<Stmt> = vec![parse_quote!(let #pat = #value;)];
        for (index, target) in targets.into_iter().enumerate() {
            let temp = quote::format_ident!("__curio_d{}", index);
            let mut assign: Expr = parse_quote!(#target = #temp);
            if let Expr::Assign(inner) = &mut assign {
                if let Some(ident) = self.tracked_path(&inner.left) {
                    self.assign(&mut assign, &ident);
                } else {
                    self.expr(&mut inner.left, Use::Place);
                }
            }
            stmts.push(Stmt::Expr(assign, Some(Default::default())));
        }
        *e = parse_quote!({ #(#stmts)* });
    }

    /// A closure or `async` block (`e`), `move_all`: it takes everything it
    /// mentions by value. Frame locals it takes by value are moved out
    /// just before it is made; the others it reaches through the slot.
    fn capture(&mut self, e: &mut Expr, move_all: bool, params: Vec<String>) {
        // What the body does with each tracked name.
        let mut probe = Walk::find(self.tracked);
        probe.in_scope = self.in_scope.clone();
        probe.hidden = self.hidden.clone();
        probe.hidden.extend(params.iter().cloned());
        probe.in_closure = self.in_closure + 1;
        let mut copy = e.clone();
        probe.closure_body(&mut copy);
        let mut taken: Vec<Ident> = Vec::new();
        for m in &probe.found {
            if m.usage == Use::Format && !move_all {
                continue;
            }
            // A closure without `move` borrows what it uses (a `Copy`
            // value it reads included): it reaches a kept local through
            // the slot. One with `move` owns what it mentions.
            if move_all && !taken.iter().any(|t| *t == m.name) {
                taken.push(Ident::new(&m.name, Span::call_site()));
            }
        }
        for m in &probe.found {
            let usage = if taken.iter().any(|t| *t == m.name) {
                Use::Capture
            } else {
                m.usage.clone()
            };
            self.found.push(Mention { usage, ..m.clone() });
        }
        if self.slots.is_none() {
            return;
        }
        // Rewrite inside: the taken names are natives there.
        let depth = self.hidden.len();
        self.hidden.extend(params);
        self.hidden.extend(taken.iter().map(ToString::to_string));
        self.in_closure += 1;
        let found = self.found.len();
        self.closure_body(e);
        self.found.truncate(found);
        self.in_closure -= 1;
        self.hidden.truncate(depth);
        self.move_in(&taken, e);
    }

    /// The body of a closure or `async` block.
    fn closure_body(&mut self, e: &mut Expr) {
        match e {
            Expr::Closure(c) => self.expr(&mut c.body, Use::Move),
            Expr::Async(a) => self.block(&mut a.block),
            _ => {}
        }
    }

    /// A `coroutine!` block takes what it captures by value (as an
    /// `async move` block would): its free variables.
    fn coroutine_macro(&mut self, e: &mut Expr) {
        let Expr::Macro(m) = e else { unreachable!() };
        let names: Vec<Ident> = crate::lower::captures(&m.mac)
            .into_iter()
            .filter(|ident| self.is_tracked(&ident.to_string()))
            .collect();
        for ident in &names {
            self.found.push(Mention {
                name: ident.to_string(),
                usage: Use::Capture,
                pos: pos(ident),
            });
        }
        if self.slots.is_none() {
            return;
        }
        self.move_in(&names, e);
    }

    /// A macro call's arguments. When they read as expressions (see
    /// `scan::macro_exprs`), each is walked as an expression: by place
    /// for the formatting and assertion macros (they take references),
    /// by value for the others (`vec![x; n]`). Otherwise, token by token.
    fn macro_call(&mut self, mac: &mut syn::Macro) {
        use syn::parse::Parser;
        use syn::punctuated::Punctuated;
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let usage = if BY_REFERENCE.contains(&name.as_str()) || name.ends_with("matches") {
            Use::Place
        } else {
            Use::Move
        };
        let tokens = mac.tokens.clone();
        let (target, rest) = split_target(tokens.clone());
        if name == "vec" {
            let repeat = |input: syn::parse::ParseStream| -> syn::Result<(Expr, Expr)> {
                let value: Expr = input.parse()?;
                input.parse::<syn::Token![;]>()?;
                Ok((value, input.parse()?))
            };
            if let Ok((mut value, mut count)) = repeat.parse2(tokens.clone()) {
                self.expr(&mut value, Use::Move);
                self.expr(&mut count, Use::Move);
                mac.tokens = quote::quote!(#value; #count);
                return;
            }
        }
        if name.ends_with("matches") {
            // The scrutinee, then a pattern left as written.
            let trees: Vec<TokenTree> = rest.clone().into_iter().collect();
            let comma = trees
                .iter()
                .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','));
            if let Some(comma) = comma {
                let first: TokenStream = trees[..comma].iter().cloned().collect();
                if let Ok(mut scrutinee) = syn::parse2::<Expr>(first) {
                    self.expr(&mut scrutinee, Use::Place);
                    let pattern: TokenStream = trees[comma..].iter().cloned().collect();
                    mac.tokens = quote::quote!(#target #scrutinee #pattern);
                    return;
                }
            }
        } else if let Ok(mut list) =
            Punctuated::<Expr, syn::Token![,]>::parse_terminated.parse2(rest)
        {
            let mut format_names = Vec::new();
            for e in list.iter_mut() {
                match e {
                    // A named format argument: its value.
                    Expr::Assign(a) if matches!(&*a.left, Expr::Path(p) if p.path.get_ident().is_some()) =>
                    {
                        self.expr(&mut a.right, usage.clone());
                    }
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(l),
                        ..
                    }) if format_names.is_empty() => {
                        format_names = format_arguments(&l.token().to_string());
                        let start = l.span().start();
                        for name in &format_names {
                            if self.is_tracked(name) {
                                self.found.push(Mention {
                                    name: name.clone(),
                                    usage: Use::Format,
                                    pos: (start.line, start.column),
                                });
                            }
                        }
                    }
                    other => self.expr(other, usage.clone()),
                }
            }
            mac.tokens = quote::quote!(#target #list);
            return;
        }
        mac.tokens = self.tokens(tokens);
    }

    /// A macro's arguments: an identifier naming a tracked local (not a
    /// field, method or path segment) is a mention, rewritten `(*x)`; an
    /// inline format argument is a mention left as it is.
    fn tokens(&mut self, tokens: TokenStream) -> TokenStream {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
        for (index, tt) in trees.iter().enumerate() {
            match tt {
                TokenTree::Ident(ident)
                    if self.is_tracked(&ident.to_string()) && !path_like(&trees, index) =>
                {
                    let name = ident.to_string();
                    self.found.push(Mention {
                        name: name.clone(),
                        usage: Use::Macro,
                        pos: pos(ident),
                    });
                    if self.frame_slot(&name).is_some() {
                        let span = ident.span();
                        let mut group = Group::new(
                            proc_macro2::Delimiter::Parenthesis,
                            quote_spanned!(span=> *#ident),
                        );
                        group.set_span(span);
                        out.push(TokenTree::Group(group));
                        continue;
                    }
                    out.push(tt.clone());
                }
                TokenTree::Group(g) => {
                    let mut group = Group::new(g.delimiter(), self.tokens(g.stream()));
                    group.set_span(g.span());
                    out.push(TokenTree::Group(group));
                }
                TokenTree::Literal(l) => {
                    let text = l.to_string();
                    if text.starts_with('"') || text.starts_with('r') {
                        for name in format_arguments(&text) {
                            if self.is_tracked(&name) {
                                let start = l.span().start();
                                self.found.push(Mention {
                                    name,
                                    usage: Use::Format,
                                    pos: (start.line, start.column),
                                });
                            }
                        }
                    }
                    out.push(tt.clone());
                }
                other => out.push(other.clone()),
            }
        }
        out.into_iter().collect()
    }
}

/// Macros whose arguments are taken by reference (formatting, assertions,
/// logging).
pub const BY_REFERENCE: &[&str] = &[
    "print",
    "println",
    "eprint",
    "eprintln",
    "format",
    "format_args",
    "write",
    "writeln",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "unreachable",
    "todo",
    "unimplemented",
    "trace",
    "debug",
    "info",
    "warn",
    "error",
    "log",
    "logf",
    "dbg",
];

/// `target: expr,` at the start of a logging macro's arguments, and the
/// rest.
fn split_target(tokens: TokenStream) -> (TokenStream, TokenStream) {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let is_target = matches!(
        (trees.first(), trees.get(1), trees.get(2)),
        (Some(TokenTree::Ident(i)), Some(TokenTree::Punct(p)), third)
            if i == "target" && p.as_char() == ':'
                && !matches!(third, Some(TokenTree::Punct(q)) if q.as_char() == ':')
    );
    if !is_target {
        return (TokenStream::new(), tokens);
    }
    // Up to and including the first top-level comma.
    let comma = trees
        .iter()
        .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
        .map_or(trees.len(), |c| c + 1);
    (
        trees[..comma].iter().cloned().collect(),
        trees[comma..].iter().cloned().collect(),
    )
}

/// The step function's local holding the value of `.await` number `k` when
/// its coroutine finished on its first step (see the suspension marker).
pub fn now_slot(k: usize) -> Ident {
    quote::format_ident!("__curio_now{}", k + 1)
}

/// The step function's reference to the slot of local `name` (the frame is
/// taken apart into one `&mut` per field when the step starts, so that no
/// expression has the frame's large generic type).
pub fn slot_ref(name: &Ident) -> Ident {
    quote::format_ident!("__curio_s_{}", name.to_string().trim_start_matches("r#"))
}

/// `x` read out of its slot, its drop flag `flag` cleared (a local without
/// drop glue has none).
pub fn take(ident: &Ident, flag: Option<usize>) -> Expr {
    let rt = crate::runtime::path();
    let span = ident.span();
    // The machine's own names resolve where the machine is (a body written
    // by `macro_rules!` has the macro's hygiene), at the user's location.
    let here = proc_macro2::Span::call_site().located_at(span);
    let clear = flag.map(|bit| quote_spanned!(here=> __curio_live.clear(#bit);));
    syn::parse2(quote_spanned!(span=> {
        #clear
        // SAFETY: the slot holds the value, which rustc (on the task's
        // shadow) proved is not used again unless it is `Copy`.
        unsafe { #rt::__private::take(#ident) }
    }))
    .expect("a block")
}

/// Whether the identifier at `index` is a field, method or path segment
/// (after `.` or `::`, before `::` or `!`), not a local.
fn path_like(trees: &[TokenTree], index: usize) -> bool {
    let punct = |k: usize| match trees.get(k) {
        Some(TokenTree::Punct(p)) => Some(p.as_char()),
        _ => None,
    };
    let before = index > 0
        && match punct(index - 1) {
            Some('.') => true,
            Some(':') => index > 1 && punct(index - 2) == Some(':'),
            _ => false,
        };
    let after = matches!(punct(index + 1), Some('!'))
        || (punct(index + 1) == Some(':') && punct(index + 2) == Some(':'));
    before || after
}

/// Whether `e` is a destructuring assignee (a tuple, array or struct).
fn is_destructuring(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Tuple(_) | Expr::Array(_) | Expr::Struct(_) | Expr::Paren(_)
    )
}

/// The pattern for a destructuring assignee, each target replaced by a
/// fresh binding (collected in `targets`, in order).
fn assignee_pattern(e: &Expr, targets: &mut Vec<Expr>) -> proc_macro2::TokenStream {
    match e {
        Expr::Tuple(t) => {
            let parts: Vec<_> = t
                .elems
                .iter()
                .map(|e| assignee_pattern(e, targets))
                .collect();
            quote::quote!((#(#parts,)*))
        }
        Expr::Array(a) => {
            let parts: Vec<_> = a
                .elems
                .iter()
                .map(|e| assignee_pattern(e, targets))
                .collect();
            quote::quote!([#(#parts),*])
        }
        Expr::Paren(p) => assignee_pattern(&p.expr, targets),
        Expr::Struct(s) => {
            let path = &s.path;
            let fields: Vec<_> = s
                .fields
                .iter()
                .map(|f| {
                    let member = &f.member;
                    let inner = assignee_pattern(&f.expr, targets);
                    quote::quote!(#member: #inner)
                })
                .collect();
            let rest = s.dot2_token.map(|_| quote::quote!(..));
            quote::quote!(#path { #(#fields,)* #rest })
        }
        Expr::Infer(_) => quote::quote!(_),
        Expr::Range(r) if r.start.is_none() && r.end.is_none() => quote::quote!(..),
        other => {
            let temp = quote::format_ident!("__curio_d{}", targets.len());
            targets.push(other.clone());
            quote::quote!(#temp)
        }
    }
}

impl VisitMut for Walk<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        self.expr(e, Use::Move);
    }
}

/// Moves the native `ident` (just bound) into its slot (unless the caller
/// wrote it there) and binds `ident` to the slot from then on.
/// `ty`: `Some(annotation)` when the value is already written.
fn to_frame(ident: &Ident, flag: Option<usize>, written: Option<Option<syn::Type>>) -> Vec<Stmt> {
    let rt = crate::runtime::path();
    let mut out: Vec<Stmt> = Vec::new();
    let sref = slot_ref(ident);
    if written.is_none() {
        out.push(parse_quote!(#sref.write(#ident);));
    }
    if let Some(bit) = flag {
        out.push(parse_quote!(__curio_live.set(#bit);));
    }
    out.push(parse_quote! {
        // SAFETY: the slot holds the value just written; this block is
        // the only one using it now.
        let #ident = unsafe { #rt::__private::Slot::at(&mut *#sref, &__curio_anchor) };
    });
    out
}
