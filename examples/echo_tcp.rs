//! The tutorial's echo server with `tcp_server`: it makes the listening
//! socket, runs each client in a task group and closes the client socket
//! when its handler ends. Try it with `nc localhost 25000`.
//!
//! `cargo run --example echo_tcp [PORT]`

use curio::net::{Address, tcp_server};
use curio::socket::Socket;
use curio::{Error, Result};

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
    let port = std::env::args().nth(1).map_or(Ok(25000), |p| p.parse());
    let port = port.map_err(|e| Error::msg(format!("bad port: {e}")))?;
    curio::run(tcp_server(String::new(), port, echo_client))
}
