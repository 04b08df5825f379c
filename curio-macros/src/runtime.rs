//! Where the runtime is: the path every expansion names it by.
//!
//! Users depend on the facade package `curio-kernel` (its library is
//! `curio`, so code says `curio::...`), on it under another name
//! (`rt = { package = "curio-kernel", .. }`), or on `curio-rt` directly.
//! The path is, in order:
//!
//! 1. the attribute's `crate = path` argument (`#[curio::task(crate =
//!    my_rt)]`, `coroutine!(crate = my_rt, { .. })`), for setups the
//!    detection cannot see (a re-export from another crate);
//! 2. the caller's `Cargo.toml`, read with `proc-macro-crate`: the name
//!    it gives `curio-kernel`, else the name it gives `curio-rt`;
//! 3. `::curio`.

use std::cell::RefCell;

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};

/// The facade's package name, and its library name.
const FACADE: (&str, &str) = ("curio-kernel", "curio");
/// The runtime's package name.
const RUNTIME: &str = "curio-rt";

thread_local! {
    /// The path of the expansion under way.
    static PATH: RefCell<Option<TokenStream>> = const { RefCell::new(None) };
}

/// The runtime's path for the expansion under way (`::curio` outside one,
/// as in the macro's own unit tests).
pub fn path() -> TokenStream {
    PATH.with(|p| p.borrow().clone())
        .unwrap_or_else(|| quote!(::curio))
}

/// Runs one expansion with the runtime at `explicit`, or where the
/// caller's manifest says it is.
pub fn with<R>(explicit: Option<&syn::Path>, expand: impl FnOnce() -> R) -> R {
    let path = match explicit {
        Some(path) => path.to_token_stream(),
        None => detect(),
    };
    let outer = PATH.with(|p| p.replace(Some(path)));
    let out = expand();
    PATH.with(|p| *p.borrow_mut() = outer);
    out
}

fn detect() -> TokenStream {
    let name = match crate_name(FACADE.0) {
        // The facade itself (its tests and examples), or a dependency on
        // it under its own name: its library's name.
        Ok(FoundCrate::Itself) => FACADE.1.to_string(),
        Ok(FoundCrate::Name(name)) if name == FACADE.0.replace('-', "_") => FACADE.1.to_string(),
        // Renamed in the dependency line.
        Ok(FoundCrate::Name(name)) => name,
        Err(_) => match crate_name(RUNTIME) {
            // The runtime's own code calls itself `curio` (`extern crate
            // self as curio`), and so do its tests through the facade.
            Ok(FoundCrate::Itself) | Err(_) => FACADE.1.to_string(),
            Ok(FoundCrate::Name(name)) => name,
        },
    };
    let ident = syn::Ident::new(&name, Span::call_site());
    quote!(::#ident)
}
