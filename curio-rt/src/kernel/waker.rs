//! [`KernelWaker`]: how another thread wakes a kernel blocked in its
//! poll.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Wakes a kernel blocked waiting for I/O or time, from any thread
/// (see [`Kernel::waker`](crate::Kernel::waker)).
#[derive(Clone, Debug)]
pub struct KernelWaker {
    waker: Arc<mio::Waker>,
    woken: Arc<AtomicBool>,
}

impl KernelWaker {
    pub(crate) fn new(waker: mio::Waker) -> KernelWaker {
        KernelWaker {
            waker: Arc::new(waker),
            woken: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether a wake-up came since the last [`clear`](Self::clear).
    pub(crate) fn woken(&self) -> bool {
        self.woken.load(Ordering::Relaxed)
    }

    /// The kernel saw the wake-up.
    pub(crate) fn clear(&self) {
        self.woken.store(false, Ordering::Relaxed);
    }

    /// Interrupts the kernel's wait: it runs one more scheduling cycle
    /// (I/O, timers, ready tasks) at once.
    ///
    /// # Errors
    /// The operating system's, if the wake-up could not be written.
    pub fn wake(&self) -> io::Result<()> {
        self.woken.store(true, Ordering::Relaxed);
        self.waker.wake()
    }
}
