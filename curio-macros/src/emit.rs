//! Emission: the state enum, the step closure and the traceback walker.
//!
//! The shape, for a task with one `.await`:
//!
//! ```text
//! enum __CurioState<T0, T1, T2> {
//!     Start { __curio_arg0: T0 },
//!     /// line 3: `sleep(1.0).await`
//!     Await1Sleep { __curio_sub: T1, n: T2 },
//!     Done,
//! }
//! machine(Start { .. }, move |state, input| loop { match state {
//!     Start => run the body until the first `.await`: store the live locals
//!              and the awaited coroutine in `Await1Sleep`, continue;
//!     Await1Sleep { sub, .. } => drive `sub` in place; on a trap, return it;
//!              on its return, move the locals out and run the continuation;
//!     Done => panic,
//! }}, walker)
//! ```

use std::collections::{HashMap, HashSet};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Ident, Stmt, Type, parse_quote};

use crate::lower::State;
use crate::normalise::operands_mut;
use crate::scan::await_id;

/// Everything the emitter needs.
pub struct Machine<'a> {
    /// For tracebacks: the function name, or `coroutine!`.
    pub function: &'a str,
    /// `Start` fields and the values that initialise them.
    pub inits: &'a [(Ident, Expr)],
    /// The body with the suspension points still as `.await`s.
    pub start: Block,
    pub states: Vec<State>,
    /// The output type, when known (tasks always; blocks when given).
    pub output: Option<&'a Type>,
}

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// Step functions up to this many tokens (about 40 lines of arms) are
/// always inlined into their callers.
const SMALL_MACHINE_TOKENS: usize = 1200;

/// Tokens in `tokens`, counting inside groups.
fn token_count(tokens: &TokenStream) -> usize {
    tokens
        .clone()
        .into_iter()
        .map(|tt| match tt {
            proc_macro2::TokenTree::Group(g) => 1 + token_count(&g.stream()),
            _ => 1,
        })
        .sum()
}

/// The expression that builds the coroutine: the state enum, then
/// `machine(start, step, walk, name)`.
pub fn machine(m: Machine<'_>) -> TokenStream {
    let state = ident("__CurioState");
    let mut finish = Finish {
        states: &m.states,
        state: &state,
        erase: erased_awaits(&m.start, &m.states),
    };
    let mut start = m.start.clone();
    finish.visit_block_mut(&mut start);
    let arms: Vec<TokenStream> = m
        .states
        .iter()
        .map(|s| resume_arm(&state, s, &mut finish))
        .collect();
    let output = match m.output {
        Some(t) => quote!(#t),
        None => quote!(_),
    };
    let step = step_closure(&state, m.inits, &start, &arms, &output);
    let walk = walker(&state, m.function, &m.states);
    let definition = state_enum(&state, m.inits, &m.states);
    let init_fields = m.inits.iter().map(|(f, value)| quote!(#f: #value));
    let function = m.function;
    quote! {
        #definition
        ::curio::__private::machine(#state::Start { #(#init_fields,)* }, #step, #walk, || #function)
    }
}

/// The state enum. Fields are in drop order (the awaited coroutine first,
/// then the locals in reverse declaration order), one type parameter each,
/// so rustc infers every type.
fn state_enum(state: &Ident, inits: &[(Ident, Expr)], states: &[State]) -> TokenStream {
    let mut generics: Vec<Ident> = Vec::new();
    let mut field = |name: &Ident| {
        let g = format_ident!("T{}", generics.len());
        generics.push(g.clone());
        quote!(#name: #g)
    };
    let start_fields: Vec<TokenStream> = inits.iter().map(|(f, _)| field(f)).collect();
    let sub = ident("__curio_sub");
    let variants: Vec<TokenStream> = states
        .iter()
        .map(|s| {
            let (variant, doc) = (
                &s.site.variant,
                format!(" line {}: `{}.await`", s.site.line, s.site.awaiting),
            );
            let fields: Vec<TokenStream> = std::iter::once(field(&sub))
                .chain(s.stored.iter().rev().map(|st| field(&st.field)))
                .collect();
            quote! { #[doc = #doc] #variant { #(#fields,)* } }
        })
        .collect();
    quote! {
        enum #state<#(#generics),*> {
            Start { #(#start_fields,)* },
            #(#variants,)*
            Done,
        }
    }
}

/// The arm for one suspended state: drive the awaited coroutine in place;
/// on a trap, pass it out; on its return, move the stored locals out of the
/// state and run the continuation.
fn resume_arm(state: &Ident, s: &State, finish: &mut Finish<'_>) -> TokenStream {
    let variant = &s.site.variant;
    let mut resume = s.resume.clone();
    finish.visit_block_mut(&mut resume);
    let slots = s.stored.iter().map(|st| {
        let (f, slot) = (&st.field, st.slot());
        quote!(#f: #slot)
    });
    quote! {
        #state::#variant { __curio_sub, .. } => {
            let __curio_value = match __curio_input.drive(__curio_sub) {
                ::curio::__private::Step::Trap(__curio_trap) => return ::curio::__private::Step::Trap(__curio_trap),
                ::curio::__private::Step::Return(__curio_value) => __curio_value,
            };
            let #state::#variant { #(#slots,)* .. } = ::core::mem::replace(__curio_state, #state::Done) else {
                ::core::unreachable!()
            };
            return ::curio::__private::Step::Return(#resume);
        }
    }
}

/// The step function: a dispatch loop over the states. A suspension stores
/// the new state and continues the loop, which drives the new sub-coroutine.
fn step_closure(
    state: &Ident,
    inits: &[(Ident, Expr)],
    start: &Block,
    arms: &[TokenStream],
    output: &TokenStream,
) -> TokenStream {
    let start_slots = inits.iter().map(|(f, _)| f);
    let start_arm = quote! {
        #state::Start { .. } => {
            __curio_input.expect_start();
            let #state::Start { #(#start_slots,)* } = ::core::mem::replace(__curio_state, #state::Done) else {
                ::core::unreachable!()
            };
            return ::curio::__private::Step::Return(#start);
        }
    };
    let done_arm = quote!(#state::Done => ::curio::__private::resumed_after_completion(),);
    if arms.is_empty() {
        return quote! {
            move |__curio_state, __curio_input: ::curio::__private::Input| -> ::curio::__private::Step<#output> {
                match __curio_state { #start_arm #done_arm }
            }
        };
    }
    // A small machine is inlined into the coroutine that awaits it, so a
    // trap passes through a chain of small wrappers (a socket method over a
    // trap) without a call per level. Large ones stay calls: forcing them
    // inline would multiply code at every await site.
    let small = arms.iter().map(token_count).sum::<usize>() <= SMALL_MACHINE_TOKENS;
    let inline = if small {
        quote!(#[inline(always)])
    } else {
        quote!(#[inline])
    };
    quote! {
        #inline
        move |__curio_state, mut __curio_input: ::curio::__private::Input| -> ::curio::__private::Step<#output> {
            '__curio_dispatch: loop {
                match __curio_state { #start_arm #(#arms)* #done_arm }
            }
        }
    }
}

/// The traceback walker: each suspended state reports its static
/// `Location`, then asks its awaited coroutine for the rest of the chain.
fn walker(state: &Ident, function: &str, states: &[State]) -> TokenStream {
    if states.is_empty() {
        return quote!(|_, _| {});
    }
    let walks = states.iter().map(|s| {
        let variant = &s.site.variant;
        let (line, column, awaiting) = (s.site.line as u32, s.site.column as u32, &s.site.awaiting);
        quote! {
            #state::#variant { __curio_sub, .. } => {
                static HERE: ::curio::__private::Location = ::curio::__private::Location {
                    function: #function, file: ::core::file!(), line: #line, column: #column, awaiting: #awaiting,
                };
                ::curio::__private::walk_sub(&HERE, __curio_sub, __curio_visit)
            }
        }
    });
    quote! {
        |__curio_state, __curio_visit| match __curio_state {
            #(#walks)*
            _ => {}
        }
    }
}

/// Turns a continuation into final code: remaining `.await`s become
/// suspensions, code after a certain suspension is dropped, and `?` and
/// `return` complete the coroutine.
struct Finish<'a> {
    states: &'a [State],
    state: &'a Ident,
    /// Awaits whose sub-coroutine is boxed: see [`erased_awaits`].
    erase: HashSet<usize>,
}

/// The awaits whose awaited expression is built in more than one arm and
/// contains a closure, an `async` block or a macro call (`coroutine!`).
/// Each copy of such an expression has a type of its own, so the state's
/// single field for it cannot hold them all: these sub-coroutines are
/// boxed (`Box<dyn Coroutine>`), which costs one allocation per await.
fn erased_awaits(start: &Block, states: &[State]) -> HashSet<usize> {
    #[derive(Default)]
    struct Count {
        seen: HashMap<usize, usize>,
        unique: HashSet<usize>,
    }
    impl<'ast> syn::visit::Visit<'ast> for Count {
        fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
            if let Some(id) = await_id(a) {
                *self.seen.entry(id).or_default() += 1;
                if has_unique_type(&a.base) {
                    self.unique.insert(id);
                }
            }
            syn::visit::visit_expr_await(self, a);
        }
    }
    let mut count = Count::default();
    syn::visit::Visit::visit_block(&mut count, start);
    for s in states {
        syn::visit::Visit::visit_block(&mut count, &s.resume);
    }
    count
        .unique
        .into_iter()
        .filter(|id| count.seen.get(id).is_some_and(|&n| n > 1))
        .collect()
}

/// Whether `e` contains an expression whose type is unique to its place in
/// the source: a closure, an `async` block or a macro call.
fn has_unique_type(e: &Expr) -> bool {
    struct Find(bool);
    impl<'ast> syn::visit::Visit<'ast> for Find {
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {
            self.0 = true;
        }
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {
            self.0 = true;
        }
        fn visit_macro(&mut self, _: &'ast syn::Macro) {
            self.0 = true;
        }
    }
    let mut find = Find(false);
    syn::visit::Visit::visit_expr(&mut find, e);
    find.0
}

impl Finish<'_> {
    fn suspend(&self, id: usize, base: &Expr) -> Expr {
        let s = &self.states[id];
        let (state, variant) = (self.state, &s.site.variant);
        let fields = s.stored.iter().map(|st| {
            let (f, i) = (&st.field, &st.ident);
            quote!(#f: #i)
        });
        let sub = if self.erase.contains(&id) {
            quote!(::curio::__private::erase(#base))
        } else {
            quote!(#base)
        };
        parse_quote! {{
            ::curio::__private::set_state(__curio_state, #state::#variant { __curio_sub: #sub, #(#fields,)* });
            __curio_input = ::curio::__private::Input::start();
            continue '__curio_dispatch;
        }}
    }
}

impl VisitMut for Finish<'_> {
    fn visit_block_mut(&mut self, b: &mut Block) {
        let mut keep = b.stmts.len();
        for (index, stmt) in b.stmts.iter_mut().enumerate() {
            self.visit_stmt_mut(stmt);
            if stmt_diverges(stmt) {
                // `let p = <suspension>;` never binds `p` in this arm.
                if let Stmt::Local(syn::Local {
                    init: Some(init), ..
                }) = stmt
                {
                    *stmt = Stmt::Expr((*init.expr).clone(), Some(Default::default()));
                }
                keep = index + 1;
                break;
            }
        }
        b.stmts.truncate(keep);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Await(a) => {
                self.visit_expr_mut(&mut a.base);
                let id = await_id(a).expect("every `.await` was numbered");
                *e = if diverges(&a.base) {
                    (*a.base).clone()
                } else {
                    self.suspend(id, &a.base)
                };
            }
            Expr::Try(t) => {
                self.visit_expr_mut(&mut t.expr);
                let (inner, span) = (&t.expr, t.question_token.span);
                *e = if diverges(inner) {
                    (**inner).clone()
                } else {
                    syn::parse2(quote_spanned!(span=> ::curio::__private::r#try!(#inner)))
                        .expect("a macro call")
                };
            }
            Expr::Return(r) => {
                if let Some(value) = &mut r.expr {
                    self.visit_expr_mut(value);
                    if diverges(value) {
                        *e = (**value).clone();
                        return;
                    }
                }
                let value = r.expr.as_ref().map_or_else(|| quote!(()), |v| quote!(#v));
                let span = r.return_token.span;
                *e = syn::parse2(
                    quote_spanned!(span=> return ::curio::__private::Step::Return(#value)),
                )
                .expect("a return expression");
            }
            Expr::Closure(_) | Expr::Async(_) => {}
            _ => {
                syn::visit_mut::visit_expr_mut(self, e);
                // An operand that diverges (suspends) ends the evaluation of
                // the whole expression: nothing after it runs in this arm,
                // and what ran before it was pure.
                if let Some(op) = operands_mut(e).into_iter().find(|op| diverges(op)) {
                    let suspension = op.clone();
                    *e = suspension;
                }
            }
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Whether finished code `s` can never complete normally because it
/// suspends on every path. Generic expressions with a diverging operand
/// have already been replaced by that operand, so only control flow is
/// examined.
fn stmt_diverges(s: &Stmt) -> bool {
    match s {
        Stmt::Local(l) => l.init.as_ref().is_some_and(|i| diverges(&i.expr)),
        Stmt::Expr(e, _) => diverges(e),
        _ => false,
    }
}

fn block_diverges(b: &Block) -> bool {
    b.stmts.iter().any(stmt_diverges)
}

fn diverges(e: &Expr) -> bool {
    match e {
        Expr::Continue(c) => c
            .label
            .as_ref()
            .is_some_and(|l| l.ident == "__curio_dispatch"),
        Expr::Block(b) => match &b.label {
            // A labelled block completes normally through `break 'label`.
            Some(label) => {
                block_diverges(&b.block) && !breaks_to(&b.block, Some(&label.name), false)
            }
            None => block_diverges(&b.block),
        },
        Expr::Unsafe(u) => block_diverges(&u.block),
        Expr::If(i) => i
            .else_branch
            .as_ref()
            .is_some_and(|(_, otherwise)| block_diverges(&i.then_branch) && diverges(otherwise)),
        Expr::Match(m) => !m.arms.is_empty() && m.arms.iter().all(|a| diverges(&a.body)),
        // A `loop` completes only through a `break`.
        Expr::Loop(l) => !breaks_to(&l.body, l.label.as_ref().map(|l| &l.name), true),
        Expr::Paren(p) => diverges(&p.expr),
        _ => false,
    }
}

/// Whether `body` contains a `break` leaving the construct it belongs to:
/// one naming `label`, or (for a loop) an unlabelled one outside inner loops.
fn breaks_to(body: &Block, label: Option<&syn::Lifetime>, unlabelled: bool) -> bool {
    struct Find<'a> {
        label: Option<&'a syn::Lifetime>,
        unlabelled: bool,
        depth: usize,
        found: bool,
    }
    impl<'ast> syn::visit::Visit<'ast> for Find<'_> {
        fn visit_expr(&mut self, e: &'ast Expr) {
            match e {
                Expr::Break(b) => {
                    let ours = match &b.label {
                        Some(l) => self.label == Some(l),
                        None => self.unlabelled && self.depth == 0,
                    };
                    self.found |= ours;
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
        unlabelled,
        depth: 0,
        found: false,
    };
    syn::visit::Visit::visit_block(&mut find, body);
    find.found
}
