//! The pipeline: parse, analyse, normalise, lower, emit; on error, the
//! errors plus a fallback with the same signature, so callers see the
//! real problem and not a cascade.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Block, Expr, Ident, ImplItem, Item, ItemFn, ItemImpl, Pat, Stmt, Type, parse_quote};

use crate::analyse::{check_body, local_names};
use crate::parse::{self, Receiver, TaskSig};
use crate::{emit, normalise};

/// `#[curio::task]`.
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = match syn::parse2::<TaskArgs>(attr) {
        Ok(args) => args,
        Err(e) => return e.to_compile_error(),
    };
    crate::runtime::with(args.krate.as_ref(), || task_item(item))
}

/// The attribute's arguments: only `crate = path`, where the runtime is
/// (see `runtime.rs`).
#[derive(Default)]
struct TaskArgs {
    krate: Option<syn::Path>,
}

impl Parse for TaskArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = TaskArgs::default();
        if input.is_empty() {
            return Ok(args);
        }
        args.krate = Some(parse_crate_arg(input)?);
        if !input.is_empty() {
            return Err(input.error("`#[curio::task]` takes one argument at most: `crate = path`"));
        }
        Ok(args)
    }
}

/// `crate = path`.
fn parse_crate_arg(input: ParseStream) -> syn::Result<syn::Path> {
    let hint = "the only argument is `crate = path`, the path of the curio runtime \
                (for a re-export the macro cannot find: `crate = my_crate::curio`)";
    if !input.peek(syn::Token![crate]) {
        return Err(input.error(hint));
    }
    input.parse::<syn::Token![crate]>()?;
    input
        .parse::<syn::Token![=]>()
        .map_err(|e| syn::Error::new(e.span(), hint))?;
    syn::Path::parse_mod_style(input)
}

fn task_item(item: TokenStream) -> TokenStream {
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
    let mut cycles = crate::analyse::await_cycles(&block);
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
            let errors = cycles
                .remove(&func.sig.ident.to_string())
                .unwrap_or_default();
            *item = ImplItem::Verbatim(match combine(errors) {
                Some(error) => fallback(&func, error),
                None => task_fn(func, Some(&impl_params)),
            });
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
    let krate = input.krate.clone();
    crate::runtime::with(krate.as_ref(), || match lower_block(input) {
        Ok(tokens) => tokens,
        Err(error) => {
            let rt = crate::runtime::path();
            let errors = error.to_compile_error();
            quote!({ #errors #rt::__private::rejected::<()>() })
        }
    })
}

fn combine(errors: impl IntoIterator<Item = syn::Error>) -> Option<syn::Error> {
    errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    })
}

fn lower_task(item: ItemFn, impl_params: Option<&[Ident]>) -> syn::Result<TokenStream> {
    let rt = crate::runtime::path();
    let name = item.sig.ident.clone();
    let locals = local_names(&item.block, typed_patterns(&item));
    let mut errors = crate::analyse::check_signature(&item.sig);
    errors.extend(check_body(&item.block, Some(&name), &locals));
    if let Some(error) = combine(errors) {
        return Err(error);
    }
    let sig = parse::signature(item);

    // Each parameter is a local of the body whose slot holds the argument
    // from the start. A pattern parameter is bound to a hidden local first
    // and destructured at the top of the body, as Rust desugars an `async
    // fn`; its `_` parts become hidden locals too, so that they live to
    // the end of the body as in an `async fn`.
    let mut params = Params::default();
    if sig.receiver != Receiver::None {
        let me = parse::self_ident();
        let (value, mutable) = match sig.receiver {
            Receiver::Cloned => (parse_quote!(::core::clone::Clone::clone(self)), false),
            Receiver::Owned { mutable } => (parse_quote!(self), mutable),
            Receiver::None => unreachable!(),
        };
        let ty: Expr = match sig.receiver {
            Receiver::Cloned => parse_quote!(#rt::__private::ty_of::<Self>()),
            _ => parse_quote!(#rt::__private::ty(&self)),
        };
        let pat: Pat = if mutable {
            parse_quote!(mut #me)
        } else {
            parse_quote!(#me)
        };
        params.add(me, mutable, value, pat, ty);
    }
    for (index, p) in sig.params.iter().enumerate() {
        let arg = &p.arg;
        let ty: Expr = parse_quote!(#rt::__private::ty(&#arg));
        match &p.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                params.add(
                    pi.ident.clone(),
                    pi.mutability.is_some(),
                    parse_quote!(#arg),
                    p.pat.clone(),
                    ty,
                );
            }
            pat => {
                let hidden = format_ident!("__curio_arg{}", index, span = Span::call_site());
                params.add(hidden.clone(), false, parse_quote!(#arg), pat.clone(), ty);
                if !matches!(pat, Pat::Wild(_)) {
                    let pat = keep_ignored(pat.clone(), index);
                    params.lets.push(parse_quote!(let #pat = #hidden;));
                }
            }
        }
    }
    let mut body = (*sig.item.block).clone();
    normalise::rename_self(&mut body);
    let output = sig.output.clone();
    let machine = build(&name.to_string(), params, body, Some(&output))?;
    Ok(signature_with(&sig, machine, impl_params))
}

/// The parameters of a task (or the captures of a block): what their
/// slots start with, the locals they are, and how the shadow binds them.
#[derive(Default)]
struct Params {
    /// Slot name and initial value.
    inits: Vec<(Ident, Expr)>,
    /// The locals.
    bindings: Vec<crate::scan::Binding>,
    /// The shadow's parameters.
    shadow: Vec<crate::shadow::ShadowParam>,
    /// Destructuring `let`s at the top of the body.
    lets: Vec<Stmt>,
}

impl Params {
    fn add(&mut self, name: Ident, mutable: bool, value: Expr, pat: Pat, ty: Expr) {
        self.inits.push((name.clone(), value));
        self.bindings.push(crate::scan::Binding {
            ident: name,
            mutable,
            by_ref: false,
        });
        self.shadow.push(crate::shadow::ShadowParam { pat, ty });
    }
}

/// `pat` with each `_` replaced by a fresh binding, so that the parts it
/// ignores stay alive to the end of the body (an `async fn` keeps its
/// whole argument until then).
fn keep_ignored(mut pat: Pat, param: usize) -> Pat {
    struct Keep(usize, usize);
    impl syn::visit_mut::VisitMut for Keep {
        fn visit_pat_mut(&mut self, p: &mut Pat) {
            if matches!(p, Pat::Wild(_)) {
                let name = format_ident!(
                    "__curio_keep{}_{}",
                    self.0,
                    self.1,
                    span = Span::call_site()
                );
                self.1 += 1;
                *p = parse_quote!(#name);
                return;
            }
            syn::visit_mut::visit_pat_mut(self, p);
        }
    }
    syn::visit_mut::VisitMut::visit_pat_mut(&mut Keep(param, 0), &mut pat);
    pat
}

fn typed_patterns(item: &ItemFn) -> impl Iterator<Item = &syn::Pat> {
    item.sig.inputs.iter().filter_map(|arg| match arg {
        syn::FnArg::Typed(pt) => Some(&*pt.pat),
        syn::FnArg::Receiver(_) => None,
    })
}

/// Hoist the body's items, then check it as async Rust (the shadow) and
/// unshadow, normalise, lower and emit it.
fn build(
    function: &str,
    params: Params,
    mut root: Block,
    output: Option<&Type>,
) -> syn::Result<TokenStream> {
    let items = hoist_items(&mut root)?;
    let shadow = crate::shadow::shadow(&params.shadow, &root, output);
    let mut body = root;
    if !params.lets.is_empty() {
        let mut stmts = params.lets.clone();
        stmts.append(&mut body.stmts);
        body.stmts = stmts;
    }
    let names: Vec<Ident> = params.bindings.iter().map(|b| b.ident.clone()).collect();
    crate::unshadow::unshadow(&mut body, &names)?;
    let loops = loop_ranges(&body);
    let sites = normalise::normalise(&mut body);
    let cfg = crate::cfg::lower(&body, &sites, &params.bindings);
    let locals = crate::locals::classify(&cfg, loops);
    if let Some(error) = combine(crate::locals::borrow_errors(&cfg, &locals)) {
        return Err(error);
    }
    let machine = emit::machine(emit::Machine {
        function,
        params: &params.inits,
        cfg,
        locals,
        sites: &sites,
        output,
    });
    Ok(quote!(#(#items)* #shadow #machine))
}

/// The source ranges of the body's loops, from the keyword to the closing
/// brace (for "is this mention the last": one in a loop runs again).
fn loop_ranges(body: &Block) -> Vec<(crate::mentions::Pos, crate::mentions::Pos)> {
    struct Loops(Vec<(crate::mentions::Pos, crate::mentions::Pos)>);
    impl Loops {
        fn add(&mut self, start: Span, body: &Block) {
            let (s, e) = (start.start(), body.brace_token.span.close().end());
            self.0.push(((s.line, s.column), (e.line, e.column)));
        }
    }
    impl<'ast> Visit<'ast> for Loops {
        fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
            self.add(l.loop_token.span, &l.body);
            syn::visit::visit_expr_loop(self, l);
        }
        fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
            self.add(w.while_token.span, &w.body);
            syn::visit::visit_expr_while(self, w);
        }
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            self.add(f.for_token.span, &f.body);
            syn::visit::visit_expr_for_loop(self, f);
        }
        fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
            // A closure may run many times too.
            let (s, e) = (
                c.or1_token.span.start(),
                syn::spanned::Spanned::span(&c.body).end(),
            );
            self.0.push(((s.line, s.column), (e.line, e.column)));
            syn::visit::visit_expr_closure(self, c);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut loops = Loops(Vec::new());
    loops.visit_block(body);
    loops.0
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
    match combine(crate::analyse::duplicate_items(&hoist.0)) {
        Some(error) => Err(error),
        None => Ok(hoist.0),
    }
}

/// Lints that fire on the expansion rather than on the user's code: code
/// after a suspension is unreachable in the copy that suspends, a loop whose
/// body suspends "never loops" in that copy, restored locals re-bind names.
pub fn lints() -> TokenStream {
    quote! {
        unreachable_code, unused_mut, unused_labels, unused_braces, unused_parens, unused_unsafe,
        unused_variables, unused_assignments, non_camel_case_types, non_upper_case_globals, clippy::all,
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
    let rt = crate::runtime::path();
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
    let has_impl_arg = sig.params.iter().any(|p| has_impl_trait(&p.ty));
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
    quote! {
        #(#attrs)*
        #vis #constness #unsafety #abi fn #ident #generics (#receiver #(#params),*)
            -> impl #rt::Coroutine<Output = #output> #bound #where_clause
        {
            #body
        }
    }
}

/// On error: the errors, and a function with the same shape whose body
/// cannot run, so uses of the task type-check.
fn fallback(item: &ItemFn, error: syn::Error) -> TokenStream {
    let rt = crate::runtime::path();
    let errors = error.to_compile_error();
    let mut sig = item.sig.clone();
    sig.asyncness = None;
    let output: Type = match &sig.output {
        syn::ReturnType::Type(_, ty) if !has_impl_trait(ty) => (**ty).clone(),
        _ => parse_quote!(()),
    };
    sig.output = parse_quote!(-> impl #rt::Coroutine<Output = #output>);
    let (attrs, vis) = (&item.attrs, &item.vis);
    quote! {
        #errors
        #(#attrs)*
        #[allow(unused_variables)]
        #vis #sig { #rt::__private::rejected() }
    }
}

/// Whether `ty` has an `impl Trait` anywhere in it (found by `syn`, so a
/// type whose name merely contains "impl" is not mistaken for one).
fn has_impl_trait(ty: &Type) -> bool {
    struct Find(bool);
    impl<'ast> Visit<'ast> for Find {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut find = Find(false);
    find.visit_type(ty);
    find.0
}

/// `coroutine!({ … })` or `coroutine!(-> Type { … })`.
pub struct BlockInput {
    /// `crate = path,` before the block: where the runtime is.
    pub krate: Option<syn::Path>,
    pub output: Option<Type>,
    pub block: Block,
}

impl Parse for BlockInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let krate = if input.peek(syn::Token![crate]) {
            let path = parse_crate_arg(input)?;
            input.parse::<syn::Token![,]>()?;
            Some(path)
        } else {
            None
        };
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
        Ok(BlockInput {
            krate,
            output,
            block,
        })
    }
}

fn lower_block(input: BlockInput) -> syn::Result<TokenStream> {
    let rt = crate::runtime::path();
    let locals = local_names(&input.block, std::iter::empty());
    if let Some(error) = combine(check_body(&input.block, None, &locals)) {
        return Err(error);
    }
    // Captured variables move into their slots when the block is made,
    // as an `async move` block captures them; anything the scan misses is
    // captured by the step closure.
    let mut params = Params::default();
    for name in free_variables(&input.block, &locals) {
        params.add(
            name.clone(),
            true,
            parse_quote!(#name),
            parse_quote!(mut #name),
            parse_quote!(#rt::__private::ty(&#name)),
        );
    }
    let machine = build("coroutine!", params, input.block, input.output.as_ref())?;
    let lints = lints();
    Ok(quote!({
        #[allow(#lints)]
        let __curio_coroutine = { #machine };
        __curio_coroutine
    }))
}

/// What a `coroutine!` block captures: the free variables of its body,
/// or nothing if its tokens are not a block.
pub fn captures(mac: &syn::Macro) -> Vec<Ident> {
    match syn::parse2::<BlockInput>(mac.tokens.clone()) {
        Ok(input) => {
            let locals = local_names(&input.block, std::iter::empty());
            free_variables(&input.block, &locals)
        }
        Err(_) => Vec::new(),
    }
}

/// Lower-case single-name paths used as values and bound nowhere inside,
/// in order of first mention: in expressions, in the expressions of
/// macro calls (`println!("{}", x)`, inline `"{x}"`), and captured by
/// nested `coroutine!` blocks.
fn free_variables(block: &Block, bound: &HashSet<String>) -> Vec<Ident> {
    struct Free {
        bound: HashSet<String>,
        seen: Vec<Ident>,
    }
    impl Free {
        fn add(&mut self, ident: &Ident) {
            let name = ident.to_string();
            let value_like =
                name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') && name != "self";
            if value_like && !self.bound.contains(&name) && !self.seen.iter().any(|s| *s == name) {
                self.seen.push(ident.clone());
            }
        }
    }
    impl<'ast> Visit<'ast> for Free {
        fn visit_expr(&mut self, e: &'ast Expr) {
            match e {
                // A callee is a function name, not a captured value.
                Expr::Call(c) if matches!(&*c.func, Expr::Path(_)) => {
                    c.args.iter().for_each(|a| self.visit_expr(a));
                }
                Expr::Path(p) if p.qself.is_none() => {
                    if let Some(ident) = p.path.get_ident() {
                        self.add(ident);
                    }
                }
                _ => syn::visit::visit_expr(self, e),
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if crate::scan::is_coroutine_macro(m) {
                for ident in captures(m) {
                    self.add(&ident);
                }
                return;
            }
            let exprs = crate::moves::macro_exprs(m).unwrap_or_default();
            // Names bound inside the arguments (a closure's parameters)
            // are theirs.
            let saved = self.bound.clone();
            for e in &exprs {
                let block: Block = parse_quote!({ #e });
                self.bound.extend(local_names(&block, std::iter::empty()));
            }
            for e in &exprs {
                self.visit_expr(e);
            }
            self.bound = saved;
            for name in crate::moves::macro_format_names(m) {
                self.add(&Ident::new(&name, m.path.span()));
            }
        }
    }
    let mut free = Free {
        bound: bound.clone(),
        seen: Vec::new(),
    };
    free.visit_block(block);
    free.seen
}
