//! What the server examples share: where to listen.

use curio::{Error, Result};

/// The port and host from the command line, `[PORT [HOST]]`: port 25000
/// and the loopback address unless given. `""` as the host is Curio's
/// "every interface": the examples only listen beyond this machine when
/// asked to.
pub fn listen_address() -> Result<(String, u16)> {
    let mut args = std::env::args().skip(1);
    let port = match args.next() {
        Some(p) => p
            .parse()
            .map_err(|_| Error::msg(format!("the port must be a number, not {p:?}")))?,
        None => 25000,
    };
    let host = args.next().unwrap_or_else(|| "127.0.0.1".to_string());
    Ok((host, port))
}
