//! The task's signature: parameters, receiver, output; rejections of
//! signatures that cannot become a self-contained state machine.

use proc_macro2::Span;
use quote::{ToTokens, format_ident};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type};

/// How a method task holds `self`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Receiver {
    /// A free function.
    None,
    /// `self` (or `mut self`, `self: Box<Self>`): moved into the coroutine.
    Owned { mutable: bool },
    /// `&self`: the coroutine owns a clone (`Self: Clone`).
    Cloned,
}

/// One parameter: the name it has in the generated signature and the
/// pattern it is bound to inside the body.
pub struct Param {
    pub arg: Ident,
    pub pat: Pat,
    pub ty: Type,
}

/// What the generated function needs to know of the original signature.
pub struct TaskSig {
    pub item: ItemFn,
    pub receiver: Receiver,
    pub params: Vec<Param>,
    /// The declared output (`()` when there is none, `Infallible` for `!`).
    pub output: Type,
}

/// The name the body uses for `self` after lowering.
pub fn self_ident() -> Ident {
    Ident::new("__curio_self", Span::call_site())
}

/// Reads and checks the signature; all problems are reported together.
pub fn signature(item: ItemFn) -> Result<TaskSig, syn::Error> {
    let mut errors: Vec<syn::Error> = Vec::new();
    let sig = &item.sig;
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
    let mut receiver = Receiver::None;
    let mut params = Vec::new();
    for (index, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(r) => {
                if r.reference.is_none() {
                    receiver = Receiver::Owned {
                        mutable: r.mutability.is_some(),
                    };
                } else if r.mutability.is_some() {
                    errors.push(syn::Error::new_spanned(
                        r,
                        "a task cannot take `&mut self`: the coroutine outlives the borrow\n\
                         help: take `self` by value, or `&self` on a cheap `Clone` handle (the coroutine keeps a clone)",
                    ));
                } else if let Some((_, Some(lifetime))) = &r.reference {
                    errors.push(syn::Error::new(
                        lifetime.span(),
                        "a task's `&self` cannot name a lifetime: the coroutine keeps a clone of `self`, not the borrow",
                    ));
                } else {
                    receiver = Receiver::Cloned;
                }
            }
            FnArg::Typed(pt) => {
                if let Some(tokens) = borrowed_type(&pt.ty) {
                    errors.push(syn::Error::new_spanned(
                        tokens,
                        "task parameters must be owned: a suspended task keeps its arguments, like a spawned thread\n\
                         help: pass an owned value (`String` for `&str`, `Vec<T>` for `&[T]`) or a cheap handle (`Rc`, `Arc`); `&'static` references are fine",
                    ));
                }
                let arg = match &*pt.pat {
                    Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                        pi.ident.clone()
                    }
                    _ => format_ident!("__curio_arg{}", index),
                };
                params.push(Param {
                    arg,
                    pat: (*pt.pat).clone(),
                    ty: (*pt.ty).clone(),
                });
            }
        }
    }
    let output = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        // `-> !` cannot be an associated type on stable: a task that never
        // returns has the uninhabited `Infallible` as its output.
        ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => {
            syn::parse_quote!(::core::convert::Infallible)
        }
        ReturnType::Type(_, ty) => {
            if let Some(tokens) = impl_trait(ty) {
                errors.push(syn::Error::new_spanned(
                    tokens,
                    "a task's output cannot be `impl Trait`: the generated step function must name it\n\
                     help: name the type, or return a `Box<dyn Trait>`",
                ));
            }
            (**ty).clone()
        }
    };
    match errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    }) {
        Some(error) => Err(error),
        None => Ok(TaskSig {
            item,
            receiver,
            params,
            output,
        }),
    }
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

/// The tokens of an `impl Trait` inside `ty`.
fn impl_trait(ty: &Type) -> Option<proc_macro2::TokenStream> {
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
