//! What counts as a move. The macro sees no types, so whether a use of a
//! local moves it (and so whether the local holds a value to drop at the
//! end of its scope, or across an `.await`) is read from syntax, by the
//! rules below. This is the most delicate guess in the crate: a move the
//! rules miss keeps a value alive (and rustc then rejects the moved-from
//! slot: E0507, never unsound); a move they invent drops a value early
//! only where rustc agrees it is moved (the shadow is borrow-checked).
//! The README's "Which locals live in the frame" states them for users.

use syn::{Expr, Pat};

use crate::scan::bindings;

/// Methods of `Option`, `Result` and `Iterator` that take `self` by value.
const CONSUMING: &[&str] = &[
    "map",
    "map_err",
    "map_or",
    "map_or_else",
    "and_then",
    "or_else",
    "ok",
    "err",
    "ok_or",
    "ok_or_else",
    "and",
    "or",
    "xor",
    "zip",
    "unzip",
    "flatten",
    "filter",
    "filter_map",
    "collect",
    "sum",
    "product",
    "count",
    "fold",
    "for_each",
    "rev",
    "chain",
    "enumerate",
    "skip",
    "step_by",
    "skip_while",
    "take_while",
    "last",
    "min",
    "max",
    "partition",
];

/// Whether matching `pat` may move out of the scrutinee (it binds by value).
pub fn binds_by_value(pat: &Pat) -> bool {
    bindings(pat).iter().any(|b| !b.by_ref)
}

/// Whether a scrutinee is `&e` or `&mut e`: every binding of a pattern
/// matched against it is then a reference (default binding modes) or a
/// `Copy` value (a `&` pattern cannot move out), so it has no drop glue.
pub fn borrowed(scrutinee: &Expr) -> bool {
    match scrutinee {
        Expr::Reference(_) => true,
        Expr::Paren(p) => borrowed(&p.expr),
        Expr::Group(g) => borrowed(&g.expr),
        _ => false,
    }
}

/// Whether a method named `method` takes `self` by value, by Rust's
/// naming conventions and the standard combinators.
pub fn consumes(method: &str) -> bool {
    ["into", "unwrap", "expect"]
        .iter()
        .any(|p| method.starts_with(p))
        || CONSUMING.contains(&method)
}

/// The expressions a macro call evaluates, when its arguments read as a
/// comma-separated list of expressions (`println!`, `format!`, `assert!`,
/// `vec![a, b]`, a logging macro): named format arguments (`x = expr`)
/// give their value; the pattern-taking `matches!` family gives only its
/// scrutinee; `vec![x; n]` both parts. `None` when the arguments are not
/// expressions (the macro's own syntax).
pub fn macro_exprs(mac: &syn::Macro) -> Option<Vec<Expr>> {
    use syn::parse::Parser;
    use syn::punctuated::Punctuated;
    let name = mac.path.segments.last()?.ident.to_string();
    let tokens = mac.tokens.clone();
    if name == "vec" {
        let repeat = |input: syn::parse::ParseStream| -> syn::Result<Vec<Expr>> {
            let value: Expr = input.parse()?;
            input.parse::<syn::Token![;]>()?;
            let count: Expr = input.parse()?;
            Ok(vec![value, count])
        };
        if let Ok(parts) = repeat.parse2(tokens.clone()) {
            return Some(parts);
        }
    }
    // `log::info!(target: "x", …)`: the target, then the format.
    let tokens = strip_target(tokens);
    let list = Punctuated::<Expr, syn::Token![,]>::parse_terminated
        .parse2(tokens)
        .ok()?;
    let mut exprs: Vec<Expr> = list.into_iter().collect();
    if name.ends_with("matches") {
        exprs.truncate(1);
    }
    Some(
        exprs
            .into_iter()
            .map(|e| match e {
                Expr::Assign(a) if matches!(&*a.left, Expr::Path(p) if p.path.get_ident().is_some()) => {
                    *a.right
                }
                other => other,
            })
            .collect(),
    )
}

/// `target: expr, rest` → `expr, rest` (the logging macros' prefix).
fn strip_target(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::TokenTree;
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    match (trees.first(), trees.get(1), trees.get(2)) {
        (Some(TokenTree::Ident(i)), Some(TokenTree::Punct(p)), third)
            if i == "target"
                && p.as_char() == ':'
                && !matches!(third, Some(TokenTree::Punct(q)) if q.as_char() == ':') =>
        {
            trees.into_iter().skip(2).collect()
        }
        _ => tokens,
    }
}

/// The inline argument names of a format string literal (`"{x} {y:?}"`).
pub fn format_arguments(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if rest.starts_with('{') {
            rest = &rest[1..];
            continue;
        }
        let end = rest.find(['}', ':']).unwrap_or(rest.len());
        let name = rest[..end].trim();
        if !name.is_empty()
            && name.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
        {
            names.push(name.to_string());
        }
    }
    names
}

/// The names a macro call's format string (its first string literal
/// argument) reads inline, minus those given as named arguments.
pub fn macro_format_names(mac: &syn::Macro) -> Vec<String> {
    let Some(exprs) = macro_exprs_raw(mac) else {
        return Vec::new();
    };
    let named: Vec<String> = exprs
        .iter()
        .filter_map(|e| match e {
            Expr::Assign(a) => match &*a.left {
                Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let Some(text) = exprs.iter().find_map(|e| match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }) else {
        return Vec::new();
    };
    format_arguments(&format!("\"{text}\""))
        .into_iter()
        .filter(|n| !named.contains(n))
        .collect()
}

/// The arguments as expressions, named ones as written.
fn macro_exprs_raw(mac: &syn::Macro) -> Option<Vec<Expr>> {
    use syn::parse::Parser;
    use syn::punctuated::Punctuated;
    Punctuated::<Expr, syn::Token![,]>::parse_terminated
        .parse2(strip_target(mac.tokens.clone()))
        .ok()
        .map(|list| list.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn consuming_methods_by_convention_and_the_combinators() {
        for m in [
            "into_iter",
            "into",
            "unwrap",
            "unwrap_or",
            "expect",
            "map",
            "collect",
            "ok_or",
        ] {
            assert!(consumes(m), "{m}");
        }
        for m in [
            "len",
            "iter",
            "as_ref",
            "push",
            "clone",
            "get",
            "borrow_mut",
        ] {
            assert!(!consumes(m), "{m}");
        }
    }

    #[test]
    fn a_borrowed_scrutinee_binds_nothing_with_drop_glue() {
        assert!(borrowed(&parse_quote!(&msg)));
        assert!(borrowed(&parse_quote!((&mut v))));
        assert!(!borrowed(&parse_quote!(msg)));
        assert!(!borrowed(&parse_quote!(*msg)));
    }

    #[test]
    fn patterns_that_move_out_of_their_scrutinee() {
        let by_value: Pat = parse_quote!(Some(x));
        let by_ref: Pat = parse_quote!(Some(ref x));
        let wild: Pat = parse_quote!(Some(_));
        assert!(binds_by_value(&by_value));
        assert!(!binds_by_value(&by_ref));
        assert!(!binds_by_value(&wild));
    }

    #[test]
    fn macro_arguments_read_as_expressions() {
        let m: syn::Macro = parse_quote!(println!("{} {y}", x, y = z));
        let exprs = macro_exprs(&m).expect("expressions");
        assert_eq!(exprs.len(), 3, "the format string, x and z");
        let v: syn::Macro = parse_quote!(vec![x; n]);
        assert_eq!(macro_exprs(&v).map(|e| e.len()), Some(2));
        let l: syn::Macro = parse_quote!(log::info!(target: "t", "{}", a));
        assert_eq!(
            macro_exprs(&l).map(|e| e.len()),
            Some(3),
            "the target, the format, a"
        );
        let p: syn::Macro = parse_quote!(matches!(x, Some(_)));
        assert_eq!(
            macro_exprs(&p).map(|e| e.len()),
            Some(1),
            "the scrutinee only"
        );
        let own: syn::Macro = parse_quote!(select! { a => b });
        assert!(macro_exprs(&own).is_none(), "a macro's own syntax");
    }

    #[test]
    fn inline_format_arguments() {
        assert_eq!(format_arguments("\"{x} {y:?} {{z}} {0} {}\""), ["x", "y"]);
        let m: syn::Macro = parse_quote!(format!("{a} {b}", b = 1));
        assert_eq!(macro_format_names(&m), ["a"]);
    }
}
