//! Waiting for file descriptors with `mio`, and the thread-safe wake-up.
//!
//! # Registration
//!
//! A task always tries its operation first and waits only after
//! `WouldBlock`. So the kernel can register an fd with the poller **once**,
//! edge-triggered for both directions, the first time a task waits on it,
//! and leave it registered: any data (or room) that arrives after the
//! failed attempt is a new edge, reported at a later poll. Later waits on
//! that fd cost no system call. [`io_release`](crate::traps::io_release)
//! deregisters it; call it before closing the fd (sockets and streams do),
//! since a closed fd number may be reused for another file the poller
//! does not know.
//!
//! An edge that arrives while nobody waits in that direction is
//! remembered, and the next wait in that direction returns at once: so a
//! task may also wait *before* trying (`write_wait` on a socket that is
//! already writable returns), as Curio's traps allow.
//!
//! One task per direction: a second reader gets `ResourceBusy`, while a
//! reader and a writer may share an fd.
//!
//! The `mio::Poll` is created the first time it is needed, so a kernel that
//! only computes and sleeps makes no epoll calls.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::Error;
use crate::task::TaskRef;

thread_local! {
    /// Fds closed since the kernel last looked (a `Drop` cannot trap).
    static CLOSED: std::cell::RefCell<Vec<RawFd>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Tells this thread's kernel that `fd` is being closed, so it forgets the
/// registration before the number can be reused. For `Drop` impls of
/// fd-owning types; async code calls `io_release` instead.
pub(crate) fn note_closed(fd: RawFd) {
    CLOSED.with(|c| c.borrow_mut().push(fd));
}

/// Fds closed since the last call.
pub(crate) fn take_closed() -> Vec<RawFd> {
    CLOSED.with(|c| {
        let mut closed = c.borrow_mut();
        if closed.is_empty() {
            Vec::new()
        } else {
            std::mem::take(&mut *closed)
        }
    })
}

/// The token of the thread wake-up; fds use their own number.
const WAKER: Token = Token(usize::MAX);

/// A registered fd and the tasks blocked on it.
#[derive(Default)]
struct FdState {
    reader: Option<TaskRef>,
    writer: Option<TaskRef>,
    /// An edge arrived while no task waited to read: the next read wait
    /// returns at once (at worst one extra attempt that meets `WouldBlock`).
    readable: bool,
    /// The same for writing.
    writable: bool,
}

/// Fds are small distinct integers: one multiply spreads them over the
/// hash (SipHash was a tenth of an echo server's instructions).
#[derive(Default)]
struct FdHasher(u64);

impl Hasher for FdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_i32(&mut self, n: i32) {
        self.0 = u64::from(n as u32).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The kernel's I/O state.
pub(crate) struct Io {
    /// Created on first use.
    poll: Option<Poll>,
    events: Events,
    /// Registered fds (registered exactly while they are in the map).
    fds: HashMap<RawFd, FdState, BuildHasherDefault<FdHasher>>,
    /// Tasks blocked on fds.
    waiting: usize,
    waker: Option<KernelWaker>,
}

impl Io {
    pub fn new() -> Io {
        Io {
            poll: None,
            events: Events::with_capacity(256),
            fds: HashMap::default(),
            waiting: 0,
            waker: None,
        }
    }

    fn poll(&mut self) -> io::Result<&mut Poll> {
        if self.poll.is_none() {
            self.poll = Some(Poll::new()?);
        }
        Ok(self.poll.as_mut().expect("just created"))
    }

    /// Whether any task waits on an fd.
    pub fn has_waiters(&self) -> bool {
        self.waiting > 0
    }

    /// Whether another thread asked the kernel to wake up.
    pub fn woken(&self) -> bool {
        self.waker
            .as_ref()
            .is_some_and(|w| w.woken.load(Ordering::Relaxed))
    }

    /// Blocks `task` until `fd` is readable (`read`) or writable; returns
    /// `false` (nothing to wait for) if an unclaimed edge says it already is.
    ///
    /// # Errors
    /// `ResourceBusy` if another task waits in that direction; an I/O
    /// error if the fd cannot be registered (closed, or a regular file).
    pub fn register(&mut self, fd: RawFd, read: bool, task: &TaskRef) -> Result<bool, Error> {
        if !self.fds.contains_key(&fd) {
            let registered = self.poll().and_then(|poll| {
                poll.registry().register(
                    &mut SourceFd(&fd),
                    Token(fd as usize),
                    Interest::READABLE | Interest::WRITABLE,
                )
            });
            registered?;
            self.fds.insert(fd, FdState::default());
        }
        let state = self.fds.get_mut(&fd).expect("registered above");
        let (slot, ready) = if read {
            (&mut state.reader, &mut state.readable)
        } else {
            (&mut state.writer, &mut state.writable)
        };
        if slot.is_some() {
            let direction = if read { "read" } else { "write" };
            return Err(Error::ResourceBusy(format!(
                "multiple tasks can't wait to {direction} on the same file descriptor {fd}"
            )));
        }
        if std::mem::take(ready) {
            return Ok(false);
        }
        *slot = Some(task.clone());
        self.waiting += 1;
        Ok(true)
    }

    /// Takes the waiter off `fd` in one direction (a cancelled wait); the
    /// fd stays registered.
    pub fn unregister(&mut self, fd: RawFd, read: bool) {
        if self.take(fd, read).is_some() {
            self.waiting -= 1;
        }
    }

    fn take(&mut self, fd: RawFd, read: bool) -> Option<TaskRef> {
        let state = self.fds.get_mut(&fd)?;
        if read {
            state.reader.take()
        } else {
            state.writer.take()
        }
    }

    /// Deregisters `fd` (before it is closed). Tasks still blocked on it
    /// are returned, to be woken with an error.
    pub fn release(&mut self, fd: RawFd) -> Vec<TaskRef> {
        let Some(state) = self.fds.remove(&fd) else {
            return Vec::new();
        };
        if let Some(poll) = self.poll.as_mut() {
            // An error means the fd was already closed: epoll forgot it.
            let _ = poll.registry().deregister(&mut SourceFd(&fd));
        }
        let stranded: Vec<TaskRef> = [state.reader, state.writer].into_iter().flatten().collect();
        self.waiting -= stranded.len();
        stranded
    }

    /// The tasks blocked on `fd`: `(reader, writer)`.
    pub fn waiting(&self, fd: RawFd) -> (Option<TaskRef>, Option<TaskRef>) {
        match self.fds.get(&fd) {
            Some(w) => (w.reader.clone(), w.writer.clone()),
            None => (None, None),
        }
    }

    /// Waits up to `timeout` (`None`: no limit) for I/O, handing every task
    /// whose fd became ready to `wake`.
    pub fn wait(
        &mut self,
        timeout: Option<Duration>,
        mut wake: impl FnMut(TaskRef),
    ) -> io::Result<()> {
        if self.poll.is_none() && timeout.is_some() {
            // Nothing can arrive: no fds and no waker. Just let time pass.
            if let Some(t) = timeout.filter(|t| !t.is_zero()) {
                std::thread::sleep(t);
            }
            return Ok(());
        }
        let mut events = std::mem::replace(&mut self.events, Events::with_capacity(0));
        let result = self.poll()?.poll(&mut events, timeout);
        match result {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                self.events = events;
                return Err(e);
            }
        }
        for event in events.iter() {
            if event.token() == WAKER {
                if let Some(w) = &self.waker {
                    w.woken.store(false, Ordering::Relaxed);
                }
                continue;
            }
            let fd = event.token().0 as RawFd;
            let Some(state) = self.fds.get_mut(&fd) else {
                continue;
            };
            let failed = event.is_error();
            if event.is_readable() || event.is_read_closed() || failed {
                match state.reader.take() {
                    Some(task) => {
                        self.waiting -= 1;
                        wake(task);
                    }
                    None => state.readable = true,
                }
            }
            if event.is_writable() || event.is_write_closed() || failed {
                match state.writer.take() {
                    Some(task) => {
                        self.waiting -= 1;
                        wake(task);
                    }
                    None => state.writable = true,
                }
            }
        }
        self.events = events;
        Ok(())
    }

    /// A handle other threads can use to wake the kernel.
    pub fn waker(&mut self) -> io::Result<KernelWaker> {
        if self.waker.is_none() {
            let waker = mio::Waker::new(self.poll()?.registry(), WAKER)?;
            self.waker = Some(KernelWaker {
                waker: Arc::new(waker),
                woken: Arc::new(AtomicBool::new(false)),
            });
        }
        Ok(self.waker.clone().expect("just created"))
    }
}

/// Wakes a kernel blocked waiting for I/O or time, from any thread
/// (see [`Kernel::waker`](crate::Kernel::waker)).
#[derive(Clone, Debug)]
pub struct KernelWaker {
    waker: Arc<mio::Waker>,
    woken: Arc<AtomicBool>,
}

impl KernelWaker {
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
