//! [`Socket`]: a non-blocking socket whose blocking operations are
//! coroutines (Curio's `curio.socket` / `curio.io.Socket`).
//!
//! Each operation tries the system call first; on `WouldBlock` it waits
//! with `read_wait` / `write_wait` and tries again. A `Socket` is a cheap
//! handle: clones share the socket, and dropping the last one closes it
//! (the kernel forgets the fd first). TCP, UDP and Unix sockets, IPv4 and
//! IPv6, through [`socket2`](https://docs.rs/socket2).
//!
//! ```
//! use curio::socket::{socketpair, Domain, Type};
//! use curio::Result;
//!
//! #[curio::task]
//! async fn demo() -> Result<Vec<u8>> {
//!     let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
//!     a.sendall(b"hello".to_vec()).await?;
//!     b.recv(100).await
//! }
//! assert_eq!(curio::run(demo()).unwrap(), b"hello");
//! ```

use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::rc::Rc;

pub use libc::{
    IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPV6_V6ONLY, MSG_DONTWAIT, MSG_OOB, MSG_PEEK, MSG_TRUNC,
    MSG_WAITALL, SCM_RIGHTS, SO_BROADCAST, SO_ERROR, SO_KEEPALIVE, SO_RCVBUF, SO_REUSEADDR,
    SO_REUSEPORT, SO_SNDBUF, SO_TYPE, SOL_SOCKET, TCP_NODELAY,
};
pub use socket2::{Domain, Protocol, SockAddr, Type};

mod msg;
mod resolve;

pub use msg::{Cmsg, Message};
use msg::{Outgoing, recvmsg_once, sendmsg_once};
pub use resolve::getaddrinfo;
pub(crate) use resolve::resolve;
use resolve::split_host_port;

use crate::error::{Error, Progress, Result};
use crate::io::fd::{FdCell, IoCall, MAX_READ, Ready, Transport};
use crate::protocol::coroutine::Coroutine;

/// A non-blocking socket (Curio's `Socket`). Cheap to clone; clones share
/// the socket, and dropping the last one closes it.
///
/// ```
/// use curio::socket::{socketpair, Domain, Type};
/// use curio::Result;
///
/// #[curio::task]
/// async fn demo() -> Result<Vec<u8>> {
///     let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
///     a.sendall(b"ping".to_vec()).await?;
///     a.close().await?;
///     let mut got = Vec::new();
///     loop {
///         let chunk = b.recv(16).await?;
///         if chunk.is_empty() {
///             return Ok(got); // end of file
///         }
///         got.extend(chunk);
///     }
/// }
/// assert_eq!(curio::run(demo()).unwrap(), b"ping");
/// ```
#[derive(Clone)]
pub struct Socket {
    inner: Rc<FdCell<socket2::Socket>>,
}

impl fmt::Debug for Socket {
    /// `Socket { fd: 7, local: Some(127.0.0.1:25000) }` (the fd is -1
    /// once closed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.local_addr().ok();
        let shown = local
            .as_ref()
            .map(|a| match (a.as_socket(), a.as_pathname()) {
                (Some(inet), _) => inet.to_string(),
                (None, Some(path)) => path.display().to_string(),
                (None, None) => String::new(),
            });
        f.debug_struct("Socket")
            .field("fd", &self.inner.fileno())
            .field("local", &shown)
            .finish()
    }
}

/// Makes a connected pair of sockets (Curio's `socketpair`).
///
/// # Errors
/// The operating system's.
pub fn socketpair(domain: Domain, ty: Type) -> Result<(Socket, Socket)> {
    let (a, b) = socket2::Socket::pair(domain, ty, None)?;
    let tcp = is_tcp(domain, ty);
    Ok((Socket::wrap(a, tcp)?, Socket::wrap(b, tcp)?))
}

/// Whether a socket is TCP, the kind for which a short read means it was
/// emptied. Not a Unix stream: a read there may end early at a message
/// that carries fds or another writer's credentials, data still waiting.
fn is_tcp(domain: Domain, ty: Type) -> bool {
    ty == Type::STREAM && (domain == Domain::IPV4 || domain == Domain::IPV6)
}

/// A socket on a duplicate of `fd` (Curio's `fromfd`; the original stays
/// open and is not changed, except that the two now share non-blocking
/// mode).
///
/// # Errors
/// The operating system's.
pub fn fromfd(fd: impl AsFd) -> Result<Socket> {
    Socket::from_socket2(socket2::Socket::from(fd.as_fd().try_clone_to_owned()?))
}

/// Connects a TCP socket to `addr`, `"host:port"` (Curio's
/// `create_connection`; an IPv6 host in brackets: `"[::1]:80"`). Each of
/// the host's addresses is tried in turn, as Python does, until one
/// accepts; the error is the last address's.
///
/// A numeric host costs nothing. A name is looked up with
/// [`getaddrinfo`], on a worker thread, as Curio does: a slow DNS query
/// blocks only this task.
///
/// # Errors
/// A malformed address, a name that does not resolve, or the last
/// connection's failure; a cancellation or timeout at once.
#[crate::task]
pub async fn create_connection(addr: String) -> Result<Socket> {
    let (host, port) = {
        let (host, port) = split_host_port(&addr)?;
        (host.to_string(), port)
    };
    let addrs = getaddrinfo(host, port).await?;
    connect_any(addrs).await
}

/// A TCP socket connected to the first of `addrs` that accepts.
#[crate::task]
pub(crate) async fn connect_any(addrs: Vec<std::net::SocketAddr>) -> Result<Socket> {
    let mut last = Error::msg("no address to connect to");
    for addr in addrs {
        match connect_to(addr).await {
            Ok(sock) => return Ok(sock),
            Err(e) if e.is_cancelled() => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A TCP socket connected to `addr`.
#[crate::task]
pub(crate) async fn connect_to(addr: std::net::SocketAddr) -> Result<Socket> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM)?;
    sock.connect(addr.into()).await?;
    Ok(sock)
}

impl Transport for Socket {
    #[inline]
    fn fileno(&self) -> RawFd {
        self.inner.fileno()
    }

    #[inline]
    fn read_some(&self, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
        let len = buf.len();
        self.inner.read(len, |fd| {
            // SAFETY: `recv` writes at most `len` bytes into `buf`.
            unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), len, 0) }
        })
    }

    fn drained(&self) -> bool {
        self.inner.drained()
    }

    #[inline]
    fn write_some(&self, data: &[u8]) -> io::Result<usize> {
        // No SIGPIPE for a peer that left, whatever the program's signal
        // dispositions: `EPIPE` is an error for this connection only.
        self.inner.sys(|fd| {
            // SAFETY: `send` reads at most `data.len()` bytes of `data`.
            unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), SEND_FLAGS) }
        })
    }

    fn close_now(&self) {
        self.inner.close_now();
    }
}

/// No `SIGPIPE` for a peer that left: `EPIPE` is an error for that
/// connection only. Where `send` has no such flag (macOS), the socket is
/// made with `SO_NOSIGPIPE` instead (see `Socket::wrap`).
#[cfg(not(target_vendor = "apple"))]
pub(crate) const SEND_FLAGS: i32 = libc::MSG_NOSIGNAL;
#[cfg(target_vendor = "apple")]
pub(crate) const SEND_FLAGS: i32 = 0;

/// All of `buf`'s capacity as room to read into, its contents dropped.
#[inline]
fn spare_room(buf: &mut Vec<u8>) -> io::Result<&mut [MaybeUninit<u8>]> {
    buf.clear();
    if buf.capacity() == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the buffer has no capacity to receive into (use Vec::with_capacity)",
        ));
    }
    Ok(buf.spare_capacity_mut())
}

#[crate::task]
impl Socket {
    /// A new non-blocking socket (Curio's `socket(family, type)`).
    ///
    /// # Errors
    /// The operating system's.
    pub fn new(domain: Domain, ty: Type) -> Result<Socket> {
        Ok(Socket::wrap(
            socket2::Socket::new(domain, ty, None)?,
            is_tcp(domain, ty),
        )?)
    }

    /// Wraps an existing socket, making it non-blocking.
    ///
    /// # Errors
    /// The operating system's.
    pub fn from_socket2(sock: socket2::Socket) -> Result<Socket> {
        let tcp = is_tcp(sock.local_addr()?.domain(), sock.r#type()?);
        Ok(Socket::wrap(sock, tcp)?)
    }

    /// Wraps a socket, making it non-blocking; `tcp` says whether a short
    /// read empties it (see [`FdCell::new`]).
    fn wrap(sock: socket2::Socket, tcp: bool) -> io::Result<Socket> {
        sock.set_nonblocking(true)?;
        #[cfg(target_vendor = "apple")]
        sock.set_nosigpipe(true)?;
        Ok(Socket {
            inner: Rc::new(FdCell::new(sock, tcp)),
        })
    }

    /// Runs `f` on the open socket.
    pub(crate) fn io<R>(&self, f: impl FnOnce(&socket2::Socket) -> io::Result<R>) -> io::Result<R> {
        self.inner.with(f)
    }

    /// The file descriptor (`-1` once closed).
    pub fn fileno(&self) -> RawFd {
        self.inner.fileno()
    }

    /// Binds to `addr`.
    ///
    /// # Errors
    /// The operating system's.
    pub fn bind(&self, addr: &SockAddr) -> Result<()> {
        Ok(self.io(|s| s.bind(addr))?)
    }

    /// Listens for connections.
    ///
    /// # Errors
    /// The operating system's.
    pub fn listen(&self, backlog: i32) -> Result<()> {
        Ok(self.io(|s| s.listen(backlog))?)
    }

    /// The local address (`getsockname`).
    ///
    /// # Errors
    /// The operating system's.
    pub fn local_addr(&self) -> Result<SockAddr> {
        Ok(self.io(socket2::Socket::local_addr)?)
    }

    /// The peer's address (`getpeername`).
    ///
    /// # Errors
    /// The operating system's.
    pub fn peer_addr(&self) -> Result<SockAddr> {
        Ok(self.io(socket2::Socket::peer_addr)?)
    }

    /// Sets an integer socket option (Python's `setsockopt(level, name,
    /// value)`): `sock.setsockopt(libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)`.
    ///
    /// # Errors
    /// The operating system's (an unknown option, ...).
    pub fn setsockopt(&self, level: i32, name: i32, value: i32) -> Result<()> {
        Ok(self.io(|s| {
            // SAFETY: the option value is a live `c_int` of the given size.
            let rc = unsafe {
                libc::setsockopt(
                    s.as_raw_fd(),
                    level,
                    name,
                    (&raw const value).cast(),
                    std::mem::size_of::<i32>() as libc::socklen_t,
                )
            };
            if rc < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        })?)
    }

    /// Reads an integer socket option (Python's `getsockopt(level, name)`).
    ///
    /// # Errors
    /// The operating system's.
    pub fn getsockopt(&self, level: i32, name: i32) -> Result<i32> {
        Ok(self.io(|s| {
            let mut value: i32 = 0;
            let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
            // SAFETY: the kernel writes at most `len` bytes into `value`.
            let rc = unsafe {
                libc::getsockopt(
                    s.as_raw_fd(),
                    level,
                    name,
                    (&raw mut value).cast(),
                    &raw mut len,
                )
            };
            if rc < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(value)
            }
        })?)
    }

    /// Sets `SO_REUSEADDR`.
    ///
    /// # Errors
    /// The operating system's.
    pub fn set_reuse_address(&self, on: bool) -> Result<()> {
        Ok(self.io(|s| s.set_reuse_address(on))?)
    }

    /// Sets `SO_REUSEPORT`.
    ///
    /// # Errors
    /// The operating system's.
    pub fn set_reuse_port(&self, on: bool) -> Result<()> {
        Ok(self.io(|s| s.set_reuse_port(on))?)
    }

    /// Sets `TCP_NODELAY`.
    ///
    /// # Errors
    /// The operating system's.
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        Ok(self.io(|s| s.set_tcp_nodelay(on))?)
    }

    /// Sets `SO_KEEPALIVE`.
    ///
    /// # Errors
    /// The operating system's.
    pub fn set_keepalive(&self, on: bool) -> Result<()> {
        Ok(self.io(|s| s.set_keepalive(on))?)
    }

    /// Sets `SO_BROADCAST`.
    ///
    /// # Errors
    /// The operating system's.
    pub fn set_broadcast(&self, on: bool) -> Result<()> {
        Ok(self.io(|s| s.set_broadcast(on))?)
    }

    /// Sets `IPV6_V6ONLY` (before `bind`).
    ///
    /// # Errors
    /// The operating system's.
    pub fn set_only_v6(&self, on: bool) -> Result<()> {
        Ok(self.io(|s| s.set_only_v6(on))?)
    }

    /// Sets `SO_SNDBUF` and `SO_RCVBUF` (`None` leaves one as it is).
    ///
    /// # Errors
    /// The operating system's.
    pub fn set_buffer_sizes(&self, send: Option<usize>, recv: Option<usize>) -> Result<()> {
        Ok(self.io(|s| {
            if let Some(n) = send {
                s.set_send_buffer_size(n)?;
            }
            if let Some(n) = recv {
                s.set_recv_buffer_size(n)?;
            }
            Ok(())
        })?)
    }

    /// Shuts down reading, writing or both (half-close).
    ///
    /// # Errors
    /// The operating system's.
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        Ok(self.io(|s| s.shutdown(how))?)
    }

    /// The socket itself, for options this type does not wrap (it stays
    /// non-blocking).
    ///
    /// # Errors
    /// If the socket is closed.
    pub fn with_socket2<R>(&self, f: impl FnOnce(&socket2::Socket) -> io::Result<R>) -> Result<R> {
        Ok(self.io(f)?)
    }

    /// Runs `f` on the socket in blocking mode, then makes it non-blocking
    /// again (Curio's `with sock.blocking() as s:`), for code that needs a
    /// blocking socket. It blocks the whole kernel while it runs.
    ///
    /// # Errors
    /// `f`'s; the operating system's.
    pub fn blocking<R>(&self, f: impl FnOnce(&socket2::Socket) -> io::Result<R>) -> Result<R> {
        self.with_socket2(|s| Ok(crate::io::fd::blocking(s.as_raw_fd(), || f(s))))?
    }

    /// Runs `body`, then closes the socket, however `body` ended (Python's
    /// `async with sock:`).
    ///
    /// # Errors
    /// `body`'s.
    pub async fn with<C, T>(&self, body: C) -> Result<T>
    where
        C: Coroutine<Output = Result<T>>,
    {
        let result = body.await;
        crate::task::cancel::disable_cancellation(self.close()).await?;
        result
    }

    /// Accepts a connection, waiting for one.
    ///
    /// # Errors
    /// The operating system's; a cancellation or timeout while waiting.
    pub fn accept(&self) -> impl Coroutine<Output = Result<(Socket, SockAddr)>> + use<> {
        IoCall::new(self.clone(), Ready::Read, (), |s, ()| {
            let (sock, addr) = s.io(socket2::Socket::accept)?;
            // A connection is of the listener's type.
            Ok((Socket::wrap(sock, s.inner.is_stream())?, addr))
        })
    }

    /// Connects to `addr`, waiting for the connection to complete.
    ///
    /// # Errors
    /// The connection's failure; a cancellation or timeout while waiting.
    pub async fn connect(&self, addr: SockAddr) -> Result<()> {
        match self.connect_ex(addr).await? {
            0 => Ok(()),
            code => Err(io::Error::from_raw_os_error(code).into()),
        }
    }

    /// Connects to `addr` and returns the error code instead of failing: 0
    /// for success, `libc::ECONNREFUSED` ... (Curio's `connect_ex`).
    ///
    /// # Errors
    /// A cancellation or timeout while waiting; a closed socket.
    pub async fn connect_ex(&self, addr: SockAddr) -> Result<i32> {
        match self.io(|s| s.connect(&addr)) {
            Ok(()) => return Ok(0),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return e.raw_os_error().ok_or_else(|| e.into()),
        }
        crate::protocol::traps::write_wait(self.fileno()).await?;
        match self.io(socket2::Socket::take_error)? {
            None => Ok(0),
            Some(e) => e.raw_os_error().ok_or_else(|| e.into()),
        }
    }

    /// Receives up to `maxsize` bytes; an empty result means the peer
    /// closed its end. One call reads at most 1 MiB, whatever `maxsize`
    /// (a huge maximum reads what is there).
    ///
    /// # Errors
    /// The operating system's (a reset peer, ...); a cancellation or
    /// timeout while waiting (nothing was received then).
    pub fn recv(&self, maxsize: usize) -> impl Coroutine<Output = Result<Vec<u8>>> + use<> {
        crate::io::fd::read_new(self.clone(), maxsize)
    }

    /// Receives into `buf`, replacing its contents with up to
    /// `buf.capacity()` bytes, and gives it back with the number of bytes
    /// received, which is also its new length (Python's `recv_into`, with
    /// an owned buffer; 0 at end of file). Nothing is zeroed or copied, so
    /// one buffer can serve a whole connection:
    ///
    /// ```
    /// # use curio::socket::Socket;
    /// #[curio::task]
    /// async fn echo(client: Socket) -> curio::Result<()> {
    ///     let mut buf = Vec::with_capacity(16384);
    ///     loop {
    ///         let (n, data) = client.recv_into(buf).await?;
    ///         if n == 0 {
    ///             return Ok(());
    ///         }
    ///         buf = client.sendall(data).await?;
    ///     }
    /// }
    /// ```
    ///
    /// # Errors
    /// As [`recv`](Self::recv); a buffer without capacity (which could only
    /// ever read 0 bytes, like end of file). On an error the buffer is
    /// dropped.
    pub fn recv_into(
        &self,
        buf: Vec<u8>,
    ) -> impl Coroutine<Output = Result<(usize, Vec<u8>)>> + use<> {
        IoCall::new(self.clone(), Ready::Read, buf, |s, buf| {
            let n = s.read_some(spare_room(buf)?)?;
            // SAFETY: `read_some` initialised the first `n` bytes.
            unsafe { buf.set_len(n) };
            Ok((n, std::mem::take(buf)))
        })
    }

    /// Receives a datagram of up to `maxsize` bytes (at most 1 MiB; a
    /// longer datagram is truncated, as with any short buffer) and its
    /// sender.
    ///
    /// # Errors
    /// The operating system's; a cancellation or timeout while waiting.
    pub fn recvfrom(
        &self,
        maxsize: usize,
    ) -> impl Coroutine<Output = Result<(Vec<u8>, SockAddr)>> + use<> {
        let maxsize = maxsize.min(MAX_READ);
        let state = Vec::with_capacity(maxsize);
        IoCall::new(self.clone(), Ready::Read, state, move |s, buf| {
            let (n, addr) = s.io(|s| s.recv_from(&mut buf.spare_capacity_mut()[..maxsize]))?;
            // SAFETY: `recv_from` initialised the first `n` bytes.
            unsafe { buf.set_len(n) };
            Ok((std::mem::take(buf), addr))
        })
    }

    /// Receives a datagram into `buf`, replacing its contents with up to
    /// `buf.capacity()` bytes (Python's `recvfrom_into`, with an owned
    /// buffer, as [`recv_into`](Self::recv_into)): the byte count, the
    /// sender and the buffer.
    ///
    /// # Errors
    /// As [`recv_into`](Self::recv_into).
    pub fn recvfrom_into(
        &self,
        buf: Vec<u8>,
    ) -> impl Coroutine<Output = Result<(usize, SockAddr, Vec<u8>)>> + use<> {
        IoCall::new(self.clone(), Ready::Read, buf, |s, buf| {
            let room = spare_room(buf)?;
            let (n, addr) = s.io(|s| s.recv_from(room))?;
            // SAFETY: `recv_from` initialised the first `n` bytes.
            unsafe { buf.set_len(n) };
            Ok((n, addr, std::mem::take(buf)))
        })
    }

    /// Receives a message with up to `bufsize` bytes of data and
    /// `ancbufsize` bytes of ancillary data (each at most 1 MiB), such as fds passed with
    /// `SCM_RIGHTS` (Python's `recvmsg`). Received fds are close-on-exec.
    ///
    /// # Errors
    /// The operating system's; a cancellation or timeout while waiting.
    pub fn recvmsg(
        &self,
        bufsize: usize,
        ancbufsize: usize,
        flags: i32,
    ) -> impl Coroutine<Output = Result<Message>> + use<> {
        IoCall::new(
            self.clone(),
            Ready::Read,
            (bufsize, ancbufsize, flags),
            recvmsg_once,
        )
    }

    /// Sends what the socket takes of `data`, waiting for room; returns the
    /// number of bytes sent.
    ///
    /// # Errors
    /// The operating system's (`EPIPE`, a reset peer); a cancellation or
    /// timeout while waiting (nothing was sent then).
    pub fn send<B: AsRef<[u8]> + 'static>(
        &self,
        data: B,
    ) -> impl Coroutine<Output = Result<usize>> + use<B> {
        crate::io::fd::write_some(self.clone(), data)
    }

    /// Sends all of `data` (a `Vec<u8>`, a `b"literal"`, an `Rc<[u8]>`
    /// shared between connections, ...), and hands it back so that its
    /// buffer can be reused.
    ///
    /// # Errors
    /// The operating system's; a cancellation or timeout, with the bytes
    /// sent by then attached (`e.bytes_sent()`, Curio's `e.bytes_sent`).
    pub fn sendall<B: AsRef<[u8]> + 'static>(
        &self,
        data: B,
    ) -> impl Coroutine<Output = Result<B>> + use<B> {
        crate::io::fd::write_all(self.clone(), data, Progress::BytesSent)
    }

    /// Sends a datagram to `addr`; returns the bytes sent.
    ///
    /// # Errors
    /// The operating system's; a cancellation or timeout while waiting.
    pub fn sendto<B: AsRef<[u8]> + 'static>(
        &self,
        data: B,
        addr: SockAddr,
    ) -> impl Coroutine<Output = Result<usize>> + use<B> {
        IoCall::new(
            self.clone(),
            Ready::Write,
            (data, addr),
            |s, (data, addr)| s.io(|s| s.send_to(data.as_ref(), addr)),
        )
    }

    /// Sends `buffers` as one message with ancillary data (Python's
    /// `sendmsg`), to `address` for unconnected sockets; returns the bytes
    /// sent.
    ///
    /// # Errors
    /// The operating system's (bad ancillary data, ...); a cancellation or
    /// timeout while waiting.
    pub async fn sendmsg(
        &self,
        buffers: Vec<Vec<u8>>,
        ancdata: Vec<Cmsg>,
        flags: i32,
        address: Option<SockAddr>,
    ) -> Result<usize> {
        let out = Outgoing::new(buffers, &ancdata, flags, address)?;
        IoCall::new(self.clone(), Ready::Write, out, sendmsg_once).await
    }

    /// Closes the socket for every handle (the kernel forgets it first).
    /// Closing twice does nothing.
    ///
    /// # Errors
    /// None from a kernel; the signature is that of every trap.
    pub async fn close(&self) -> Result<()> {
        crate::io::fd::close(self.clone()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_split_as_python_writes_them() {
        assert_eq!(split_host_port("127.0.0.1:80").unwrap(), ("127.0.0.1", 80));
        assert_eq!(split_host_port("[::1]:8080").unwrap(), ("::1", 8080));
        assert_eq!(split_host_port("localhost:1").unwrap(), ("localhost", 1));
        for (bad, why) in [
            ("localhost", "expected host:port"),
            ("localhost:http", "the port is not a number"),
            ("::1:80", "an IPv6 host goes in brackets"),
            ("[::1:80", "an unclosed '['"),
            ("localhost:70000", "the port is not a number"),
        ] {
            let e = split_host_port(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn a_numeric_host_needs_no_lookup() {
        let found = resolve("::1", 7).unwrap();
        assert_eq!(found, ["[::1]:7".parse().unwrap()]);
    }

    /// The first address refuses; the second accepts.
    #[crate::task]
    async fn connects_to_the_second() -> Result<(u16, u16)> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let open = listener.local_addr()?;
        let refused = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let sock = connect_any(vec![refused, open]).await?;
        let port = sock.peer_addr()?.as_socket().map_or(0, |a| a.port());
        sock.close().await?;
        Ok((port, open.port()))
    }

    #[test]
    fn each_address_is_tried_until_one_accepts() {
        let (connected, open) = crate::kernel::run(connects_to_the_second()).unwrap();
        assert_eq!(connected, open);
    }

    #[crate::task]
    async fn refused_everywhere() -> Result<()> {
        let refused = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        connect_any(vec![refused, refused]).await.map(drop)
    }

    #[test]
    fn the_last_failure_is_reported() {
        let e = crate::kernel::run(refused_everywhere()).unwrap_err();
        assert!(
            matches!(&e, Error::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused),
            "{e:?}"
        );
    }
}
