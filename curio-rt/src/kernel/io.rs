//! Waiting for file descriptors with `mio`, and the thread-safe wake-up.
//!
//! # Registration
//!
//! A task always tries its operation first and waits only after
//! `WouldBlock`. So the kernel can register an fd with the poller **once**,
//! edge-triggered for both directions, the first time a task waits on it,
//! and leave it registered: any data (or room) that arrives after the
//! failed attempt is a new edge, reported at a later poll. Later waits on
//! that fd cost no system call. [`io_release`](crate::protocol::traps::io_release)
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

use std::cell::RefCell;
use std::io;
use std::os::fd::RawFd;
use std::rc::{Rc, Weak};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::ready::push_ready;
use super::waker::KernelWaker;
use crate::error::Error;
use crate::protocol::coroutine::Input;
use crate::task::TaskRef;

/// What a kernel shares with the code that closes fds: which fds it has
/// registered with its poller, and which of those were closed since it
/// last looked. A `Drop` cannot trap, so closing reaches the kernel
/// through this (the one channel outside the trap protocol, and
/// `note_closed` is its only writer).
#[derive(Default)]
struct Registrations {
    /// One bit per fd number: registered with this kernel's poller.
    bits: RefCell<Vec<u64>>,
    /// Registered fds closed since the kernel last looked.
    closed: RefCell<Vec<RawFd>>,
}

impl Registrations {
    fn set(&self, index: usize, on: bool) {
        let mut bits = self.bits.borrow_mut();
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        if word >= bits.len() {
            if !on {
                return;
            }
            bits.resize(word + 1, 0);
        }
        if on {
            bits[word] |= bit;
        } else {
            bits[word] &= !bit;
        }
    }

    /// Clears `index`'s bit; whether it was set.
    fn take(&self, index: usize) -> bool {
        let mut bits = self.bits.borrow_mut();
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        match bits.get_mut(word) {
            Some(w) if *w & bit != 0 => {
                *w &= !bit;
                true
            }
            _ => false,
        }
    }
}

thread_local! {
    /// The kernels of this thread that have a poller (several may exist;
    /// one runs at a time).
    static KERNELS: RefCell<Vec<Weak<Registrations>>> = const { RefCell::new(Vec::new()) };
}

/// Tells every kernel of this thread that registered `fd` that it is
/// being closed, so each forgets the registration before the number can
/// be reused. For `Drop` impls of fd-owning types; async code calls
/// `io_release` instead.
pub(crate) fn note_closed(fd: RawFd) {
    let Ok(index) = usize::try_from(fd) else {
        return;
    };
    KERNELS.with(|kernels| {
        kernels.borrow_mut().retain(|k| match k.upgrade() {
            Some(k) => {
                if k.take(index) {
                    k.closed.borrow_mut().push(fd);
                }
                true
            }
            None => false,
        })
    });
}

/// A second task waiting on `fd` in the same direction.
#[cold]
fn busy(fd: RawFd, read: bool) -> Error {
    let direction = if read { "read" } else { "write" };
    Error::ResourceBusy(format!(
        "multiple tasks can't wait to {direction} on the same file descriptor {fd}"
    ))
}

/// The token of the thread wake-up; fds use their own number.
const WAKER: Token = Token(usize::MAX);

/// One fd's slot in the table: whether it is registered, and the tasks
/// blocked on it.
#[derive(Default)]
struct FdState {
    registered: bool,
    reader: Option<TaskRef>,
    writer: Option<TaskRef>,
    /// An edge arrived while no task waited to read: the next read wait
    /// returns at once (at worst one extra attempt that meets `WouldBlock`).
    readable: bool,
    /// The same for writing.
    writable: bool,
    /// The peer closed its end (or the fd failed): reads no longer block.
    /// Never cleared while registered, because the edge that said so is
    /// not repeated: a reader that stops after a short read (see
    /// [`Transport::drained`](crate::io::stream::Transport::drained)) and
    /// waits again must find out here that end of file is waiting.
    read_closed: bool,
    /// The same for writing (a hang-up or an error).
    write_closed: bool,
}

/// The kernel's I/O state.
pub(crate) struct Io {
    /// Created on first use.
    poll: Option<Poll>,
    events: Events,
    /// Indexed by fd: the operating system hands out the lowest free
    /// number, so the table is as long as the highest fd in use.
    fds: Vec<FdState>,
    /// Tasks blocked on fds.
    waiting: usize,
    waker: Option<KernelWaker>,
    /// The registered fds, as `note_closed` sees them.
    registrations: Rc<Registrations>,
}

impl Io {
    pub fn new() -> Io {
        Io {
            poll: None,
            events: Events::with_capacity(256),
            fds: Vec::new(),
            waiting: 0,
            waker: None,
            registrations: Rc::default(),
        }
    }

    fn poll(&mut self) -> io::Result<&mut Poll> {
        if self.poll.is_none() {
            self.poll = Some(Poll::new()?);
            let me = Rc::downgrade(&self.registrations);
            KERNELS.with(|kernels| kernels.borrow_mut().push(me));
        }
        Ok(self.poll.as_mut().expect("just created"))
    }

    /// The registered fds closed by `Drop` since the last call, if any.
    #[inline]
    pub fn closed_since(&mut self) -> Option<Vec<RawFd>> {
        let closed = &self.registrations.closed;
        if closed.borrow().is_empty() {
            return None;
        }
        Some(std::mem::take(&mut *closed.borrow_mut()))
    }

    fn slot(&mut self, fd: RawFd) -> Option<&mut FdState> {
        self.fds.get_mut(usize::try_from(fd).ok()?)
    }

    /// Whether any task waits on an fd.
    pub fn has_waiters(&self) -> bool {
        self.waiting > 0
    }

    /// Whether another thread asked the kernel to wake up.
    pub fn woken(&self) -> bool {
        self.waker.as_ref().is_some_and(KernelWaker::woken)
    }

    /// Blocks `task` until `fd` is readable (`read`) or writable; returns
    /// `false` (nothing to wait for) if an unclaimed edge says it already is.
    ///
    /// # Errors
    /// `ResourceBusy` if another task waits in that direction; an I/O
    /// error if the fd cannot be registered (closed, or a regular file).
    #[inline]
    pub fn register(&mut self, fd: RawFd, read: bool, task: &TaskRef) -> Result<bool, Error> {
        let Ok(index) = usize::try_from(fd) else {
            return Err(io::Error::from_raw_os_error(libc::EBADF).into());
        };
        if !self.fds.get(index).is_some_and(|s| s.registered) {
            self.add(fd, index)?;
        }
        let state = &mut self.fds[index];
        let (slot, ready, closed) = if read {
            (&mut state.reader, &mut state.readable, state.read_closed)
        } else {
            (&mut state.writer, &mut state.writable, state.write_closed)
        };
        if slot.is_some() {
            return Err(busy(fd, read));
        }
        if std::mem::take(ready) || closed {
            return Ok(false);
        }
        *slot = Some(task.clone());
        self.waiting += 1;
        Ok(true)
    }

    /// Registers `fd` (at `index`) with the poller, for good: the first
    /// wait on it.
    fn add(&mut self, fd: RawFd, index: usize) -> io::Result<()> {
        self.poll()?.registry().register(
            &mut SourceFd(&fd),
            Token(index),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        if index >= self.fds.len() {
            self.fds.resize_with(index + 1, FdState::default);
        }
        self.fds[index].registered = true;
        self.registrations.set(index, true);
        Ok(())
    }

    /// Takes the waiter off `fd` in one direction (a cancelled wait); the
    /// fd stays registered.
    pub fn unregister(&mut self, fd: RawFd, read: bool) {
        let Some(state) = self.slot(fd) else {
            return;
        };
        let taken = if read {
            state.reader.take()
        } else {
            state.writer.take()
        };
        if taken.is_some() {
            self.waiting -= 1;
        }
    }

    /// Forgets `fd`'s registration: deregisters it from the poller unless
    /// it is `closed` already (closing removed it). Tasks still blocked on
    /// it are returned, to be woken with an error.
    pub fn release(&mut self, fd: RawFd, closed: bool) -> Vec<TaskRef> {
        let Some(state) = self.slot(fd).filter(|s| s.registered) else {
            return Vec::new();
        };
        let state = std::mem::take(state);
        self.registrations.set(fd as usize, false);
        if !closed && let Some(poll) = self.poll.as_mut() {
            // An error means the fd was closed already: epoll forgot it.
            let _ = poll.registry().deregister(&mut SourceFd(&fd));
        }
        let stranded: Vec<TaskRef> = [state.reader, state.writer].into_iter().flatten().collect();
        self.waiting -= stranded.len();
        stranded
    }

    /// The tasks blocked on `fd`: `(reader, writer)`.
    pub fn waiting(&self, fd: RawFd) -> (Option<TaskRef>, Option<TaskRef>) {
        let state = usize::try_from(fd).ok().and_then(|i| self.fds.get(i));
        match state {
            Some(w) => (w.reader.clone(), w.writer.clone()),
            None => (None, None),
        }
    }

    /// Waits up to `timeout` (`None`: no limit) for I/O, putting every task
    /// whose fd became ready on the `ready` queue.
    pub fn wait(
        &mut self,
        timeout: Option<Duration>,
        ready: &mut Vec<(TaskRef, Input)>,
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
                    w.clear();
                }
                continue;
            }
            let Some(state) = self.fds.get_mut(event.token().0).filter(|s| s.registered) else {
                continue;
            };
            let failed = event.is_error();
            state.read_closed |= event.is_read_closed() || failed;
            state.write_closed |= event.is_write_closed() || failed;
            if event.is_readable() || event.is_read_closed() || failed {
                match state.reader.take() {
                    Some(task) => {
                        self.waiting -= 1;
                        push_ready(ready, task, Input::start());
                    }
                    None => state.readable = true,
                }
            }
            if event.is_writable() || event.is_write_closed() || failed {
                match state.writer.take() {
                    Some(task) => {
                        self.waiting -= 1;
                        push_ready(ready, task, Input::start());
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
            self.waker = Some(KernelWaker::new(waker));
        }
        Ok(self.waker.clone().expect("just created"))
    }
}
