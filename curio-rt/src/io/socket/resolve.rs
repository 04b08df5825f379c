//! Name resolution for [`create_connection`](super::create_connection) and
//! the servers: `"host:port"` split, and a host looked up with the
//! system's resolver.

use crate::error::{Error, Result};

/// Splits `"host:port"`, the host of an IPv6 address in brackets.
pub(crate) fn split_host_port(addr: &str) -> Result<(&str, u16)> {
    let bad = |why: &str| Error::msg(format!("bad address {addr:?}: {why}"));
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| bad("expected host:port"))?;
    let port = port.parse().map_err(|_| bad("the port is not a number"))?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner
            .strip_suffix(']')
            .ok_or_else(|| bad("an unclosed '['"))?,
        None if host.contains(':') => return Err(bad("an IPv6 host goes in brackets")),
        None => host,
    };
    Ok((host, port))
}

/// The addresses of `host` at `port`: a numeric host at once, a name from
/// the system's resolver (blocking: tasks use [`getaddrinfo`], which runs
/// it on a worker thread; the servers' synchronous socket makers call it
/// directly).
pub(crate) fn resolve(host: &str, port: u16) -> Result<Vec<std::net::SocketAddr>> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![std::net::SocketAddr::new(ip, port)]);
    }
    let found = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|e| Error::msg(format!("can't resolve {host:?}: {e}")))?;
    let found: Vec<_> = found.collect();
    if found.is_empty() {
        return Err(Error::msg(format!("{host:?} has no address")));
    }
    Ok(found)
}

/// Looks `host` up with the system's resolver on a worker thread (Curio's
/// `getaddrinfo`, run in a thread as Curio does), so that a slow DNS query
/// blocks only the task that asked. A numeric host is answered at once,
/// without a thread.
///
/// ```
/// use curio::socket::getaddrinfo;
///
/// #[curio::task]
/// async fn demo() -> curio::Result<bool> {
///     let found = getaddrinfo("localhost".into(), 80).await?;
///     Ok(found.iter().all(|a| a.port() == 80 && a.ip().is_loopback()))
/// }
/// assert!(curio::run(demo()).unwrap());
/// ```
///
/// # Errors
/// A name that does not resolve; a cancellation or timeout while waiting
/// (the lookup finishes in the background, its answer dropped).
#[crate::task]
pub async fn getaddrinfo(host: String, port: u16) -> Result<Vec<std::net::SocketAddr>> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![std::net::SocketAddr::new(ip, port)]);
    }
    crate::thread::run_in_thread(move || resolve(&host, port)).await?
}
