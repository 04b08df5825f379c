//! Lowering: the normalised body as a graph of blocks, each written once.
//!
//! # The idea
//!
//! Rust has no `goto`, so the step function is a loop over a `match` on
//! the current block, and a jump is "set the next block, `continue`". A
//! block starts where control can arrive from more than one place:
//!
//! * the start of the body;
//! * after each `.await` (a *resume point*: the kernel comes back there);
//! * the head of each `loop` that holds an `.await`;
//! * after each `if`, `match`, labelled block or `loop` that holds one
//!   (a *join*).
//!
//! Everything else stays the user's own structured code, written out once:
//! constructs without an `.await` are copied as they are, and those with
//! one are copied with their branches lowered. A block's code runs from
//! its entry through the rest of the statements around it, up to a jump
//! (to a join, or to a loop's head) or a suspension. The expansion is
//! therefore linear in the size of the function.
//!
//! Where a block continues inside nested plain blocks (`{ … }`), those are
//! opened again around the rest of their statements, so that the locals
//! that live only inside one block keep their Rust scopes and drop where
//! Rust drops them.
//!
//! # Markers
//!
//! The code is built with small markers that the emitter expands once it
//! knows which locals live in the frame: `__curio_suspend(k, coroutine)`,
//! `__curio_goto(block, scope)` (leaving `scope`, whose frame locals are
//! dropped), `__curio_jump(block)`, `__curio_return(value)`,
//! `__curio_try(value)`, `__curio_close(scope, end)` (a plain scope
//! ended; its bindings are those declared before binding number `end`),
//! `__curio_bind!(names)` (a pattern just bound these) and a
//! `#[__curio_let]` attribute on each `let` of a lowered scope. The value
//! of the `.await` a block resumes after is `__curio_value`.

use std::rc::Rc;

use quote::format_ident;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Ident, Stmt, parse_quote};

use crate::normalise::{AwaitSite, is_construct};
use crate::scan::{Binding, await_id, bindings, expr_has_await, stmt_has_await};

pub type BlockId = usize;
pub type ScopeId = usize;
pub type BindId = usize;

/// The body, lowered.
pub struct Cfg {
    pub blocks: Vec<CfgBlock>,
    pub scopes: Vec<ScopeInfo>,
    pub binds: Vec<BindInfo>,
}

/// One block of the step function.
pub struct CfgBlock {
    pub kind: BlockKind,
    /// Its name in the `__CurioAt` enum.
    pub name: Ident,
    /// What it is, for the reader: `line 5: after `sleep(1.0).await``.
    pub doc: String,
    /// The task's locals in scope at the block's entry, declared before it.
    pub visible: Vec<BindId>,
    /// Its code, with markers (see the module docs).
    pub code: Vec<Stmt>,
    /// When its code was built: blocks are emitted in this order (source
    /// order), so that rustc infers a local's type where it is first set.
    pub order: usize,
    /// Whether anything jumps here (joins nobody reaches are not emitted).
    pub live: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Start,
    /// After `.await` number `k`.
    Resume(usize),
    Join,
    Loop,
}

/// A scope the lowering opened (the body, a block, a branch, an arm, a
/// loop's body).
pub struct ScopeInfo {
    /// How many bindings were declared before the scope began: the frame
    /// locals of the scope and its inner scopes come after.
    pub decl_start: usize,
}

/// A local of the task: a binding of a lowered scope (or a parameter).
pub struct BindInfo {
    pub name: Ident,
    /// The block whose code declares it.
    pub block: BlockId,
    /// A parameter: its slot holds the argument from the start.
    pub param: bool,
    pub mutable: bool,
    /// Known to have no drop glue (a reference, a literal): dropping it
    /// late or early is the same.
    pub no_drop: bool,
}

/// What runs after the statements of a scope end.
enum After {
    /// The end of a plain block: its frame locals are dropped, then the
    /// enclosing statements go on (`bind`: the block was `let PAT =
    /// { … };`, so its value is bound first).
    Close {
        scope: ScopeId,
        then: Cont,
        bind: Option<Box<syn::Local>>,
    },
    /// The end of a branch, an arm, a loop's body or a labelled block: a
    /// jump, leaving `leave`.
    Goto { block: BlockId, leave: ScopeId },
    /// The end of the body: return its tail.
    Return,
    /// The end of a `let … else` block, which diverges.
    Diverge,
}

/// A point from which code goes on: the rest of a scope's statements,
/// then `after`.
#[derive(Clone)]
struct Cont {
    stmts: Rc<Vec<Stmt>>,
    from: usize,
    tail: Option<Rc<Expr>>,
    after: Rc<After>,
    /// The lowered loops and labelled blocks around it, innermost last.
    frames: Rc<Vec<Frame>>,
    /// The task's locals in scope here.
    visible: Rc<Vec<BindId>>,
    /// Inside an `unsafe` block.
    unsafe_: bool,
}

impl Cont {
    /// The same place, from statement `from`, with `visible` in scope.
    fn at(&self, from: usize, visible: &[BindId]) -> Cont {
        Cont {
            from,
            visible: Rc::new(visible.to_vec()),
            ..self.clone()
        }
    }
}

/// A lowered loop or labelled block, as `break` and `continue` see it.
#[derive(Clone)]
struct Frame {
    label: Option<syn::Lifetime>,
    is_loop: bool,
    head: Option<BlockId>,
    exit: BlockId,
    /// Its body's scope: left by `break` and `continue`.
    scope: ScopeId,
}

/// Lowers `body` (normalised; its parameters `params`, bound before it).
pub fn lower(body: &Block, sites: &[AwaitSite], params: &[Binding]) -> Cfg {
    let mut l = Lowerer {
        sites,
        cfg: Cfg {
            blocks: Vec::new(),
            scopes: Vec::new(),
            binds: Vec::new(),
        },
        order: 0,
        constructs: 0,
    };
    l.scope();
    let start = l.alloc(
        BlockKind::Start,
        format_ident!("Start"),
        "the start of the body".into(),
    );
    let mut visible = Vec::new();
    for p in params {
        visible.push(l.bind(p, start, true, false));
    }
    let (stmts, tail) = split(body);
    let cont = Cont {
        stmts: Rc::new(stmts),
        from: 0,
        tail: tail.map(Rc::new),
        after: Rc::new(After::Return),
        frames: Rc::new(Vec::new()),
        visible: Rc::new(visible),
        unsafe_: false,
    };
    l.build(start, &cont);
    l.cfg
}

/// A block's statements and its tail.
fn split(b: &Block) -> (Vec<Stmt>, Option<Expr>) {
    let mut stmts = b.stmts.clone();
    let tail = match stmts.last() {
        Some(Stmt::Expr(_, None)) => match stmts.pop() {
            Some(Stmt::Expr(e, None)) => Some(e),
            _ => unreachable!(),
        },
        _ => None,
    };
    (stmts, tail)
}

struct Lowerer<'a> {
    sites: &'a [AwaitSite],
    cfg: Cfg,
    order: usize,
    /// Lowered constructs so far, for names.
    constructs: usize,
}

impl Lowerer<'_> {
    fn scope(&mut self) -> ScopeId {
        self.cfg.scopes.push(ScopeInfo {
            decl_start: self.cfg.binds.len(),
        });
        self.cfg.scopes.len() - 1
    }

    fn alloc(&mut self, kind: BlockKind, name: Ident, doc: String) -> BlockId {
        self.cfg.blocks.push(CfgBlock {
            kind,
            name,
            doc,
            visible: Vec::new(),
            code: Vec::new(),
            order: usize::MAX,
            live: kind != BlockKind::Join,
        });
        self.cfg.blocks.len() - 1
    }

    /// Builds block `id`'s code: continuing at `cont`.
    fn build(&mut self, id: BlockId, cont: &Cont) {
        self.cfg.blocks[id].order = self.order;
        self.order += 1;
        self.cfg.blocks[id].visible = cont.visible.to_vec();
        let code = self.run(cont, id);
        self.cfg.blocks[id].code = code;
    }

    /// Builds a join's code if something jumps there.
    fn build_join(&mut self, id: BlockId, cont: &Cont) {
        if self.cfg.blocks[id].live {
            self.build(id, cont);
        }
    }

    fn bind(&mut self, b: &Binding, block: BlockId, param: bool, no_drop: bool) -> BindId {
        self.cfg.binds.push(BindInfo {
            name: b.ident.clone(),
            block,
            param,
            mutable: b.mutable,
            no_drop: no_drop || b.by_ref,
        });
        self.cfg.binds.len() - 1
    }

    /// Records the bindings of a lowered `let`.
    fn declare(&mut self, local: &syn::Local, block: BlockId, visible: &mut Vec<BindId>) {
        let no_drop = local
            .init
            .as_ref()
            .is_some_and(|init| init.diverge.is_none() && no_drop_glue(&init.expr));
        for b in bindings(&local.pat) {
            let id = self.bind(&b, block, false, no_drop);
            visible.push(id);
        }
    }

    /// The code for continuing at `c`, through the scopes around it.
    fn run(&mut self, c: &Cont, block: BlockId) -> Vec<Stmt> {
        let (code, fell) = self.seq(c, block);
        let Some(tail) = fell else {
            return wrap_scope(code, c.unsafe_);
        };
        match &*c.after {
            After::Close { scope, then, bind } => {
                let mut inner = code;
                match bind {
                    None => {
                        let mut out = Vec::new();
                        if let Some(t) = tail {
                            inner.push(Stmt::Expr(t, Some(Default::default())));
                        }
                        out.extend(wrap_scope(inner, c.unsafe_));
                        let end = self.cfg.binds.len();
                        out.push(parse_quote!(__curio_close(#scope, #end);));
                        out.extend(self.run(then, block));
                        out
                    }
                    Some(local) => {
                        // `let PAT = { … tail };`: the block's value, its
                        // scope closed (its frame locals dropped after the
                        // tail, as Rust drops a block's locals), then the
                        // `let` as a statement of the enclosing scope (a
                        // `let … else` whose `else` awaits included).
                        inner.push(Stmt::Expr(tail.unwrap_or_else(|| parse_quote!(())), None));
                        let value = block_expr(inner, c.unsafe_);
                        let end = self.cfg.binds.len();
                        let value: Expr = parse_quote!({
                            let __curio_block = #value;
                            __curio_close(#scope, #end);
                            __curio_block
                        });
                        let mut local = (**local).clone();
                        if let Some(init) = &mut local.init {
                            *init.expr = value;
                        }
                        let mut stmts = vec![Stmt::Local(local)];
                        stmts.extend(then.stmts[then.from..].iter().cloned());
                        let then = Cont {
                            stmts: Rc::new(stmts),
                            from: 0,
                            ..then.clone()
                        };
                        self.run(&then, block)
                    }
                }
            }
            After::Goto {
                block: target,
                leave,
            } => {
                let mut code = code;
                if let Some(t) = tail {
                    code.push(Stmt::Expr(t, Some(Default::default())));
                }
                if !ends_in_jump(&code) {
                    code.push(self.goto(*target, *leave));
                }
                wrap_scope(code, c.unsafe_)
            }
            After::Return => {
                // Without a tail, the body's end is its value: `()`, or
                // never if its last statement diverges (the emitter breaks
                // out with the value of the block's code, so rustc sees
                // the same divergence as in the function as written).
                let mut code = code;
                if let Some(value) = tail {
                    code.push(parse_quote!(__curio_return(#value);));
                }
                wrap_scope(code, c.unsafe_)
            }
            After::Diverge => {
                let mut code = code;
                if let Some(t) = tail {
                    code.push(Stmt::Expr(t, Some(Default::default())));
                }
                code.push(parse_quote!(::core::unreachable!("a `let … else` block fell through");));
                wrap_scope(code, c.unsafe_)
            }
        }
    }

    fn goto(&mut self, target: BlockId, leave: ScopeId) -> Stmt {
        self.cfg.blocks[target].live = true;
        // The third argument: a jump at the end of a scope of the user's
        // (not a `break` or `continue` inside other code), which the
        // emitter may replace by the target's code.
        parse_quote!(__curio_goto(#target, #leave, 1);)
    }

    /// The statements of `c` in block `block`: the code, and `Some(tail)`
    /// if it falls through (the scope's tail, without an `.await`), `None`
    /// if it diverged (suspended or jumped: the rest is built elsewhere).
    fn seq(&mut self, c: &Cont, block: BlockId) -> (Vec<Stmt>, Option<Option<Expr>>) {
        let mut out = Vec::new();
        let mut visible = c.visible.to_vec();
        for index in c.from..c.stmts.len() {
            let stmt = &c.stmts[index];
            if !stmt_has_await(stmt) {
                let plain = self.plain(stmt.clone(), c, block, &mut visible);
                out.push(plain);
                continue;
            }
            let rest = c.at(index + 1, &visible);
            match stmt {
                Stmt::Local(local) => {
                    let init = local
                        .init
                        .as_ref()
                        .expect("a `let` holding an `.await` has an initialiser");
                    if !expr_has_await(&init.expr) {
                        // Only its `else` awaits: a `let … else`.
                        let stmt = self.let_else(local, c, block, &mut visible);
                        out.push(stmt);
                        continue;
                    }
                    if is_construct(&init.expr) {
                        out.extend(self.let_block(local, &rest, block));
                    } else {
                        out.extend(self.suspend(stmt.clone(), None, &rest, block));
                    }
                }
                Stmt::Expr(e, _) if is_construct(e) && !head_awaits(e) => {
                    out.extend(self.construct(e, &rest, block));
                }
                other => out.extend(self.suspend(other.clone(), None, &rest, block)),
            }
            return (out, None);
        }
        match &c.tail {
            Some(tail) if is_construct(tail) && expr_has_await(tail) && !head_awaits(tail) => {
                // A construct as the tail: its value is `()` (the
                // normaliser gave any other value a `let`), so it is a
                // statement that ends the scope.
                let rest = Cont {
                    tail: None,
                    ..c.at(c.stmts.len(), &visible)
                };
                out.extend(self.construct(tail, &rest, block));
                (out, None)
            }
            Some(tail) if expr_has_await(tail) => {
                let rest = c.at(c.stmts.len(), &visible);
                out.extend(self.suspend(
                    Stmt::Expr((**tail).clone(), None),
                    Some(()),
                    &rest,
                    block,
                ));
                (out, None)
            }
            tail => {
                let tail = tail.as_ref().map(|t| self.rewrite((**t).clone(), c));
                (out, Some(tail))
            }
        }
    }

    /// A statement without an `.await`: copied, with its jumps and
    /// returns as markers; a `let` records its bindings.
    fn plain(
        &mut self,
        mut stmt: Stmt,
        c: &Cont,
        block: BlockId,
        visible: &mut Vec<BindId>,
    ) -> Stmt {
        match &mut stmt {
            Stmt::Local(local) => {
                if let Some(init) = &mut local.init {
                    *init.expr =
                        self.rewrite(std::mem::replace(&mut *init.expr, parse_quote!(())), c);
                    if let Some((_, diverge)) = &mut init.diverge {
                        let d = std::mem::replace(&mut **diverge, parse_quote!(()));
                        **diverge = Jumps::new(&c.frames, &mut self.cfg.blocks).expr(d);
                    }
                }
                self.declare(local, block, visible);
                local.attrs.push(parse_quote!(#[__curio_let]));
            }
            Stmt::Expr(e, _) => {
                let taken = std::mem::replace(e, parse_quote!(()));
                *e = self.rewrite(taken, c);
            }
            Stmt::Macro(_) | Stmt::Item(_) => {}
        }
        stmt
    }

    /// Jumps and returns in `e` as markers.
    fn rewrite(&mut self, e: Expr, c: &Cont) -> Expr {
        Jumps::new(&c.frames, &mut self.cfg.blocks).expr(e)
    }

    /// A statement (or the tail, `tail`) cut at its first `.await`:
    /// suspend on the awaited coroutine; the resume point runs the
    /// statement again with the `.await` replaced by its value, then `rest`.
    fn suspend(&mut self, stmt: Stmt, tail: Option<()>, rest: &Cont, _block: BlockId) -> Vec<Stmt> {
        let k = first_await(&stmt);
        let site = &self.sites[k];
        let base = Jumps::new(&rest.frames, &mut self.cfg.blocks).expr(await_base(&stmt, k));
        let resume = self.alloc(
            BlockKind::Resume(k),
            site.variant.clone(),
            format!("line {}: after `{}.await`", site.line, site.awaiting),
        );
        let plugged = plug(stmt, k);
        let resumed = if tail.is_some() {
            let Stmt::Expr(e, None) = plugged else {
                unreachable!("a tail")
            };
            Cont {
                stmts: Rc::new(Vec::new()),
                from: 0,
                tail: Some(Rc::new(e)),
                ..rest.clone()
            }
        } else {
            let mut stmts = vec![plugged];
            stmts.extend(rest.stmts[rest.from..].iter().cloned());
            Cont {
                stmts: Rc::new(stmts),
                from: 0,
                ..rest.clone()
            }
        };
        self.build(resume, &resumed);
        vec![parse_quote!(__curio_suspend(#k, #base);)]
    }

    /// `let PAT = INIT else { … };` whose `else` awaits.
    fn let_else(
        &mut self,
        local: &syn::Local,
        c: &Cont,
        block: BlockId,
        visible: &mut Vec<BindId>,
    ) -> Stmt {
        let mut local = local.clone();
        let init = local.init.as_mut().expect("an initialiser");
        let (_, diverge) = init.diverge.as_mut().expect("the `else` awaits");
        let otherwise = match &**diverge {
            Expr::Block(b) => b.block.clone(),
            other => parse_quote!({ #other }),
        };
        let (stmts, tail) = split(&otherwise);
        let inner = Cont {
            stmts: Rc::new(stmts),
            from: 0,
            tail: tail.map(Rc::new),
            after: Rc::new(After::Diverge),
            frames: c.frames.clone(),
            visible: Rc::new(visible.clone()),
            unsafe_: c.unsafe_,
        };
        let code = self.run(&inner, block);
        **diverge = block_expr(code, false);
        *init.expr = self.rewrite(std::mem::replace(&mut *init.expr, parse_quote!(())), c);
        self.declare(&local, block, visible);
        local.attrs.push(parse_quote!(#[__curio_let]));
        Stmt::Local(local)
    }

    /// `let PAT = { … };` whose block awaits: the block's statements, then
    /// `PAT` bound to its value where the block ends.
    fn let_block(&mut self, local: &syn::Local, rest: &Cont, block: BlockId) -> Vec<Stmt> {
        let init = local.init.as_ref().expect("an initialiser");
        let (inner_block, unsafe_) = match &*init.expr {
            Expr::Block(b) => (b.block.clone(), false),
            Expr::Unsafe(u) => (u.block.clone(), true),
            _ => unreachable!("a block"),
        };
        let scope = self.scope();
        let (stmts, tail) = split(&inner_block);
        let mut bind = local.clone();
        bind.attrs.retain(|a| !a.path().is_ident("__curio_let"));
        let inner = Cont {
            stmts: Rc::new(stmts),
            from: 0,
            tail: tail.map(Rc::new),
            after: Rc::new(After::Close {
                scope,
                then: rest.clone(),
                bind: Some(Box::new(bind)),
            }),
            frames: rest.frames.clone(),
            visible: rest.visible.clone(),
            unsafe_: rest.unsafe_ || unsafe_,
        };
        self.run(&inner, block)
    }

    /// A statement-position construct holding an `.await`.
    fn construct(&mut self, e: &Expr, rest: &Cont, block: BlockId) -> Vec<Stmt> {
        match e {
            Expr::Block(b) if b.label.is_none() => self.plain_block(&b.block, false, rest, block),
            Expr::Unsafe(u) => self.plain_block(&u.block, true, rest, block),
            Expr::Block(b) => self.labelled(b, rest, block),
            Expr::If(i) => self.if_(i, rest, block),
            Expr::Match(m) => self.match_(m, rest, block),
            Expr::Loop(l) => self.loop_(l, rest, block),
            other => unreachable!("not a construct: {}", quote::quote!(#other)),
        }
    }

    fn plain_block(&mut self, b: &Block, unsafe_: bool, rest: &Cont, block: BlockId) -> Vec<Stmt> {
        let scope = self.scope();
        let (stmts, tail) = split(b);
        let inner = Cont {
            stmts: Rc::new(stmts),
            from: 0,
            tail: tail.map(Rc::new),
            after: Rc::new(After::Close {
                scope,
                then: rest.clone(),
                bind: None,
            }),
            frames: rest.frames.clone(),
            visible: rest.visible.clone(),
            unsafe_: rest.unsafe_ || unsafe_,
        };
        self.run(&inner, block)
    }

    fn construct_name(&mut self, what: &str) -> (usize, String) {
        self.constructs += 1;
        (self.constructs, what.to_string())
    }

    fn labelled(&mut self, b: &syn::ExprBlock, rest: &Cont, block: BlockId) -> Vec<Stmt> {
        let (n, _) = self.construct_name("block");
        let line = b.span().start().line;
        let exit = self.alloc(
            BlockKind::Join,
            format_ident!("AfterBlock{}", n),
            format!("line {line}: after the labelled block"),
        );
        let scope = self.scope();
        let mut frames = rest.frames.to_vec();
        frames.push(Frame {
            label: b.label.as_ref().map(|l| l.name.clone()),
            is_loop: false,
            head: None,
            exit,
            scope,
        });
        let (stmts, tail) = split(&b.block);
        let inner = Cont {
            stmts: Rc::new(stmts),
            from: 0,
            tail: tail.map(Rc::new),
            after: Rc::new(After::Goto {
                block: exit,
                leave: scope,
            }),
            frames: Rc::new(frames),
            visible: rest.visible.clone(),
            unsafe_: rest.unsafe_,
        };
        let code = self.run(&inner, block);
        self.build_join(exit, rest);
        code
    }

    fn if_(&mut self, i: &syn::ExprIf, rest: &Cont, block: BlockId) -> Vec<Stmt> {
        let (n, _) = self.construct_name("if");
        let line = i.if_token.span.start().line;
        let join = self.alloc(
            BlockKind::Join,
            format_ident!("AfterIf{}", n),
            format!("line {line}: after the `if`"),
        );
        let cond = self.rewrite((*i.cond).clone(), rest);
        let then_scope = self.scope();
        let mut visible = rest.visible.to_vec();
        let mut names = Vec::new();
        for (b, no_drop) in crate::scan::cond_bindings_by_scrutinee(&i.cond) {
            let id = self.bind(&b, block, false, no_drop);
            visible.push(id);
            names.push(b.ident);
        }
        let mut then_code: Vec<Stmt> = Vec::new();
        if !names.is_empty() {
            then_code.push(parse_quote!(__curio_bind!(#(#names),*);));
        }
        then_code.extend(self.branch(&i.then_branch, then_scope, join, &visible, rest, block));
        let else_code = match &i.else_branch {
            None if in_tail_position(rest) => {
                let scope = self.scope();
                self.branch(&parse_quote!({}), scope, join, &rest.visible, rest, block)
            }
            None => vec![self.jump(join)],
            Some((_, otherwise)) => {
                let scope = self.scope();
                let b: Block = match &**otherwise {
                    Expr::Block(b) if b.label.is_none() => b.block.clone(),
                    other => parse_quote!({ #other }),
                };
                self.branch(&b, scope, join, &rest.visible, rest, block)
            }
        };
        self.build_join(join, rest);
        vec![Stmt::Expr(
            parse_quote!(if #cond { #(#then_code)* } else { #(#else_code)* }),
            None,
        )]
    }

    /// A branch (or arm) body in `scope`, ending in a jump to `join`.
    fn branch(
        &mut self,
        b: &Block,
        scope: ScopeId,
        join: BlockId,
        visible: &[BindId],
        rest: &Cont,
        block: BlockId,
    ) -> Vec<Stmt> {
        let (stmts, tail) = split(b);
        // In tail position (nothing follows in a scope that ends in a
        // jump, or the body's end), a branch goes straight where the
        // scope goes, without a join block in between.
        let after = if in_tail_position(rest) {
            rest.after.clone()
        } else {
            Rc::new(After::Goto {
                block: join,
                leave: scope,
            })
        };
        let inner = Cont {
            stmts: Rc::new(stmts),
            from: 0,
            tail: tail.map(Rc::new),
            after,
            frames: rest.frames.clone(),
            visible: Rc::new(visible.to_vec()),
            unsafe_: rest.unsafe_,
        };
        self.run(&inner, block)
    }

    fn jump(&mut self, target: BlockId) -> Stmt {
        self.cfg.blocks[target].live = true;
        parse_quote!(__curio_jump(#target);)
    }

    fn match_(&mut self, m: &syn::ExprMatch, rest: &Cont, block: BlockId) -> Vec<Stmt> {
        let (n, _) = self.construct_name("match");
        let line = m.match_token.span.start().line;
        let join = self.alloc(
            BlockKind::Join,
            format_ident!("AfterMatch{}", n),
            format!("line {line}: after the `match`"),
        );
        let scrutinee = self.rewrite((*m.expr).clone(), rest);
        let mut arms = Vec::new();
        for arm in &m.arms {
            let scope = self.scope();
            let mut visible = rest.visible.to_vec();
            let mut names = Vec::new();
            for b in bindings(&arm.pat) {
                let id = self.bind(&b, block, false, crate::moves::borrowed(&m.expr));
                visible.push(id);
                names.push(b.ident);
            }
            let body: Block = match &*arm.body {
                Expr::Block(b) if b.label.is_none() => b.block.clone(),
                other => parse_quote!({ #other }),
            };
            let mut code: Vec<Stmt> = Vec::new();
            if !names.is_empty() {
                code.push(parse_quote!(__curio_bind!(#(#names),*);));
            }
            code.extend(self.branch(&body, scope, join, &visible, rest, block));
            let mut arm = arm.clone();
            if let Some((_, guard)) = &mut arm.guard {
                let g = std::mem::replace(&mut **guard, parse_quote!(true));
                **guard = self.rewrite(g, rest);
            }
            arm.body = Box::new(parse_quote!({ #(#code)* }));
            arm.comma = Some(Default::default());
            arms.push(arm);
        }
        self.build_join(join, rest);
        vec![Stmt::Expr(
            parse_quote!(match #scrutinee { #(#arms)* }),
            None,
        )]
    }

    fn loop_(&mut self, l: &syn::ExprLoop, rest: &Cont, _block: BlockId) -> Vec<Stmt> {
        let (n, _) = self.construct_name("loop");
        let line = l.loop_token.span.start().line;
        let head = self.alloc(
            BlockKind::Loop,
            format_ident!("Loop{}", n),
            format!("line {line}: the loop's head"),
        );
        let exit = self.alloc(
            BlockKind::Join,
            format_ident!("AfterLoop{}", n),
            format!("line {line}: after the loop"),
        );
        let scope = self.scope();
        let mut frames = rest.frames.to_vec();
        frames.push(Frame {
            label: l.label.as_ref().map(|l| l.name.clone()),
            is_loop: true,
            head: Some(head),
            exit,
            scope,
        });
        let (stmts, tail) = split(&l.body);
        let body = Cont {
            stmts: Rc::new(stmts),
            from: 0,
            tail: tail.map(Rc::new),
            after: Rc::new(After::Goto {
                block: head,
                leave: scope,
            }),
            frames: Rc::new(frames),
            visible: rest.visible.clone(),
            unsafe_: rest.unsafe_,
        };
        let jump = self.jump(head);
        self.build(head, &body);
        self.build_join(exit, rest);
        vec![jump]
    }
}

/// `code` as one statement: a Rust block (an `unsafe` one inside the
/// user's `unsafe`), so that the locals it declares keep their scope.
fn wrap_scope(code: Vec<Stmt>, unsafe_: bool) -> Vec<Stmt> {
    if code.is_empty() {
        return code;
    }
    vec![Stmt::Expr(
        block_expr(code, unsafe_),
        Some(Default::default()),
    )]
}

fn block_expr(code: Vec<Stmt>, unsafe_: bool) -> Expr {
    let block = Block {
        brace_token: Default::default(),
        stmts: code,
    };
    if unsafe_ {
        Expr::Unsafe(syn::ExprUnsafe {
            attrs: Vec::new(),
            unsafe_token: Default::default(),
            block,
        })
    } else {
        Expr::Block(syn::ExprBlock {
            attrs: Vec::new(),
            label: None,
            block,
        })
    }
}

/// Whether nothing follows a construct at `rest` in a scope that ends in
/// a jump or the body's end.
fn in_tail_position(rest: &Cont) -> bool {
    rest.from >= rest.stmts.len()
        && rest.tail.is_none()
        && matches!(*rest.after, After::Goto { .. } | After::Return)
}

/// Whether `code` ends in a jump, a suspension or a `return`.
fn ends_in_jump(code: &[Stmt]) -> bool {
    match code.last() {
        Some(Stmt::Expr(Expr::Call(c), _)) => matches!(
            &*c.func,
            Expr::Path(p) if p.path.get_ident().is_some_and(|i| {
                i == "__curio_goto" || i == "__curio_jump" || i == "__curio_return" || i == "__curio_suspend"
            })
        ),
        Some(Stmt::Expr(Expr::Block(b), _)) => ends_in_jump(&b.block.stmts),
        Some(Stmt::Expr(Expr::Break(_) | Expr::Continue(_) | Expr::Return(_), _)) => true,
        _ => false,
    }
}

/// Whether the part of a construct evaluated first (an `if`'s condition,
/// a `match`'s scrutinee) awaits: the statement is cut there first.
fn head_awaits(e: &Expr) -> bool {
    match e {
        Expr::If(i) => expr_has_await(&i.cond),
        Expr::Match(m) => expr_has_await(&m.expr),
        _ => false,
    }
}

/// A value without drop glue, from its syntax: a reference, a literal, a
/// cast, a comparison.
fn no_drop_glue(e: &Expr) -> bool {
    use syn::BinOp::{And, Eq, Ge, Gt, Le, Lt, Ne, Or};
    match e {
        // `as` gives a primitive; a comparison or `&&`, `||` a `bool`.
        Expr::Reference(_) | Expr::Lit(_) | Expr::Cast(_) => true,
        Expr::Binary(b) => matches!(
            b.op,
            Eq(_) | Ne(_) | Lt(_) | Le(_) | Gt(_) | Ge(_) | And(_) | Or(_)
        ),
        Expr::Paren(p) => no_drop_glue(&p.expr),
        Expr::Group(g) => no_drop_glue(&g.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => no_drop_glue(&u.expr),
        _ => false,
    }
}

/// The first `.await` `stmt` evaluates: the lowest number (they are
/// numbered in evaluation order).
fn first_await(stmt: &Stmt) -> usize {
    struct First(Option<usize>);
    impl<'ast> syn::visit::Visit<'ast> for First {
        fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
            if let Some(id) = await_id(a) {
                self.0 = Some(self.0.map_or(id, |m| m.min(id)));
            }
            syn::visit::visit_expr_await(self, a);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut first = First(None);
    syn::visit::Visit::visit_stmt(&mut first, stmt);
    first.0.expect("the statement awaits")
}

/// The awaited expression of `.await` number `k` in `stmt`.
fn await_base(stmt: &Stmt, k: usize) -> Expr {
    struct Base(usize, Option<Expr>);
    impl<'ast> syn::visit::Visit<'ast> for Base {
        fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
            if await_id(a) == Some(self.0) {
                self.1 = Some((*a.base).clone());
            }
            syn::visit::visit_expr_await(self, a);
        }
    }
    let mut base = Base(k, None);
    syn::visit::Visit::visit_stmt(&mut base, stmt);
    base.1.expect("the `.await` is in the statement")
}

/// `stmt` with `.await` number `k` replaced by the value it resumed with.
fn plug(mut stmt: Stmt, k: usize) -> Stmt {
    struct Plug(usize);
    impl VisitMut for Plug {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if let Expr::Await(a) = e
                && await_id(a) == Some(self.0)
            {
                *e = parse_quote!(__curio_value);
                return;
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
    }
    Plug(k).visit_stmt_mut(&mut stmt);
    stmt
}

/// Rewrites `return`, `?`, and the `break`s and `continue`s that leave
/// code for a lowered loop or labelled block, into markers.
struct Jumps<'a> {
    frames: &'a [Frame],
    blocks: &'a mut Vec<CfgBlock>,
    /// Loops inside the code being rewritten (their unlabelled jumps are
    /// theirs).
    depth: usize,
    /// Labels inside the code being rewritten.
    labels: Vec<syn::Lifetime>,
}

impl<'a> Jumps<'a> {
    fn new(frames: &'a [Frame], blocks: &'a mut Vec<CfgBlock>) -> Self {
        Jumps {
            frames,
            blocks,
            depth: 0,
            labels: Vec::new(),
        }
    }

    fn expr(mut self, mut e: Expr) -> Expr {
        self.visit_expr_mut(&mut e);
        e
    }

    /// The lowered frame a `break` (or `continue`) with `label` leaves, if
    /// it leaves the code being rewritten.
    fn target(&self, label: &Option<syn::Lifetime>) -> Option<Frame> {
        match label {
            Some(l) if self.labels.contains(l) => None,
            Some(l) => self
                .frames
                .iter()
                .rev()
                .find(|f| f.label.as_ref() == Some(l))
                .cloned(),
            None if self.depth > 0 => None,
            None => self.frames.iter().rev().find(|f| f.is_loop).cloned(),
        }
    }
}

impl VisitMut for Jumps<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Return(r) => {
                if let Some(value) = &mut r.expr {
                    self.visit_expr_mut(value);
                }
                let value = r.expr.take().map_or_else(|| parse_quote!(()), |v| *v);
                *e = parse_quote!(__curio_return(#value));
            }
            Expr::Try(t) => {
                self.visit_expr_mut(&mut t.expr);
                let inner = &t.expr;
                *e = parse_quote!(__curio_try(#inner));
            }
            Expr::Break(b) => {
                if let Some(value) = &mut b.expr {
                    self.visit_expr_mut(value);
                }
                if let Some(frame) = self.target(&b.label) {
                    self.blocks[frame.exit].live = true;
                    let (exit, scope) = (frame.exit, frame.scope);
                    *e = match b.expr.take() {
                        Some(value) => {
                            parse_quote!({ let _ = #value; __curio_goto(#exit, #scope) })
                        }
                        None => parse_quote!(__curio_goto(#exit, #scope)),
                    };
                }
            }
            Expr::Continue(c) => {
                if let Some(frame) = self.target(&c.label) {
                    let head = frame.head.expect("`continue` goes to a loop");
                    let scope = frame.scope;
                    *e = parse_quote!(__curio_goto(#head, #scope));
                }
            }
            Expr::Loop(_) | Expr::While(_) | Expr::ForLoop(_) => {
                let label = match e {
                    Expr::Loop(l) => l.label.as_ref().map(|l| l.name.clone()),
                    Expr::While(w) => w.label.as_ref().map(|l| l.name.clone()),
                    Expr::ForLoop(f) => f.label.as_ref().map(|l| l.name.clone()),
                    _ => None,
                };
                let pushed = label.is_some();
                if let Some(l) = label {
                    self.labels.push(l);
                }
                self.depth += 1;
                syn::visit_mut::visit_expr_mut(self, e);
                self.depth -= 1;
                if pushed {
                    self.labels.pop();
                }
            }
            Expr::Block(b) if b.label.is_some() => {
                self.labels
                    .push(b.label.as_ref().map(|l| l.name.clone()).expect("a label"));
                syn::visit_mut::visit_expr_mut(self, e);
                self.labels.pop();
            }
            Expr::Closure(_) | Expr::Async(_) => {}
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    fn visit_macro_mut(&mut self, _: &mut syn::Macro) {}
}
