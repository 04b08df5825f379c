//! The tutorial's line echo server: a stream read line by line (Python's
//! `async for line in s`). Try it with `nc localhost 25000`.
//!
//! `cargo run --example echo [PORT]`

use curio::net::{Address, tcp_server};
use curio::socket::Socket;
use curio::{Error, Result};

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
    let port = std::env::args().nth(1).map_or(Ok(25000), |p| p.parse());
    let port = port.map_err(|e| Error::msg(format!("bad port: {e}")))?;
    println!("Echo server on port {port}");
    curio::run(tcp_server(String::new(), port, echo_client))
}
