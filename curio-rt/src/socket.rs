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

use std::cell::RefCell;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;

pub use socket2::{Domain, Protocol, SockAddr, Type};

use crate::traps::{io_release, read_wait, write_wait};
use crate::{Error, Result};

/// A non-blocking socket (Curio's `Socket`). Cheap to clone; clones share
/// the socket, and dropping the last one closes it.
#[derive(Clone)]
pub struct Socket {
    inner: Rc<Inner>,
}

struct Inner {
    /// `None` once closed.
    sock: RefCell<Option<socket2::Socket>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(sock) = self.sock.get_mut().take() {
            crate::kernel::note_closed(sock.as_raw_fd());
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "socket is closed")
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// Makes a connected pair of sockets (Curio's `socketpair`), Unix domain
/// unless `domain` says otherwise.
///
/// # Errors
/// The operating system's.
pub fn socketpair(domain: Domain, ty: Type) -> Result<(Socket, Socket)> {
    let (a, b) = socket2::Socket::pair(domain, ty, None)?;
    Ok((Socket::from_socket2(a)?, Socket::from_socket2(b)?))
}

/// Connects a TCP socket to `addr` (Curio's `create_connection`). The
/// address must be numeric (`"127.0.0.1:25000"`, `"[::1]:80"`): name
/// lookups would block the kernel.
///
/// # Errors
/// A malformed address, or the connection's failure.
#[crate::task]
pub async fn create_connection(addr: String) -> Result<Socket> {
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|e| Error::msg(format!("bad address {addr:?}: {e}")))?;
    connect_to(addr).await
}

/// A TCP socket connected to `addr`.
#[crate::task]
pub(crate) async fn connect_to(addr: std::net::SocketAddr) -> Result<Socket> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM)?;
    sock.connect(addr.into()).await?;
    Ok(sock)
}

#[crate::task]
impl Socket {
    /// A new non-blocking socket (Curio's `socket(family, type)`).
    ///
    /// # Errors
    /// The operating system's.
    pub fn new(domain: Domain, ty: Type) -> Result<Socket> {
        Socket::from_socket2(socket2::Socket::new(domain, ty, None)?)
    }

    /// Wraps an existing socket, making it non-blocking (Curio's `fromfd`
    /// takes an fd; convert it with `socket2::Socket::from_raw_fd`).
    ///
    /// # Errors
    /// The operating system's.
    pub fn from_socket2(sock: socket2::Socket) -> Result<Socket> {
        sock.set_nonblocking(true)?;
        Ok(Socket {
            inner: Rc::new(Inner {
                sock: RefCell::new(Some(sock)),
            }),
        })
    }

    /// Runs `f` on the open socket.
    fn with<R>(&self, f: impl FnOnce(&socket2::Socket) -> io::Result<R>) -> io::Result<R> {
        match &*self.inner.sock.borrow() {
            Some(sock) => f(sock),
            None => Err(closed()),
        }
    }

    /// One non-blocking receive of up to `max` bytes, appended to `buf`
    /// (into its spare capacity: nothing is zeroed or copied twice).
    fn try_recv_append(&self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        buf.reserve(max);
        let spare = &mut buf.spare_capacity_mut()[..max];
        let n = self.with(|s| s.recv(spare))?;
        // SAFETY: `recv` initialised the first `n` bytes of the spare
        // capacity, which directly follow the vector's contents.
        unsafe { buf.set_len(buf.len() + n) };
        Ok(n)
    }

    /// The file descriptor (`-1` once closed).
    pub fn fileno(&self) -> RawFd {
        self.with(|s| Ok(s.as_raw_fd())).unwrap_or(-1)
    }

    /// Binds to `addr`.
    ///
    /// # Errors
    /// The operating system's.
    pub fn bind(&self, addr: &SockAddr) -> Result<()> {
        Ok(self.with(|s| s.bind(addr))?)
    }

    /// Listens for connections.
    ///
    /// # Errors
    /// The operating system's.
    pub fn listen(&self, backlog: i32) -> Result<()> {
        Ok(self.with(|s| s.listen(backlog))?)
    }

    /// The local address.
    ///
    /// # Errors
    /// The operating system's.
    pub fn local_addr(&self) -> Result<SockAddr> {
        Ok(self.with(|s| s.local_addr())?)
    }

    /// The peer's address.
    ///
    /// # Errors
    /// The operating system's.
    pub fn peer_addr(&self) -> Result<SockAddr> {
        Ok(self.with(|s| s.peer_addr())?)
    }

    /// Sets `SO_REUSEADDR`.
    ///
    /// # Errors
    /// The operating system's.
    pub fn set_reuse_address(&self, on: bool) -> Result<()> {
        Ok(self.with(|s| s.set_reuse_address(on))?)
    }

    /// Sets `TCP_NODELAY`.
    ///
    /// # Errors
    /// The operating system's.
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        Ok(self.with(|s| s.set_tcp_nodelay(on))?)
    }

    /// Shuts down reading, writing or both (half-close).
    ///
    /// # Errors
    /// The operating system's.
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        Ok(self.with(|s| s.shutdown(how))?)
    }

    /// The socket itself, for options this type does not wrap (it stays
    /// non-blocking).
    ///
    /// # Errors
    /// If the socket is closed.
    pub fn with_socket2<R>(&self, f: impl FnOnce(&socket2::Socket) -> io::Result<R>) -> Result<R> {
        Ok(self.with(f)?)
    }

    /// Accepts a connection, waiting for one.
    ///
    /// # Errors
    /// The operating system's; a cancellation or timeout while waiting.
    pub async fn accept(&self) -> Result<(Socket, SockAddr)> {
        loop {
            match self.with(|s| s.accept()) {
                Ok((sock, addr)) => return Ok((Socket::from_socket2(sock)?, addr)),
                Err(e) if would_block(&e) => read_wait(self.fileno()).await?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Connects to `addr`, waiting for the connection to complete.
    ///
    /// # Errors
    /// The connection's failure; a cancellation or timeout while waiting.
    pub async fn connect(&self, addr: SockAddr) -> Result<()> {
        match self.with(|s| s.connect(&addr)) {
            Ok(()) => return Ok(()),
            Err(e) if would_block(&e) || e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e.into()),
        }
        write_wait(self.fileno()).await?;
        match self.with(|s| s.take_error())? {
            None => Ok(()),
            Some(e) => Err(e.into()),
        }
    }

    /// Receives up to `maxsize` bytes; an empty result means the peer
    /// closed its end.
    ///
    /// # Errors
    /// The operating system's (a reset peer, ...); a cancellation or
    /// timeout while waiting (nothing was received then).
    pub async fn recv(&self, maxsize: usize) -> Result<Vec<u8>> {
        let buf = Rc::new(RefCell::new(Vec::new()));
        self.recv_append(buf.clone(), maxsize).await?;
        Ok(buf.take())
    }

    /// Receives up to `max` bytes and appends them to `buf`; returns how
    /// many (0 at end of file). Streams read into their buffer this way.
    pub(crate) async fn recv_append(&self, buf: Rc<RefCell<Vec<u8>>>, max: usize) -> Result<usize> {
        loop {
            let attempt = self.try_recv_append(&mut buf.borrow_mut(), max);
            match attempt {
                Ok(n) => return Ok(n),
                Err(e) if would_block(&e) => read_wait(self.fileno()).await?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sends what the socket takes of `data`, waiting for room; returns the
    /// number of bytes sent.
    ///
    /// # Errors
    /// The operating system's (`EPIPE`, a reset peer); a cancellation or
    /// timeout while waiting (nothing was sent then).
    pub async fn send(&self, data: Vec<u8>) -> Result<usize> {
        loop {
            match self.with(|s| s.send(&data)) {
                Ok(n) => return Ok(n),
                Err(e) if would_block(&e) => write_wait(self.fileno()).await?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sends all of `data`.
    ///
    /// # Errors
    /// As [`send`](Self::send). An operating-system error after some bytes
    /// went out names how many in its message; a cancellation or timeout
    /// is returned as it is.
    pub async fn sendall(&self, data: Vec<u8>) -> Result<()> {
        let mut sent = 0;
        while sent < data.len() {
            match self.with(|s| s.send(&data[sent..])) {
                Ok(n) => sent += n,
                Err(e) if would_block(&e) => write_wait(self.fileno()).await?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if sent == 0 => return Err(e.into()),
                Err(e) => {
                    return Err(Error::msg(format!(
                        "sendall stopped after {sent} bytes: {e}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Receives a datagram of up to `maxsize` bytes and its sender.
    ///
    /// # Errors
    /// The operating system's; a cancellation or timeout while waiting.
    pub async fn recvfrom(&self, maxsize: usize) -> Result<(Vec<u8>, SockAddr)> {
        let mut buf: Vec<u8> = Vec::with_capacity(maxsize);
        loop {
            match self.with(|s| s.recv_from(&mut buf.spare_capacity_mut()[..maxsize])) {
                Ok((n, addr)) => {
                    // SAFETY: `recv_from` initialised the first `n` bytes.
                    unsafe { buf.set_len(n) };
                    return Ok((buf, addr));
                }
                Err(e) if would_block(&e) => read_wait(self.fileno()).await?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sends a datagram to `addr`; returns the bytes sent.
    ///
    /// # Errors
    /// The operating system's; a cancellation or timeout while waiting.
    pub async fn sendto(&self, data: Vec<u8>, addr: SockAddr) -> Result<usize> {
        loop {
            match self.with(|s| s.send_to(&data, &addr)) {
                Ok(n) => return Ok(n),
                Err(e) if would_block(&e) => write_wait(self.fileno()).await?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Closes the socket for every handle (the kernel forgets it first).
    /// Closing twice does nothing.
    ///
    /// # Errors
    /// None from a kernel; the signature is that of every trap.
    pub async fn close(&self) -> Result<()> {
        let fd = self.fileno();
        if fd >= 0 {
            io_release(fd).await?;
            drop(self.inner.sock.borrow_mut().take());
        }
        Ok(())
    }
}
