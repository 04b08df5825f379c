//! Servers and connections (Curio's `curio.network`): [`tcp_server`],
//! [`run_server`], [`tcp_server_socket`], [`unix_server`],
//! [`unix_server_socket`], [`open_connection`], [`open_unix_connection`].
//!
//! A server accepts connections and runs each client's handler as a member
//! of a [`TaskGroup`]; the client socket is closed when its handler ends,
//! however it ends. Cancelling the server cancels every handler.
//!
//! ```no_run
//! use curio::net::{tcp_server, Address};
//! use curio::socket::Socket;
//! use curio::Result;
//!
//! #[curio::task]
//! async fn echo_client(client: Socket, addr: Address) -> Result<()> {
//!     println!("Connection from {addr}");
//!     loop {
//!         let data = client.recv(100_000).await?;
//!         if data.is_empty() {
//!             return Ok(());
//!         }
//!         client.sendall(data).await?;
//!     }
//! }
//!
//! fn main() -> Result<()> {
//!     curio::run(tcp_server("".into(), 25000, echo_client))
//! }
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::io::fd::Transport;
use crate::io::socket::{Domain, SockAddr, Socket, Type};
use crate::io::stream::SocketStream;
use crate::protocol::coroutine::{Coroutine, Location, Step, Value};
use crate::protocol::trap::Trap;
use crate::task::group::{TaskGroup, Wait};

/// A client's address, as a server hands it to the handler (Python's
/// `addr`): an IP address and port, or a Unix socket's path. Displays as
/// `127.0.0.1:51234`, `[::1]:51234` or the path (empty for the unnamed
/// peers that Unix clients usually are).
///
/// Small on purpose: a handler's state keeps it for the connection's
/// life (a [`SockAddr`] is 132 bytes, this 32).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// An IPv4 or IPv6 peer.
    Inet(SocketAddr),
    /// A Unix-socket peer: its path, `None` if unnamed.
    Unix(Option<PathBuf>),
}

impl Address {
    /// The IP address and port, for an IP peer.
    pub fn as_socket(&self) -> Option<SocketAddr> {
        match self {
            Address::Inet(addr) => Some(*addr),
            Address::Unix(_) => None,
        }
    }
}

impl From<&SockAddr> for Address {
    fn from(addr: &SockAddr) -> Address {
        match addr.as_socket() {
            Some(inet) => Address::Inet(inet),
            None => Address::Unix(addr.as_pathname().map(PathBuf::from)),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Inet(addr) => addr.fmt(f),
            Address::Unix(Some(path)) => path.display().fmt(f),
            Address::Unix(None) => Ok(()),
        }
    }
}

/// The listen backlog of [`tcp_server`] and [`unix_server`]. Curio's
/// default is 100; a burst of connections beyond the backlog (a thousand
/// clients connecting at once) leaves the extra ones waiting a second for
/// the retry of their dropped `SYN`, so the servers here ask for 1024, as
/// tokio does (Linux caps it at `net.core.somaxconn`). For another value,
/// make the socket with [`tcp_server_socket`] and pass it to
/// [`run_server`].
pub const BACKLOG: i32 = 1024;

/// A listening TCP socket on `host:port` (`""` for every address), with
/// `SO_REUSEADDR` (Curio's `tcp_server_socket`). A host name is looked up
/// first; this function is synchronous, so the lookup blocks the kernel
/// meanwhile (resolve it first with
/// [`getaddrinfo`](crate::io::socket::getaddrinfo) to avoid that); an IPv4
/// address of the name is preferred, as Curio's default `AF_INET` family.
///
/// # Errors
/// A bad address or name, or the operating system's.
pub fn tcp_server_socket(host: &str, port: u16, backlog: i32) -> Result<Socket> {
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    let found = crate::io::socket::resolve(host, port)?;
    let addr = *found.iter().find(|a| a.is_ipv4()).unwrap_or(&found[0]);
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM)?;
    sock.set_reuse_address(true)?;
    sock.bind(&addr.into())?;
    sock.listen(backlog)?;
    Ok(sock)
}

/// A listening Unix socket at `path` (Curio's `unix_server_socket`).
///
/// # Errors
/// The operating system's (the path exists, ...).
pub fn unix_server_socket(path: &str, backlog: i32) -> Result<Socket> {
    let sock = Socket::new(Domain::UNIX, Type::STREAM)?;
    sock.bind(&SockAddr::unix(path)?)?;
    sock.listen(backlog)?;
    Ok(sock)
}

/// A client's handler, then the close of its socket, however the handler
/// ended (Curio's `async with client: await handler(client, addr)`).
///
/// Hand-written instead of a `#[task]`: it sits under every trap a handler
/// makes, so it does nothing but pass each resume and throw through, and
/// reports the handler's name and traceback as the task's own.
struct ServeClient<C> {
    handler: C,
    client: Socket,
    /// The handler's result, kept while the socket is released.
    closing: Option<Result<()>>,
}

impl<C: Coroutine<Output = Result<()>>> ServeClient<C> {
    /// Passes a trap through; once the handler returns, releases the
    /// socket from the kernel (unless the handler closed it already).
    #[inline(always)]
    fn pass(&mut self, step: Step<Result<()>>) -> Step<Result<()>> {
        match step {
            Step::Trap(trap) => Step::Trap(trap),
            Step::Return(result) => {
                let fd = self.client.fileno();
                if fd < 0 {
                    return Step::Return(result);
                }
                self.closing = Some(result);
                Step::Trap(Trap::IoRelease(fd))
            }
        }
    }

    /// Closes the released socket; the handler's result.
    fn finish(&mut self) -> Step<Result<()>> {
        let result = self.closing.take().expect("closing");
        self.client.close_now();
        Step::Return(result)
    }
}

impl<C> Drop for ServeClient<C> {
    /// A handler that never finished (it panicked, or the kernel dropped
    /// it at shutdown) still gets its socket closed, as Python's `async
    /// with` closes it on any exception.
    fn drop(&mut self) {
        self.client.close_now();
    }
}

impl<C: Coroutine<Output = Result<()>>> Coroutine for ServeClient<C> {
    type Output = Result<()>;

    #[inline]
    fn resume(&mut self, value: Value) -> Step<Result<()>> {
        if self.closing.is_some() {
            return self.finish();
        }
        let step = self.handler.resume(value);
        self.pass(step)
    }

    fn throw(&mut self, error: Error) -> Step<Result<()>> {
        // `io_release` never blocks, so nothing is thrown while closing.
        if self.closing.is_some() {
            return self.finish();
        }
        let step = self.handler.throw(error);
        self.pass(step)
    }

    fn traceback(&self, visit: &mut dyn FnMut(&'static Location)) {
        self.handler.traceback(visit);
    }

    fn name(&self) -> &'static str {
        self.handler.name()
    }
}

/// Accepts connections on `sock` forever, running `handler(client, addr)`
/// for each in a task group (Curio's `run_server`). Cancel it to stop: every
/// client handler is cancelled too, and the listening socket closed.
///
/// As in Curio, the server collects each client's task as soon as it
/// finishes, so a server keeps nothing of the connections it has served:
/// its memory, and the time it takes to shut down, depend on the clients
/// connected now, not on how many came before. A handler that fails is
/// logged by the kernel ("Task Crash") and affects no other client.
///
/// # Errors
/// An `accept` failure other than running out of fds (which is retried
/// after a pause); the cancellation that stops it.
#[crate::task]
pub async fn run_server<F, C>(sock: Socket, handler: F) -> Result<()>
where
    F: Fn(Socket, Address) -> C + 'static,
    C: Coroutine<Output = Result<()>> + 'static,
{
    let clients: TaskGroup<()> = TaskGroup::new(Wait::All);
    let group = clients.clone();
    let listener = sock.clone();
    let result = clients
        .with(crate::coroutine!({
            let acceptor = group
                .spawn(accept_clients(listener, handler, group.clone()))
                .await?;
            // Reap the clients as they finish (Curio's `async for task in
            // tg: task.joined = True`), so the group holds only those
            // still connected.
            while let Some(task) = group.next_done().await? {
                let outcome = task.result();
                if task == acceptor {
                    return outcome;
                }
            }
            Ok::<(), Error>(())
        }))
        .await;
    sock.close().await?;
    result
}

/// The accepting half of [`run_server`]: each client's handler becomes a
/// member of `group`.
#[crate::task]
async fn accept_clients<F, C>(sock: Socket, handler: F, group: TaskGroup<()>) -> Result<()>
where
    F: Fn(Socket, Address) -> C + 'static,
    C: Coroutine<Output = Result<()>> + 'static,
{
    loop {
        match sock.accept().await {
            Ok((client, addr)) => {
                let peer = Address::from(&addr);
                group
                    .spawn(ServeClient {
                        handler: handler(client.clone(), peer),
                        client,
                        closing: None,
                    })
                    .await?;
            }
            Err(Error::Io(e)) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                // Out of fds: let handlers finish, then try again.
                log::warn!(target: "curio::net", "accept: {e}; retrying in 0.1 s");
                crate::protocol::traps::sleep(0.1).await?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// A TCP server on `host:port` (Curio's `tcp_server`).
///
/// # Errors
/// As [`tcp_server_socket`] and [`run_server`].
#[crate::task]
pub async fn tcp_server<F, C>(host: String, port: u16, handler: F) -> Result<()>
where
    F: Fn(Socket, Address) -> C + 'static,
    C: Coroutine<Output = Result<()>> + 'static,
{
    let sock = tcp_server_socket(&host, port, BACKLOG)?;
    run_server(sock, handler).await
}

/// A Unix-socket server at `path` (Curio's `unix_server`).
///
/// # Errors
/// As [`unix_server_socket`] and [`run_server`].
#[crate::task]
pub async fn unix_server<F, C>(path: String, handler: F) -> Result<()>
where
    F: Fn(Socket, Address) -> C + 'static,
    C: Coroutine<Output = Result<()>> + 'static,
{
    let sock = unix_server_socket(&path, BACKLOG)?;
    run_server(sock, handler).await
}

/// Connects to `host:port` and returns a stream (Curio's
/// `open_connection`): each of the host's addresses in turn, until one
/// accepts. A numeric host costs nothing; a name is looked up on a worker
/// thread ([`getaddrinfo`](crate::io::socket::getaddrinfo)), so it blocks
/// only this task.
///
/// # Errors
/// A name that does not resolve, or the last connection's failure; a
/// cancellation or timeout at once.
#[crate::task]
pub async fn open_connection(host: String, port: u16) -> Result<SocketStream> {
    let addrs = crate::io::socket::getaddrinfo(host, port).await?;
    let sock = crate::io::socket::connect_any(addrs).await?;
    Ok(SocketStream::new(sock))
}

/// Connects to the Unix socket at `path` (Curio's `open_unix_connection`).
///
/// # Errors
/// The connection's failure.
#[crate::task]
pub async fn open_unix_connection(path: String) -> Result<SocketStream> {
    let sock = Socket::new(Domain::UNIX, Type::STREAM)?;
    sock.connect(SockAddr::unix(path)?).await?;
    Ok(SocketStream::new(sock))
}
