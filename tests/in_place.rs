//! Two promises of the transform, checked directly: an `.await` allocates
//! nothing (nor does a resume or a throw), and a pending sub-coroutine is
//! resumed in place, never moved while suspended.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use curio::{Coroutine, Error, Location, Step, Trap, Value};

/// Counts allocations made by this thread while `COUNTING` is set.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(|c| c.get()) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    ALLOCATIONS.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::Relaxed)
}

thread_local! {
    static ADDRESSES: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A leaf that suspends `n` times and records its own address each time
/// it is resumed.
struct Witness {
    left: u32,
}

impl Coroutine for Witness {
    type Output = curio::Result<u32>;
    fn resume(&mut self, _: Value) -> Step<Self::Output> {
        ADDRESSES.with(|a| a.borrow_mut().push(self as *const Self as usize));
        if self.left == 0 {
            return Step::Return(Ok(7));
        }
        self.left -= 1;
        Step::Trap(Trap::Clock)
    }
    fn throw(&mut self, error: Error) -> Step<Self::Output> {
        Step::Return(Err(error))
    }
    fn traceback(&self, _: &mut dyn FnMut(&'static Location)) {}
}

#[curio::task]
async fn middle(rounds: u32) -> curio::Result<u32> {
    let mut total = 0;
    for _ in 0..rounds {
        total += Witness { left: 3 }.await?;
    }
    Ok(total)
}

#[curio::task]
async fn outer(rounds: u32) -> curio::Result<u32> {
    let big = [1u8; 512];
    let inner = middle(rounds).await?;
    Ok(inner + u32::from(big[0]))
}

#[test]
fn awaits_resumes_and_throws_allocate_nothing() {
    // The witness's own address log must not allocate while counting.
    ADDRESSES.with(|a| a.borrow_mut().reserve(1024));
    let mut co = outer(50);
    let mut steps = 0;
    let allocated = allocations_during(|| {
        let mut step = co.resume(Value::None);
        while let Step::Trap(_) = step {
            steps += 1;
            step = co.resume(Value::None);
        }
        assert!(matches!(step, Step::Return(Ok(351))));
    });
    assert_eq!(steps, 150);
    assert_eq!(
        allocated, 0,
        "{allocated} allocations in {steps} suspensions"
    );

    let mut co = outer(2);
    let _ = co.resume(Value::None);
    let allocated = allocations_during(|| {
        assert!(matches!(
            co.throw(Error::cancelled()),
            Step::Return(Err(Error::TaskCancelled(_)))
        ));
    });
    assert_eq!(allocated, 0, "a throw allocated");
    ADDRESSES.with(|a| a.borrow_mut().clear());
}

#[test]
fn a_pending_sub_coroutine_is_resumed_in_place() {
    let mut co = Box::new(outer(3));
    let mut step = co.resume(Value::None);
    while let Step::Trap(_) = step {
        step = co.resume(Value::None);
    }
    let addresses = ADDRESSES.with(|a| std::mem::take(&mut *a.borrow_mut()));
    // Three witnesses, each resumed four times: the first resume stores it
    // in the state, the next three find it at the same address.
    assert_eq!(addresses.len(), 12);
    for witness in addresses.chunks(4) {
        assert!(
            witness.iter().all(|a| *a == witness[0]),
            "a suspended sub-coroutine moved: {witness:x?}"
        );
    }
}
