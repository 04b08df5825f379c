//! What sockets and files share: an owned fd that tells the kernel when it
//! closes, the [`Transport`] a stream reads and writes through, and the
//! retry loops every non-blocking operation runs (try the call; on
//! `WouldBlock` wait for the fd and try again).

use std::cell::{Cell, RefCell};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, RawFd};

use crate::error::{Error, Progress, Result};
use crate::protocol::coroutine::{Coroutine, Step, Value};
use crate::protocol::trap::Trap;
use crate::protocol::traps::io_release;

/// An fd, shared by the clones of a handle and closed when the last one
/// goes (the kernel forgets it first: see `kernel::note_closed`).
pub(crate) struct FdCell<F: AsRawFd> {
    /// `None` once closed.
    file: RefCell<Option<F>>,
    /// The file's fd while it is open, `-1` after: what the hot system
    /// calls use, without borrowing `file`.
    fd: Cell<RawFd>,
    /// A byte stream for which a short read means the fd was emptied.
    stream: bool,
    /// The last read emptied the fd: see [`Transport::drained`].
    drained: Cell<bool>,
}

impl<F: AsRawFd> FdCell<F> {
    /// `stream`: a read returns all that is there, up to the buffer's
    /// size (TCP; not a datagram socket, a terminal, which returns a line
    /// at a time, or a Unix stream, which stops at a message with fds).
    pub(crate) fn new(file: F, stream: bool) -> Self {
        FdCell {
            fd: Cell::new(file.as_raw_fd()),
            file: RefCell::new(Some(file)),
            stream,
            drained: Cell::new(false),
        }
    }

    /// Runs `f` on the open file.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&F) -> io::Result<R>) -> io::Result<R> {
        match &*self.file.borrow() {
            Some(file) => f(file),
            None => Err(closed_error()),
        }
    }

    /// Runs `call`, a system call that returns a byte count or `-1` with
    /// `errno` set, on the open fd.
    #[inline]
    pub(crate) fn sys(&self, call: impl FnOnce(RawFd) -> isize) -> io::Result<usize> {
        let fd = self.fd.get();
        if fd < 0 {
            return Err(closed_error());
        }
        usize::try_from(call(fd)).map_err(|_| io::Error::last_os_error())
    }

    /// Runs `call`, one read of up to `len` bytes (as [`sys`](Self::sys)),
    /// noting whether it emptied the fd (a short read of a stream).
    #[inline]
    pub(crate) fn read(&self, len: usize, call: impl FnOnce(RawFd) -> isize) -> io::Result<usize> {
        let result = self.sys(call);
        self.drained
            .set(self.stream && matches!(result, Ok(n) if n > 0 && n < len));
        result
    }

    /// Whether this is a byte stream.
    pub(crate) fn is_stream(&self) -> bool {
        self.stream
    }

    /// Whether the last read emptied the fd.
    pub(crate) fn drained(&self) -> bool {
        self.drained.get()
    }

    /// The fd, `-1` once closed.
    #[inline]
    pub(crate) fn fileno(&self) -> RawFd {
        self.fd.get()
    }

    /// Closes now, for every handle. Every kernel of this thread that
    /// still has the fd registered forgets it at its next look (the one
    /// that released it first, with `io_release`, has nothing to forget):
    /// so this is right from a `Drop`, which cannot trap, too.
    pub(crate) fn close_now(&self) {
        let fd = self.fd.replace(-1);
        if fd >= 0 {
            crate::kernel::note_closed(fd);
        }
        self.drained.set(false);
        drop(self.file.borrow_mut().take());
    }
}

/// What an operation on a closed fd fails with.
fn closed_error() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the file descriptor is closed")
}

impl<F: AsRawFd> Drop for FdCell<F> {
    fn drop(&mut self) {
        self.close_now();
    }
}

/// A non-blocking byte channel a [`Stream`](crate::io::stream::Stream) reads
/// and writes through: a [`Socket`](crate::io::socket::Socket) or a
/// [`FileIo`](crate::io::stream::FileIo). Handles are cheap clones of one
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
    /// Whether the last read emptied the fd, so that the next one would
    /// block: a read then waits first instead of trying (saving a system
    /// call per read in a request-response loop). Only for byte streams
    /// where a short read means nothing more was there (TCP; not a Unix
    /// stream, which stops early at a message carrying fds); data arriving
    /// afterwards is a new edge, which the wait sees, and an end of file
    /// the kernel already saw makes the wait return at once. The default:
    /// never.
    fn drained(&self) -> bool {
        false
    }
    /// One non-blocking write; `WouldBlock` when there is no room.
    ///
    /// # Errors
    /// The operating system's.
    fn write_some(&self, data: &[u8]) -> io::Result<usize>;
    /// Closes the fd for every handle; the kernel has already forgotten it.
    fn close_now(&self);
}

#[inline]
pub(crate) fn would_block(e: &io::Error) -> bool {
    // The errno first: `kind()` decodes it through a long match.
    match e.raw_os_error() {
        Some(code) => code == libc::EAGAIN || code == libc::EWOULDBLOCK,
        None => e.kind() == io::ErrorKind::WouldBlock,
    }
}

/// Which readiness a retried call waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ready {
    Read,
    Write,
}

/// A non-blocking operation as a leaf coroutine, like a trap: the first
/// resume tries `op(io, &mut state)`; on `WouldBlock` it yields
/// `ReadWait` / `WriteWait` on the fd and tries again when resumed.
/// A cancellation or timeout thrown in while it waits is returned as
/// `Err`, passed through `fail` (which can attach the progress kept in
/// `state`, such as the bytes already sent).
///
/// Curio writes these operations as `async def`s that loop around
/// `await _read_wait(fd)`. Here they are hand-written leaves instead of
/// `#[task]`s, because they are the hottest code of every server: one
/// small struct, no nested state machine, and no sub-coroutine for the
/// wait (see the echo benchmark in the README).
///
/// Each start spends one unit of the task's budget; when it is spent, the
/// call yields first (`coop.rs`: fairness between tasks).
#[must_use = "an I/O operation does nothing unless awaited"]
pub(crate) struct IoCall<T, S, F, E = Unchanged> {
    io: T,
    ready: Ready,
    phase: Phase,
    state: S,
    op: F,
    /// Usually a closure without captures: no space in the state.
    fail: E,
}

/// Where an [`IoCall`] is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    /// Yielded before trying, the task's budget being spent (see
    /// `coop.rs`).
    Yielded,
    Waiting,
    Done,
}

/// What an [`IoCall`] does to an error before returning it.
pub(crate) trait OnError<S> {
    fn fail(&self, state: &S, error: Error) -> Error;
}

/// For operations that keep no progress: the error as it is.
pub(crate) struct Unchanged;

impl<S> OnError<S> for Unchanged {
    #[inline]
    fn fail(&self, _: &S, error: Error) -> Error {
        error
    }
}

impl<S, G: Fn(&S, Error) -> Error> OnError<S> for G {
    #[inline]
    fn fail(&self, state: &S, error: Error) -> Error {
        self(state, error)
    }
}

impl<T, S, R, F> IoCall<T, S, F>
where
    T: Transport,
    F: FnMut(&T, &mut S) -> io::Result<R>,
{
    /// `op` on `io`, waiting for `ready` whenever it would block.
    pub(crate) fn new(io: T, ready: Ready, state: S, op: F) -> Self {
        IoCall {
            io,
            ready,
            phase: Phase::Start,
            state,
            op,
            fail: Unchanged,
        }
    }

    /// Passes every failure through `fail`.
    pub(crate) fn on_error<G: Fn(&S, Error) -> Error>(self, fail: G) -> IoCall<T, S, F, G> {
        IoCall {
            io: self.io,
            ready: self.ready,
            phase: self.phase,
            state: self.state,
            op: self.op,
            fail,
        }
    }
}

impl<T, S, R, F, E> IoCall<T, S, F, E>
where
    T: Transport,
    F: FnMut(&T, &mut S) -> io::Result<R>,
    E: OnError<S>,
{
    /// Tries the operation until it completes or would block.
    #[inline(always)]
    fn attempt(&mut self) -> Step<Result<R>> {
        loop {
            match (self.op)(&self.io, &mut self.state) {
                Ok(r) => {
                    self.phase = Phase::Done;
                    return Step::Return(Ok(r));
                }
                Err(e) if would_block(&e) => {
                    self.phase = Phase::Waiting;
                    let fd = self.io.fileno();
                    return Step::Trap(match self.ready {
                        Ready::Read => Trap::ReadWait(fd),
                        Ready::Write => Trap::WriteWait(fd),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.phase = Phase::Done;
                    return Step::Return(Err(self.fail.fail(&self.state, e.into())));
                }
            }
        }
    }
}

impl<T, S, R, F, E> Coroutine for IoCall<T, S, F, E>
where
    T: Transport,
    F: FnMut(&T, &mut S) -> io::Result<R>,
    E: OnError<S>,
{
    type Output = Result<R>;

    #[inline(always)]
    fn resume(&mut self, value: Value) -> Step<Result<R>> {
        value.discard();
        // After a wait the kernel's reply carries nothing: failures come
        // by `throw`.
        match self.phase {
            Phase::Start if self.ready == Ready::Read && self.io.drained() => {
                // The last read emptied the fd: this one would only fail.
                self.phase = Phase::Waiting;
                Step::Trap(Trap::ReadWait(self.io.fileno()))
            }
            Phase::Start if !crate::io::coop::spend() => {
                // The task has had its share: let the others run first.
                self.phase = Phase::Yielded;
                Step::Trap(crate::io::coop::yield_trap())
            }
            Phase::Done => crate::protocol::coroutine::resumed_after_completion(),
            _ => self.attempt(),
        }
    }

    fn throw(&mut self, error: Error) -> Step<Result<R>> {
        match self.phase {
            Phase::Waiting | Phase::Yielded => {
                self.phase = Phase::Done;
                Step::Return(Err(self.fail.fail(&self.state, error)))
            }
            Phase::Start => {
                panic!("throw into an I/O operation that never started: resume it first")
            }
            Phase::Done => crate::protocol::coroutine::resumed_after_completion(),
        }
    }
}

/// Reads up to `max` bytes, appended to `buf` (into its spare capacity:
/// nothing is zeroed or copied twice).
fn read_append_once<T: Transport>(io: &T, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    buf.reserve(max);
    let n = io.read_some(&mut buf.spare_capacity_mut()[..max])?;
    // SAFETY: `read_some` initialised the first `n` bytes of the spare
    // capacity, which directly follow the vector's contents.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// Reads at most this much through the shared scratch buffer.
const SCRATCH: usize = 64 * 1024;

/// The most one read reserves. A larger maximum (`recv(1 << 40)`,
/// `read(usize::MAX)`) is legal: it reads what is there, up to this much,
/// as "up to `max` bytes" allows. Python would try to allocate it all.
pub(crate) const MAX_READ: usize = 1 << 20;

thread_local! {
    /// Where [`read_exact_size`] reads before copying out what arrived.
    static SCRATCH_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One read of up to `max` bytes, as a vector of exactly the bytes that
/// arrived (Python's `recv` returns exactly-sized `bytes`). Reads of up to
/// 64 KiB go through a per-thread scratch buffer and are copied out: a
/// `recv(65536)` that gets 10 bytes neither holds 64 KiB nor pays for a
/// large allocation per call.
fn read_exact_size<T: Transport>(io: &T, max: usize) -> io::Result<Vec<u8>> {
    if max > SCRATCH {
        return read_large(io, max);
    }
    let scratch: *const RefCell<Vec<u8>> = SCRATCH_BUF.with(std::ptr::from_ref);
    // SAFETY: the thread-local lives until this thread ends, and this
    // function ends first: the reference does not outlive it. (Working
    // outside `with`'s closure keeps this path inlined: measured, 48
    // instructions per read.)
    let scratch = unsafe { &*scratch };
    // A `Transport` of the user's that reads through another socket
    // would find the buffer taken: it reads directly.
    let Ok(mut scratch) = scratch.try_borrow_mut() else {
        return read_large(io, max);
    };
    scratch.reserve(SCRATCH);
    let n = io.read_some(&mut scratch.spare_capacity_mut()[..max])?;
    // SAFETY: `read_some` initialised the first `n` bytes.
    unsafe { scratch.set_len(n) };
    let data = scratch.to_vec();
    scratch.clear();
    Ok(data)
}

/// [`read_exact_size`] past the scratch buffer: a vector of its own, of
/// at most [`MAX_READ`] bytes. Out of line, so that the common path stays
/// small.
#[inline(never)]
fn read_large<T: Transport>(io: &T, max: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let n = read_append_once(io, &mut buf, max.min(MAX_READ))?;
    if n < buf.capacity() / 2 {
        buf.shrink_to_fit();
    }
    Ok(buf)
}

/// Reads up to `max` bytes into a new vector of exactly that many bytes;
/// empty at end of file.
pub(crate) fn read_new<T: Transport>(
    io: T,
    max: usize,
) -> impl Coroutine<Output = Result<Vec<u8>>> + 'static {
    IoCall::new(io, Ready::Read, max, |io, max| read_exact_size(io, *max))
}

/// Writes what `io` takes of `data`; returns how much.
pub(crate) fn write_some<T: Transport, B: AsRef<[u8]> + 'static>(
    io: T,
    data: B,
) -> impl Coroutine<Output = Result<usize>> + 'static {
    IoCall::new(io, Ready::Write, data, |io, data| {
        io.write_some(data.as_ref())
    })
}

/// What [`write_all`] keeps: the data (until it is handed back), how much
/// went out, and how to report that.
pub(crate) struct Outgoing<B> {
    data: Option<B>,
    sent: usize,
    progress: fn(usize) -> Progress,
}

/// Writes all of `data` and hands it back, for reuse. A cancellation or
/// timeout says how many bytes went out (`progress(n)`), as Curio puts
/// `bytes_sent` / `bytes_written` on its `CancelledError`; other errors
/// are returned as they are.
pub(crate) fn write_all<T: Transport, B: AsRef<[u8]> + 'static>(
    io: T,
    data: B,
    progress: fn(usize) -> Progress,
) -> impl Coroutine<Output = Result<B>> + 'static {
    let out = Outgoing {
        data: Some(data),
        sent: 0,
        progress,
    };
    IoCall::new(io, Ready::Write, out, |io, out| {
        let data = out.data.as_ref().expect("written once").as_ref();
        while out.sent < data.len() {
            match io.write_some(&data[out.sent..])? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => out.sent += n,
            }
        }
        Ok(out.data.take().expect("written once"))
    })
    .on_error(|out, error| error.with_progress((out.progress)(out.sent)))
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
