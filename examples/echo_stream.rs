//! The tutorial's stream-based echo server: the client socket wrapped in
//! a stream (`client.as_stream()`), read and written like a file. Try it
//! with `nc localhost 25000`.
//!
//! `cargo run --example echo_stream [PORT [HOST]]` (port 25000 on 127.0.0.1
//! unless given; `""` as the host listens on every interface)

mod common;

use curio::Result;
use curio::net::{Address, tcp_server};
use curio::socket::Socket;

#[curio::task]
async fn echo_client(client: Socket, addr: Address) -> Result<()> {
    println!("Connection from {addr}");
    let s = client.as_stream();
    loop {
        let data = s.read(1000).await?;
        if data.is_empty() {
            break;
        }
        s.write(data).await?;
    }
    println!("Connection closed");
    Ok(())
}

fn main() -> Result<()> {
    let (host, port) = common::listen_address()?;
    curio::run(tcp_server(host, port, echo_client))
}
