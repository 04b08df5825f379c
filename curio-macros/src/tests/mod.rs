//! Expansion snapshots: representative tasks, expanded and formatted with
//! `prettyplease`, committed under `snapshots/` and reviewed like code.

use proc_macro2::TokenStream;

/// Expands `#[curio::task]` on `item` and formats the result.
pub fn expand(item: &str) -> String {
    let item: TokenStream = item.parse().expect("valid tokens");
    let out = crate::expand::task(TokenStream::new(), item);
    match syn::parse2::<syn::File>(out.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => out.to_string(),
    }
}

/// Expands `coroutine!` on `input`, wrapped in a function for formatting.
pub fn expand_block(input: &str) -> String {
    let input: TokenStream = input.parse().expect("valid tokens");
    let out = crate::expand::block(input);
    let file: syn::File = syn::parse_quote!(fn block_form() { let _ = #out; });
    prettyplease::unparse(&file)
}

mod snapshots;

/// `CURIO_EXPAND=file.rs cargo test -p curio-macros expand_file -- --ignored --nocapture`:
/// prints the expansion of the `#[curio::task]` in a file.
#[test]
#[ignore = "a tool: expands the file named by CURIO_EXPAND"]
fn expand_file() {
    let path = std::env::var("CURIO_EXPAND").expect("CURIO_EXPAND names a file");
    let text = std::fs::read_to_string(path).expect("readable");
    println!("{}", expand(&text));
}

/// The rules in the macro's rustdoc (`doc/task.md`) are the README's, word
/// for word: one text, shown in both places.
#[test]
fn the_rustdoc_rules_are_the_readmes() {
    let readme = include_str!("../../../README.md");
    let rules = include_str!("../../doc/task.md");
    assert!(
        readme.contains(rules.trim()),
        "curio-macros/doc/task.md and the README's sections from \"### Accepted syntax\" \
         to \"## Python to Rust\" differ: copy the README's text into the doc file"
    );
}
