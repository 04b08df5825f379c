//! Emission: prints the frame, the step function over its blocks and the
//! traceback walker. The rewriting is done before (`normalise`, `cfg`,
//! `mentions`, `inline`); what is decided here is only how to spell it.
//!
//! The shape, for a task with one `.await` in a loop:
//!
//! ```text
//! enum __CurioAt { Start, Loop1, Await1Sleep, AfterLoop1, __Done }   // the blocks
//! union __CurioSub<__curio_S1> { __curio_s1: S1 }                   // what it waits on
//! struct __CurioFrame<__curio_S1, __curio_L_n> {                     // the state
//!     __curio_at: __CurioAt, __curio_live: Live<1>, __curio_sub: __CurioSub<S1>,
//!     n: MaybeUninit<__curio_L_n>,                                   // a local kept in place
//! }
//! machine(frame, |__curio_f, input| loop { match pc {
//!     Start => { let n = &mut slot n; … jump Loop1 }
//!     Loop1 => { if *n > 0 { suspend on sleep(1.0) in Await1Sleep } else { jump AfterLoop1 } }
//!     Await1Sleep => { drive the sleep in place; on a trap, return it;
//!                      then the code after the `.await`: *n -= 1; jump Loop1 }
//!     AfterLoop1 => { return Ok(*n) }
//! }}, walker, name)
//! ```

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Expr, Ident, Stmt, Type, parse_quote};

use crate::cfg::{BlockKind, Cfg};
use crate::inline::{duplicable, flatten, inline_jumps, token_count, without_inlining};
use crate::locals::Locals;
use crate::mentions::{Slots, Walk};
use crate::normalise::AwaitSite;

/// Everything the emitter needs.
pub struct Machine<'a> {
    /// For tracebacks: the function name, or `coroutine!`.
    pub function: &'a str,
    /// The values the parameters' slots start with (the arguments).
    pub params: &'a [(Ident, Expr)],
    pub cfg: Cfg,
    pub locals: Locals,
    pub sites: &'a [AwaitSite],
    /// The output type, when known (tasks always; blocks when given).
    pub output: Option<&'a Type>,
}

/// Loop heads and joins up to this many tokens are written out where
/// code jumps to them (without a dispatch).
const INLINE_TOKENS: usize = 400;

/// Jumps are inlined in machines of up to this many blocks only: a long
/// function gains little from it and would compile its joins twice.
const INLINE_BLOCKS: usize = 32;

/// Step functions up to this many tokens are always inlined into their
/// callers (so a trap passes through small wrappers without a call each).
const SMALL_MACHINE_TOKENS: usize = 1500;

/// The type parameter of a slot: `L_name`.
fn slot_type(name: &Ident) -> Ident {
    format_ident!("__curio_L_{}", name.to_string().trim_start_matches("r#"))
}

/// The type parameter of an `.await`'s sub-coroutine: `S1`, `S2`, ...
fn sub_type(k: usize) -> Ident {
    format_ident!("__curio_S{}", k + 1)
}

/// The union field of an `.await`'s sub-coroutine: `s1`, `s2`, ...
fn sub_field(k: usize) -> Ident {
    format_ident!("__curio_s{}", k + 1)
}

/// The expression that builds the coroutine.
pub fn machine(m: Machine<'_>) -> TokenStream {
    let rt = crate::runtime::path();
    let Machine {
        function,
        params,
        cfg,
        locals,
        sites,
        output,
    } = m;
    let mut order: Vec<usize> = (0..cfg.blocks.len())
        .filter(|&b| cfg.blocks[b].live)
        .collect();
    order.sort_by_key(|&b| cfg.blocks[b].order);
    let names: Vec<Ident> = cfg.blocks.iter().map(|b| b.name.clone()).collect();
    let resumes: Vec<usize> = sites
        .iter()
        .map(|s| {
            cfg.blocks
                .iter()
                .position(|b| b.kind == BlockKind::Resume(s.id))
                .unwrap_or(0)
        })
        .collect();
    let subs: Vec<Ident> = (0..sites.len()).map(sub_field).collect();
    let slot_count = locals.slots.len();
    // The drop flags: as few bytes as there are flags.
    let flag_count = locals.flags.iter().flatten().count();
    let bits = match flag_count {
        0 => quote!(()),
        1..=8 => quote!(u8),
        9..=16 => quote!(u16),
        17..=32 => quote!(u32),
        33..=64 => quote!(u64),
        n => {
            let words = n.div_ceil(64);
            quote!([u64; #words])
        }
    };

    // The blocks.
    let at_variants = order.iter().map(|&b| {
        let (name, doc) = (&names[b], format!(" {}", cfg.blocks[b].doc));
        quote!(#[doc = #doc] #name)
    });
    let at_enum = quote! {
        /// Where the coroutine is: one variant per block of the step
        /// function (a resume point, a loop's head, a join).
        #[derive(Clone, Copy)]
        enum __CurioAt { #(#at_variants,)* /// Finished.
            __Done }
    };

    // What it waits on: a union, the field live being the one of the
    // resume point in `__curio_at` (so nothing builds a whole value of the
    // generic type: each `.await` writes and reads its own field, which
    // keeps type inference linear in the number of `.await`s).
    let s_params: Vec<Ident> = (0..sites.len()).map(sub_type).collect();
    let sub_fields: Vec<Ident> = (0..sites.len()).map(sub_field).collect();
    let union_fields = sites
        .iter()
        .zip(&s_params)
        .zip(&sub_fields)
        .map(|((s, t), f)| {
            let doc = format!(" line {}: `{}.await`", s.line, s.awaiting);
            quote!(#[doc = #doc] #f: ::core::mem::ManuallyDrop<#t>)
        });
    let sub_union = quote! {
        /// The coroutine being awaited, stored inline: the field of the
        /// resume point the coroutine is at (none elsewhere).
        union __CurioSub<#(#s_params),*> { __none: (), #(#union_fields,)* }
    };
    // Per `.await`: its resume point's variant and its field.
    let sub_of: Vec<(Ident, Ident)> = sites
        .iter()
        .zip(&resumes)
        .zip(&sub_fields)
        .filter(|((_, r), _)| cfg.blocks[**r].live)
        .map(|((_, &r), f)| (names[r].clone(), f.clone()))
        .collect();
    let walk_sites: Vec<(Ident, Ident, usize)> = sites
        .iter()
        .enumerate()
        .filter(|&(k, _)| cfg.blocks[resumes[k]].live)
        .map(|(k, _)| (names[resumes[k]].clone(), sub_fields[k].clone(), k))
        .collect();
    let drop_sub = sub_of.iter().map(|(at, f)| {
        quote! {
            // SAFETY: at this resume point, this field holds the
            // coroutine awaited; it is dropped once (`__curio_at` changes).
            __CurioAt::#at => unsafe { ::core::mem::ManuallyDrop::drop(&mut self.__curio_sub.#f) },
        }
    });

    // The frame.
    let l_params: Vec<Ident> = locals.slots.iter().map(slot_type).collect();
    let generics: Vec<&Ident> = s_params.iter().chain(&l_params).collect();
    let slot_fields = locals
        .slots
        .iter()
        .zip(&l_params)
        .map(|(name, t)| quote!(#name: ::core::mem::MaybeUninit<#t>));
    let frame_struct = quote! {
        /// The coroutine's state: where it is, what it waits on, and the
        /// locals that live across blocks, each in place in its slot (one
        /// type parameter each, inferred from the value it gets).
        struct __CurioFrame<#(#generics),*> {
            __curio_at: __CurioAt,
            /// Which slots hold a value (drop flags).
            __curio_live: #rt::__private::Live<#bits>,
            __curio_sub: __CurioSub<#(#s_params),*>,
            #(#slot_fields,)*
        }
    };
    let drops = locals
        .slots
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(i, name)| Some((i, name, locals.flags[i]?)))
        .map(|(i, name, bit)| {
            quote! {
                if #i >= __curio_from && self.__curio_live.take(#bit) {
                    // SAFETY: the flag says the slot holds a value; it is
                    // cleared first, so it is dropped once.
                    unsafe { self.#name.assume_init_drop() };
                }
            }
        });
    let frame_impl = quote! {
        impl<#(#generics),*> __CurioFrame<#(#generics),*> {
            /// Drops the live locals in slots `from..`, innermost (latest) first.
            ///
            /// # Safety
            /// The flags are exact.
            #[inline]
            unsafe fn __curio_drop_from(&mut self, __curio_from: usize) {
                let _ = __curio_from;
                #(#drops)*
            }
        }
        impl<#(#generics),*> #rt::__private::Frame for __CurioFrame<#(#generics),*> {
            /// Finished: the locals still alive are dropped now, as a
            /// returning function drops them.
            fn finish(&mut self) {
                self.__curio_at = __CurioAt::__Done;
                // SAFETY: the flags are exact.
                unsafe { self.__curio_drop_from(0) };
            }
        }
        impl<#(#generics),*> ::core::ops::Drop for __CurioFrame<#(#generics),*> {
            /// A coroutine dropped while suspended drops what it awaits,
            /// then its locals, innermost first.
            fn drop(&mut self) {
                match self.__curio_at {
                    #(#drop_sub)*
                    _ => {}
                }
                self.__curio_at = __CurioAt::__Done;
                // SAFETY: the flags are exact.
                unsafe { self.__curio_drop_from(0) };
            }
        }
    };

    // The start: the parameters' slots hold the arguments.
    let param_slots: HashMap<String, &Expr> =
        params.iter().map(|(n, e)| (n.to_string(), e)).collect();
    let inits = locals
        .slots
        .iter()
        .map(|name| match param_slots.get(&name.to_string()) {
            Some(value) => quote!(#name: ::core::mem::MaybeUninit::new(#value)),
            None => quote!(#name: ::core::mem::MaybeUninit::uninit()),
        });
    let live_bits = locals
        .slots
        .iter()
        .enumerate()
        .filter(|(_, n)| param_slots.contains_key(&n.to_string()))
        .filter_map(|(i, _)| locals.flags[i])
        .map(|bit| quote!(__curio_live.set(#bit);));
    let frame_init = quote! {
        __CurioFrame {
            __curio_at: __CurioAt::Start,
            __curio_live: {
                let mut __curio_live = #rt::__private::Live::none();
                #(#live_bits)*
                __curio_live
            },
            __curio_sub: __CurioSub { __none: () },
            #(#inits,)*
        }
    };

    // The blocks' code.
    let last = |name: &str, at| locals.is_last(name, at);
    // Blocks whose jumps may be replaced by their target's code: those
    // without a local of their own that is dropped where the block's code
    // ends (it would be dropped after the target's code instead).
    let inline_from: Vec<bool> = (0..cfg.blocks.len())
        .map(|b| {
            !cfg.binds.iter().any(|bind| {
                bind.block == b
                    && !bind.param
                    && !bind.no_drop
                    && !locals.slot.contains_key(&bind.name.to_string())
            })
        })
        .collect();
    let slots = Slots {
        inline_from: &inline_from,
        flags: &locals.flags,
        slot: &locals.slot,
        last: &last,
        first_slot: &locals.first_slot,
        slots_before: &locals.slots_before,
        names: &locals.slots,
        slots: slot_count,
        blocks: &names,
        resumes: &resumes,
        subs: &subs,
    };
    let tracked: std::collections::HashSet<String> =
        cfg.binds.iter().map(|b| b.name.to_string()).collect();
    // Pass 1: each block's code, its markers expanded.
    let mut bodies: HashMap<usize, Vec<Stmt>> = HashMap::new();
    for &b in &order {
        let block = &cfg.blocks[b];
        let mut code: Vec<Stmt> = block.code.clone();
        let mut walk = Walk::rewrite(&tracked, &slots)
            .scoped(crate::locals::visible_names(&cfg, block))
            .in_block(b);
        walk.stmts(&mut code);
        let mut body: Vec<Stmt> = locals.entry[b]
            .iter()
            .map(|local| {
                let sref = crate::mentions::slot_ref(local);
                parse_quote! {
                    // SAFETY: the slot holds the local (or is written before
                    // it is read); this block is the only one using it now.
                    let #local = unsafe { #rt::__private::Slot::at(&mut *#sref, &__curio_anchor) };
                }
            })
            .collect();
        body.extend(flatten(code));
        bodies.insert(b, body);
    }
    // Pass 2: a jump to a small loop head or join (with nothing to drop on
    // the way) becomes that block's code, so that the common path of a
    // loop does not go through the dispatch; any other jump dispatches.
    // Only in a short function: a long one gains little from it.
    let inlined: HashMap<usize, TokenStream> = if order.len() <= INLINE_BLOCKS {
        bodies
            .iter()
            .filter(|(b, _)| matches!(cfg.blocks[**b].kind, BlockKind::Join | BlockKind::Loop))
            .filter_map(|(b, body)| {
                let body = without_inlining(body.clone(), &names);
                let tokens = quote!(#(#body)*);
                (token_count(&tokens) <= INLINE_TOKENS && duplicable(&tokens))
                    .then_some((*b, tokens))
            })
            .collect()
    } else {
        HashMap::new()
    };
    let mut arms: Vec<TokenStream> = Vec::new();
    for &b in &order {
        let block = &cfg.blocks[b];
        let name = &names[b];
        let code = inline_jumps(bodies.remove(&b).unwrap_or_default(), b, &inlined, &names);
        let prologue = match block.kind {
            BlockKind::Start => {
                let moved = locals.native_params.iter().map(|(param, slot, mutable)| {
                    let mutability = mutable.then(|| quote!(mut));
                    let sref = crate::mentions::slot_ref(param);
                    let clear = locals.flags[*slot].map(|bit| quote!(__curio_live.clear(#bit);));
                    quote! {
                        #clear
                        // SAFETY: the slot holds the argument, moved out once.
                        let #mutability #param = unsafe { #sref.assume_init_read() };
                    }
                });
                quote! {
                    // SAFETY: the input is read once per step (here).
                    unsafe { #rt::__private::Input::start_step(__curio_input) };
                    #(#moved)*
                }
            }
            BlockKind::Resume(k) => {
                let sub = &subs[k];
                let now = crate::mentions::now_slot(k);
                quote! {
                    let __curio_value = match #now.take() {
                        // The coroutine finished at once when it started.
                        ::core::option::Option::Some(__curio_v) => __curio_v,
                        // The step starts here: drive what this resume
                        // point awaits (a trap goes straight out to the
                        // kernel).
                        // SAFETY: the input is read once per step (here:
                        // the block a step starts at); the field holds the
                        // coroutine awaited.
                        ::core::option::Option::None => match unsafe {
                            #rt::__private::Input::drive_ref(__curio_input, &mut *__curio_sub.#sub)
                        } {
                            #rt::__private::Step::Trap(__curio_trap) => return #rt::__private::Step::Trap(__curio_trap),
                            #rt::__private::Step::Return(__curio_v) => __curio_v,
                        },
                    };
                    // It finished: nothing is awaited until the next
                    // suspension (the state says so first, so that a
                    // panicking drop is not dropped again).
                    *__curio_at = __CurioAt::__Done;
                    // SAFETY: the field holds it; dropped once.
                    unsafe { ::core::mem::ManuallyDrop::drop(&mut __curio_sub.#sub) };
                }
            }
            BlockKind::Join | BlockKind::Loop => quote!(),
        };
        arms.push(quote! {
            __CurioAt::#name => {
                #prologue
                let __curio_anchor = #rt::__private::Anchor;
                // The code ends in a jump, a suspension or a `return`;
                // only the body's end falls through, with its value.
                break '__curio_dispatch ({
                    #(#code)*
                })
            }
        });
    }
    let output = match output {
        Some(t) => quote!(#t),
        None => quote!(_),
    };
    let small = arms.iter().map(token_count).sum::<usize>() <= SMALL_MACHINE_TOKENS;
    let inline = if small {
        quote!(#[inline(always)])
    } else {
        quote!(#[inline])
    };
    let srefs: Vec<Ident> = locals.slots.iter().map(crate::mentions::slot_ref).collect();
    let pending_drops = locals
        .slots
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(i, _)| Some((i, locals.flags[i]?)))
        .map(|(i, bit)| {
            let sref = &srefs[i];
            quote! {
                if #i >= __curio_drop && __curio_live.take(#bit) {
                    // SAFETY: the flag said the slot holds a value; it is
                    // cleared, so it is dropped once.
                    unsafe { #sref.assume_init_drop() };
                }
            }
        });
    let slots = &locals.slots;
    let nows: Vec<Ident> = (0..sites.len()).map(crate::mentions::now_slot).collect();
    let step = quote! {
        #inline
        move |__curio_f, __curio_input: &::core::mem::ManuallyDrop<#rt::__private::Input>| -> #rt::__private::Step<#output> {
            // One `&mut` per field of the frame.
            let __CurioFrame { __curio_at, __curio_live, __curio_sub, #(#slots: #srefs,)* } = __curio_f;
            #(let mut #nows = ::core::option::Option::None;)*
            // The input is read (moved out) once per step, by the block it
            // starts at; nested coroutines read it where it is.
            // The step starts where the coroutine is (the start, or a
            // resume point, which drives what it awaits first).
            let mut __curio_pc = *__curio_at;
            // Slots to drop (from this number on) once the code that
            // jumped has left its scopes.
            let mut __curio_drop = usize::MAX;
            let __curio_output = '__curio_dispatch: loop {
                if __curio_drop != usize::MAX {
                    #(#pending_drops)*
                    __curio_drop = usize::MAX;
                }
                match __curio_pc {
                    #(#arms)*
                    __CurioAt::__Done => #rt::__private::resumed_after_completion(),
                }
            };
            // Finished: the machine drops the locals still alive (see
            // `Frame::finish`) before it hands the output on.
            #rt::__private::Step::Return(__curio_output)
        }
    };
    let walk = walker(function, sites, &walk_sites);
    let lints = crate::wrap::lints();
    quote! {
        // The machine's code is the user's, rearranged: lints about its
        // shape (unreachable code after a jump, ...) are not the user's.
        // The user's own code is linted on the shadow.
        #[allow(#lints)]
        let __curio_machine = {
            #at_enum
            #sub_union
            #frame_struct
            #frame_impl
            #rt::__private::machine(#frame_init, #step, #walk, || #function)
        };
        // The shadow's output is the machine's (a block without an
        // output type learns it from where it is used).
        #rt::__private::same_output(&__curio_machine, __curio_shadow);
        __curio_machine
    }
}

/// The traceback walker: the awaited coroutine's static `Location`, then
/// its own chain. `sub_of`: per live resume point, its variant and field.
fn walker(function: &str, sites: &[AwaitSite], sub_of: &[(Ident, Ident, usize)]) -> TokenStream {
    let rt = crate::runtime::path();
    if sub_of.is_empty() {
        return quote!(|_, _| {});
    }
    // One static table of the suspension points (one item to check, not
    // one per `.await`).
    let locations = sub_of.iter().map(|(_, _, k)| {
        let s = &sites[*k];
        let (line, column, awaiting) = (s.line as u32, s.column as u32, &s.awaiting);
        quote! {
            #rt::__private::Location {
                function: #function, file: ::core::file!(), line: #line, column: #column, awaiting: #awaiting,
            }
        }
    });
    let count = sub_of.len();
    let walks = sub_of.iter().enumerate().map(|(index, (at, field, _))| {
        quote! {
            // SAFETY: at this resume point, the field holds the coroutine
            // awaited.
            __CurioAt::#at => #rt::__private::walk_sub(&__curio_HERE[#index], unsafe { &*__curio_f.__curio_sub.#field }, __curio_visit),
        }
    });
    quote! {
        |__curio_f, __curio_visit| {
            static __curio_HERE: [#rt::__private::Location; #count] = [#(#locations),*];
            match __curio_f.__curio_at {
                #(#walks)*
                _ => {}
            }
        }
    }
}
