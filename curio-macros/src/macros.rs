//! `.await` and `?` in the arguments of the standard macros that evaluate
//! every argument, once, in order (`println!`, `format!`, `write!`,
//! `panic!`, `vec!`, ... and the compared operands of `assert!`,
//! `assert_eq!`, `assert_ne!`): the arguments up to the last one that
//! awaits are evaluated first, in order, into hidden locals, and the macro
//! gets those locals. So `println!("now {}", clock().await?)` is
//! `{ let __curio_m0 = clock().await?; println!("now {}", __curio_m0) }`.
//!
//! A place argument (`x`, `self.field`, `v[0]`) is left where it is: the
//! macro only borrows or moves it, which reads nothing, so it makes no
//! difference that it is named after the `.await` rather than before
//! (nothing else can touch a local while the task waits). Any other
//! argument is moved into its hidden local, where a native `async fn`
//! keeps it as a temporary: the same value, dropped at the end of the same
//! statement.
//!
//! Macros that evaluate arguments only sometimes (`debug_assert!`, the
//! `log` macros, an `assert!`'s message) or whose syntax is their own are
//! left alone; `analyse` rejects an `.await` in them with a hint.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident, Macro, Stmt, Token};

/// Rewrites the supported macros in `block` (not in closures, `async`
/// blocks, nested items or `coroutine!` blocks).
pub fn hoist_awaits(block: &mut syn::Block) {
    Hoist { count: 0 }.visit_block_mut(block);
}

struct Hoist {
    count: usize,
}

/// How many leading arguments a macro evaluates unconditionally (`None`:
/// all of them), or `None` for a macro this pass leaves alone.
fn evaluated(name: &str) -> Option<Option<usize>> {
    match name {
        "print" | "println" | "eprint" | "eprintln" | "format" | "write" | "writeln" | "panic"
        | "vec" => Some(None),
        "assert" => Some(Some(1)),
        "assert_eq" | "assert_ne" => Some(Some(2)),
        _ => None,
    }
}

impl VisitMut for Hoist {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Macro(m) = e
            && let Some(block) = self.rewrite(&m.mac)
        {
            *e = block;
            // The hoisted initialisers may hold more macros.
            syn::visit_mut::visit_expr_mut(self, e);
            return;
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }

    fn visit_stmt_mut(&mut self, s: &mut Stmt) {
        if let Stmt::Macro(m) = s
            && let Some(block) = self.rewrite(&m.mac)
        {
            *s = Stmt::Expr(block, Some(Default::default()));
            syn::visit_mut::visit_stmt_mut(self, s);
            return;
        }
        syn::visit_mut::visit_stmt_mut(self, s);
    }

    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

impl Hoist {
    /// The block that evaluates `mac`'s awaiting arguments first, if `mac`
    /// is a supported macro with an `.await` or `?` in an argument it
    /// always evaluates.
    fn rewrite(&mut self, mac: &Macro) -> Option<Expr> {
        let name = mac.path.segments.last()?.ident.to_string();
        let limit = evaluated(&name)?;
        let (args, repeat) = parse_args(&name, mac.tokens.clone())?;
        let awaits: Vec<bool> = args.iter().map(|a| suspends(value_of(a))).collect();
        let last = awaits.iter().rposition(|&a| a)?;
        if limit.is_some_and(|n| last >= n) {
            // An `.await` in an argument evaluated only sometimes.
            return None;
        }
        let mut lets = Vec::new();
        let mut new_args = Vec::new();
        for (i, arg) in args.into_iter().enumerate() {
            if i > last || is_place(value_of(&arg)) || is_literal(value_of(&arg)) {
                new_args.push(arg);
                continue;
            }
            let hidden = format_ident!("__curio_m{}", self.count, span = Span::call_site());
            self.count += 1;
            let value = value_of(&arg).clone();
            lets.push(quote!(let #hidden = #value;));
            new_args.push(with_value(arg, &hidden));
        }
        let path = &mac.path;
        let body: TokenStream = if repeat {
            let (a, b) = (&new_args[0], &new_args[1]);
            quote!(#a; #b)
        } else {
            quote!(#(#new_args),*)
        };
        let call = match mac.delimiter {
            syn::MacroDelimiter::Bracket(_) => quote!(#path![#body]),
            syn::MacroDelimiter::Brace(_) => quote!(#path!{#body}),
            syn::MacroDelimiter::Paren(_) => quote!(#path!(#body)),
        };
        syn::parse2(quote!({ #(#lets)* #call })).ok()
    }
}

/// The arguments as expressions, and whether they are `vec![x; n]`'s two.
fn parse_args(name: &str, tokens: TokenStream) -> Option<(Vec<Expr>, bool)> {
    if name == "vec" {
        let repeat = |input: syn::parse::ParseStream| -> syn::Result<Vec<Expr>> {
            let value: Expr = input.parse()?;
            input.parse::<Token![;]>()?;
            let count: Expr = input.parse()?;
            Ok(vec![value, count])
        };
        if let Ok(parts) = repeat.parse2(tokens.clone()) {
            return Some((parts, true));
        }
    }
    let list = Punctuated::<Expr, Token![,]>::parse_terminated
        .parse2(tokens)
        .ok()?;
    Some((list.into_iter().collect(), false))
}

/// A named format argument's value (`name = value`), or the argument.
fn value_of(arg: &Expr) -> &Expr {
    match arg {
        Expr::Assign(a) if matches!(&*a.left, Expr::Path(p) if p.path.get_ident().is_some()) => {
            &a.right
        }
        other => other,
    }
}

/// `arg` with its value replaced by `hidden`.
fn with_value(arg: Expr, hidden: &Ident) -> Expr {
    match arg {
        Expr::Assign(mut a) if matches!(&*a.left, Expr::Path(p) if p.path.get_ident().is_some()) => {
            *a.right = syn::parse_quote!(#hidden);
            Expr::Assign(a)
        }
        _ => syn::parse_quote!(#hidden),
    }
}

/// Whether evaluating `e` may suspend or return (`.await`, `?`), outside
/// closures and `async` blocks.
fn suspends(e: &Expr) -> bool {
    struct Find(bool);
    impl<'ast> syn::visit::Visit<'ast> for Find {
        fn visit_expr_await(&mut self, _: &'ast syn::ExprAwait) {
            self.0 = true;
        }
        fn visit_expr_try(&mut self, _: &'ast syn::ExprTry) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut find = Find(false);
    syn::visit::Visit::visit_expr(&mut find, e);
    find.0
}

/// A place whose naming reads nothing: a path, a field, a literal index.
fn is_place(e: &Expr) -> bool {
    match e {
        Expr::Path(_) => true,
        Expr::Field(f) => is_place(&f.base),
        Expr::Index(i) => is_place(&i.expr) && is_literal(&i.index),
        Expr::Paren(p) => is_place(&p.expr),
        Expr::Reference(r) => is_place(&r.expr),
        _ => false,
    }
}

fn is_literal(e: &Expr) -> bool {
    matches!(e, Expr::Lit(_))
}
