//! The pipeline: parse, analyse, normalise, lower, emit; on error, the
//! errors plus a fallback with the same signature, so callers see the
//! real problem and not a cascade.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Block, Expr, Ident, ImplItem, Item, ItemFn, ItemImpl, Pat, Type, parse_quote};

use crate::analyse::{check_body, combine, local_names};
use crate::lower::{
    Params, free_variables, hoist_items, keep_ignored, loop_ranges, typed_patterns,
};
use crate::parse::{self, Receiver};
use crate::parse::{BlockInput, TaskArgs};
use crate::wrap::{fallback, lints, signature_with};
use crate::{emit, normalise};

/// `#[curio::task]`.
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = match syn::parse2::<TaskArgs>(attr) {
        Ok(args) => args,
        Err(e) => return e.to_compile_error(),
    };
    crate::runtime::with(args.krate.as_ref(), || task_item(item))
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

fn lower_task(mut item: ItemFn, impl_params: Option<&[Ident]>) -> syn::Result<TokenStream> {
    let rt = crate::runtime::path();
    crate::macros::hoist_awaits(&mut item.block);
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
    if let Some(error) = combine(crate::analyse::borrow_errors(&cfg, &locals)) {
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

fn lower_block(mut input: BlockInput) -> syn::Result<TokenStream> {
    let rt = crate::runtime::path();
    crate::macros::hoist_awaits(&mut input.block);
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
