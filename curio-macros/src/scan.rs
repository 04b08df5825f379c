//! Small syntactic queries shared by the phases: where the `.await`s are,
//! which names a pattern binds, which methods consume their receiver.

use syn::visit::Visit;
use syn::{Expr, ExprAwait, Ident, Pat, Stmt};

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

/// The id the normaliser gave an `.await`, kept in a marker attribute.
pub fn await_id(a: &ExprAwait) -> Option<usize> {
    a.attrs
        .iter()
        .find(|at| at.path().is_ident("__curio_await"))
        .and_then(|at| {
            at.parse_args::<syn::LitInt>()
                .ok()
                .and_then(|lit| lit.base10_parse().ok())
        })
}

/// Whether `.await` `id` (or, with `None`, any `.await`) occurs in `node`,
/// outside closures, async blocks and nested items.
pub struct HasAwait {
    pub id: Option<usize>,
    pub found: bool,
}

impl<'ast> Visit<'ast> for HasAwait {
    fn visit_expr_await(&mut self, a: &'ast ExprAwait) {
        if self.id.is_none() || await_id(a) == self.id {
            self.found = true;
        }
        syn::visit::visit_expr_await(self, a);
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Whether `e` contains any `.await` of this task.
pub fn expr_has_await(e: &Expr) -> bool {
    let mut v = HasAwait {
        id: None,
        found: false,
    };
    v.visit_expr(e);
    v.found
}

/// Whether `s` contains any `.await` of this task.
pub fn stmt_has_await(s: &Stmt) -> bool {
    let mut v = HasAwait {
        id: None,
        found: false,
    };
    v.visit_stmt(s);
    v.found
}

/// One binding a pattern introduces.
#[derive(Clone, Debug)]
pub struct Binding {
    pub ident: Ident,
    pub mutable: bool,
    pub by_ref: bool,
}

/// The bindings of `pat`, in source order.
pub fn bindings(pat: &Pat) -> Vec<Binding> {
    struct Collect(Vec<Binding>);
    impl<'ast> Visit<'ast> for Collect {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            // A lone uppercase identifier is a unit struct or variant, not a binding.
            let name = p.ident.to_string();
            let constant = p.subpat.is_none()
                && p.mutability.is_none()
                && p.by_ref.is_none()
                && name.starts_with(|c: char| c.is_ascii_uppercase());
            if !constant {
                self.0.push(Binding {
                    ident: p.ident.clone(),
                    mutable: p.mutability.is_some(),
                    by_ref: p.by_ref.is_some(),
                });
            }
            syn::visit::visit_pat_ident(self, p);
        }
        fn visit_expr(&mut self, _: &'ast Expr) {}
    }
    let mut c = Collect(Vec::new());
    c.visit_pat(pat);
    c.0
}

/// Whether matching `pat` may move out of the scrutinee (it binds by value).
pub fn binds_by_value(pat: &Pat) -> bool {
    bindings(pat).iter().any(|b| !b.by_ref)
}

/// The bindings introduced by an `if`/`while` condition (`let` chains).
pub fn cond_bindings(cond: &Expr) -> Vec<Binding> {
    cond_bindings_by_scrutinee(cond)
        .into_iter()
        .map(|(b, _)| b)
        .collect()
}

/// The bindings of a condition's `let`s, each with whether it has no drop
/// glue for certain (its scrutinee is borrowed: see [`borrowed`]).
pub fn cond_bindings_by_scrutinee(cond: &Expr) -> Vec<(Binding, bool)> {
    match cond {
        Expr::Let(l) => {
            let no_drop = borrowed(&l.expr);
            bindings(&l.pat).into_iter().map(|b| (b, no_drop)).collect()
        }
        Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            let mut all = cond_bindings_by_scrutinee(&b.left);
            all.extend(cond_bindings_by_scrutinee(&b.right));
            all
        }
        Expr::Paren(p) => cond_bindings_by_scrutinee(&p.expr),
        _ => Vec::new(),
    }
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

/// Whether `mac` is `coroutine!` (or `curio::coroutine!`): a nested
/// coroutine whose `.await`s are its own.
pub fn is_coroutine_macro(mac: &syn::Macro) -> bool {
    mac.path
        .segments
        .last()
        .is_some_and(|s| s.ident == "coroutine")
}

/// Whether `body` contains a `break` out of the loop it belongs to: one
/// naming `label`, or an unlabelled one outside inner loops.
pub fn breaks_out(body: &syn::Block, label: Option<&syn::Lifetime>) -> bool {
    struct Find<'a> {
        label: Option<&'a syn::Lifetime>,
        depth: usize,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Find<'_> {
        fn visit_expr(&mut self, e: &'ast Expr) {
            match e {
                Expr::Break(b) => {
                    self.found |= match &b.label {
                        Some(l) => self.label == Some(l),
                        None => self.depth == 0,
                    };
                    syn::visit::visit_expr(self, e);
                }
                Expr::Loop(_) | Expr::While(_) | Expr::ForLoop(_) => {
                    self.depth += 1;
                    syn::visit::visit_expr(self, e);
                    self.depth -= 1;
                }
                Expr::Closure(_) | Expr::Async(_) => {}
                _ => syn::visit::visit_expr(self, e),
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut find = Find {
        label,
        depth: 0,
        found: false,
    };
    find.visit_block(body);
    find.found
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
