//! Sockets over loopback: TCP, UDP and Unix echo, half-close, fd leaks
//! (a first part of Curio's test_socket).

mod util;

use std::net::Shutdown;

use curio::socket::{Domain, SockAddr, Socket, Type, create_connection, socketpair};
use curio::{Error, Result, Task, TaskGroup, Wait, spawn, timeout_after};
use util::{take_log, vrun};

/// The tests of this file run one at a time: the fd counts are
/// process-wide.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Open file descriptors of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

#[curio::task]
async fn echo_client(sock: Socket) -> Result<()> {
    loop {
        let data = sock.recv(1000).await?;
        if data.is_empty() {
            break;
        }
        sock.sendall(data).await?;
    }
    sock.close().await
}

#[curio::task]
async fn echo_server(listener: Socket, clients: usize) -> Result<()> {
    let g: TaskGroup<()> = TaskGroup::new(Wait::All);
    for _ in 0..clients {
        let (client, _addr) = listener.accept().await?;
        g.spawn(echo_client(client)).await?;
    }
    g.join().await?;
    listener.close().await
}

#[curio::task]
async fn tcp_echo() -> Result<Vec<String>> {
    let listener = Socket::new(Domain::IPV4, Type::STREAM)?;
    listener.set_reuse_address(true)?;
    listener.bind(&SockAddr::from(
        "127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap(),
    ))?;
    listener.listen(16)?;
    let port = listener
        .local_addr()?
        .as_socket()
        .expect("an inet address")
        .port();
    let server = spawn(echo_server(listener, 2)).await?;
    let mut replies = Vec::new();
    let mut clients: Vec<Socket> = Vec::new();
    for _ in 0..2 {
        clients.push(create_connection(format!("127.0.0.1:{port}")).await?);
    }
    // (An iterator over `clients` would borrow a local across `.await`.)
    for i in 0..clients.len() {
        let c = clients[i].clone();
        c.sendall(format!("hello {i}").into_bytes()).await?;
    }
    for c in clients {
        let reply = c.recv(100).await?;
        replies.push(String::from_utf8_lossy(&reply).into_owned());
        c.shutdown(Shutdown::Write)?;
        let end = c.recv(100).await?;
        assert!(end.is_empty(), "the server closes after our half-close");
        c.close().await?;
    }
    server.join().await?;
    Ok(replies)
}

#[test]
fn tcp_echo_over_loopback_without_fd_leaks() {
    let _serial = serial();
    let before = open_fds();
    assert_eq!(curio::run(tcp_echo()).unwrap(), ["hello 0", "hello 1"]);
    assert_eq!(open_fds(), before, "every socket was closed");
}

#[curio::task]
async fn udp_echo() -> Result<String> {
    let server = Socket::new(Domain::IPV4, Type::DGRAM)?;
    server.bind(&SockAddr::from(
        "127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap(),
    ))?;
    let addr = server.local_addr()?;
    let echo: Task<()> = spawn(curio::coroutine!(-> Result<()> {
        let (data, from) = server.recvfrom(100).await?;
        server.sendto(data, from).await?;
        Ok(())
    }))
    .await?;
    let client = Socket::new(Domain::IPV4, Type::DGRAM)?;
    client.sendto(b"ping".to_vec(), addr).await?;
    let (reply, _) = client.recvfrom(100).await?;
    echo.join().await?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

#[test]
fn udp_echo_over_loopback() {
    let _serial = serial();
    assert_eq!(curio::run(udp_echo()).unwrap(), "ping");
}

#[curio::task]
async fn unix_pair() -> Result<()> {
    let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
    let reader = spawn(echo_client(b)).await?;
    a.sendall(b"x".repeat(100_000)).await?;
    let mut got = 0;
    while got < 100_000 {
        got += a.recv(65536).await?.len();
    }
    a.shutdown(Shutdown::Write)?;
    reader.join().await?;
    util::log(format!("echoed {got}"));
    Ok(())
}

#[test]
fn unix_socketpair_echoes_a_large_message() {
    let _serial = serial();
    curio::run(unix_pair()).unwrap();
    assert_eq!(take_log(), ["echoed 100000"]);
}

#[curio::task]
async fn busy_and_timeout() -> Result<()> {
    let (a, _b) = socketpair(Domain::UNIX, Type::STREAM)?;
    let first = spawn(echo_client(a.clone())).await?;
    curio::sleep(0.0).await?;
    let e = a.recv(10).await.unwrap_err();
    util::log(format!("{}", matches!(e, Error::ResourceBusy(_))));
    first.cancel().await?;
    let r = timeout_after(0.05, a.recv(10)).await;
    util::log(format!("{}", matches!(r, Err(Error::TaskTimeout(_)))));
    Ok(())
}

#[test]
fn a_second_reader_is_busy_and_reads_time_out() {
    let _serial = serial();
    vrun(busy_and_timeout()).unwrap();
    assert_eq!(take_log(), ["true", "true"]);
}

#[curio::task]
async fn dropped_sockets() -> Result<()> {
    for _ in 0..50 {
        let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
        a.sendall(b"x".to_vec()).await?;
        let got = b.recv(1).await?;
        assert_eq!(got, b"x");
        // Dropped, not closed: the kernel must forget both fds before
        // their numbers come back in the next round.
        let r = timeout_after(0.01, b.recv(1)).await;
        assert!(r.is_err());
    }
    Ok(())
}

#[test]
fn dropped_sockets_release_their_fds_and_registrations() {
    let _serial = serial();
    let before = open_fds();
    curio::run(dropped_sockets()).unwrap();
    assert_eq!(open_fds(), before);
}

#[curio::task]
async fn reads_a_little_then_leaves(sock: Socket) -> Result<()> {
    let got = sock.recv(10).await?;
    assert!(!got.is_empty());
    sock.close().await
}

#[curio::task]
async fn peer_leaves_mid_sendall() -> Result<()> {
    let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
    let reader = spawn(reads_a_little_then_leaves(b)).await?;
    let bystander = spawn(curio::sleep(0.05)).await?;
    let e = a.sendall(vec![7u8; 8 << 20]).await.unwrap_err();
    let kind = match e.root() {
        Error::Io(cause) => cause.kind(),
        other => panic!("not an OS error: {other}"),
    };
    util::log(format!(
        "sent some {}, {kind:?}",
        e.bytes_sent().is_some_and(|n| n > 0 && n < 8 << 20),
    ));
    reader.join().await?;
    bystander.join().await?;
    util::log("the kernel carried on");
    Ok(())
}

#[test]
fn a_peer_that_leaves_mid_sendall_fails_that_connection_only() {
    let _serial = serial();
    curio::run(peer_leaves_mid_sendall()).unwrap();
    let log = take_log();
    assert!(
        log == ["sent some true, BrokenPipe", "the kernel carried on"]
            || log == ["sent some true, ConnectionReset", "the kernel carried on"],
        "{log:?}"
    );
}
