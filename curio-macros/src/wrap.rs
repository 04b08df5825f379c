//! Emission around the machine: the generated function's signature
//! (returning `impl Coroutine`), the fallback printed for a rejected task
//! (same signature, a body that type-checks and never runs, so callers see
//! only the macro's error), and the lints the expansion allows.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, ItemFn, Type, parse_quote};

use crate::analyse::impl_trait;
use crate::parse::{Receiver, TaskSig};

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
pub fn signature_with(
    sig: &TaskSig,
    body: TokenStream,
    impl_params: Option<&[Ident]>,
) -> TokenStream {
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
    let has_impl_arg = sig.params.iter().any(|p| impl_trait(&p.ty).is_some());
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
pub fn fallback(item: &ItemFn, error: syn::Error) -> TokenStream {
    let rt = crate::runtime::path();
    let errors = error.to_compile_error();
    let mut sig = item.sig.clone();
    sig.asyncness = None;
    let output: Type = match &sig.output {
        syn::ReturnType::Type(_, ty) if impl_trait(ty).is_none() => (**ty).clone(),
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
