//! A client that makes an outgoing connection: it connects to an echo
//! server, sends each line of its arguments, and prints what comes back,
//! giving up on a reply after two seconds.
//!
//! `cargo run --example client [PORT] [MESSAGE ...]`, with one of the echo
//! servers running (`cargo run --example echo`).

use curio::net::open_connection;
use curio::{Error, Result, timeout_after};

#[curio::task]
async fn client(port: u16, messages: Vec<String>) -> Result<()> {
    let s = open_connection("127.0.0.1".into(), port).await?;
    let peer = s.socket().peer_addr()?;
    println!("Connected to {:?}", peer.as_socket());
    for msg in messages {
        s.write(format!("{msg}\n").into_bytes()).await?;
        match timeout_after(2.0, s.readline()).await {
            Ok(reply) => print!("{}", String::from_utf8_lossy(&reply)),
            Err(Error::TaskTimeout(_)) => println!("no reply within 2 s"),
            Err(e) => return Err(e),
        }
    }
    s.close().await
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let port = args.next().map_or(Ok(25000), |p| p.parse());
    let port = port.map_err(|e| Error::msg(format!("bad port: {e}")))?;
    let mut messages: Vec<String> = args.collect();
    if messages.is_empty() {
        messages = vec!["Hello".into(), "Is anyone there?".into()];
    }
    curio::run(client(port, messages))
}
