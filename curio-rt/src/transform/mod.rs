//! What the code `#[curio::task]` generates calls at run time: the
//! [`Machine`](machine::Machine) that wraps a step function, the frame's
//! slots and drop flags (`frame.rs`), and the never-run shadow rustc
//! checks (`shadow.rs`). Reached by the expansion only, through
//! `curio::__private`; nothing else in the runtime imports it.

pub(crate) mod frame;
pub(crate) mod machine;
pub(crate) mod shadow;
