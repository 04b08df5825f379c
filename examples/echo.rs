//! The tutorial's echo server with `tcp_server`, using streams: each line a
//! client sends comes back. Try it with `nc localhost 25000`.
//!
//! `cargo run --example echo [PORT]`

use curio::net::tcp_server;
use curio::socket::{SockAddr, Socket};
use curio::stream::SocketStream;
use curio::{Error, Result};

#[curio::task]
async fn echo_client(client: Socket, addr: SockAddr) -> Result<()> {
    let peer = addr
        .as_socket()
        .map_or_else(|| "?".to_string(), |a| a.to_string());
    println!("Connection from {peer}");
    let stream = SocketStream::new(client);
    loop {
        let line = stream.readline().await?;
        if line.is_empty() {
            break;
        }
        stream.write(line).await?;
    }
    println!("Connection closed");
    Ok(())
}

fn main() -> Result<()> {
    let port = match std::env::args().nth(1) {
        Some(p) => p
            .parse()
            .map_err(|_| Error::msg(format!("the port must be a number, not {p:?}")))?,
        None => 25000,
    };
    println!("Echo server on port {port}");
    curio::run(tcp_server(String::new(), port, echo_client))
}
