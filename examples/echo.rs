//! The tutorial's line echo server: a stream read line by line (Python's
//! `async for line in s`). Try it with `nc localhost 25000`.
//!
//! `cargo run --example echo [PORT [HOST]]` (port 25000 on 127.0.0.1
//! unless given; `""` as the host listens on every interface)

mod common;

use curio::Result;
use curio::net::{Address, tcp_server};
use curio::socket::Socket;

#[curio::task]
async fn echo_client(client: Socket, addr: Address) -> Result<()> {
    println!("Connection from {addr}");
    let s = client.as_stream();
    while let Some(line) = s.next_line().await? {
        s.write(line).await?;
    }
    println!("Connection closed");
    Ok(())
}

fn main() -> Result<()> {
    let (host, port) = common::listen_address()?;
    println!("Echo server on {host}:{port}");
    curio::run(tcp_server(host, port, echo_client))
}
