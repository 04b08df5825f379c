//! The tutorial's managed echo server. `main` runs the server as a task and
//! restarts it on request: every connected client is told
//! `SERVER IS GOING AWAY!` and dropped, because cancelling the server
//! cancels each client's handler.
//!
//! The tutorial restarts on `SIGHUP`; here each line on standard input is a
//! restart (press Enter), and the end of standard input (Ctrl-D) stops the
//! program. Try it with a few `nc localhost 25000`.
//!
//! `cargo run --example echo_managed [PORT [HOST]]` (port 25000 on 127.0.0.1
//! unless given; `""` as the host listens on every interface)

mod common;

use curio::net::{Address, tcp_server};
use curio::socket::Socket;
use curio::stream::FileStream;
use curio::{Result, spawn};

#[curio::task]
async fn echo_client(client: Socket, addr: Address) -> Result<()> {
    println!("Connection from {addr}");
    let s = client.as_stream();
    loop {
        match s.next_line().await {
            Ok(Some(line)) => s.write(line).await?,
            Ok(None) => break,
            // Python's `except CancelledError: ...; raise`.
            Err(e) if e.is_cancelled() => {
                s.write(b"SERVER IS GOING AWAY!\n".to_vec()).await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        }
    }
    println!("Connection closed");
    Ok(())
}

#[curio::task]
async fn start(host: String, port: u16) -> Result<()> {
    let restart = FileStream::stdin()?;
    loop {
        println!("Starting the server");
        let serv_task = spawn(tcp_server(host.clone(), port, echo_client)).await?;
        let line = restart.readline().await?;
        println!("Server shutting down");
        serv_task.cancel().await?;
        if line.is_empty() {
            return Ok(());
        }
    }
}

fn main() -> Result<()> {
    let (host, port) = common::listen_address()?;
    curio::run(start(host, port))
}
