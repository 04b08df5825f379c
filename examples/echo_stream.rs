//! The tutorial's stream-based echo server: the client socket wrapped in
//! a stream (`client.as_stream()`), read and written like a file. Try it
//! with `nc localhost 25000`.
//!
//! `cargo run --example echo_stream [PORT]`

use curio::net::{Address, tcp_server};
use curio::socket::Socket;
use curio::{Error, Result};

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
    let port = std::env::args().nth(1).map_or(Ok(25000), |p| p.parse());
    let port = port.map_err(|e| Error::msg(format!("bad port: {e}")))?;
    curio::run(tcp_server(String::new(), port, echo_client))
}
