//! The protocol between a task and the kernel: a task is a
//! [`Coroutine`](coroutine::Coroutine) driven by `resume` and `throw`, and
//! every blocking operation ends in a [`Trap`](trap::Trap), answered
//! through the next `resume` (see `coroutine.rs` for the rules and the
//! table of replies).

pub(crate) mod coroutine;
pub(crate) mod trap;
pub(crate) mod traps;
