//! Rejections: every construct the lowering cannot handle is reported as a
//! `syn::Error` at its own span, with a hint of the fix. All problems in one
//! function are collected and reported together.

mod borrows;

pub use borrows::borrow_errors;

use std::collections::{HashMap, HashSet};

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Block, Expr, Ident, ImplItem, ItemImpl, Type};

use crate::scan::bindings;

/// Collects every rejection in `body`. `name` is the task's own name (for
/// the recursion check); `locals` are the names bound anywhere in the body
/// or parameters.
pub fn check_body(body: &Block, name: Option<&Ident>, locals: &HashSet<String>) -> Vec<syn::Error> {
    let mut checker = Checker {
        name,
        locals,
        errors: Vec::new(),
        context: None,
        loops: Vec::new(),
        blocks: Vec::new(),
    };
    checker.visit_block(body);
    checker.errors
}

/// Every name bound by a `let`, a pattern or a parameter in `body`.
pub fn local_names<'a>(
    body: &Block,
    params: impl Iterator<Item = &'a syn::Pat>,
) -> HashSet<String> {
    struct Names(HashSet<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_pat(&mut self, p: &'ast syn::Pat) {
            self.0
                .extend(bindings(p).into_iter().map(|b| b.ident.to_string()));
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut names = Names(HashSet::new());
    params.for_each(|p| names.visit_pat(p));
    names.visit_block(body);
    names.0
}

/// Why an `.await` here cannot be lowered.
#[derive(Clone, Copy)]
enum Context {
    Closure,
    AsyncBlock,
    NestedFn,
}

struct Checker<'a> {
    name: Option<&'a Ident>,
    locals: &'a HashSet<String>,
    errors: Vec<syn::Error>,
    context: Option<Context>,
    /// The labels of the loops around this point (`None`: unlabelled), in
    /// the task's own body (a closure or an item starts afresh).
    loops: Vec<Option<String>>,
    /// The labels of the labelled blocks around this point.
    blocks: Vec<String>,
}

impl Checker<'_> {
    fn within(&mut self, context: Context, f: impl FnOnce(&mut Self)) {
        let saved = self.context.replace(context);
        let loops = std::mem::take(&mut self.loops);
        let blocks = std::mem::take(&mut self.blocks);
        f(self);
        self.context = saved;
        self.loops = loops;
        self.blocks = blocks;
    }

    fn in_loop(&mut self, label: Option<&syn::Label>, f: impl FnOnce(&mut Self)) {
        self.loops.push(label.map(|l| l.name.ident.to_string()));
        f(self);
        self.loops.pop();
    }

    /// A `break` or `continue` must stay inside the task's (or block's)
    /// own body: the body is a coroutine, which a jump cannot leave.
    fn check_jump(
        &mut self,
        keyword: &str,
        label: Option<&syn::Lifetime>,
        span: proc_macro2::Span,
    ) {
        if self.context.is_some() {
            // Inside a closure or an item: rustc's own rules apply there.
            return;
        }
        let reaches = match label {
            Some(l) => {
                let name = l.ident.to_string();
                self.loops
                    .iter()
                    .any(|x| x.as_deref() == Some(name.as_str()))
                    || (keyword == "break" && self.blocks.contains(&name))
            }
            None => !self.loops.is_empty(),
        };
        if reaches {
            return;
        }
        let target = match label {
            Some(l) => format!("no loop labelled `{l}` around it"),
            None => "no loop around it".to_string(),
        };
        let message = if self.name.is_some() {
            format!(
                "`{keyword}` with {target} in this task\n\
                 help: a `{keyword}` can only reach a loop in the same function; use `return` to leave the task"
            )
        } else {
            format!(
                "`{keyword}` with {target} inside this `coroutine!` block: the block is a coroutine of its own (like an `async` block), and a jump cannot leave it\n\
                 help: return a value from the block (`Ok(None)` / `Ok(Some(v))`) and `{keyword}` after awaiting it"
            )
        };
        self.error(span, &message);
    }

    fn error(&mut self, span: proc_macro2::Span, message: &str) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// `.await` and `?` tokens hidden in a macro's arguments. A `?` there
    /// would return from the generated step function, not from the task.
    fn macro_tokens(&mut self, tokens: &TokenStream) {
        let at_task_level = !matches!(
            self.context,
            Some(Context::Closure | Context::AsyncBlock | Context::NestedFn)
        );
        let mut previous_dot = false;
        // `x.await?` is reported once, for the `.await`.
        let mut previous_await = false;
        for tt in tokens.clone() {
            match &tt {
                TokenTree::Punct(p) if p.as_char() == '?' && at_task_level && !previous_await => self.error(
                    p.span(),
                    "`?` inside this macro call cannot be lowered: this macro may not evaluate the argument, or its syntax is its own (the standard macros that always evaluate theirs, `println!`, `format!`, `write!`, `panic!`, `vec!` and the compared operands of `assert!`/`assert_eq!`/`assert_ne!`, accept it)\n\
                     help: bind the value first: `let value = expr?;` then use `value` in the macro",
                ),
                TokenTree::Ident(i) if i == "await" && previous_dot => self.error(
                    i.span(),
                    "`.await` inside this macro call cannot be lowered: this macro may not evaluate the argument, or its syntax is its own (the standard macros that always evaluate theirs, `println!`, `format!`, `write!`, `panic!`, `vec!` and the compared operands of `assert!`/`assert_eq!`/`assert_ne!`, accept it)\n\
                     help: bind the awaited value first: `let value = ….await;` then use `value` in the macro",
                ),
                TokenTree::Group(g) => self.macro_tokens(&g.stream()),
                _ => {}
            }
            previous_await = previous_dot && matches!(&tt, TokenTree::Ident(i) if i == "await");
            previous_dot = matches!(&tt, TokenTree::Punct(p) if p.as_char() == '.');
        }
    }

    fn check_awaited(&mut self, base: &Expr) {
        // A task awaiting itself has an infinitely large state.
        if let (Some(name), Expr::Call(call)) = (self.name, base)
            && let Expr::Path(p) = &*call.func
        {
            let last = p.path.segments.last().map(|s| &s.ident);
            let own = p.path.segments.len() == 1
                || (p.path.segments.len() == 2 && p.path.segments[0].ident == "Self");
            if own && last == Some(name) {
                self.errors.push(syn::Error::new_spanned(
                    base,
                    format!(
                        "a task that awaits itself needs a box: its state would contain itself\n\
                             help: write `curio::boxed({}).await`",
                        quote::quote!(#base)
                    ),
                ));
            }
        }
        // A sub-coroutine holding a borrow of a local would point into the
        // very state that stores the local.
        struct Borrows<'b>(&'b HashSet<String>, Vec<(TokenStream, String)>);
        impl<'ast> Visit<'ast> for Borrows<'_> {
            fn visit_expr_reference(&mut self, r: &'ast syn::ExprReference) {
                let mut root = &*r.expr;
                while let Expr::Field(f) = root {
                    root = &f.base;
                }
                if let Expr::Path(p) = root
                    && let Some(ident) = p.path.get_ident()
                    && (self.0.contains(&ident.to_string()) || ident == "__curio_self")
                {
                    self.1
                        .push((quote::ToTokens::to_token_stream(r), ident.to_string()));
                }
                syn::visit::visit_expr_reference(self, r);
            }
            fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
            fn visit_expr_async(&mut self, a: &'ast syn::ExprAsync) {
                // An `async move` block owns what it captures: a borrow
                // inside it is of its own copy.
                if a.capture.is_none() {
                    syn::visit::visit_expr_async(self, a);
                }
            }
        }
        let mut borrows = Borrows(self.locals, Vec::new());
        borrows.visit_expr(base);
        for (tokens, local) in borrows.1 {
            self.errors.push(syn::Error::new_spanned(
                tokens,
                format!(
                    "the awaited coroutine borrows the local `{local}`, which is stored in the same task state\n\
                     help: pass an owned value or a cheap handle (`{local}.clone()`), or move `{local}` in"
                ),
            ));
        }
    }
}

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
        let span = a.await_token.span();
        match self.context {
            Some(Context::Closure) => self.error(
                span,
                "`.await` inside a closure cannot be lowered: the closure is not part of the task's state machine\n\
                 help: await before the closure and capture the value, or make the closure a `#[curio::task] async fn`",
            ),
            // An `async` block is a Rust future, awaited with
            // `curio::future_wait`; its `.await`s are Rust's.
            Some(Context::AsyncBlock) => {}
            Some(Context::NestedFn) => self.error(
                span,
                "`.await` inside a nested function cannot be lowered by the outer task\n\
                 help: mark the nested function `#[curio::task] async fn`",
            ),
            None => self.check_awaited(&a.base),
        }
        syn::visit::visit_expr_await(self, a);
    }

    fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
        self.in_loop(l.label.as_ref(), |s| s.visit_block(&l.body));
    }

    fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
        self.in_loop(w.label.as_ref(), |s| {
            s.visit_expr(&w.cond);
            s.visit_block(&w.body);
        });
    }

    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.visit_pat(&f.pat);
        self.visit_expr(&f.expr);
        self.in_loop(f.label.as_ref(), |s| s.visit_block(&f.body));
    }

    fn visit_expr_block(&mut self, b: &'ast syn::ExprBlock) {
        match &b.label {
            Some(label) => {
                self.blocks.push(label.name.ident.to_string());
                self.visit_block(&b.block);
                self.blocks.pop();
            }
            None => self.visit_block(&b.block),
        }
    }

    fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
        self.check_jump("break", b.label.as_ref(), b.span());
        syn::visit::visit_expr_break(self, b);
    }

    fn visit_expr_continue(&mut self, c: &'ast syn::ExprContinue) {
        self.check_jump("continue", c.label.as_ref(), c.span());
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.within(Context::Closure, |s| syn::visit::visit_expr_closure(s, c));
    }

    fn visit_expr_async(&mut self, a: &'ast syn::ExprAsync) {
        self.within(Context::AsyncBlock, |s| syn::visit::visit_expr_async(s, a));
    }

    fn visit_item(&mut self, i: &'ast syn::Item) {
        self.within(Context::NestedFn, |s| syn::visit::visit_item(s, i));
    }

    fn visit_expr_yield(&mut self, y: &'ast syn::ExprYield) {
        self.error(
            y.span(),
            "`yield` is not supported in a task: suspend with `.await` on a trap",
        );
        syn::visit::visit_expr_yield(self, y);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if !crate::scan::is_coroutine_macro(m) {
            self.macro_tokens(&m.tokens);
            return;
        }
        // A nested `coroutine!` block is checked here too (as it will be
        // when it expands), so that a rejection inside it rejects the task
        // at once, before rustc reports what follows from it.
        if self.context.is_none()
            && let Ok(mut block) = syn::parse2::<crate::parse::BlockInput>(m.tokens.clone())
        {
            // As its own expansion will see it (see `macros.rs`).
            crate::macros::hoist_awaits(&mut block.block);
            let inner = check_body(&block.block, None, self.locals);
            self.errors.extend(inner);
        }
    }
}

/// Methods of one `impl` block that await each other in a cycle (`even`
/// awaits `Self::odd`, `odd` awaits `self.even`): each task's state would
/// contain the other's, which rustc reports as a recursive opaque type. An
/// error at each `.await` of the cycle, with the fix. (A task awaiting
/// itself is reported by the task's own check.)
pub fn await_cycles(block: &ItemImpl) -> HashMap<String, Vec<syn::Error>> {
    let tasks: Vec<&syn::ImplItemFn> = block
        .items
        .iter()
        .filter_map(|i| match i {
            ImplItem::Fn(f) if f.sig.asyncness.is_some() => Some(f),
            _ => None,
        })
        .collect();
    let names: Vec<String> = tasks.iter().map(|f| f.sig.ident.to_string()).collect();
    struct Awaited<'n> {
        names: &'n [String],
        found: Vec<(usize, Expr)>,
    }
    impl<'ast> Visit<'ast> for Awaited<'_> {
        fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
            let callee = match &*a.base {
                Expr::Call(c) => match &*c.func {
                    Expr::Path(p)
                        if p.path.segments.len() == 2 && p.path.segments[0].ident == "Self" =>
                    {
                        Some(p.path.segments[1].ident.to_string())
                    }
                    _ => None,
                },
                Expr::MethodCall(m) => match &*m.receiver {
                    Expr::Path(p) if p.path.is_ident("self") => Some(m.method.to_string()),
                    _ => None,
                },
                _ => None,
            };
            if let Some(index) = callee.and_then(|c| self.names.iter().position(|n| *n == c)) {
                self.found.push((index, (*a.base).clone()));
            }
            syn::visit::visit_expr_await(self, a);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    // Per method: the methods it awaits, with the awaited expression.
    let edges: Vec<Vec<(usize, Expr)>> = tasks
        .iter()
        .map(|f| {
            let mut awaited = Awaited {
                names: &names,
                found: Vec::new(),
            };
            awaited.visit_block(&f.block);
            awaited.found
        })
        .collect();
    let reaches = |start: usize, goal: usize| -> bool {
        let mut seen = vec![false; names.len()];
        let mut stack = vec![start];
        while let Some(n) = stack.pop() {
            if n == goal {
                return true;
            }
            if std::mem::replace(&mut seen[n], true) {
                continue;
            }
            stack.extend(edges[n].iter().map(|(to, _)| *to));
        }
        false
    };
    let mut errors: HashMap<String, Vec<syn::Error>> = HashMap::new();
    for (from, list) in edges.iter().enumerate() {
        for (to, base) in list {
            if *to != from && reaches(*to, from) {
                errors.entry(names[from].clone()).or_default().push(syn::Error::new_spanned(
                    base,
                    format!(
                        "`{}` and `{}` await each other: each task's state would contain the other's\n\
                         help: box one of the awaits in the cycle: `curio::boxed({}).await`",
                        names[from],
                        names[*to],
                        quote!(#base).to_string().replace(" :: ", "::")
                    ),
                ));
            }
        }
    }
    errors
}

/// Two nested items with one name: the task's nested items are hoisted to
/// one scope, so the second would clash with the first.
pub fn duplicate_items(items: &[syn::Item]) -> Vec<syn::Error> {
    let mut seen: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for item in items {
        let Some(name) = item_name(item) else {
            continue;
        };
        if seen.contains(&name) {
            errors.push(syn::Error::new_spanned(
                item,
                format!(
                    "a task's nested items share one scope, and `{name}` is declared twice\n\
                     help: rename one of them"
                ),
            ));
        }
        seen.push(name);
    }
    errors
}

/// The name an item declares, if any.
fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        syn::Item::Mod(i) => &i.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// Rejections of a signature that cannot become a self-contained state
/// machine: not `async`, variadic, lifetime parameters, `&mut self`, a
/// borrowed parameter, an `impl Trait` output. All are reported together.
pub fn check_signature(sig: &syn::Signature) -> Vec<syn::Error> {
    let mut errors: Vec<syn::Error> = Vec::new();
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span,
            "`#[curio::task]` needs an `async fn`\n\
             help: write `async fn`: `async` marks a function whose `.await`s become suspension points",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new(
            variadic.span(),
            "a task cannot be variadic",
        ));
    }
    for param in sig.generics.lifetimes() {
        errors.push(syn::Error::new(
            param.span(),
            "a task cannot have lifetime parameters: a suspended task keeps its arguments, so they must be owned\n\
             help: take owned values (`String`, `Vec<u8>`) or cheap handles (`Rc`, `Arc`)",
        ));
    }
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(r) if r.reference.is_some() && r.mutability.is_some() => {
                errors.push(syn::Error::new_spanned(
                    r,
                    "a task cannot take `&mut self`: the coroutine outlives the borrow\n\
                     help: take `self` by value, or `&self` on a cheap `Clone` handle (the coroutine keeps a clone)",
                ));
            }
            syn::FnArg::Receiver(r) => {
                if let Some((_, Some(lifetime))) = &r.reference {
                    errors.push(syn::Error::new(
                        lifetime.span(),
                        "a task's `&self` cannot name a lifetime: the coroutine keeps a clone of `self`, not the borrow",
                    ));
                }
            }
            syn::FnArg::Typed(pt) => {
                if let Some(tokens) = borrowed_type(&pt.ty) {
                    errors.push(syn::Error::new_spanned(
                        tokens,
                        "task parameters must be owned: a suspended task keeps its arguments, like a spawned thread\n\
                         help: pass an owned value (`String` for `&str`, `Vec<T>` for `&[T]`) or a cheap handle (`Rc`, `Arc`); `&'static` references are fine",
                    ));
                }
            }
        }
    }
    if let syn::ReturnType::Type(_, ty) = &sig.output
        && let Some(tokens) = impl_trait(ty)
    {
        errors.push(syn::Error::new_spanned(
            tokens,
            "a task's output cannot be `impl Trait`: the generated step function must name it\n\
             help: name the type, or return a `Box<dyn Trait>`",
        ));
    }
    errors
}

/// The tokens of a non-`'static` reference or lifetime inside `ty`.
///
/// An elided lifetime inside `Fn(&T)` or `fn(&T)` is higher-ranked, not a
/// borrow the task would keep: `impl Fn(&Error) -> bool` is owned.
fn borrowed_type(ty: &Type) -> Option<proc_macro2::TokenStream> {
    struct Find(Option<proc_macro2::TokenStream>, usize);
    impl<'ast> Visit<'ast> for Find {
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            let is_static = r.lifetime.as_ref().is_some_and(|l| l.ident == "static");
            let higher_ranked = self.1 > 0 && r.lifetime.is_none();
            if !is_static && !higher_ranked && self.0.is_none() {
                self.0 = Some(r.to_token_stream());
            }
            syn::visit::visit_type_reference(self, r);
        }
        fn visit_parenthesized_generic_arguments(
            &mut self,
            args: &'ast syn::ParenthesizedGenericArguments,
        ) {
            self.1 += 1;
            syn::visit::visit_parenthesized_generic_arguments(self, args);
            self.1 -= 1;
        }
        fn visit_type_bare_fn(&mut self, f: &'ast syn::TypeBareFn) {
            self.1 += 1;
            syn::visit::visit_type_bare_fn(self, f);
            self.1 -= 1;
        }
        fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
            if l.ident != "static" && self.0.is_none() {
                self.0 = Some(l.to_token_stream());
            }
        }
    }
    let mut find = Find(None, 0);
    find.visit_type(ty);
    find.0
}

/// The tokens of an `impl Trait` inside `ty` (found by `syn`, so a type
/// whose name merely contains "impl" is not one).
pub fn impl_trait(ty: &Type) -> Option<proc_macro2::TokenStream> {
    struct Find(Option<proc_macro2::TokenStream>);
    impl<'ast> Visit<'ast> for Find {
        fn visit_type_impl_trait(&mut self, t: &'ast syn::TypeImplTrait) {
            self.0.get_or_insert(t.to_token_stream());
        }
    }
    let mut find = Find(None);
    find.visit_type(ty);
    find.0
}

/// All the errors as one (`None` when there are none).
pub fn combine(errors: impl IntoIterator<Item = syn::Error>) -> Option<syn::Error> {
    errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    })
}
