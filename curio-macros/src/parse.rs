//! The task's signature: parameters, receiver, output. (Signatures that
//! cannot become a self-contained state machine are rejected first, by
//! `analyse::check_signature`.)

use proc_macro2::Span;
use quote::format_ident;
use syn::parse::{Parse, ParseStream};
use syn::{Block, FnArg, Ident, ItemFn, Pat, ReturnType, Type};

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

/// Reads the signature (checked by `analyse::check_signature` first).
pub fn signature(item: ItemFn) -> TaskSig {
    let sig = &item.sig;
    let mut receiver = Receiver::None;
    let mut params = Vec::new();
    for (index, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(r) => {
                receiver = if r.reference.is_none() {
                    Receiver::Owned {
                        mutable: r.mutability.is_some(),
                    }
                } else {
                    Receiver::Cloned
                };
            }
            FnArg::Typed(pt) => {
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
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    TaskSig {
        item,
        receiver,
        params,
        output,
    }
}

/// The attribute's arguments: only `crate = path`, where the runtime is
/// (see `runtime.rs`).
#[derive(Default)]
pub struct TaskArgs {
    pub krate: Option<syn::Path>,
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
pub fn parse_crate_arg(input: ParseStream) -> syn::Result<syn::Path> {
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
