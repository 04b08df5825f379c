//! Buffered byte streams (Curio's `SocketStream` and `FileStream`):
//! [`SocketStream`] over a [`Socket`], [`FileStream`] over any fd that can
//! be made non-blocking (pipes, terminals, character devices), with
//! `read`, `read_exactly`, `readline`, `readlines`, `readall`, `write`,
//! `writelines` and line iteration ([`next_line`](Stream::next_line)).
//!
//! Reads go through a buffer that outlives every call, so a read that is
//! cancelled or times out loses nothing: whatever arrived stays buffered
//! for the next read.
//!
//! # Line length
//!
//! A peer decides how long a line is, so `readline` (and `next_line`,
//! `readlines`) stops at [`MAX_LINE`] bytes (64 KiB, asyncio's default
//! `limit=`; change it per stream with [`set_max_line`](Stream::set_max_line)):
//! a line that has no newline within the limit fails with
//! [`Error::LineTooLong`], with the stream's memory bounded by the limit
//! plus one read. The bytes stay buffered (read them with
//! [`read`](Stream::read) if they are wanted). Curio has no limit; asyncio
//! has this one.
//!
//! ```
//! use curio::socket::{socketpair, Domain, Type};
//! use curio::stream::SocketStream;
//! use curio::Result;
//!
//! #[curio::task]
//! async fn demo() -> Result<Vec<Vec<u8>>> {
//!     let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
//!     let (a, b) = (SocketStream::new(a), SocketStream::new(b));
//!     a.write(b"one\ntwo\n".to_vec()).await?;
//!     a.close().await?;
//!     b.readlines().await
//! }
//! assert_eq!(curio::run(demo()).unwrap(), [b"one\n".to_vec(), b"two\n".to_vec()]);
//! ```

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::rc::Rc;

use crate::error::{Error, Progress, Result};
pub use crate::io::fd::Transport;
use crate::io::fd::{FdCell, IoCall, Ready, fcntl_flags, set_flags};
use crate::io::socket::Socket;
use crate::protocol::coroutine::Coroutine;

/// How much a buffered read asks for at once.
const CHUNK: usize = 65536;

/// The longest line `readline` accepts by default, newline included
/// (asyncio's default `limit=`); see [`Stream::set_max_line`].
pub const MAX_LINE: usize = 65536;

/// A buffered stream over a [`Transport`]. Cheap to clone; clones share
/// the fd, the buffer and the line limit.
///
/// ```
/// use curio::socket::{socketpair, Domain, Type};
/// use curio::Result;
///
/// #[curio::task]
/// async fn demo() -> Result<Vec<Vec<u8>>> {
///     let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
///     let (a, b) = (a.as_stream(), b.as_stream());
///     a.writelines(vec![b"one\n".to_vec(), b"two\n".to_vec()]).await?;
///     a.close().await?;
///     let mut lines = Vec::new();
///     while let Some(line) = b.next_line().await? {
///         lines.push(line);
///     }
///     Ok(lines)
/// }
/// assert_eq!(curio::run(demo()).unwrap(), [b"one\n".to_vec(), b"two\n".to_vec()]);
/// ```
#[derive(Clone)]
pub struct Stream<T: Transport> {
    io: T,
    buffer: Rc<Buffered>,
}

/// What the clones of a stream share besides the fd.
struct Buffered {
    bytes: RefCell<ReadBuffer>,
    max_line: Cell<usize>,
}

/// Bytes read and not yet taken: `data[start..]`. Taking bytes moves
/// `start` (no copy of what follows); the consumed front is dropped when
/// more is read and it is at least half of the vector, so every byte is
/// moved at most once more, however short the lines.
#[derive(Default)]
struct ReadBuffer {
    data: Vec<u8>,
    start: usize,
}

impl ReadBuffer {
    fn len(&self) -> usize {
        self.data.len() - self.start
    }

    fn unread(&self) -> &[u8] {
        &self.data[self.start..]
    }

    /// Puts `lines` back in front of the unread bytes, in order (what
    /// `readlines` had read when it failed).
    fn put_back(&mut self, lines: &[Vec<u8>]) {
        let len: usize = lines.iter().map(Vec::len).sum();
        if len <= self.start {
            self.start -= len;
            let mut at = self.start;
            for line in lines {
                self.data[at..at + line.len()].copy_from_slice(line);
                at += line.len();
            }
        } else {
            let front: Vec<u8> = lines.concat();
            self.data.splice(..self.start, front);
            self.start = 0;
        }
    }

    /// Takes the first `n` unread bytes (fewer if there are fewer).
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.len());
        let out = self.data[self.start..self.start + n].to_vec();
        self.start += n;
        if self.start == self.data.len() {
            self.data.clear();
            self.start = 0;
            // A burst (a long read) leaves no lasting buffer behind.
            if self.data.capacity() > 4 * CHUNK {
                self.data = Vec::new();
            }
        }
        out
    }

    /// Room for up to `max` more bytes after the unread ones: the spare
    /// capacity there is, made `max` only when less than a quarter of it
    /// is left. (Reserving `max` beyond the bytes held at every read made
    /// a client that trickles a byte at a time cost a reallocation, and
    /// 64 KiB of touched memory, on its second byte.)
    fn spare(&mut self, max: usize) -> &mut [MaybeUninit<u8>] {
        if self.start > 0 && self.start >= self.data.len() / 2 {
            self.data.drain(..self.start);
            self.start = 0;
        }
        if self.data.capacity() - self.data.len() < max / 4 {
            self.data.reserve(max);
        }
        let room = self.data.spare_capacity_mut();
        let len = room.len().min(max);
        &mut room[..len]
    }

    /// Reads once from `io`, appending up to `max` bytes (fewer if the
    /// buffer's spare room is smaller).
    fn fill_from<T: Transport>(&mut self, io: &T, max: usize) -> io::Result<usize> {
        let n = io.read_some(self.spare(max))?;
        // SAFETY: `read_some` initialised the first `n` bytes of the spare
        // capacity, which directly follow the vector's contents.
        unsafe { self.data.set_len(self.data.len() + n) };
        Ok(n)
    }
}

/// Reads up to `max` bytes into `buffer`, a stream's (what arrived is kept
/// even if the caller is cancelled after); returns how many, 0 at end of
/// file.
fn read_buffered<T: Transport>(
    io: T,
    buffer: Rc<Buffered>,
    max: usize,
) -> impl Coroutine<Output = Result<usize>> + 'static {
    IoCall::new(io, Ready::Read, buffer, move |io, buffer| {
        buffer.bytes.borrow_mut().fill_from(io, max)
    })
}

impl<T: Transport> std::fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("fd", &self.io.fileno())
            .field("buffered", &self.buffered())
            .finish()
    }
}

impl std::fmt::Debug for FileIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileIo")
            .field("fd", &self.inner.fileno())
            .finish()
    }
}

impl Socket {
    /// A buffered stream over this socket (Curio's `as_stream()`); it
    /// shares the socket.
    pub fn as_stream(&self) -> SocketStream {
        SocketStream::new(self.clone())
    }

    /// A [`FileStream`] over a duplicate of the socket's fd (Curio's
    /// `makefile('rb')` / `makefile('wb')`; streams are always binary).
    /// Closing either leaves the other open.
    ///
    /// # Errors
    /// The operating system's; the socket is closed.
    pub fn makefile(&self) -> Result<FileStream> {
        let fd = self.io(|s| s.as_fd().try_clone_to_owned())?;
        Ok(FileStream::new(FileIo::new(fd)?))
    }
}

/// A stream over a socket (Curio's `SocketStream`; `sock.as_stream()`).
pub type SocketStream = Stream<Socket>;

/// A stream over a non-blocking fd: a pipe, a terminal, ... (Curio's
/// `FileStream`). Regular files never block, so reading one through a
/// `FileStream` blocks the kernel for each read.
pub type FileStream = Stream<FileIo>;

/// The fd under a [`FileStream`]: made non-blocking when wrapped, its
/// original flags put back when it closes (so a terminal shared with the
/// shell is left as it was found).
#[derive(Clone)]
pub struct FileIo {
    inner: Rc<FdCell<NonBlocking>>,
}

/// A file in non-blocking mode, and its flags from before.
struct NonBlocking {
    file: File,
    flags: libc::c_int,
}

impl AsRawFd for NonBlocking {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

impl Drop for NonBlocking {
    fn drop(&mut self) {
        // Best effort: the fd is closing either way.
        let _ = set_flags(self.file.as_raw_fd(), self.flags);
    }
}

impl FileIo {
    /// Takes `fd` and makes it non-blocking.
    ///
    /// # Errors
    /// The operating system's (a bad fd).
    pub fn new(fd: impl Into<OwnedFd>) -> Result<FileIo> {
        let file = File::from(fd.into());
        let flags = fcntl_flags(file.as_raw_fd())?;
        set_flags(file.as_raw_fd(), flags | libc::O_NONBLOCK)?;
        Ok(FileIo {
            inner: Rc::new(FdCell::new(NonBlocking { file, flags }, false)),
        })
    }
}

impl Transport for FileIo {
    fn fileno(&self) -> RawFd {
        self.inner.fileno()
    }

    fn read_some(&self, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
        self.inner.sys(|fd| {
            // SAFETY: `read` writes at most `buf.len()` bytes into `buf`.
            unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) }
        })
    }

    fn write_some(&self, data: &[u8]) -> io::Result<usize> {
        self.inner.sys(|fd| {
            // SAFETY: `write` reads at most `data.len()` bytes of `data`.
            unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) }
        })
    }

    fn close_now(&self) {
        self.inner.close_now();
    }
}

impl<T: Transport> Stream<T> {
    /// A stream over `io` (Curio's `sock.as_stream()`, `FileStream(f)`).
    pub fn new(io: T) -> Stream<T> {
        Stream {
            io,
            buffer: Rc::new(Buffered {
                bytes: RefCell::default(),
                max_line: Cell::new(MAX_LINE),
            }),
        }
    }

    /// Sets the longest line [`readline`](Self::readline) accepts, newline
    /// included, for this stream and its clones (asyncio's `limit=`; the
    /// default is [`MAX_LINE`]). `usize::MAX` removes the limit, as in
    /// Curio, for a peer you trust.
    pub fn set_max_line(&self, limit: usize) {
        self.buffer.max_line.set(limit.max(1));
    }

    /// The longest line [`readline`](Self::readline) accepts.
    pub fn max_line(&self) -> usize {
        self.buffer.max_line.get()
    }

    /// The transport underneath.
    pub fn transport(&self) -> &T {
        &self.io
    }

    /// The fd (`-1` once closed).
    pub fn fileno(&self) -> RawFd {
        self.io.fileno()
    }

    /// Takes the first `n` buffered bytes.
    fn take(&self, n: usize) -> Vec<u8> {
        self.buffer.bytes.borrow_mut().take(n)
    }

    /// How many bytes are buffered.
    fn buffered(&self) -> usize {
        self.buffer.bytes.borrow().len()
    }

    /// Where the first line of the buffer ends (after its newline),
    /// searching from `from`; an error if it is longer than the limit.
    fn line_end(&self, from: usize) -> Result<Option<usize>> {
        let bytes = self.buffer.bytes.borrow();
        let limit = self.max_line();
        let unread = bytes.unread();
        match unread[from..].iter().position(|&b| b == b'\n') {
            Some(at) if from + at < limit => Ok(Some(from + at + 1)),
            None if unread.len() < limit => Ok(None),
            _ => Err(Error::LineTooLong { limit }),
        }
    }

    /// Fails if bytes are buffered: raw access would skip them.
    fn check_unbuffered(&self) -> Result<()> {
        match self.buffered() {
            0 => Ok(()),
            n => Err(Error::runtime(format!(
                "there are {n} bytes of unread buffered data"
            ))),
        }
    }
}

impl Stream<Socket> {
    /// The socket underneath.
    pub fn socket(&self) -> &Socket {
        &self.io
    }

    /// Runs `f` on the socket in blocking mode (Curio's `blocking()`).
    ///
    /// # Errors
    /// `RuntimeError` if bytes are buffered (they would be skipped); as
    /// [`Socket::blocking`].
    pub fn blocking<R>(&self, f: impl FnOnce(&socket2::Socket) -> io::Result<R>) -> Result<R> {
        self.check_unbuffered()?;
        self.io.blocking(f)
    }
}

impl Stream<FileIo> {
    /// A stream over `fd`, made non-blocking until the stream closes.
    ///
    /// # Errors
    /// The operating system's (a bad fd).
    pub fn from_fd(fd: impl Into<OwnedFd>) -> Result<FileStream> {
        Ok(Stream::new(FileIo::new(fd)?))
    }

    /// A stream over a duplicate of standard input. The terminal or pipe
    /// is non-blocking until the stream closes (for every process sharing
    /// it), and put back as it was then.
    ///
    /// # Errors
    /// The operating system's.
    pub fn stdin() -> Result<FileStream> {
        Stream::from_fd(std::io::stdin().as_fd().try_clone_to_owned()?)
    }

    /// A stream over a duplicate of standard output; see
    /// [`stdin`](Self::stdin).
    ///
    /// # Errors
    /// The operating system's.
    pub fn stdout() -> Result<FileStream> {
        Stream::from_fd(std::io::stdout().as_fd().try_clone_to_owned()?)
    }

    /// Runs `f` on the file in blocking mode, then makes it non-blocking
    /// again (Curio's `blocking()`). It blocks the whole kernel.
    ///
    /// # Errors
    /// `RuntimeError` if bytes are buffered (they would be skipped);
    /// `f`'s; the operating system's.
    pub fn blocking<R>(&self, f: impl FnOnce(&File) -> io::Result<R>) -> Result<R> {
        self.check_unbuffered()?;
        self.io
            .inner
            .with(|nb| Ok(crate::io::fd::blocking(nb.file.as_raw_fd(), || f(&nb.file))))?
    }
}

#[crate::task]
impl<T: Transport> Stream<T> {
    /// Reads more into the buffer; `false` at end of file.
    async fn fill(&self) -> Result<bool> {
        let n = read_buffered(self.io.clone(), self.buffer.clone(), CHUNK).await?;
        Ok(n > 0)
    }

    /// Reads up to `maxbytes` (what is buffered, or one read); empty at end
    /// of file.
    ///
    /// # Errors
    /// The fd's; a cancellation or timeout while waiting.
    pub async fn read(&self, maxbytes: usize) -> Result<Vec<u8>> {
        if self.buffered() > 0 {
            // Served from the buffer: still a turn of the task's budget.
            crate::io::coop::proceed().await?;
            // (A clone of the stream may have read meanwhile.)
            if self.buffered() > 0 {
                return Ok(self.take(maxbytes));
            }
        }
        crate::io::fd::read_new(self.io.clone(), maxbytes).await
    }

    /// Reads exactly `n` bytes.
    ///
    /// # Errors
    /// [`Error::Io`] `UnexpectedEof` if the stream ends first (the bytes
    /// read stay buffered); the fd's errors; a cancellation or timeout
    /// (nothing is lost).
    pub async fn read_exactly(&self, n: usize) -> Result<Vec<u8>> {
        while self.buffered() < n {
            if !self.fill().await? {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!(
                        "expected {n} bytes, the stream ended after {}",
                        self.buffered()
                    ),
                )
                .into());
            }
        }
        Ok(self.take(n))
    }

    /// Reads a line, newline included; at end of file, what is left
    /// (possibly nothing).
    ///
    /// # Errors
    /// [`Error::LineTooLong`] if no newline comes within
    /// [`max_line`](Self::max_line) bytes (they stay buffered); the fd's;
    /// a cancellation or timeout (nothing is lost).
    pub async fn readline(&self) -> Result<Vec<u8>> {
        if self.buffered() > 0 {
            // A line may be served from the buffer: still a turn of the
            // task's budget (a flood of short lines must not starve the
            // other tasks).
            crate::io::coop::proceed().await?;
        }
        let mut searched = 0;
        loop {
            if let Some(end) = self.line_end(searched)? {
                return Ok(self.take(end));
            }
            searched = self.buffered();
            if !self.fill().await? {
                return Ok(self.take(searched));
            }
        }
    }

    /// The next line, or `None` at end of file (Python's `async for line
    /// in stream`): `while let Some(line) = s.next_line().await? { .. }`.
    ///
    /// # Errors
    /// As [`readline`](Self::readline).
    pub async fn next_line(&self) -> Result<Option<Vec<u8>>> {
        let line = self.readline().await?;
        Ok((!line.is_empty()).then_some(line))
    }

    /// Reads every line until end of file.
    ///
    /// # Errors
    /// The fd's, [`Error::LineTooLong`], a cancellation or timeout, each
    /// as itself: nothing is lost, as the lines read so far are put back
    /// in the buffer, in front of any partial line (Curio hands them over
    /// as `e.lines_read` on a cancellation and drops them on other
    /// errors; here the next read gets them).
    pub async fn readlines(&self) -> Result<Vec<Vec<u8>>> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        loop {
            match self.next_line().await {
                Ok(Some(line)) => lines.push(line),
                Ok(None) => return Ok(lines),
                Err(e) => {
                    self.buffer.bytes.borrow_mut().put_back(&lines);
                    return Err(e);
                }
            }
        }
    }

    /// Reads until end of file.
    ///
    /// # Errors
    /// The fd's; a cancellation or timeout (what was read stays buffered).
    pub async fn readall(&self) -> Result<Vec<u8>> {
        while self.fill().await? {}
        Ok(self.take(usize::MAX))
    }

    /// Writes all of `data`.
    ///
    /// # Errors
    /// The fd's; a cancellation or timeout, with the bytes written by then
    /// attached ([`Error::bytes_written`], Curio's `e.bytes_written`).
    pub async fn write<B: AsRef<[u8]> + 'static>(&self, data: B) -> Result<()> {
        crate::io::fd::write_all(self.io.clone(), data, Progress::BytesWritten).await?;
        Ok(())
    }

    /// Writes each line in turn.
    ///
    /// # Errors
    /// As [`write`](Self::write), counting the bytes of every line written.
    pub async fn writelines(&self, lines: Vec<Vec<u8>>) -> Result<()> {
        let mut written = 0;
        for line in lines {
            let len = line.len();
            if let Err(e) = self.write(line).await {
                let before = e.bytes_written().unwrap_or(0);
                return Err(e.with_progress(Progress::BytesWritten(written + before)));
            }
            written += len;
        }
        Ok(())
    }

    /// Nothing to do: writes are not buffered (Curio's `flush`).
    ///
    /// # Errors
    /// None; the signature matches Curio's.
    pub async fn flush(&self) -> Result<()> {
        Ok(())
    }

    /// Closes the fd for every handle; buffered bytes are dropped.
    ///
    /// # Errors
    /// None from a kernel; the signature is that of every trap.
    pub async fn close(&self) -> Result<()> {
        crate::io::fd::close(self.io.clone()).await
    }
}
