//! Which of the task's locals live in the frame.
//!
//! A local (a binding of a lowered scope, or a parameter) is a *frame
//! local* when it must survive a jump between blocks:
//!
//! * some other block mentions it; or
//! * its scope goes on in another block (across an `.await`, a loop's
//!   head, a join) and it may still own a value there: it has to be
//!   dropped at the end of its scope, where Rust drops it (a lock guard
//!   stays held across an `.await`). A local known to have no drop glue
//!   (a reference, a literal), or definitely moved away before its block
//!   ends, needs nothing.
//!
//! Every other local stays an ordinary Rust local of its block. Frame
//! locals get a slot each, numbered in declaration order, so that "drop
//! the locals of this scope and the scopes inside it" is "drop every live
//! slot from this number on", innermost (latest) first.

use std::collections::{HashMap, HashSet};

use syn::{Expr, Ident, Stmt};

use crate::cfg::{BlockKind, Cfg};
use crate::mentions::{Mention, Pos, Use, Walk};

/// The frame's layout and what each block needs of it.
pub struct Locals {
    /// Slot number of each frame local (and of every parameter), by name.
    pub slot: HashMap<String, usize>,
    /// The locals of the slots, in slot order.
    pub slots: Vec<Ident>,
    /// Parameters that are not frame locals: moved out of their slot at
    /// the start (name, slot, mutable).
    pub native_params: Vec<(Ident, usize, bool)>,
    /// Per block: frame locals declared before it that it mentions (its
    /// entry binds a reference to each).
    pub entry: Vec<Vec<Ident>>,
    /// Per scope: the first slot of its locals and its inner scopes'.
    pub first_slot: Vec<usize>,
    /// Per slot: the bit of its drop flag, none for a local without drop
    /// glue (a reference, a literal, a cast), which needs none.
    pub flags: Vec<Option<usize>>,
    /// Per binding (and one past the last): how many slots the bindings
    /// before it have.
    pub slots_before: Vec<usize>,
    /// Every mention, for "is this the last one".
    mentions: HashMap<String, Vec<Pos>>,
    /// Where each local is declared.
    declared: HashMap<String, Pos>,
    /// The user's loops (source ranges).
    loops: Vec<(Pos, Pos)>,
}

impl Locals {
    /// Whether the mention of `name` at `at` is its last: none comes
    /// later in the source, and it is not inside a loop that does not
    /// also hold the local's declaration (where it would run again).
    pub fn is_last(&self, name: &str, at: Pos) -> bool {
        let Some(all) = self.mentions.get(name) else {
            return true;
        };
        if name.starts_with("__curio_") {
            // The lowering's temporaries share one position (the macro's
            // call site): the last mention is the only one.
            return all.len() == 1;
        }
        if all.iter().any(|p| *p > at) {
            return false;
        }
        let declared = self.declared.get(name).copied().unwrap_or((0, 0));
        !self.loops.iter().any(|&(start, end)| {
            start <= at && at <= end && !(start <= declared && declared <= end)
        })
    }
}

/// Classifies the locals of `cfg`; `loops`: the user's loops.
pub fn classify(cfg: &Cfg, loops: Vec<(Pos, Pos)>) -> Locals {
    let tracked: HashSet<String> = cfg.binds.iter().map(|b| b.name.to_string()).collect();
    // Mentions, by block.
    let mut by_block: Vec<Vec<Mention>> = Vec::with_capacity(cfg.blocks.len());
    for block in &cfg.blocks {
        let mut walk = Walk::find(&tracked).scoped(visible_names(cfg, block));
        if block.live {
            let mut code = block.code.clone();
            walk.stmts(&mut code);
        }
        by_block.push(walk.mentions());
    }
    let mut mentions: HashMap<String, Vec<Pos>> = HashMap::new();
    let mut blocks_of: HashMap<String, HashSet<usize>> = HashMap::new();
    for (id, found) in by_block.iter().enumerate() {
        for m in found {
            mentions.entry(m.name.clone()).or_default().push(m.pos);
            blocks_of.entry(m.name.clone()).or_default().insert(id);
        }
    }
    // Where each local's scope goes on: blocks that see it at entry.
    let mut spanned: HashSet<usize> = HashSet::new();
    for block in cfg.blocks.iter().filter(|b| b.live) {
        for &bind in &block.visible {
            spanned.insert(bind);
        }
    }
    let mut frame: Vec<bool> = Vec::with_capacity(cfg.binds.len());
    for (id, bind) in cfg.binds.iter().enumerate() {
        let name = bind.name.to_string();
        let elsewhere = blocks_of
            .get(&name)
            .is_some_and(|blocks| blocks.iter().any(|&b| b != bind.block));
        let outlives = spanned.contains(&id)
            && cfg
                .blocks
                .iter()
                .enumerate()
                .any(|(b, block)| b != bind.block && block.live && block.visible.contains(&id));
        let dead = bind.no_drop || moved_in_block(cfg, bind.block, &bind.name, bind.param);
        frame.push(elsewhere || (outlives && !dead));
    }
    // Slots: every parameter (it holds the argument before the start),
    // then the frame locals, in declaration order.
    let mut slot = HashMap::new();
    let mut slots = Vec::new();
    let mut slot_of_bind: Vec<Option<usize>> = vec![None; cfg.binds.len()];
    let mut native_params = Vec::new();
    let mut flags = Vec::new();
    let mut flag_count = 0;
    for (id, bind) in cfg.binds.iter().enumerate() {
        if !bind.param && !frame[id] {
            continue;
        }
        let n = slots.len();
        slot_of_bind[id] = Some(n);
        slots.push(bind.name.clone());
        flags.push((!bind.no_drop || bind.param).then(|| {
            flag_count += 1;
            flag_count - 1
        }));
        if frame[id] {
            slot.insert(bind.name.to_string(), n);
        } else {
            native_params.push((bind.name.clone(), n, bind.mutable));
        }
    }
    // Slots among the bindings declared before each one.
    let mut slots_before = Vec::with_capacity(cfg.binds.len() + 1);
    let mut count = 0;
    slots_before.push(0);
    for s in &slot_of_bind {
        count += usize::from(s.is_some());
        slots_before.push(count);
    }
    let first_slot = cfg
        .scopes
        .iter()
        .map(|scope| slots_before[scope.decl_start.min(cfg.binds.len())])
        .collect();
    let entry = cfg
        .blocks
        .iter()
        .enumerate()
        .map(|(id, block)| {
            let mentioned: HashSet<&str> = by_block[id].iter().map(|m| m.name.as_str()).collect();
            block
                .visible
                .iter()
                .filter(|&&b| frame[b])
                .map(|&b| &cfg.binds[b].name)
                .filter(|name| mentioned.contains(name.to_string().as_str()))
                .cloned()
                .collect()
        })
        .collect();
    let declared = cfg
        .binds
        .iter()
        .map(|b| {
            let start = b.name.span().start();
            (b.name.to_string(), (start.line, start.column))
        })
        .collect();
    let _ = BlockKind::Start;
    Locals {
        slot,
        slots,
        native_params,
        entry,
        first_slot,
        flags,
        slots_before,
        mentions,
        declared,
        loops,
    }
}

/// The names of the locals in scope at a block's entry.
pub fn visible_names(cfg: &Cfg, block: &crate::cfg::CfgBlock) -> Vec<String> {
    block
        .visible
        .iter()
        .map(|&b| cfg.binds[b].name.to_string())
        .collect()
}

/// Whether `name`, declared in block `block`, is definitely moved away in
/// that block before it ends (so it owns nothing when its scope goes on
/// elsewhere): a statement after its declaration moves it as a whole,
/// unconditionally, before anything else mentions it or could jump.
fn moved_in_block(cfg: &Cfg, block: usize, name: &Ident, param: bool) -> bool {
    let code = &cfg.blocks[block].code;
    let Some(list) = declaring_list(code, name, param) else {
        return false;
    };
    let tracked: HashSet<String> = std::iter::once(name.to_string()).collect();
    // Whether a local was declared after `name` on the way: an exit of
    // the task after that would drop that local (a slot, dropped when the
    // frame finishes) after `name` (dropped by Rust as the exit leaves its
    // scope), the wrong way round.
    let mut declared_since = false;
    for stmt in list {
        let mut copy = stmt.clone();
        let mut walk = Walk::find(&tracked);
        walk.stmt(&mut copy);
        let found = walk.mentions();
        let first_moves = first_operand_move(stmt, name);
        if first_moves {
            return true;
        }
        if !found.is_empty() {
            return false;
        }
        match markers(stmt) {
            Markers::None => {}
            // An exit of the whole task (`return`, `?`) on some path: there
            // `name` is an ordinary Rust local, dropped as the exit leaves
            // its scope, as an `async fn` drops it on return.
            Markers::ExitsOnly if !declared_since && !declares_any(stmt) => {}
            _ => return false,
        }
        declared_since |= declares_any(stmt);
    }
    false
}

/// Whether `stmt` declares a local (a lowered `let`, at any depth).
fn declares_any(stmt: &Stmt) -> bool {
    struct Find(bool);
    impl<'ast> syn::visit::Visit<'ast> for Find {
        fn visit_local(&mut self, l: &'ast syn::Local) {
            self.0 = true;
            syn::visit::visit_local(self, l);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut find = Find(false);
    syn::visit::Visit::visit_stmt(&mut find, stmt);
    find.0
}

/// What markers a statement holds.
enum Markers {
    None,
    /// Only exits of the whole task: `__curio_return`, `__curio_try`.
    ExitsOnly,
    /// A suspension, a jump, the end of a scope.
    Other,
}

/// The markers in `stmt` that leave the block's straight line (a
/// suspension, a jump, a return, `?`, the end of a scope).
fn markers(stmt: &Stmt) -> Markers {
    struct Find(bool, bool);
    impl<'ast> syn::visit::Visit<'ast> for Find {
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            if let Expr::Path(p) = &*c.func
                && let Some(i) = p.path.get_ident()
            {
                let i = i.to_string();
                if i == "__curio_return" || i == "__curio_try" {
                    self.0 = true;
                } else if i.starts_with("__curio_") {
                    self.1 = true;
                }
            }
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut find = Find(false, false);
    syn::visit::Visit::visit_stmt(&mut find, stmt);
    match find {
        Find(_, true) => Markers::Other,
        Find(true, false) => Markers::ExitsOnly,
        Find(false, false) => Markers::None,
    }
}

/// The statements after `name`'s declaration, in the list that declares it.
fn declaring_list<'c>(code: &'c [Stmt], name: &Ident, param: bool) -> Option<&'c [Stmt]> {
    if param {
        // Parameters are declared before the body's first statement: the
        // start block's outermost scope.
        return match code.first() {
            Some(Stmt::Expr(Expr::Block(b), _)) if code.len() == 1 => Some(&b.block.stmts),
            _ => Some(code),
        };
    }
    for (index, stmt) in code.iter().enumerate() {
        if declares(stmt, name) {
            return Some(&code[index + 1..]);
        }
        if let Some(inner) = inner_lists(stmt)
            .into_iter()
            .find_map(|list| declaring_list(list, name, false))
        {
            return Some(inner);
        }
    }
    None
}

/// Whether `stmt` is the lowered `let` (or pattern marker) binding `name`.
pub fn declares(stmt: &Stmt, name: &Ident) -> bool {
    match stmt {
        Stmt::Local(local) if local.attrs.iter().any(|a| a.path().is_ident("__curio_let")) => {
            crate::scan::bindings(&local.pat)
                .iter()
                .any(|b| b.ident == *name)
        }
        Stmt::Macro(m) if m.mac.path.is_ident("__curio_bind") => {
            let names: syn::Result<syn::punctuated::Punctuated<Ident, syn::Token![,]>> = m
                .mac
                .parse_body_with(syn::punctuated::Punctuated::parse_terminated);
            names.is_ok_and(|names| names.iter().any(|n| n == name))
        }
        _ => false,
    }
}

/// The statement lists directly inside `stmt` (blocks, branches, arms).
pub fn inner_lists(stmt: &Stmt) -> Vec<&[Stmt]> {
    let Stmt::Expr(e, _) = stmt else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_lists(e, &mut out);
    out
}

fn collect_lists<'e>(e: &'e Expr, out: &mut Vec<&'e [Stmt]>) {
    match e {
        Expr::Block(b) => out.push(&b.block.stmts),
        Expr::Unsafe(u) => out.push(&u.block.stmts),
        Expr::If(i) => {
            out.push(&i.then_branch.stmts);
            if let Some((_, otherwise)) = &i.else_branch {
                collect_lists(otherwise, out);
            }
        }
        Expr::Match(m) => {
            for arm in &m.arms {
                collect_lists(&arm.body, out);
            }
        }
        _ => {}
    }
}

/// Whether `stmt` moves `name` as a whole in an operand that always runs
/// first of anything that mentions it (not in a branch, loop, closure or
/// macro).
fn first_operand_move(stmt: &Stmt, name: &Ident) -> bool {
    fn expr(e: &Expr, name: &Ident, usage: &Use) -> bool {
        match e {
            Expr::Path(p) => *usage == Use::Move && p.path.is_ident(name),
            Expr::Call(c) => c.args.iter().any(|a| expr(a, name, &Use::Move)),
            Expr::MethodCall(m) => m.args.iter().any(|a| expr(a, name, &Use::Move)),
            Expr::Binary(b) => {
                use syn::BinOp::*;
                match b.op {
                    Eq(_) | Ne(_) | Lt(_) | Le(_) | Gt(_) | Ge(_) => false,
                    AddAssign(_) | SubAssign(_) | MulAssign(_) | DivAssign(_) | RemAssign(_)
                    | BitXorAssign(_) | BitAndAssign(_) | BitOrAssign(_) | ShlAssign(_)
                    | ShrAssign(_) => expr(&b.right, name, &Use::Move),
                    _ => expr(&b.left, name, &Use::Move) || expr(&b.right, name, &Use::Move),
                }
            }
            Expr::Assign(a) => expr(&a.right, name, &Use::Move),
            Expr::Return(r) => r.expr.as_ref().is_some_and(|e| expr(e, name, &Use::Move)),
            Expr::Try(t) => expr(&t.expr, name, &Use::Move),
            Expr::Cast(c) => expr(&c.expr, name, &Use::Move),
            Expr::Paren(p) => expr(&p.expr, name, usage),
            Expr::Tuple(t) => t.elems.iter().any(|e| expr(e, name, &Use::Move)),
            Expr::Array(a) => a.elems.iter().any(|e| expr(e, name, &Use::Move)),
            Expr::Struct(s) => s.fields.iter().any(|f| expr(&f.expr, name, &Use::Move)),
            _ => false,
        }
    }
    match stmt {
        Stmt::Local(local) => local.init.as_ref().is_some_and(|init| {
            matches!(local.pat, syn::Pat::Ident(_) | syn::Pat::Type(_))
                && crate::moves::binds_by_value(&local.pat)
                && expr(&init.expr, name, &Use::Move)
        }),
        Stmt::Expr(e, _) => expr(e, name, &Use::Place),
        _ => false,
    }
}
