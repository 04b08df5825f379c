//! Waiting for file descriptors with `mio`, and the thread-safe wake-up.
//!
//! Curio's rules for a raw integer fd: a task waiting to read (or write)
//! registers the fd for that direction; when the event arrives the task is
//! rescheduled and the direction is removed, so nothing stays registered
//! for an fd nobody waits on (a raw fd may be closed and reused at any
//! time). One task per direction: a second reader gets `ResourceBusy`,
//! while a reader and a writer may share an fd.
//!
//! The `mio::Poll` is created the first time it is needed, so a kernel that
//! only computes and sleeps makes no epoll calls.

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::Error;
use crate::task::TaskRef;

/// The token of the thread wake-up; fds use their own number.
const WAKER: Token = Token(usize::MAX);

/// The tasks blocked on one fd.
#[derive(Default)]
struct Waiters {
    reader: Option<TaskRef>,
    writer: Option<TaskRef>,
}

impl Waiters {
    fn interest(&self) -> Option<Interest> {
        match (self.reader.is_some(), self.writer.is_some()) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }
}

/// The kernel's I/O state.
pub(crate) struct Io {
    /// Created on first use.
    poll: Option<Poll>,
    events: Events,
    /// Fds with at least one blocked task; exactly these are registered.
    fds: HashMap<RawFd, Waiters>,
    waker: Option<KernelWaker>,
}

impl Io {
    pub fn new() -> Io {
        Io {
            poll: None,
            events: Events::with_capacity(256),
            fds: HashMap::new(),
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
        !self.fds.is_empty()
    }

    /// Whether another thread asked the kernel to wake up.
    pub fn woken(&self) -> bool {
        self.waker
            .as_ref()
            .is_some_and(|w| w.woken.load(Ordering::Relaxed))
    }

    /// Blocks `task` until `fd` is readable (`read`) or writable.
    ///
    /// # Errors
    /// `ResourceBusy` if another task waits in that direction; an I/O
    /// error if the fd cannot be registered (closed, or a regular file).
    pub fn register(&mut self, fd: RawFd, read: bool, task: &TaskRef) -> Result<(), Error> {
        let waiters = self.fds.entry(fd).or_default();
        let slot = if read {
            &mut waiters.reader
        } else {
            &mut waiters.writer
        };
        if slot.is_some() {
            let direction = if read { "read" } else { "write" };
            return Err(Error::ResourceBusy(format!(
                "multiple tasks can't wait to {direction} on the same file descriptor {fd}"
            )));
        }
        *slot = Some(task.clone());
        let first = waiters.reader.is_some() != waiters.writer.is_some();
        let interest = waiters.interest().expect("a waiter was just added");
        let result = self.poll().and_then(|poll| {
            let registry = poll.registry();
            if first {
                registry.register(&mut SourceFd(&fd), Token(fd as usize), interest)
            } else {
                registry.reregister(&mut SourceFd(&fd), Token(fd as usize), interest)
            }
        });
        if let Err(e) = result {
            self.remove(fd, read);
            return Err(e.into());
        }
        Ok(())
    }

    /// Takes the waiter off `fd` in one direction (a cancelled wait).
    pub fn unregister(&mut self, fd: RawFd, read: bool) {
        self.remove(fd, read);
        self.update(fd);
    }

    fn remove(&mut self, fd: RawFd, read: bool) -> Option<TaskRef> {
        let waiters = self.fds.get_mut(&fd)?;
        if read {
            waiters.reader.take()
        } else {
            waiters.writer.take()
        }
    }

    /// Re-registers `fd` for the directions still waited on, or forgets it.
    fn update(&mut self, fd: RawFd) {
        let Some(interest) = self.fds.get(&fd).map(Waiters::interest) else {
            return;
        };
        let Some(poll) = self.poll.as_mut() else {
            return;
        };
        let registry = poll.registry();
        // Failures mean the fd was closed under us; epoll forgot it already.
        let _ = match interest {
            Some(interest) => registry.reregister(&mut SourceFd(&fd), Token(fd as usize), interest),
            None => {
                self.fds.remove(&fd);
                registry.deregister(&mut SourceFd(&fd))
            }
        };
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
            let failed = event.is_error();
            if event.is_readable() || event.is_read_closed() || failed {
                if let Some(task) = self.remove(fd, true) {
                    wake(task);
                }
            }
            if event.is_writable() || event.is_write_closed() || failed {
                if let Some(task) = self.remove(fd, false) {
                    wake(task);
                }
            }
            self.update(fd);
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
