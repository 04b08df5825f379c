//! The tutorial's first echo server, written directly with sockets: a
//! listening socket, and a daemon task per client. Try it with
//! `nc localhost 25000`.
//!
//! `cargo run --example echo_raw [PORT [HOST]]` (port 25000 on 127.0.0.1
//! unless given; `""` as the host listens on every interface)

mod common;

use curio::net::Address;
use curio::socket::{Domain, SO_REUSEADDR, SOL_SOCKET, SockAddr, Socket, Type};
use curio::{Error, Result, coroutine, spawn};

#[curio::task]
async fn echo_server(host: String, port: u16) -> Result<()> {
    let sock = Socket::new(Domain::IPV4, Type::STREAM)?;
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)?;
    // Python's `sock.bind((host, port))`; `""` is every interface.
    let ip: std::net::Ipv4Addr = match host.as_str() {
        "" => std::net::Ipv4Addr::UNSPECIFIED,
        other => other
            .parse()
            .map_err(|_| Error::msg(format!("not an IPv4 address: {other:?}")))?,
    };
    let address = std::net::SocketAddr::from((ip, port));
    sock.bind(&address.into())?;
    sock.listen(5)?;
    println!("Server listening at {address}");
    let listener = sock.clone();
    sock.with(coroutine!(-> Result<()> {
        loop {
            let (client, addr) = listener.accept().await?;
            spawn(echo_client(client, addr)).daemon(true).await?;
        }
    }))
    .await
}

#[curio::task]
async fn echo_client(client: Socket, addr: SockAddr) -> Result<()> {
    println!("Connection from {}", Address::from(&addr));
    let sock = client.clone();
    client
        .with(coroutine!({
            loop {
                let data = sock.recv(1000).await?;
                if data.is_empty() {
                    break;
                }
                sock.sendall(data).await?;
            }
            Ok::<(), Error>(())
        }))
        .await?;
    println!("Connection closed");
    Ok(())
}

fn main() -> Result<()> {
    let (host, port) = common::listen_address()?;
    curio::run(echo_server(host, port))
}
