//! The pipeline: parse, analyse, normalise, lower, emit; on error, the
//! errors plus a fallback with the same signature, so callers see the
//! real problem and not a cascade.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::visit::Visit;
use syn::{Block, Expr, Ident, ImplItem, Item, ItemFn, ItemImpl, Stmt, Type, parse_quote};

use crate::analyse::{check_body, local_names};
use crate::parse::{self, Receiver, TaskSig};
use crate::{emit, lower, normalise, rename};

/// `#[curio::task]`.
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new_spanned(attr, "`#[curio::task]` takes no arguments")
            .to_compile_error();
    }
    match syn::parse2::<Item>(item) {
        Ok(Item::Fn(item)) => task_fn(item, None),
        Ok(Item::Impl(block)) => task_impl(block),
        Ok(other) => syn::Error::new_spanned(
            other,
            "`#[curio::task]` goes on an `async fn`, or on an `impl` block to expand its `async fn`s",
        )
        .to_compile_error(),
        Err(e) => e.to_compile_error(),
    }
}

fn task_fn(item: ItemFn, impl_params: Option<&[Ident]>) -> TokenStream {
    match lower_task(item.clone(), impl_params) {
        Ok(tokens) => tokens,
        Err(error) => fallback(&item, error),
    }
}

/// `#[curio::task]` on an `impl` block: each `async fn` becomes a task that
/// knows the block's generic parameters, so a `&self` method's coroutine can
/// say it does not capture the borrow (`use<..>` must list them all).
fn task_impl(mut block: ItemImpl) -> TokenStream {
    let impl_params: Vec<Ident> = block
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(t.ident.clone()),
            syn::GenericParam::Const(c) => Some(c.ident.clone()),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect();
    for item in &mut block.items {
        if let ImplItem::Fn(f) = item
            && f.sig.asyncness.is_some()
        {
            let func = ItemFn {
                attrs: std::mem::take(&mut f.attrs),
                vis: f.vis.clone(),
                sig: f.sig.clone(),
                block: Box::new(f.block.clone()),
            };
            *item = ImplItem::Verbatim(task_fn(func, Some(&impl_params)));
        }
    }
    quote!(#block)
}

/// `curio::coroutine!`.
pub fn block(input: TokenStream) -> TokenStream {
    let input: BlockInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    match lower_block(input) {
        Ok(tokens) => tokens,
        Err(error) => {
            let errors = error.to_compile_error();
            quote!({ #errors ::curio::__private::rejected::<()>() })
        }
    }
}

fn combine(errors: impl IntoIterator<Item = syn::Error>) -> Option<syn::Error> {
    errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    })
}

fn lower_task(item: ItemFn, impl_params: Option<&[Ident]>) -> syn::Result<TokenStream> {
    let name = item.sig.ident.clone();
    let locals = local_names(&item.block, typed_patterns(&item));
    let mut errors = check_body(&item.block, Some(&name), &locals);
    let sig = match parse::signature(item) {
        Ok(sig) => Some(sig),
        Err(e) => {
            errors.insert(0, e);
            None
        }
    };
    if let Some(error) = combine(errors) {
        return Err(error);
    }
    let sig = sig.expect("no errors, so the signature parsed");

    // The root block: parameters become the first `let`s of the body, so
    // they are locals like any other and drop after them.
    let mut inits: Vec<(Ident, Expr)> = Vec::new();
    let mut lets: Vec<Stmt> = Vec::new();
    if sig.receiver != Receiver::None {
        let field = Ident::new("__curio_arg_self", Span::call_site());
        let me = parse::self_ident();
        let (value, mutability) = match sig.receiver {
            Receiver::Cloned => (parse_quote!(::core::clone::Clone::clone(self)), None),
            Receiver::Owned { mutable } => (parse_quote!(self), mutable.then(|| quote!(mut))),
            Receiver::None => unreachable!(),
        };
        lets.push(parse_quote!(let #mutability #me = #field;));
        inits.push((field, value));
    }
    for p in &sig.params {
        // No type annotation: the value already has the parameter's type
        // (and `impl Trait` is not allowed on a `let`).
        let pat = &p.pat;
        let field = format_ident!("__curio_arg{}", inits.len(), span = Span::call_site());
        lets.push(parse_quote!(let #pat = #field;));
        let arg = &p.arg;
        inits.push((field, parse_quote!(#arg)));
    }
    let mut body = (*sig.item.block).clone();
    normalise::rename_self(&mut body);
    lets.append(&mut body.stmts);
    body.stmts = lets;

    let machine = build(&name.to_string(), &inits, body, Some(&sig.output))?;
    Ok(signature_with(&sig, machine, impl_params))
}

fn typed_patterns(item: &ItemFn) -> impl Iterator<Item = &syn::Pat> {
    item.sig.inputs.iter().filter_map(|arg| match arg {
        syn::FnArg::Typed(pt) => Some(&*pt.pat),
        syn::FnArg::Receiver(_) => None,
    })
}

/// Hoist the body's items, then normalise, lower and emit a root block.
fn build(
    function: &str,
    inits: &[(Ident, Expr)],
    mut root: Block,
    output: Option<&Type>,
) -> syn::Result<TokenStream> {
    let items = hoist_items(&mut root)?;
    let machine = lower_and_emit(function, inits, root, output)?;
    Ok(quote!(#(#items)* #machine))
}

/// Moves the items declared in the body (nested `fn`s, `struct`s, `const`s,
/// `use`s) to the generated function's scope. Items have no run-time
/// effect and are visible throughout their block, but each state's arm
/// rebuilds only part of the body: defined once outside, they are the same
/// items in every arm.
fn hoist_items(root: &mut Block) -> syn::Result<Vec<syn::Item>> {
    struct Hoist(Vec<syn::Item>);
    impl syn::visit_mut::VisitMut for Hoist {
        fn visit_block_mut(&mut self, b: &mut Block) {
            let (items, stmts): (Vec<Stmt>, Vec<Stmt>) =
                b.stmts.drain(..).partition(|s| matches!(s, Stmt::Item(_)));
            self.0.extend(items.into_iter().filter_map(|s| match s {
                Stmt::Item(item) => Some(item),
                _ => None,
            }));
            b.stmts = stmts;
            syn::visit_mut::visit_block_mut(self, b);
        }
        fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
        fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    let mut hoist = Hoist(Vec::new());
    syn::visit_mut::VisitMut::visit_block_mut(&mut hoist, root);
    let mut seen: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for item in &hoist.0 {
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
    match combine(errors) {
        Some(error) => Err(error),
        None => Ok(hoist.0),
    }
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

/// Normalise, lower and emit a root block without items.
fn lower_and_emit(
    function: &str,
    inits: &[(Ident, Expr)],
    mut root: Block,
    output: Option<&Type>,
) -> syn::Result<TokenStream> {
    let sites = normalise::normalise(&mut root);
    // Each round renames the bindings that hide a live local at an
    // `.await`; a rename removes that shadowing, so the rounds end. A site
    // that cannot be found (tokens from another macro may share one span)
    // is reported instead of retried.
    for round in 0..MAX_RENAME_ROUNDS {
        let repeated = repeated_names(&root);
        let renames = match lower::lower(&root, &sites, &repeated)? {
            lower::Lowered::States(states) => {
                return Ok(emit::machine(emit::Machine {
                    function,
                    inits,
                    start: root,
                    states,
                    output,
                }));
            }
            lower::Lowered::Rename(renames) => renames,
        };
        for (index, site) in renames.iter().enumerate() {
            let name = site.name.trim_start_matches("r#");
            let fresh = format_ident!(
                "{}_{}",
                name,
                site.line * 1000 + site.column + round + index
            );
            if !rename::rename_binding(&mut root, site, &fresh) {
                return Err(unrenamable(name));
            }
        }
    }
    Err(unrenamable("a local"))
}

/// Rounds of renaming before giving up (each round fixes every shadowing
/// it found, so real code needs one or two).
const MAX_RENAME_ROUNDS: usize = 8;

fn unrenamable(name: &str) -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        format!(
            "`{name}` is shadowed while still alive across an `.await`, and the shadowing binding could not be renamed\n\
             help: give the inner binding a different name"
        ),
    )
}

/// Names bound more than once: their state fields get a numeric suffix.
fn repeated_names(body: &Block) -> HashSet<String> {
    struct Count(HashMap<String, usize>);
    impl<'ast> Visit<'ast> for Count {
        fn visit_pat(&mut self, p: &'ast syn::Pat) {
            for b in crate::scan::bindings(p) {
                *self.0.entry(b.ident.to_string()).or_default() += 1;
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut count = Count(HashMap::new());
    count.visit_block(body);
    count
        .0
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(name, _)| name)
        .collect()
}

/// Lints that fire on the expansion rather than on the user's code: code
/// after a suspension is unreachable in the copy that suspends, a loop whose
/// body suspends "never loops" in that copy, restored locals re-bind names.
fn lints() -> TokenStream {
    quote! {
        unreachable_code, unused_mut, unused_labels, unused_braces,
        clippy::never_loop, clippy::diverging_sub_expression, clippy::let_unit_value,
        clippy::needless_return, clippy::redundant_locals, clippy::let_and_return,
        clippy::unused_unit, clippy::needless_continue
    }
}

/// The generated function: the original signature without `async`,
/// returning `impl Coroutine`.
///
/// A `&self` method's coroutine owns a clone of `self`. With the attribute
/// on the `impl` block, `use<..>` tells rustc it does not capture the
/// borrow, so `self.other().await` works in a task that keeps `self`.
/// `use<..>` must list every type parameter in scope, so a method-level
/// attribute (which cannot see the block's) and a method with an
/// `impl Trait` argument (which cannot be listed) keep the default capture.
fn signature_with(sig: &TaskSig, body: TokenStream, impl_params: Option<&[Ident]>) -> TokenStream {
    let item = &sig.item;
    let (attrs, vis) = (&item.attrs, &item.vis);
    let s = &item.sig;
    let (constness, unsafety, abi, ident, generics) =
        (&s.constness, &s.unsafety, &s.abi, &s.ident, &s.generics);
    let where_clause = &generics.where_clause;
    let receiver = match sig.receiver {
        Receiver::None => quote!(),
        Receiver::Owned { .. } => match s.inputs.first() {
            Some(syn::FnArg::Receiver(r)) if r.colon_token.is_some() => {
                let ty = &r.ty;
                quote!(self: #ty,)
            }
            _ => quote!(self,),
        },
        Receiver::Cloned => quote!(&self,),
    };
    let params = sig.params.iter().map(|p| {
        let (arg, ty) = (&p.arg, &p.ty);
        quote!(#arg: #ty)
    });
    let output = &sig.output;
    let has_impl_arg = sig.params.iter().any(|p| {
        let ty = &p.ty;
        quote!(#ty).to_string().contains("impl ")
    });
    let bound = (sig.receiver == Receiver::Cloned).then(|| {
        let Some(impl_params) = impl_params.filter(|_| !has_impl_arg) else {
            return quote!(+ 'static);
        };
        let own = generics.params.iter().filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(t.ident.clone()),
            syn::GenericParam::Const(c) => Some(c.ident.clone()),
            syn::GenericParam::Lifetime(_) => None,
        });
        let all = impl_params.iter().cloned().chain(own);
        quote!(+ use<#(#all),*>)
    });
    let lints = lints();
    quote! {
        #(#attrs)*
        #[allow(#lints)]
        #vis #constness #unsafety #abi fn #ident #generics (#receiver #(#params),*)
            -> impl ::curio::Coroutine<Output = #output> #bound #where_clause
        {
            #body
        }
    }
}

/// On error: the errors, and a function with the same shape whose body
/// cannot run, so uses of the task type-check.
fn fallback(item: &ItemFn, error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    let mut sig = item.sig.clone();
    sig.asyncness = None;
    let output: Type = match &sig.output {
        syn::ReturnType::Type(_, ty) if !quote!(#ty).to_string().contains("impl") => (**ty).clone(),
        _ => parse_quote!(()),
    };
    sig.output = parse_quote!(-> impl ::curio::Coroutine<Output = #output>);
    let (attrs, vis) = (&item.attrs, &item.vis);
    quote! {
        #errors
        #(#attrs)*
        #[allow(unused_variables)]
        #vis #sig { ::curio::__private::rejected() }
    }
}

/// `coroutine!({ … })` or `coroutine!(-> Type { … })`.
struct BlockInput {
    output: Option<Type>,
    block: Block,
}

impl Parse for BlockInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let output = if input.peek(syn::Token![->]) {
            input.parse::<syn::Token![->]>()?;
            Some(input.parse::<Type>()?)
        } else {
            None
        };
        if !input.peek(syn::token::Brace) {
            return Err(input
                .error("expected a block: `coroutine!({ … })` or `coroutine!(-> Output { … })`"));
        }
        let block = input.parse()?;
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the coroutine's block"));
        }
        Ok(BlockInput { output, block })
    }
}

fn lower_block(input: BlockInput) -> syn::Result<TokenStream> {
    let locals = local_names(&input.block, std::iter::empty());
    if let Some(error) = combine(check_body(&input.block, None, &locals)) {
        return Err(error);
    }
    // Captured variables move into the `Start` state, so the body may move
    // them out again; anything the scan misses is captured by the closure.
    let mut inits = Vec::new();
    let mut lets: Vec<Stmt> = Vec::new();
    for name in free_variables(&input.block, &locals) {
        let field = format_ident!("__curio_arg{}", inits.len(), span = Span::call_site());
        lets.push(parse_quote!(#[allow(unused_mut)] let mut #name = #field;));
        inits.push((field, parse_quote!(#name)));
    }
    let mut root = input.block;
    lets.append(&mut root.stmts);
    root.stmts = lets;
    let machine = build("coroutine!", &inits, root, input.output.as_ref())?;
    let lints = lints();
    Ok(quote!({
        #[allow(#lints)]
        let __curio_coroutine = { #machine };
        __curio_coroutine
    }))
}

/// Lower-case single-name paths used as values and bound nowhere inside.
fn free_variables(block: &Block, bound: &HashSet<String>) -> Vec<Ident> {
    struct Free<'a> {
        bound: &'a HashSet<String>,
        seen: Vec<Ident>,
    }
    impl<'ast> Visit<'ast> for Free<'_> {
        fn visit_expr(&mut self, e: &'ast Expr) {
            match e {
                // A callee is a function name, not a captured value.
                Expr::Call(c) if matches!(&*c.func, Expr::Path(_)) => {
                    c.args.iter().for_each(|a| self.visit_expr(a));
                }
                Expr::Path(p) if p.qself.is_none() => {
                    if let Some(ident) = p.path.get_ident() {
                        let name = ident.to_string();
                        let value_like = name
                            .starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                            && name != "self";
                        if value_like
                            && !self.bound.contains(&name)
                            && !self.seen.iter().any(|s| *s == name)
                        {
                            self.seen.push(ident.clone());
                        }
                    }
                }
                Expr::Macro(_) => {}
                _ => syn::visit::visit_expr(self, e),
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
        fn visit_macro(&mut self, _: &'ast syn::Macro) {}
    }
    let mut free = Free {
        bound,
        seen: Vec::new(),
    };
    free.visit_block(block);
    free.seen
}
