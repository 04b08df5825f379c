//! Rejections that need the lowering's view: a frame local (one that
//! lives across an `.await`) holding a borrow of another local. Until
//! borrows across `.await` are supported, rustc would reject these with
//! the frame's type in the message; here each is a `syn::Error` at the
//! borrow, saying what to write instead.

use std::collections::HashSet;

use syn::{Expr, Ident, Stmt};

use crate::cfg::Cfg;
use crate::locals::{Locals, declares, inner_lists};

/// Methods that return a borrow of their receiver (iterators, views,
/// guards of a `RefCell`): a local holding one across an `.await` would
/// point into the task's own state. Only names that borrow in the standard
/// library and rarely mean anything else: a miss leaves rustc's error, a
/// false alarm would reject a valid program.
const BORROWING_METHODS: &[&str] = &[
    "iter",
    "iter_mut",
    "chars",
    "char_indices",
    "bytes",
    "lines",
    "split_whitespace",
    "windows",
    "chunks",
    "keys",
    "values",
    "values_mut",
    "drain",
    "borrow",
    "borrow_mut",
    "as_slice",
    "as_mut_slice",
    "as_str",
    "as_bytes",
];

/// Iterator adapters: their result holds the borrow their receiver holds.
const ADAPTERS: &[&str] = &[
    "map",
    "filter",
    "filter_map",
    "enumerate",
    "zip",
    "rev",
    "skip",
    "take",
    "chain",
    "peekable",
    "cloned",
    "copied",
    "step_by",
    "flat_map",
    "take_while",
    "skip_while",
    "inspect",
    "fuse",
];

/// The frame locals that hold a borrow of another local across an
/// `.await`: each a `syn::Error` at the borrow, saying what to write
/// instead (until borrows across `.await` are supported, rustc would
/// reject them with the frame's type in the message).
pub fn borrow_errors(cfg: &Cfg, locals: &Locals) -> Vec<syn::Error> {
    let tracked: HashSet<String> = cfg.binds.iter().map(|b| b.name.to_string()).collect();
    let mut errors = Vec::new();
    for bind in &cfg.binds {
        let name = bind.name.to_string();
        if !locals.slot.contains_key(&name) || bind.param {
            continue;
        }
        if let Some(user) = name.strip_prefix("__g_") {
            // A match guard's binding, a reference into the matched value
            // while the guard runs, used after an `.await` in the guard.
            errors.push(syn::Error::new(
                bind.name.span(),
                format!(
                    "`{user}` is used after an `.await` in this match guard; in a guard, `{user}` is a reference into the matched value, which a task's state cannot hold across an `.await`\n\
                     help: use `{user}` before the `.await` in the guard (`… if {user} > 0 && f().await? …`), or await before the `match`"
                ),
            ));
            continue;
        }
        let Some(init) = initialiser(&cfg.blocks[bind.block].code, &bind.name) else {
            continue;
        };
        let Some((borrow, root)) = borrowed_local(&init, &tracked) else {
            continue;
        };
        let root = root.trim_start_matches("__curio_");
        let message = if name.starts_with("__curio_iter") {
            format!(
                "this `for` loop borrows `{root}` for its whole run, across the `.await` in its body; a task's state cannot point into itself\n\
                 help: iterate over something owned: a clone (`{root}.clone()`), the moved value (`{root}` or `{root}.into_iter()`), or indices (`for i in 0..{root}.len()`)"
            )
        } else if name.starts_with("__curio_t") {
            format!(
                "this borrow of `{root}` is held while an `.await` later in the same expression runs; a task's state cannot point into itself\n\
                 help: bind the awaited value first: `let value = ….await?;`, then use `{root}`"
            )
        } else if name.starts_with("__curio_") {
            format!(
                "a temporary here borrows `{root}` until the end of the `match` or `if let`, across the `.await` in its body; a task's state cannot point into itself\n\
                 help: bind what you need from `{root}` before the `match` (`let value = …;`)"
            )
        } else {
            format!(
                "`{name}` borrows the local `{root}` and is still in use after an `.await`; a task's state cannot point into itself\n\
                 help: clone or copy what you need from `{root}`, or borrow it again after the `.await`"
            )
        };
        errors.push(syn::Error::new_spanned(borrow, message));
    }
    errors
}

/// The initialiser of the lowered `let` declaring `name` in `code`.
fn initialiser(code: &[Stmt], name: &Ident) -> Option<Expr> {
    for stmt in code {
        if declares(stmt, name) {
            if let Stmt::Local(local) = stmt {
                return local.init.as_ref().map(|i| (*i.expr).clone());
            }
            return None;
        }
        for list in inner_lists(stmt) {
            if let Some(init) = initialiser(list, name) {
                return Some(init);
            }
        }
    }
    None
}

/// The part of `e` that borrows a local (`&x`, `&mut x.field`, `x.iter()`,
/// `into_iter(&x)`), and the local's name.
fn borrowed_local(e: &Expr, tracked: &HashSet<String>) -> Option<(Expr, String)> {
    fn root(e: &Expr) -> Option<String> {
        match e {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            Expr::Field(f) => root(&f.base),
            Expr::Index(i) => root(&i.expr),
            Expr::Paren(p) => root(&p.expr),
            Expr::MethodCall(m) if BORROWING_METHODS.contains(&m.method.to_string().as_str()) => {
                root(&m.receiver)
            }
            _ => None,
        }
    }
    let local = |r: Option<String>| r.filter(|r| tracked.contains(r));
    match e {
        Expr::Reference(r) => local(root(&r.expr)).map(|name| (e.clone(), name)),
        Expr::MethodCall(m) if BORROWING_METHODS.contains(&m.method.to_string().as_str()) => {
            local(root(&m.receiver)).map(|name| (e.clone(), name))
        }
        // An iterator adapter keeps its iterator's borrow.
        Expr::MethodCall(m) if ADAPTERS.contains(&m.method.to_string().as_str()) => {
            borrowed_local(&m.receiver, tracked)
        }
        // `IntoIterator::into_iter(source)` of a `for` loop.
        Expr::Call(c) if c.args.len() == 1 => borrowed_local(&c.args[0], tracked),
        Expr::Paren(p) => borrowed_local(&p.expr, tracked),
        _ => None,
    }
}
