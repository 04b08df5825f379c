//! Renaming a shadowing binding, so that the local it hid can be named (and
//! stored) at an `.await` inside its scope.
//!
//! `let x = outer(); { let x = inner(); f().await; }` keeps the outer `x`
//! alive across the `.await`, but at that point the name `x` means the inner
//! one. The lowering reports the inner binding; this module renames it and
//! every mention of it in its scope (including macro arguments and inline
//! format arguments), leaving the outer `x` nameable. Both locals keep
//! their scopes, so drop order and timing do not change.

use proc_macro2::{Group, Literal, TokenStream, TokenTree};
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Ident, Pat, Stmt};

use crate::scan::{bindings, cond_bindings};

/// Where a binding was written: its name and source position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingSite {
    pub name: String,
    pub line: usize,
    pub column: usize,
}

impl BindingSite {
    pub fn of(ident: &Ident) -> Self {
        let start = ident.span().start();
        BindingSite {
            name: ident.to_string(),
            line: start.line,
            column: start.column,
        }
    }

    fn is(&self, ident: &Ident) -> bool {
        *self == BindingSite::of(ident)
    }
}

/// Replaces free mentions of `name` in `e` (as an expression, and as a
/// macro argument) with `to`; inline format arguments (`"{name}"`) keep
/// naming it.
pub fn replace_free(e: &mut Expr, name: &Ident, to: &Expr) {
    struct Replace<'a> {
        name: &'a Ident,
        to: &'a Expr,
    }
    impl Replace<'_> {
        fn tokens(&self, tokens: TokenStream) -> TokenStream {
            let trees: Vec<TokenTree> = tokens.into_iter().collect();
            let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
            for (index, tt) in trees.iter().enumerate() {
                let path = matches!(trees.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':' || p.as_char() == '!');
                let after_dot = index > 0
                    && matches!(&trees[index - 1], TokenTree::Punct(p) if p.as_char() == '.' || p.as_char() == ':');
                match tt {
                    TokenTree::Ident(i) if i == self.name && !path && !after_dot => {
                        let to = self.to;
                        let mut group =
                            Group::new(proc_macro2::Delimiter::Parenthesis, quote::quote!(#to));
                        group.set_span(i.span());
                        out.push(TokenTree::Group(group));
                    }
                    TokenTree::Group(g) => {
                        let mut group = Group::new(g.delimiter(), self.tokens(g.stream()));
                        group.set_span(g.span());
                        out.push(TokenTree::Group(group));
                    }
                    other => out.push(other.clone()),
                }
            }
            out.into_iter().collect()
        }
    }
    impl VisitMut for Replace<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            match e {
                Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.name) => {
                    *e = self.to.clone();
                }
                Expr::Closure(c)
                    if c.inputs
                        .iter()
                        .any(|p| bindings(p).iter().any(|b| b.ident == *self.name)) => {}
                _ => syn::visit_mut::visit_expr_mut(self, e),
            }
        }
        fn visit_block_mut(&mut self, b: &mut Block) {
            for stmt in &mut b.stmts {
                self.visit_stmt_mut(stmt);
                if let Stmt::Local(local) = stmt
                    && bindings(&local.pat).iter().any(|b| b.ident == *self.name)
                {
                    return;
                }
            }
        }
        fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
            if !bindings(&arm.pat).iter().any(|b| b.ident == *self.name) {
                syn::visit_mut::visit_arm_mut(self, arm);
            }
        }
        fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
            m.tokens = self.tokens(std::mem::take(&mut m.tokens));
        }
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    Replace { name, to }.visit_expr_mut(e);
}

/// Renames free mentions of `from` in `block` (used for `self`, which no
/// pattern can rebind).
pub fn rename_free(block: &mut Block, from: &Ident, to: &Ident) {
    Mentions { from, to }.visit_block_mut(block);
}

/// Renames the binding at `site` to `to`, with its mentions in scope.
/// Returns false if no binding is written at `site`.
pub fn rename_binding(root: &mut Block, site: &BindingSite, to: &Ident) -> bool {
    let mut find = Find {
        site,
        to,
        found: false,
    };
    find.visit_block_mut(root);
    find.found
}

/// Renames the binding ident in a pattern; true if it was there.
fn rename_in_pattern(pat: &mut Pat, site: &BindingSite, to: &Ident) -> bool {
    struct InPat<'a>(&'a BindingSite, &'a Ident, bool);
    impl VisitMut for InPat<'_> {
        fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
            if self.0.is(&p.ident) {
                p.ident = Ident::new(&self.1.to_string(), p.ident.span());
                self.2 = true;
            }
            syn::visit_mut::visit_pat_ident_mut(self, p);
        }
        fn visit_field_pat_mut(&mut self, f: &mut syn::FieldPat) {
            let before = self.2;
            syn::visit_mut::visit_field_pat_mut(self, f);
            // `S { x }` binds `x`: renamed, it is `S { x: x_2 }`.
            if !before && self.2 && f.colon_token.is_none() {
                f.colon_token = Some(Default::default());
            }
        }
        fn visit_expr_mut(&mut self, _: &mut Expr) {}
    }
    let mut v = InPat(site, to, false);
    v.visit_pat_mut(pat);
    v.2
}

/// Finds the binding site, then renames in its scope.
struct Find<'a> {
    site: &'a BindingSite,
    to: &'a Ident,
    found: bool,
}

impl VisitMut for Find<'_> {
    fn visit_block_mut(&mut self, b: &mut Block) {
        for index in 0..b.stmts.len() {
            if let Stmt::Local(local) = &mut b.stmts[index]
                && rename_in_pattern(&mut local.pat, self.site, self.to)
            {
                let from = Ident::new(&self.site.name, self.to.span());
                mentions(&mut b.stmts[index + 1..], &from, self.to);
                self.found = true;
                return;
            }
            self.visit_stmt_mut(&mut b.stmts[index]);
        }
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        if rename_in_pattern(&mut arm.pat, self.site, self.to) {
            self.found = true;
            let from = Ident::new(&self.site.name, self.to.span());
            let mut r = Mentions {
                from: &from,
                to: self.to,
            };
            if let Some((_, guard)) = &mut arm.guard {
                r.visit_expr_mut(guard);
            }
            r.visit_expr_mut(&mut arm.body);
            return;
        }
        syn::visit_mut::visit_arm_mut(self, arm);
    }

    fn visit_expr_if_mut(&mut self, i: &mut syn::ExprIf) {
        let bound = cond_bindings(&i.cond)
            .iter()
            .any(|b| self.site.is(&b.ident));
        if bound {
            self.found = true;
            rename_cond(&mut i.cond, self.site, self.to);
            let from = Ident::new(&self.site.name, self.to.span());
            Mentions {
                from: &from,
                to: self.to,
            }
            .visit_block_mut(&mut i.then_branch);
            if let Some((_, e)) = &mut i.else_branch {
                self.visit_expr_mut(e);
            }
            return;
        }
        syn::visit_mut::visit_expr_if_mut(self, i);
    }

    fn visit_expr_while_mut(&mut self, w: &mut syn::ExprWhile) {
        let bound = cond_bindings(&w.cond)
            .iter()
            .any(|b| self.site.is(&b.ident));
        if bound {
            self.found = true;
            rename_cond(&mut w.cond, self.site, self.to);
            let from = Ident::new(&self.site.name, self.to.span());
            Mentions {
                from: &from,
                to: self.to,
            }
            .visit_block_mut(&mut w.body);
            return;
        }
        syn::visit_mut::visit_expr_while_mut(self, w);
    }

    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        if rename_in_pattern(&mut f.pat, self.site, self.to) {
            self.found = true;
            let from = Ident::new(&self.site.name, self.to.span());
            Mentions {
                from: &from,
                to: self.to,
            }
            .visit_block_mut(&mut f.body);
            return;
        }
        syn::visit_mut::visit_expr_for_loop_mut(self, f);
    }

    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}
    fn visit_macro_mut(&mut self, _: &mut syn::Macro) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Renames the binding in a `let` chain and its mentions in later parts.
fn rename_cond(cond: &mut Expr, site: &BindingSite, to: &Ident) {
    let from = Ident::new(&site.name, to.span());
    let mut parts = Vec::new();
    flatten_and(cond, &mut parts);
    let mut bound = false;
    for part in parts {
        if bound {
            Mentions { from: &from, to }.visit_expr_mut(part);
        } else if let Expr::Let(l) = part {
            bound = rename_in_pattern(&mut l.pat, site, to);
        }
    }
}

fn flatten_and<'e>(e: &'e mut Expr, out: &mut Vec<&'e mut Expr>) {
    if !matches!(e, Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_))) {
        out.push(e);
    } else if let Expr::Binary(b) = e {
        flatten_and(&mut b.left, out);
        flatten_and(&mut b.right, out);
    }
}

/// Renames mentions of `from` in `stmts`, up to a `let` that rebinds it.
fn mentions(stmts: &mut [Stmt], from: &Ident, to: &Ident) {
    let mut r = Mentions { from, to };
    for stmt in stmts {
        r.visit_stmt_mut(stmt);
        if let Stmt::Local(local) = stmt
            && bindings(&local.pat).iter().any(|b| b.ident == *from)
        {
            return;
        }
    }
}

/// Renames free mentions of `from`, respecting inner rebindings.
struct Mentions<'a> {
    from: &'a Ident,
    to: &'a Ident,
}

impl Mentions<'_> {
    fn rebinds(&self, pat: &Pat) -> bool {
        bindings(pat).iter().any(|b| b.ident == *self.from)
    }

    /// Renames the name in macro arguments; `name::…` is a path, not it.
    fn tokens(&self, tokens: TokenStream) -> TokenStream {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut out = Vec::with_capacity(trees.len());
        for (index, tt) in trees.iter().enumerate() {
            let path =
                matches!(trees.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
            out.push(match tt {
                TokenTree::Ident(i) if i == self.from && !path => {
                    TokenTree::Ident(Ident::new(&self.to.to_string(), i.span()))
                }
                TokenTree::Group(g) => {
                    let mut group = Group::new(g.delimiter(), self.tokens(g.stream()));
                    group.set_span(g.span());
                    TokenTree::Group(group)
                }
                TokenTree::Literal(l) => TokenTree::Literal(self.format_literal(l.clone())),
                other => other.clone(),
            });
        }
        out.into_iter().collect()
    }

    /// `"{x}"` and `"{x:?}"` name `x` inline: rename inside the literal.
    fn format_literal(&self, literal: Literal) -> Literal {
        let text = literal.to_string();
        if !text.starts_with('"') {
            return literal;
        }
        let (from, to) = (self.from.to_string(), self.to.to_string());
        let renamed = text
            .replace(&format!("{{{from}}}"), &format!("{{{to}}}"))
            .replace(&format!("{{{from}:"), &format!("{{{to}:"));
        if renamed == text {
            return literal;
        }
        match renamed.parse::<Literal>() {
            Ok(mut l) => {
                l.set_span(literal.span());
                l
            }
            Err(_) => literal,
        }
    }
}

impl VisitMut for Mentions<'_> {
    fn visit_block_mut(&mut self, b: &mut Block) {
        mentions(&mut b.stmts, self.from, self.to);
    }

    fn visit_expr_path_mut(&mut self, p: &mut syn::ExprPath) {
        if p.qself.is_none() && p.path.is_ident(self.from) {
            let span = p.path.segments[0].ident.span();
            p.path.segments[0].ident = Ident::new(&self.to.to_string(), span);
        }
    }

    fn visit_field_value_mut(&mut self, f: &mut syn::FieldValue) {
        // `S { x }` means `S { x: x }`: renamed, `S { x: x_2 }`.
        if f.colon_token.is_none() && matches!(&f.expr, Expr::Path(p) if p.path.is_ident(self.from))
        {
            f.colon_token = Some(Default::default());
        }
        syn::visit_mut::visit_field_value_mut(self, f);
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        if !self.rebinds(&arm.pat) {
            syn::visit_mut::visit_arm_mut(self, arm);
        }
    }

    fn visit_expr_closure_mut(&mut self, c: &mut syn::ExprClosure) {
        if !c.inputs.iter().any(|p| self.rebinds(p)) {
            syn::visit_mut::visit_expr_closure_mut(self, c);
        }
    }

    fn visit_expr_if_mut(&mut self, i: &mut syn::ExprIf) {
        self.visit_expr_mut(&mut i.cond);
        if !cond_bindings(&i.cond).iter().any(|b| b.ident == *self.from) {
            self.visit_block_mut(&mut i.then_branch);
        }
        if let Some((_, e)) = &mut i.else_branch {
            self.visit_expr_mut(e);
        }
    }

    fn visit_expr_while_mut(&mut self, w: &mut syn::ExprWhile) {
        self.visit_expr_mut(&mut w.cond);
        if !cond_bindings(&w.cond).iter().any(|b| b.ident == *self.from) {
            self.visit_block_mut(&mut w.body);
        }
    }

    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        self.visit_expr_mut(&mut f.expr);
        if !self.rebinds(&f.pat) {
            self.visit_block_mut(&mut f.body);
        }
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        m.tokens = self.tokens(std::mem::take(&mut m.tokens));
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
