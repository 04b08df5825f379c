//! A tour of curio on the network, over loopback, in about a second: an
//! echo server task, clients in a task group, a timeout, and cancelling
//! the server (every client handler is cancelled and says goodbye).
//!
//! `cargo run --example echo_tour`

use curio::net::{Address, open_connection, run_server, tcp_server_socket};
use curio::socket::Socket;
use curio::{Error, Result, TaskGroup, Wait, coroutine, sleep, spawn, timeout_after};

/// The server's handler: echoes lines; when cancelled, says goodbye.
#[curio::task]
async fn echo_client(client: Socket, addr: Address) -> Result<()> {
    let peer = addr.as_socket().map(|a| a.port()).unwrap_or(0);
    println!("  server: connection from port {peer}");
    let s = client.as_stream();
    loop {
        match s.next_line().await {
            Ok(Some(line)) => s.write(line).await?,
            Ok(None) => break,
            Err(e) if e.is_cancelled() => {
                s.write(b"SERVER IS GOING AWAY!\n".to_vec()).await?;
                println!("  server: handler for port {peer} cancelled");
                return Err(e);
            }
            Err(e) => return Err(e),
        }
    }
    println!("  server: port {peer} closed");
    Ok(())
}

/// A client: sends its lines one by one and prints the echoes.
#[curio::task]
async fn client(port: u16, name: &'static str, lines: usize) -> Result<()> {
    let s = open_connection("127.0.0.1".into(), port).await?;
    for i in 1..=lines {
        s.write(format!("{name} says {i}\n").into_bytes()).await?;
        let echo = s.readline().await?;
        print!("  {name} got: {}", String::from_utf8_lossy(&echo));
        sleep(0.05).await?;
    }
    s.close().await
}

#[curio::task]
async fn tour() -> Result<()> {
    println!("1. An echo server task on a free loopback port:");
    let listener = tcp_server_socket("127.0.0.1", 0, 128)?;
    let port = listener
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .unwrap_or(0);
    let server = spawn(run_server(listener, echo_client)).await?;
    println!("   {server} listening on port {port}");

    println!("2. Three clients in a task group, running concurrently:");
    let g: TaskGroup<()> = TaskGroup::new(Wait::All);
    let h = g.clone();
    g.with(coroutine!({
        for (name, n) in [("alice", 2), ("bob", 3), ("carol", 1)] {
            h.spawn(client(port, name, n)).await?;
        }
        Ok::<(), Error>(())
    }))
    .await?;
    println!("   all clients done");

    println!("3. A timeout: a line without its newline gets no echo:");
    let s = open_connection("127.0.0.1".into(), port).await?;
    s.write(b"no newline".to_vec()).await?;
    match timeout_after(0.2, s.readline()).await {
        Err(Error::TaskTimeout(_)) => println!("   readline timed out after 0.2 s"),
        other => println!("   unexpected: {other:?}"),
    }

    println!("4. Cancelling the server cancels every handler:");
    let lingering = open_connection("127.0.0.1".into(), port).await?;
    lingering.write(b"still here\n".to_vec()).await?;
    let echo = lingering.readline().await?;
    print!(
        "   lingering client got: {}",
        String::from_utf8_lossy(&echo)
    );
    server.cancel().await?;
    println!("   {server}");
    let bye = lingering.readline().await?;
    print!("   lingering client got: {}", String::from_utf8_lossy(&bye));
    let end = lingering.readline().await?;
    println!("   then end of stream: {}", end.is_empty());
    let rest = s.readall().await?;
    print!(
        "   the timed-out client got: {}",
        String::from_utf8_lossy(&rest)
    );
    Ok(())
}

fn main() -> Result<()> {
    let t = std::time::Instant::now();
    curio::run(tour())?;
    println!("Done in {:.2} s", t.elapsed().as_secs_f64());
    Ok(())
}
