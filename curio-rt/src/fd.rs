//! What sockets and files share: an owned fd that tells the kernel when it
//! closes, the [`Transport`] a stream reads and writes through, and the
//! retry loops every non-blocking operation runs (try the call; on
//! `WouldBlock` wait for the fd and try again).

use std::cell::RefCell;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;

use crate::traps::{io_release, read_wait, write_wait};
use crate::{Error, Progress, Result};

/// An fd, shared by the clones of a handle and closed when the last one
/// goes (the kernel forgets it first: see `kernel::note_closed`).
pub(crate) struct FdCell<F: AsRawFd> {
    /// `None` once closed.
    file: RefCell<Option<F>>,
}

impl<F: AsRawFd> FdCell<F> {
    pub(crate) fn new(file: F) -> Self {
        FdCell {
            file: RefCell::new(Some(file)),
        }
    }

    /// Runs `f` on the open file.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&F) -> io::Result<R>) -> io::Result<R> {
        match &*self.file.borrow() {
            Some(file) => f(file),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the file descriptor is closed",
            )),
        }
    }

    /// The fd, `-1` once closed.
    pub(crate) fn fileno(&self) -> RawFd {
        self.file.borrow().as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }

    /// Closes now (the caller released it from the kernel first).
    pub(crate) fn close_now(&self) {
        drop(self.file.borrow_mut().take());
    }
}

impl<F: AsRawFd> Drop for FdCell<F> {
    fn drop(&mut self) {
        if let Some(file) = self.file.get_mut().take() {
            crate::kernel::note_closed(file.as_raw_fd());
        }
    }
}

/// A non-blocking byte channel a [`Stream`](crate::stream::Stream) reads
/// and writes through: a [`Socket`](crate::socket::Socket) or a
/// [`FileIo`](crate::stream::FileIo). Handles are cheap clones of one
/// shared fd.
pub trait Transport: Clone + 'static {
    /// The fd to wait on; `-1` once closed.
    fn fileno(&self) -> RawFd;
    /// One non-blocking read into `buf`; `WouldBlock` when nothing is
    /// there yet, `Ok(0)` at end of file.
    ///
    /// # Errors
    /// The operating system's.
    fn read_some(&self, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize>;
    /// One non-blocking write; `WouldBlock` when there is no room.
    ///
    /// # Errors
    /// The operating system's.
    fn write_some(&self, data: &[u8]) -> io::Result<usize>;
    /// Closes the fd for every handle; the kernel has already forgotten it.
    fn close_now(&self);
}

pub(crate) fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// Which readiness a retried call waits for.
#[derive(Clone, Copy)]
pub(crate) enum Ready {
    Read,
    Write,
}

/// Runs `op(io, &mut state)` until it does not would-block, waiting for
/// `ready` in between; returns the state and the call's result.
#[crate::task]
pub(crate) async fn retry<T, S, R>(
    io: T,
    ready: Ready,
    mut state: S,
    op: fn(&T, &mut S) -> io::Result<R>,
) -> Result<(S, R)>
where
    T: Transport,
    S: 'static,
    R: 'static,
{
    loop {
        match op(&io, &mut state) {
            Ok(r) => return Ok((state, r)),
            Err(e) if would_block(&e) => match ready {
                Ready::Read => read_wait(io.fileno()).await?,
                Ready::Write => write_wait(io.fileno()).await?,
            },
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// One read of up to `max` bytes appended to `buf` (into its spare
/// capacity: nothing is zeroed or copied twice).
fn read_append_once<T: Transport>(io: &T, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    buf.reserve(max);
    let n = io.read_some(&mut buf.spare_capacity_mut()[..max])?;
    // SAFETY: `read_some` initialised the first `n` bytes of the spare
    // capacity, which directly follow the vector's contents.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// Reads up to `max` bytes into a new vector; empty at end of file.
#[crate::task]
pub(crate) async fn read_new<T: Transport>(io: T, max: usize) -> Result<Vec<u8>> {
    let (buf, _) = retry(io, Ready::Read, (Vec::new(), max), |io, (buf, max)| {
        read_append_once(io, buf, *max)
    })
    .await?;
    Ok(buf.0)
}

/// Reads up to `max` bytes, appended to the shared `buf` (a stream's
/// buffer: what arrived is kept even if the caller is cancelled after);
/// returns how many, 0 at end of file.
#[crate::task]
pub(crate) async fn read_append<T: Transport>(
    io: T,
    buf: Rc<RefCell<Vec<u8>>>,
    max: usize,
) -> Result<usize> {
    let (_, n) = retry(io, Ready::Read, (buf, max), |io, (buf, max)| {
        read_append_once(io, &mut buf.borrow_mut(), *max)
    })
    .await?;
    Ok(n)
}

/// Writes what `io` takes of `data`; returns how much.
#[crate::task]
pub(crate) async fn write_some<T: Transport>(io: T, data: Vec<u8>) -> Result<usize> {
    let (_, n) = retry(io, Ready::Write, data, |io, data| io.write_some(data)).await?;
    Ok(n)
}

/// Writes all of `data`. Any failure is an [`Error::Partial`] that says
/// how many bytes went out (`progress(n)`), as Curio puts `bytes_sent` /
/// `bytes_written` on its exceptions.
#[crate::task]
pub(crate) async fn write_all<T: Transport>(
    io: T,
    data: Vec<u8>,
    progress: fn(usize) -> Progress,
) -> Result<()> {
    let mut sent = 0;
    while sent < data.len() {
        match io.write_some(&data[sent..]) {
            Ok(n) => sent += n,
            Err(e) if would_block(&e) => {
                if let Err(e) = write_wait(io.fileno()).await {
                    return Err(Error::partial(e, progress(sent)));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::partial(e.into(), progress(sent))),
        }
    }
    Ok(())
}

/// Closes `io` for every handle, the kernel forgetting it first. Closing
/// twice does nothing.
#[crate::task]
pub(crate) async fn close<T: Transport>(io: T) -> Result<()> {
    let fd = io.fileno();
    if fd >= 0 {
        io_release(fd).await?;
        io.close_now();
    }
    Ok(())
}

/// Runs `f` with `fd` in blocking mode, then puts it back in non-blocking
/// mode (Curio's `blocking()` context manager).
pub(crate) fn blocking<R>(fd: RawFd, f: impl FnOnce() -> io::Result<R>) -> Result<R> {
    let flags = fcntl_flags(fd)?;
    set_flags(fd, flags & !libc::O_NONBLOCK)?;
    let result = f();
    set_flags(fd, flags)?;
    Ok(result?)
}

/// `fcntl(fd, F_GETFL)`.
pub(crate) fn fcntl_flags(fd: RawFd) -> io::Result<libc::c_int> {
    // SAFETY: F_GETFL reads the flags of an fd; a bad fd is an error.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags)
}

/// `fcntl(fd, F_SETFL, flags)`.
pub(crate) fn set_flags(fd: RawFd, flags: libc::c_int) -> io::Result<()> {
    // SAFETY: F_SETFL sets the status flags of an fd; a bad fd is an error.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
