//! Small syntactic queries shared by the phases: where the `.await`s are,
//! which names a pattern binds, and how a block uses a local afterwards.
//!
//! # Which locals a state stores
//!
//! A proc macro sees no types, so "does this local need to live across the
//! `.await`" is answered from syntax, erring on the side of keeping a value:
//! a local is stored when the code after the `.await` mentions it, or when
//! nothing before the `.await` may have moved it. The second rule is what
//! keeps a lock guard held across an `.await` even though it is never
//! mentioned again: it is dropped where rustc would drop it, at the end of
//! its scope. A mention is a possible move when the local stands alone in a
//! by-value position (an argument, an operand, `let y = x`, `x?`, a `move`
//! closure, a match that binds by value) or is the receiver of a method
//! that consumes `self` by Rust's conventions: `into*`, `unwrap*`,
//! `expect*`, and the `Option` / `Result` / iterator combinators listed in
//! `CONSUMING` (`map`, `ok`, `collect`, ...).

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;
use syn::{Expr, ExprAwait, Ident, Pat, Stmt};

/// Macros that only borrow their arguments (they expand to
/// `format_args!` or compare through references).
const BORROWING_MACROS: &[&str] = &[
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
];

/// Methods of `Option`, `Result` and `Iterator` that take `self` by value.
const CONSUMING: &[&str] = &[
    "map",
    "map_err",
    "map_or",
    "map_or_else",
    "and_then",
    "or_else",
    "ok",
    "err",
    "ok_or",
    "ok_or_else",
    "and",
    "or",
    "xor",
    "zip",
    "unzip",
    "flatten",
    "filter",
    "filter_map",
    "collect",
    "sum",
    "product",
    "count",
    "fold",
    "for_each",
    "rev",
    "chain",
    "enumerate",
    "skip",
    "step_by",
    "skip_while",
    "take_while",
    "last",
    "min",
    "max",
    "partition",
];

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

/// Whether `e` contains `.await` number `id`.
pub fn expr_has(e: &Expr, id: usize) -> bool {
    let mut v = HasAwait {
        id: Some(id),
        found: false,
    };
    v.visit_expr(e);
    v.found
}

/// Whether `s` contains `.await` number `id`.
pub fn stmt_has(s: &Stmt, id: usize) -> bool {
    let mut v = HasAwait {
        id: Some(id),
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

fn binds(pat: &Pat, name: &Ident) -> bool {
    bindings(pat).iter().any(|b| b.ident == *name)
}

/// Whether matching `pat` may move out of the scrutinee (it binds by value).
pub fn binds_by_value(pat: &Pat) -> bool {
    bindings(pat).iter().any(|b| !b.by_ref)
}

/// The bindings introduced by an `if`/`while` condition (`let` chains).
pub fn cond_bindings(cond: &Expr) -> Vec<Binding> {
    match cond {
        Expr::Let(l) => bindings(&l.pat),
        Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            let mut all = cond_bindings(&b.left);
            all.extend(cond_bindings(&b.right));
            all
        }
        Expr::Paren(p) => cond_bindings(&p.expr),
        _ => Vec::new(),
    }
}

/// How some code uses one local.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Usage {
    /// The local is named at all.
    pub mentioned: bool,
    /// Some mention may move the local (see the module docs).
    pub moved: bool,
}

/// The binding that shadows `name` in `stmts`, if a `let` there rebinds it.
pub fn shadowing_binding(stmts: &[Stmt], name: &Ident) -> Option<Ident> {
    stmts.iter().find_map(|stmt| match stmt {
        Stmt::Local(local) => bindings(&local.pat)
            .into_iter()
            .find(|b| b.ident == *name)
            .map(|b| b.ident),
        _ => None,
    })
}

/// Scans `stmts` of one block for uses of `name`, stopping at a `let` that
/// shadows it.
pub fn scan_stmts(stmts: &[Stmt], name: &Ident) -> Usage {
    let mut s = Scanner {
        name,
        usage: Usage::default(),
    };
    s.stmts(stmts);
    s.usage
}

/// Scans one expression for uses of `name`.
pub fn scan_expr(e: &Expr, name: &Ident) -> Usage {
    let mut s = Scanner {
        name,
        usage: Usage::default(),
    };
    s.expr(e, Ctx::Value);
    s.usage
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// The value is consumed (moved or copied).
    Value,
    /// The expression is used as a place (borrowed, assigned, read through).
    Place,
}

struct Scanner<'a> {
    name: &'a Ident,
    usage: Usage,
}

impl Scanner<'_> {
    /// Returns true when a `let` shadowed the name.
    fn stmts(&mut self, stmts: &[Stmt]) -> bool {
        for stmt in stmts {
            match stmt {
                Stmt::Local(local) => {
                    if let Some(init) = &local.init {
                        self.expr(&init.expr, Ctx::Value);
                        if let Some((_, diverge)) = &init.diverge {
                            self.expr(diverge, Ctx::Value);
                        }
                    }
                    if binds(&local.pat, self.name) {
                        return true;
                    }
                }
                Stmt::Expr(e, _) => self.expr(e, Ctx::Value),
                Stmt::Macro(m) => self.macro_call(&m.mac),
                Stmt::Item(_) => {}
            }
        }
        false
    }

    fn block(&mut self, b: &syn::Block) {
        let (tail, stmts) = match b.stmts.split_last() {
            Some((Stmt::Expr(e, None), rest)) => (Some(e), rest),
            _ => (None, &b.stmts[..]),
        };
        if !self.stmts(stmts) {
            if let Some(t) = tail {
                self.expr(t, Ctx::Value);
            }
        }
    }

    fn mention(&mut self, ctx: Ctx) {
        self.usage.mentioned = true;
        if ctx == Ctx::Value {
            self.usage.moved = true;
        }
    }

    fn is_name(&self, e: &Expr) -> bool {
        matches!(e, Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.name))
    }

    /// A conditional's bindings hide the name in the guarded block.
    fn guarded(&mut self, cond: &Expr, body: &syn::Block) {
        self.expr(cond, Ctx::Value);
        if !cond_bindings(cond).iter().any(|b| b.ident == *self.name) {
            self.block(body);
        }
    }

    fn expr(&mut self, e: &Expr, ctx: Ctx) {
        use syn::BinOp::*;
        match e {
            Expr::Path(_) if self.is_name(e) => self.mention(ctx),
            Expr::Path(_) | Expr::Lit(_) | Expr::Continue(_) => {}
            Expr::Call(c) => {
                self.expr(&c.func, Ctx::Place);
                c.args.iter().for_each(|a| self.expr(a, Ctx::Value));
            }
            Expr::MethodCall(m) => {
                let method = m.method.to_string();
                let ctx = if consumes(&method) {
                    Ctx::Value
                } else {
                    Ctx::Place
                };
                self.expr(&m.receiver, ctx);
                m.args.iter().for_each(|a| self.expr(a, Ctx::Value));
            }
            Expr::Binary(b) => {
                let left = match b.op {
                    Eq(_) | Ne(_) | Lt(_) | Le(_) | Gt(_) | Ge(_) => Ctx::Place,
                    AddAssign(_) | SubAssign(_) | MulAssign(_) | DivAssign(_) | RemAssign(_)
                    | BitXorAssign(_) | BitAndAssign(_) | BitOrAssign(_) | ShlAssign(_)
                    | ShrAssign(_) => Ctx::Place,
                    _ => Ctx::Value,
                };
                let right = match b.op {
                    Eq(_) | Ne(_) | Lt(_) | Le(_) | Gt(_) | Ge(_) => Ctx::Place,
                    _ => Ctx::Value,
                };
                self.expr(&b.left, left);
                self.expr(&b.right, right);
            }
            Expr::Assign(a) => {
                self.expr(&a.left, Ctx::Place);
                self.expr(&a.right, Ctx::Value);
            }
            Expr::Unary(u) => {
                let inner = if matches!(u.op, syn::UnOp::Deref(_)) {
                    Ctx::Place
                } else {
                    Ctx::Value
                };
                self.expr(&u.expr, inner);
            }
            Expr::Reference(r) => self.expr(&r.expr, Ctx::Place),
            Expr::RawAddr(r) => self.expr(&r.expr, Ctx::Place),
            Expr::Field(f) => self.expr(&f.base, Ctx::Place),
            Expr::Index(i) => {
                self.expr(&i.expr, Ctx::Place);
                self.expr(&i.index, Ctx::Value);
            }
            Expr::Paren(p) => self.expr(&p.expr, ctx),
            Expr::Group(g) => self.expr(&g.expr, ctx),
            Expr::Block(b) => self.block(&b.block),
            Expr::Unsafe(b) => self.block(&b.block),
            Expr::Const(b) => self.block(&b.block),
            Expr::Loop(l) => self.block(&l.body),
            Expr::If(i) => {
                self.guarded(&i.cond, &i.then_branch);
                if let Some((_, e)) = &i.else_branch {
                    self.expr(e, Ctx::Value);
                }
            }
            Expr::While(w) => self.guarded(&w.cond, &w.body),
            Expr::Let(l) => {
                let scrutinee = if binds_by_value(&l.pat) {
                    Ctx::Value
                } else {
                    Ctx::Place
                };
                self.expr(&l.expr, scrutinee);
            }
            Expr::Match(m) => {
                let by_value = m.arms.iter().any(|arm| binds_by_value(&arm.pat));
                self.expr(&m.expr, if by_value { Ctx::Value } else { Ctx::Place });
                for arm in &m.arms {
                    if binds(&arm.pat, self.name) {
                        continue;
                    }
                    if let Some((_, guard)) = &arm.guard {
                        self.expr(guard, Ctx::Value);
                    }
                    self.expr(&arm.body, Ctx::Value);
                }
            }
            Expr::ForLoop(f) => {
                self.expr(&f.expr, Ctx::Value);
                if !binds(&f.pat, self.name) {
                    self.block(&f.body);
                }
            }
            Expr::Closure(c) => {
                if c.inputs.iter().any(|p| binds(p, self.name)) {
                    return;
                }
                let before = std::mem::take(&mut self.usage);
                self.expr(&c.body, Ctx::Place);
                let inside = std::mem::replace(&mut self.usage, before);
                self.usage.mentioned |= inside.mentioned;
                self.usage.moved |= inside.moved || (c.capture.is_some() && inside.mentioned);
            }
            Expr::Async(a) => {
                let before = std::mem::take(&mut self.usage);
                self.block(&a.block);
                let inside = std::mem::replace(&mut self.usage, before);
                self.usage.mentioned |= inside.mentioned;
                self.usage.moved |= inside.moved || (a.capture.is_some() && inside.mentioned);
            }
            Expr::Macro(m) if is_coroutine_macro(&m.mac) => {
                // A `coroutine!` block moves what it captures, like a
                // `move` closure.
                let before = std::mem::take(&mut self.usage);
                self.tokens(&m.mac.tokens, false);
                let inside = std::mem::replace(&mut self.usage, before);
                if inside.mentioned {
                    self.mention(Ctx::Value);
                }
            }
            Expr::Macro(m) => self.macro_call(&m.mac),
            Expr::Return(r) => r.expr.iter().for_each(|e| self.expr(e, Ctx::Value)),
            Expr::Break(b) => b.expr.iter().for_each(|e| self.expr(e, Ctx::Value)),
            Expr::Yield(y) => y.expr.iter().for_each(|e| self.expr(e, Ctx::Value)),
            Expr::Try(t) => self.expr(&t.expr, Ctx::Value),
            Expr::Await(a) => self.expr(&a.base, Ctx::Value),
            Expr::Cast(c) => self.expr(&c.expr, Ctx::Value),
            Expr::Tuple(t) => t.elems.iter().for_each(|e| self.expr(e, Ctx::Value)),
            Expr::Array(a) => a.elems.iter().for_each(|e| self.expr(e, Ctx::Value)),
            Expr::Repeat(r) => self.expr(&r.expr, Ctx::Value),
            Expr::Range(r) => {
                r.start.iter().for_each(|e| self.expr(e, Ctx::Value));
                r.end.iter().for_each(|e| self.expr(e, Ctx::Value));
            }
            Expr::Struct(s) => {
                s.fields.iter().for_each(|f| self.expr(&f.expr, Ctx::Value));
                s.rest.iter().for_each(|e| self.expr(e, Ctx::Value));
            }
            other => {
                // Anything else: count plain mentions, conservatively as uses.
                struct Any<'a>(&'a Ident, bool);
                impl<'ast> Visit<'ast> for Any<'_> {
                    fn visit_path(&mut self, p: &'ast syn::Path) {
                        self.1 |= p.is_ident(self.0);
                    }
                }
                let mut any = Any(self.name, false);
                any.visit_expr(other);
                if any.1 {
                    self.mention(Ctx::Place);
                }
            }
        }
    }

    /// A macro call: the standard formatting and assertion macros borrow
    /// their arguments; any other macro (`vec![x]`, your own) may move a
    /// bare `x`.
    fn macro_call(&mut self, mac: &syn::Macro) {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        self.tokens(&mac.tokens, !BORROWING_MACROS.contains(&name.as_str()));
    }

    /// Macro arguments are tokens: an identifier equal to the name, or an
    /// inline format argument (`"{name}"`), is a mention; followed by
    /// `.method` where the method consumes `self` (see [`consumes`]), it
    /// is a possible move; standing alone (not after `&`) in a macro that
    /// may move (`bare_moves`), too.
    fn tokens(&mut self, tokens: &TokenStream, bare_moves: bool) {
        let tts: Vec<TokenTree> = tokens.clone().into_iter().collect();
        for (i, tt) in tts.iter().enumerate() {
            match tt {
                // After `.` it is a field or method name, not the local;
                // after `::` a path segment.
                TokenTree::Ident(id) if id == self.name && !after_dot_or_path(&tts, i) => {
                    let after_ref =
                        i > 0 && matches!(&tts[i - 1], TokenTree::Punct(p) if p.as_char() == '&');
                    let followed =
                        matches!(tts.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '.');
                    let method = match (tts.get(i + 1), tts.get(i + 2)) {
                        (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(m)))
                            if p.as_char() == '.' =>
                        {
                            Some(m.to_string())
                        }
                        _ => None,
                    };
                    let moved = method.is_some_and(|m| consumes(&m))
                        || (bare_moves && !after_ref && !followed);
                    self.mention(if moved { Ctx::Value } else { Ctx::Place });
                }
                TokenTree::Group(g) => self.tokens(&g.stream(), bare_moves),
                TokenTree::Literal(l) => {
                    let text = l.to_string();
                    if text.starts_with('"') || text.starts_with('r') {
                        let name = self.name.to_string();
                        if format_mentions(&text, &name) {
                            self.mention(Ctx::Place);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Whether the first thing `stmts` do with `name` is to give it a whole
/// new value (`name = expr;`, `expr` not naming it), so that its old value
/// is dead. Only straight-line code counts: the search gives up at a
/// `break` or `continue` (which could skip the assignment and reach a
/// read), at a macro that could hide one, and at anything that names
/// `name` first. A `return` or `?` on the way is fine: nothing reads the
/// local after either.
///
/// Returns `None` if the old value may be read, else whether the
/// assignment happens in this code (`Some(true)`: the name must be
/// declared for it) or after a further `.await` in its right-hand side
/// (`Some(false)`: it belongs to a later continuation).
pub fn assigned_before_use(stmts: &[Stmt], name: &Ident) -> Option<bool> {
    match first_in(stmts, name)? {
        Assigned::Here => Some(true),
        Assigned::Later => Some(false),
        Assigned::Used => None,
    }
}

/// What [`first_in`] found first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Assigned {
    /// A plain assignment.
    Here,
    /// An assignment whose right-hand side awaits first.
    Later,
    /// A use, or a possible jump.
    Used,
}

/// The first thing `stmts` do with `name`, if anything.
fn first_in(stmts: &[Stmt], name: &Ident) -> Option<Assigned> {
    stmts.iter().find_map(|stmt| match stmt {
        Stmt::Local(local) => {
            let clear = local.init.as_ref().is_none_or(|init| {
                clear_of(&init.expr, name)
                    && init.diverge.as_ref().is_none_or(|(_, d)| clear_of(d, name))
            });
            (!clear || binds(&local.pat, name)).then_some(Assigned::Used)
        }
        Stmt::Expr(e, _) => first_assigned(e, name),
        Stmt::Macro(m) => {
            (!jump_free_macro(&m.mac) || scan_tokens(&m.mac, name)).then_some(Assigned::Used)
        }
        Stmt::Item(_) => None,
    })
}

/// [`first_in`] for one expression: an assignment to `name`, or a block
/// (labelled or not) searched in order.
fn first_assigned(e: &Expr, name: &Ident) -> Option<Assigned> {
    match e {
        Expr::Assign(a) if matches!(&*a.left, Expr::Path(p) if p.qself.is_none() && p.path.is_ident(name)) => {
            Some(if !clear_of(&a.right, name) {
                Assigned::Used
            } else if expr_has_await(&a.right) {
                Assigned::Later
            } else {
                Assigned::Here
            })
        }
        Expr::Block(b) if b.attrs.is_empty() => first_in(&b.block.stmts, name),
        _ => (!clear_of(e, name)).then_some(Assigned::Used),
    }
}

/// Whether `e` neither names `name` nor may `break` / `continue`.
fn clear_of(e: &Expr, name: &Ident) -> bool {
    struct Clear<'a> {
        name: &'a Ident,
        clear: bool,
    }
    impl<'ast> Visit<'ast> for Clear<'_> {
        fn visit_expr_break(&mut self, _: &'ast syn::ExprBreak) {
            self.clear = false;
        }
        fn visit_expr_continue(&mut self, _: &'ast syn::ExprContinue) {
            self.clear = false;
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if !jump_free_macro(m) || scan_tokens(m, self.name) {
                self.clear = false;
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut clear = Clear { name, clear: true };
    clear.visit_expr(e);
    clear.clear && !scan_expr(e, name).mentioned
}

/// The lowering's own `r#try!` and the formatting macros cannot break out
/// of a loop; any other macro might.
fn jump_free_macro(mac: &syn::Macro) -> bool {
    mac.path.segments.last().is_some_and(|s| {
        s.ident == "r#try"
            || s.ident == "try"
            || BORROWING_MACROS.contains(&s.ident.to_string().as_str())
    })
}

/// Whether a macro's tokens name `name`.
fn scan_tokens(mac: &syn::Macro, name: &Ident) -> bool {
    let mut s = Scanner {
        name,
        usage: Usage::default(),
    };
    s.tokens(&mac.tokens, false);
    s.usage.mentioned
}

/// Whether the token at `i` follows `.` or `::`.
fn after_dot_or_path(tts: &[TokenTree], i: usize) -> bool {
    let punct = |k: usize| match tts.get(k) {
        Some(TokenTree::Punct(p)) => Some(p.as_char()),
        _ => None,
    };
    i > 0
        && match punct(i - 1) {
            Some('.') => true,
            Some(':') => i > 1 && punct(i - 2) == Some(':'),
            _ => false,
        }
}

/// Whether a method named `method` takes `self` by value, by Rust's
/// naming conventions and the standard combinators.
fn consumes(method: &str) -> bool {
    ["into", "unwrap", "expect"]
        .iter()
        .any(|p| method.starts_with(p))
        || CONSUMING.contains(&method)
}

/// Whether `mac` is `coroutine!` (or `curio::coroutine!`): a nested
/// coroutine whose `.await`s are its own.
pub fn is_coroutine_macro(mac: &syn::Macro) -> bool {
    mac.path
        .segments
        .last()
        .is_some_and(|s| s.ident == "coroutine")
}

/// Whether a format string literal names `name` as an inline argument.
fn format_mentions(text: &str, name: &str) -> bool {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if rest.starts_with('{') {
            rest = &rest[1..];
            continue;
        }
        let end = rest.find(['}', ':']).unwrap_or(rest.len());
        if rest[..end].trim() == name {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_arguments_are_mentions() {
        assert!(format_mentions("\"{n} left\"", "n"));
        assert!(format_mentions("\"{n:>3}\"", "n"));
        assert!(!format_mentions("\"{{n}}\"", "n"));
        assert!(!format_mentions("\"{name}\"", "n"));
    }

    #[test]
    fn moves_and_borrows_are_told_apart() {
        let x: Ident = syn::parse_quote!(x);
        let moved = |src: &str| scan_expr(&syn::parse_str(src).unwrap(), &x).moved;
        assert!(moved("f(x)"));
        assert!(moved("x.into_bytes()"));
        assert!(moved("x?"));
        assert!(moved("move || x.len()"));
        assert!(!moved("x.len()"));
        assert!(!moved("&x"));
        assert!(!moved("x == y"));
        assert!(!moved("x.field"));
        assert!(!moved("println!(\"{x}\")"));
        let mentioned = |src: &str| scan_expr(&syn::parse_str(src).unwrap(), &x).mentioned;
        assert!(
            !mentioned("assert_eq!(m.x.len(), 1)"),
            "a field named like the local"
        );
        assert!(
            !mentioned("vec![T::x()]"),
            "a path segment named like the local"
        );
        assert!(mentioned("assert_eq!(x.len(), 1)"));
        assert!(moved("vec![S { field: x }]"), "a field's value");
        assert!(scan_expr(&syn::parse_str("println!(\"{x}\")").unwrap(), &x).mentioned);
        assert!(!scan_expr(&syn::parse_str("|x| x + 1").unwrap(), &x).mentioned);
    }

    #[test]
    fn a_local_given_a_new_value_before_any_read_is_dead() {
        let x: Ident = syn::parse_quote!(x);
        let dead = |src: &str| {
            let block: syn::Block = syn::parse_str(src).unwrap();
            assigned_before_use(&block.stmts, &x)
        };
        assert_eq!(dead("{ x = f(); g(x); }"), Some(true));
        assert_eq!(
            dead("{ let n = 1; if n == 0 { return; } x = f(n); }"),
            Some(true)
        );
        assert_eq!(
            dead("{ 'a: { let y = 2; x = y; } loop { g(x) } }"),
            Some(true)
        );
        assert_eq!(
            dead("{ x = h().await?; }"),
            Some(false),
            "assigned after the next await"
        );
        assert_eq!(dead("{ g(&x); x = f(); }"), None, "read first");
        assert_eq!(dead("{ x = f(x); }"), None, "the new value reads the old");
        assert_eq!(
            dead("{ if c { continue; } x = f(); }"),
            None,
            "a jump could skip it"
        );
        assert_eq!(
            dead("{ my_macro!(); x = f(); }"),
            None,
            "a macro could hide a jump"
        );
        assert_eq!(dead("{ let x = 1; x = f(); }"), None, "shadowed");
        assert_eq!(dead("{ g(); }"), None, "never assigned");
    }
}
