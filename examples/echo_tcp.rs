//! The tutorial's echo server with `tcp_server`: it makes the listening
//! socket, runs each client in a task group and closes the client socket
//! when its handler ends. Try it with `nc localhost 25000`.
//!
//! `cargo run --example echo_tcp [PORT [HOST]]` (port 25000 on 127.0.0.1
//! unless given; `""` as the host listens on every interface)

mod common;

use curio::Result;
use curio::net::{Address, tcp_server};
use curio::socket::Socket;

#[curio::task]
async fn echo_client(client: Socket, addr: Address) -> Result<()> {
    println!("Connection from {addr}");
    loop {
        let data = client.recv(1000).await?;
        if data.is_empty() {
            break;
        }
        client.sendall(data).await?;
    }
    println!("Connection closed");
    Ok(())
}

fn main() -> Result<()> {
    let (host, port) = common::listen_address()?;
    curio::run(tcp_server(host, port, echo_client))
}
