//! Support for generated code: a task's *frame*, where the locals that
//! live across an `.await` stay in place between resumes.
//!
//! # The frame
//!
//! `#[curio::task]` declares, inside the generated function, a struct with
//! one field per such local: a `MaybeUninit<L>`, `L` a type parameter that
//! rustc infers from the first value written there (users never annotate).
//! Beside the slots, [`Live`] holds one bit per slot whose local may have
//! drop glue (a reference, a literal or a cast needs none): whether it
//! holds a value. The generated code keeps the bits exact (Rust's own *drop
//! flags*), so a local moved away on one path and not on another is
//! dropped exactly when and if Rust would drop it.
//!
//! # Using a local in place
//!
//! Each block of the step function that uses a stored local binds the
//! local's name to a `&mut L` into its slot ([`Slot::at`]); the user's code
//! then reads `(*x)` where it wrote `x`. The reference's lifetime is tied
//! to an [`Anchor`] that lives for the block only, so a reference can
//! never be kept across an `.await` (where the frame may move): rustc
//! rejects that, it does not dangle.
//!
//! A move (`f(x)`, `let y = x`) reads the value out ([`take`]) and clears
//! its bit; an assignment ([`assign`]) drops the old value if the bit says
//! there is one. That a program never uses a moved local again is proved
//! by rustc on the task's *shadow*, the same body compiled as an `async`
//! block that is never run (see `shadow.rs`): the machine only runs
//! programs that rustc accepts as async Rust.
//!
//! Nothing here is a stable API; generated code names it through
//! `::curio::__private`.

use std::mem::MaybeUninit;

/// The drop flags of a frame: one bit per local that has drop glue, set
/// while its slot holds a value. `B` is the smallest storage for the
/// count: `()` (none), `u8` ... `u64`, or `[u64; N]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Live<B>(B);

/// Storage for drop flags.
pub trait Bits: Copy {
    /// No flag set.
    const NONE: Self;
    /// Sets or clears flag `i`.
    fn put(&mut self, i: usize, on: bool);
    /// Flag `i`.
    fn get(&self, i: usize) -> bool;
}

impl Bits for () {
    const NONE: Self = ();
    #[inline(always)]
    fn put(&mut self, _: usize, _: bool) {}
    #[inline(always)]
    fn get(&self, _: usize) -> bool {
        false
    }
}

macro_rules! int_bits {
    ($($t:ty),*) => {$(
        impl Bits for $t {
            const NONE: Self = 0;
            #[inline(always)]
            fn put(&mut self, i: usize, on: bool) {
                if on {
                    *self |= 1 << i;
                } else {
                    *self &= !(1 << i);
                }
            }
            #[inline(always)]
            fn get(&self, i: usize) -> bool {
                *self & (1 << i) != 0
            }
        }
    )*};
}
int_bits!(u8, u16, u32, u64);

impl<const W: usize> Bits for [u64; W] {
    const NONE: Self = [0; W];
    #[inline(always)]
    fn put(&mut self, i: usize, on: bool) {
        self[i / 64].put(i % 64, on);
    }
    #[inline(always)]
    fn get(&self, i: usize) -> bool {
        self[i / 64].get(i % 64)
    }
}

impl<B: Bits> Live<B> {
    /// No slot holds a value.
    #[inline(always)]
    pub const fn none() -> Self {
        Live(B::NONE)
    }

    /// Marks flag `i`: its slot holds a value.
    #[inline(always)]
    pub fn set(&mut self, i: usize) {
        self.0.put(i, true);
    }

    /// Clears flag `i`: its slot's value was moved away or dropped.
    #[inline(always)]
    pub fn clear(&mut self, i: usize) {
        self.0.put(i, false);
    }

    /// Clears flag `i`; whether it was set.
    #[inline(always)]
    pub fn take(&mut self, i: usize) -> bool {
        let was = self.0.get(i);
        self.0.put(i, false);
        was
    }
}

/// Ties the references a block takes into its frame to that block: see
/// [`Slot::at`].
#[derive(Debug)]
pub struct Anchor;

/// A frame slot, used in place.
pub trait Slot<T> {
    /// The slot's value, for as long as `anchor` lives.
    ///
    /// # Safety
    /// The slot holds a value, or the reference is only written through
    /// (with [`assign`]) before it is read; no other reference to the slot
    /// is in use while this one is; the frame does not move while `anchor`
    /// lives (it is borrowed by the step function meanwhile).
    // The point: a `&mut` whose lifetime is the block's (the anchor's), not
    // the borrow of the frame's field, so that a block can hold one into
    // each slot it uses and still update the drop flags.
    #[allow(clippy::mut_from_ref)]
    unsafe fn at<'a>(&mut self, anchor: &'a Anchor) -> &'a mut T;
}

impl<T> Slot<T> for MaybeUninit<T> {
    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    unsafe fn at<'a>(&mut self, _anchor: &'a Anchor) -> &'a mut T {
        // SAFETY: the pointer is valid and aligned (it is this slot); the
        // caller promises the rest.
        unsafe { &mut *self.as_mut_ptr() }
    }
}

/// Moves the value out of a slot (its bit is cleared by the caller).
///
/// # Safety
/// The slot holds a value, which is not used again until it is given a
/// new one; for a `Copy` type the read is a copy and the slot stays valid.
#[inline(always)]
pub unsafe fn take<T>(slot: &mut T) -> T {
    // SAFETY: the caller promises the slot holds a value it gives up.
    unsafe { std::ptr::read(slot) }
}

/// Gives a slot a new value, dropping the old one first if `had` says
/// there was one (Rust's `x = value`).
///
/// # Safety
/// `had` is true exactly when the slot holds a value.
#[inline(always)]
pub unsafe fn assign<T>(slot: &mut T, had: bool, value: T) {
    if had {
        // SAFETY: the slot holds a value, dropped once.
        unsafe { std::ptr::drop_in_place(slot) };
    }
    // SAFETY: the slot is valid for writes; its old value is gone.
    unsafe { std::ptr::write(slot, value) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_independent_across_words() {
        let mut live = Live::<[u64; 2]>::none();
        live.set(0);
        live.set(65);
        assert!(live.take(65));
        assert!(!live.take(65));
        assert!(live.take(0));
        assert_eq!(live, Live::none());
        let mut small = Live::<u8>::none();
        small.set(7);
        assert!(small.take(7));
        assert!(!small.take(7));
    }

    #[test]
    fn a_slot_is_used_moved_and_given_a_new_value_in_place() {
        let mut slot: MaybeUninit<String> = MaybeUninit::new("one".to_string());
        let anchor = Anchor;
        // SAFETY: the slot holds a value, and this is the only reference.
        let s = unsafe { slot.at(&anchor) };
        s.push('!');
        // SAFETY: the value is not used again until reassigned.
        let moved = unsafe { take(s) };
        assert_eq!(moved, "one!");
        // SAFETY: the slot holds no value (it was moved away).
        unsafe { assign(s, false, "two".to_string()) };
        // SAFETY: it holds a value now, which is dropped once.
        unsafe { assign(s, true, "three".to_string()) };
        assert_eq!(s, "three");
        // SAFETY: the slot holds a value, dropped once.
        unsafe { slot.assume_init_drop() };
    }
}
