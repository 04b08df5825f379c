//! Unshadowing: every binding of the body gets a name of its own.
//!
//! A local that lives across an `.await` is stored in a frame slot named
//! after it, and the blocks of the step function find it by name. Rust
//! lets a later `let x` hide an earlier `x` that is still alive (and
//! dropped at the end of its scope): both need slots, and each mention must
//! keep meaning the binding it meant. So each binding whose name was
//! already bound earlier in the body is renamed (`x` becomes `x_2`), with
//! every mention in its scope, macro arguments and inline format
//! arguments (`"{x}"`) included. Drop order and scopes do not change.
//!
//! Bindings inside closures, `async` blocks and nested items are theirs,
//! not the task's: they are left alone, and so are the mentions they hide.

use std::collections::HashSet;

use proc_macro2::Span;
use syn::visit::Visit;
use syn::{Block, Ident};

use crate::rename::{BindingSite, rename_binding};
use crate::scan::bindings;

/// Renames repeated bindings of `body` (whose parameters bind `params`).
///
/// # Errors
/// A binding that cannot be found again to rename (tokens from another
/// macro may share one span).
pub fn unshadow(body: &mut Block, params: &[Ident]) -> syn::Result<()> {
    // The bindings in source order; each later one that repeats a name is
    // renamed, one at a time (renaming may not disturb the others: their
    // sites are positions in the source, and a rename changes no span).
    let sites = binding_sites(body);
    let mut taken: HashSet<String> = params.iter().map(ToString::to_string).collect();
    let all: HashSet<String> = sites.iter().map(|s| s.name.clone()).collect();
    let mut counter = 1;
    for site in sites {
        if taken.insert(site.name.clone()) {
            continue;
        }
        let base = site.name.trim_start_matches("r#").to_string();
        let fresh = loop {
            counter += 1;
            let candidate = format!("{base}_{counter}");
            if !all.contains(&candidate) && !taken.contains(&candidate) {
                break candidate;
            }
        };
        taken.insert(fresh.clone());
        let to = Ident::new(&fresh, Span::call_site());
        if !rename_binding(body, &site, &to) {
            return Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "`{}` is bound twice, and the second binding could not be renamed (it comes from another macro)\n\
                     help: give one of the bindings another name",
                    site.name
                ),
            ));
        }
    }
    Ok(())
}

/// The bindings of `body` outside closures, `async` blocks and items, in
/// source order.
fn binding_sites(body: &Block) -> Vec<BindingSite> {
    struct Sites(Vec<BindingSite>);
    impl<'ast> Visit<'ast> for Sites {
        fn visit_pat(&mut self, p: &'ast syn::Pat) {
            for b in bindings(p) {
                self.0.push(BindingSite::of(&b.ident));
            }
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
        fn visit_macro(&mut self, _: &'ast syn::Macro) {}
    }
    let mut sites = Sites(Vec::new());
    sites.visit_block(body);
    sites.0
}
