//! Sockets over loopback: TCP, UDP and Unix echo, half-close, fd leaks
//! (a first part of Curio's test_socket).

mod util;

use std::net::Shutdown;

use curio::socket::{Domain, SockAddr, Socket, Type, create_connection, socketpair};
use curio::{Error, Result, Task, TaskGroup, Wait, spawn, timeout_after};
use util::{open_fds, take_log, vrun};

/// The tests of this file run one at a time: the fd counts are
/// process-wide.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
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
async fn tcp_echo(host: &'static str) -> Result<Vec<String>> {
    let any: std::net::SocketAddr = format!("{host}:0").parse().unwrap();
    let listener = Socket::new(Domain::for_address(any), Type::STREAM)?;
    listener.set_reuse_address(true)?;
    listener.bind(&any.into())?;
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
        clients.push(create_connection(format!("{host}:{port}")).await?);
    }
    // (An iterator over `clients` would borrow a local across `.await`.)
    #[allow(clippy::needless_range_loop)]
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
    assert_eq!(
        curio::run(tcp_echo("127.0.0.1")).unwrap(),
        ["hello 0", "hello 1"]
    );
    assert_eq!(open_fds(), before, "every socket was closed");
}

#[test]
fn tcp_echo_over_ipv6_loopback() {
    let _serial = serial();
    let before = open_fds();
    assert_eq!(
        curio::run(tcp_echo("[::1]")).unwrap(),
        ["hello 0", "hello 1"]
    );
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
    // The OS error itself, as Curio raises it (progress is attached to
    // cancellations and timeouts only).
    let kind = match &e {
        Error::Io(cause) => cause.kind(),
        other => panic!("not an OS error: {other}"),
    };
    util::log(format!("progress {:?}, {kind:?}", e.bytes_sent()));
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
        log == ["progress None, BrokenPipe", "the kernel carried on"]
            || log == ["progress None, ConnectionReset", "the kernel carried on"],
        "{log:?}"
    );
}

#[curio::task]
async fn into_buffers() -> Result<()> {
    let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
    a.sendall(b"hello world".to_vec()).await?;
    // The buffer's capacity bounds the read; what it held is replaced,
    // and its length becomes the count.
    let (n, buf) = b.recv_into(Vec::with_capacity(5)).await?;
    util::log(format!("{n} {:?}", String::from_utf8_lossy(&buf)));
    let (n, buf) = b.recv_into(buf).await?;
    util::log(format!(
        "{n} {:?} {}",
        String::from_utf8_lossy(&buf),
        buf.len()
    ));
    match b.recv_into(Vec::new()).await {
        Err(Error::Io(e)) => util::log(format!("{:?}", e.kind())),
        other => util::log(format!("unexpected {other:?}")),
    }

    let server = Socket::new(Domain::IPV4, Type::DGRAM)?;
    server.bind(&SockAddr::from(
        "127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap(),
    ))?;
    let client = Socket::new(Domain::IPV4, Type::DGRAM)?;
    client
        .sendto(b"datagram".to_vec(), server.local_addr()?)
        .await?;
    let (n, from, buf) = server.recvfrom_into(vec![0; 64]).await?;
    // (The client's own address reads 0.0.0.0: compare ports.)
    let port = |a: &SockAddr| a.as_socket().map(|a| a.port());
    let from_client = port(&from) == port(&client.local_addr()?);
    util::log(format!(
        "{n} {:?} {from_client}",
        String::from_utf8_lossy(&buf[..n])
    ));
    Ok(())
}

#[test]
fn recv_into_and_recvfrom_into_fill_owned_buffers() {
    let _serial = serial();
    curio::run(into_buffers()).unwrap();
    assert_eq!(
        take_log(),
        [
            "5 \"hello\"",
            "5 \" worl\" 5",
            "InvalidInput",
            "8 \"datagram\" true"
        ]
    );
}

#[curio::task]
async fn pass_a_pipe() -> Result<String> {
    use std::io::Read;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
    let (mut pipe_r, pipe_w) = util::pipe();
    let fd = pipe_w.as_raw_fd().to_ne_bytes().to_vec();
    let ancdata = vec![curio::socket::Cmsg {
        level: curio::socket::SOL_SOCKET,
        ty: curio::socket::SCM_RIGHTS,
        data: fd,
    }];
    let sent = a
        .sendmsg(vec![b"here ".to_vec(), b"it is".to_vec()], ancdata, 0, None)
        .await?;
    drop(pipe_w);
    let msg = b.recvmsg(100, 64, 0).await?;
    assert_eq!(sent, 10);
    assert_eq!(msg.data, b"here it is");
    assert_eq!(msg.ancdata.len(), 1);
    let c = &msg.ancdata[0];
    assert_eq!(
        (c.level, c.ty),
        (curio::socket::SOL_SOCKET, curio::socket::SCM_RIGHTS)
    );
    let raw = i32::from_ne_bytes(c.data[..4].try_into().unwrap());
    // SAFETY: `recvmsg` installed this fd in our table; we own it now.
    let received = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut w = std::fs::File::from(received);
    std::io::Write::write_all(&mut w, b"through the passed fd")?;
    drop(w);
    let mut text = String::new();
    pipe_r.read_to_string(&mut text)?;
    Ok(text)
}

#[test]
fn sendmsg_and_recvmsg_pass_an_fd() {
    let _serial = serial();
    let before = open_fds();
    assert_eq!(curio::run(pass_a_pipe()).unwrap(), "through the passed fd");
    assert_eq!(open_fds(), before);
}

#[curio::task]
async fn connect_refused() -> Result<()> {
    // A port that was just free: nobody listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let sock = Socket::new(Domain::IPV4, Type::STREAM)?;
    let code = sock.connect_ex(addr.into()).await?;
    util::log(format!(
        "connect_ex refused {}",
        code == libc_econnrefused()
    ));
    let sock = Socket::new(Domain::IPV4, Type::STREAM)?;
    let e = sock.connect(addr.into()).await.unwrap_err();
    let refused = matches!(&e, Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused);
    util::log(format!("connect refused {refused}"));
    Ok(())
}

fn libc_econnrefused() -> i32 {
    std::io::Error::from(std::io::ErrorKind::ConnectionRefused)
        .raw_os_error()
        .unwrap_or(111)
}

#[test]
fn connect_ex_returns_the_error_code() {
    let _serial = serial();
    curio::run(connect_refused()).unwrap();
    assert_eq!(
        take_log(),
        ["connect_ex refused true", "connect refused true"]
    );
}

#[curio::task]
async fn options_and_blocking() -> Result<()> {
    use curio::socket::{SO_REUSEADDR, SO_TYPE, SOL_SOCKET};
    let s = Socket::new(Domain::IPV4, Type::STREAM)?;
    let before = s.getsockopt(SOL_SOCKET, SO_REUSEADDR)?;
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)?;
    let after = s.getsockopt(SOL_SOCKET, SO_REUSEADDR)?;
    let ty = s.getsockopt(SOL_SOCKET, SO_TYPE)?;
    util::log(format!("reuse {before}"));
    util::log(format!("reuse {}", after != 0));
    util::log(format!("stream {}", ty == 1));
    let bad = s.setsockopt(SOL_SOCKET, -1, 1).unwrap_err();
    util::log(format!(
        "bad option is an I/O error {}",
        matches!(bad, Error::Io(_))
    ));

    let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
    a.sendall(b"ready".to_vec()).await?;
    // A blocking read inside `blocking`, then the socket is non-blocking
    // again: a read with nothing there must wait (and time out).
    let got = b.blocking(|raw| {
        let mut buf = [0u8; 16];
        std::io::Read::read(&mut &*raw, &mut buf).map(|n| buf[..n].to_vec())
    })?;
    util::log(String::from_utf8_lossy(&got));
    let waited = timeout_after(0.05, b.recv(10)).await;
    util::log(format!(
        "non-blocking again {}",
        matches!(waited, Err(Error::TaskTimeout(_)))
    ));
    Ok(())
}

#[test]
fn socket_options_and_blocking_mode() {
    let _serial = serial();
    curio::run(options_and_blocking()).unwrap();
    assert_eq!(
        take_log(),
        [
            "reuse 0",
            "reuse true",
            "stream true",
            "bad option is an I/O error true",
            "ready",
            "non-blocking again true"
        ]
    );
}

#[curio::task]
async fn sendall_times_out() -> Result<()> {
    let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
    // Nobody reads `b`: the socket buffer fills and `sendall` waits.
    let e = timeout_after(0.05, a.sendall(vec![1u8; 4 << 20]))
        .await
        .unwrap_err();
    let sent = e.bytes_sent().expect("bytes_sent");
    util::log(format!(
        "timeout {} {} sent some {}",
        e.is_cancelled(),
        matches!(e, Error::TaskTimeout(_)),
        sent > 0 && sent < 4 << 20
    ));
    // Exactly that many bytes arrive: nothing was lost or sent twice.
    b.shutdown(Shutdown::Write)?;
    a.shutdown(Shutdown::Write)?;
    let mut got = 0;
    loop {
        let chunk = b.recv(1 << 20).await?;
        if chunk.is_empty() {
            break;
        }
        got += chunk.len();
    }
    util::log(format!("received {}", got == sent));
    Ok(())
}

#[test]
fn sendall_reports_the_bytes_sent_on_timeout() {
    let _serial = serial();
    curio::run(sendall_times_out()).unwrap();
    assert_eq!(
        take_log(),
        ["timeout true true sent some true", "received true"]
    );
}

#[curio::task]
async fn reads_until_eof(client: Socket, _addr: curio::net::Address) -> Result<()> {
    while !client.recv(100).await?.is_empty() {}
    Ok(())
}

#[curio::task]
async fn fails_while_serving() -> Result<()> {
    let listener = curio::net::tcp_server_socket("127.0.0.1", 0, 16)?;
    let port = listener.local_addr()?.as_socket().unwrap().port();
    let _server = spawn(curio::net::run_server(listener, reads_until_eof)).await?;
    let client = create_connection(format!("127.0.0.1:{port}")).await?;
    curio::sleep(0.1).await?;
    assert!(client.fileno() >= 0);
    // Returning drops `_client`: the handler sees end of file while
    // shutdown is cancelling its watcher.
    Err(Error::msg("boom"))
}

/// Shutdown cancels the newest tasks first, a member's watcher before the
/// member. Here the member ends by itself meanwhile: the watcher must still
/// report that, or the server's task group waits forever and shutdown
/// never finishes.
#[test]
fn shutdown_while_a_handler_ends_by_itself_finishes() {
    let _serial = serial();
    let before = open_fds();
    let e = curio::run(fails_while_serving()).unwrap_err();
    assert_eq!(e.to_string(), "boom");
    assert_eq!(open_fds(), before);
}

/// Reads with one reused buffer until end of file, logging the first two
/// reads; returns the byte count.
#[curio::task]
async fn read_chunks(sock: Socket) -> Result<usize> {
    let mut buf = Vec::with_capacity(4096);
    let mut total = 0;
    let mut reads = 0;
    loop {
        let (n, data) = sock.recv_into(buf).await?;
        if n == 0 {
            return Ok(total);
        }
        if reads < 2 {
            util::log(String::from_utf8_lossy(&data).into_owned());
        }
        reads += 1;
        total += n;
        buf = data;
    }
}

#[curio::task]
async fn short_reads_then_more_data() -> Result<usize> {
    let listener = curio::net::tcp_server_socket("127.0.0.1", 0, 8)?;
    let client = Socket::new(Domain::IPV4, Type::STREAM)?;
    client.connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    let reader = spawn(read_chunks(server)).await?;
    // Each part arrives after the reader's short read of the one before:
    // it waits without trying, and must still see the new data.
    let literal = client.sendall(b"ab").await?;
    util::log(format!("sendall gave back {literal:?}"));
    curio::sleep(0.02).await?;
    let shared: std::rc::Rc<[u8]> = b"cde".as_slice().into();
    client.sendall(shared.clone()).await?;
    curio::sleep(0.02).await?;
    client.sendall(vec![b'x'; 100_000]).await?;
    curio::sleep(0.02).await?;
    client.shutdown(Shutdown::Write)?;
    let total = reader.join().await?;
    listener.close().await?;
    client.close().await?;
    Ok(total)
}

#[test]
fn tcp_reads_after_a_short_read_wait_and_see_new_data() {
    let _serial = serial();
    let before = open_fds();
    assert_eq!(curio::run(short_reads_then_more_data()).unwrap(), 100_005);
    assert_eq!(
        take_log(),
        ["sendall gave back [97, 98]", "ab", "cde"],
        "sendall takes any bytes and hands them back"
    );
    assert_eq!(open_fds(), before);
}

#[curio::task]
async fn data_and_end_of_file_together() -> Result<Vec<usize>> {
    let listener = curio::net::tcp_server_socket("127.0.0.1", 0, 8)?;
    let client = Socket::new(Domain::IPV4, Type::STREAM)?;
    client.connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    // The reader waits first, so the fd is registered; then the bytes and
    // the FIN arrive together, in one edge.
    let reader = spawn(timeout_after(5.0, read_sizes(server))).await?;
    curio::sleep(0.02).await?;
    client.sendall(b"abc").await?;
    client.shutdown(Shutdown::Write)?;
    let sizes = reader.join().await?;
    listener.close().await?;
    client.close().await?;
    Ok(sizes)
}

/// The sizes of reads of up to 100 bytes, until end of file.
#[curio::task]
async fn read_sizes(sock: Socket) -> Result<Vec<usize>> {
    let mut sizes = Vec::new();
    loop {
        let data = sock.recv(100).await?;
        sizes.push(data.len());
        if data.is_empty() {
            return Ok(sizes);
        }
    }
}

#[test]
fn end_of_file_after_a_short_read_is_not_missed() {
    // A short read marks the socket drained, so the next read waits
    // first; the FIN came with the data and sends no second edge: the
    // kernel must remember that the peer closed.
    let _serial = serial();
    assert_eq!(curio::run(data_and_end_of_file_together()).unwrap(), [3, 0]);
}

#[test]
fn a_server_hands_its_handler_a_printable_address() {
    // It opens a socket pair: serial, so that it cannot change another
    // test's count of open fds.
    let _serial = serial();
    use curio::net::Address;
    let inet = SockAddr::from("127.0.0.1:25000".parse::<std::net::SocketAddr>().unwrap());
    let inet = Address::from(&inet);
    assert_eq!(inet.to_string(), "127.0.0.1:25000");
    assert_eq!(inet.as_socket().map(|a| a.port()), Some(25000));
    let unix = Address::from(&SockAddr::unix("/tmp/curio.sock").unwrap());
    assert_eq!(unix.to_string(), "/tmp/curio.sock");
    assert_eq!(unix.as_socket(), None);
    let (a, _b) = socketpair(Domain::UNIX, Type::STREAM).unwrap();
    let unnamed = Address::from(&a.local_addr().unwrap());
    assert_eq!(
        (unnamed.to_string(), unnamed),
        (String::new(), Address::Unix(None))
    );
}

/// Waits to read from a clone of a client's socket.
#[curio::task]
async fn keeps_reading(client: Socket) -> Result<()> {
    let e = client.recv(100).await.unwrap_err();
    let released = e
        .to_string()
        .contains("was released while this task waited");
    util::log(format!("keeper: released {released}"));
    Ok(())
}

/// Ends the way the client asks: returns or panics (leaving a task reading
/// from a clone of the socket), closes the socket itself first, or fails.
/// Logs its task's name.
#[curio::task]
async fn ends_as_asked(client: Socket, _addr: curio::net::Address) -> Result<()> {
    let me = curio::current_task().await?;
    let ask = client.recv(100).await?;
    util::log(format!(
        "{} got {}",
        me.name(),
        String::from_utf8_lossy(&ask)
    ));
    match &ask[..] {
        b"return" | b"panic" => {
            spawn(keeps_reading(client.clone())).daemon(true).await?;
            curio::sleep(0.05).await?;
            if ask == b"panic" {
                panic!("the handler panics");
            }
            Ok(())
        }
        b"close" => client.close().await,
        b"fail" => Err(Error::msg("handler failed")),
        _ => Ok(()),
    }
}

#[curio::task]
async fn handlers_end_four_ways() -> Result<()> {
    let listener = curio::net::tcp_server_socket("127.0.0.1", 0, 16)?;
    let port = listener.local_addr()?.as_socket().unwrap().port();
    let server = spawn(curio::net::run_server(listener, ends_as_asked)).await?;
    for ask in ["return", "close", "fail", "panic"] {
        let client = create_connection(format!("127.0.0.1:{port}")).await?;
        client.sendall(ask.as_bytes()).await?;
        // However the handler ended, the server closed the connection.
        let rest = timeout_after(5.0, client.recv(100)).await?;
        util::log(format!("{ask}: end of file {}", rest.is_empty()));
        client.close().await?;
    }
    // The server still accepts after a handler failed.
    let client = create_connection(format!("127.0.0.1:{port}")).await?;
    client.sendall(b"last").await?;
    timeout_after(5.0, client.recv(100)).await?;
    server.cancel().await?;
    client.close().await?;
    Ok(())
}

#[test]
fn a_server_closes_each_client_however_its_handler_ends() {
    let _serial = serial();
    let before = open_fds();
    curio::run(handlers_end_four_ways()).unwrap();
    assert_eq!(
        take_log(),
        [
            "ends_as_asked got return",
            "keeper: released true",
            "return: end of file true",
            "ends_as_asked got close",
            "close: end of file true",
            "ends_as_asked got fail",
            "fail: end of file true",
            "ends_as_asked got panic",
            "keeper: released true",
            "panic: end of file true",
            "ends_as_asked got last",
        ]
    );
    assert_eq!(open_fds(), before, "no fd left open");
}

#[curio::task]
async fn by_name() -> Result<Vec<String>> {
    // `localhost` is in /etc/hosts: the lookup needs no network.
    let listener = curio::net::tcp_server_socket("localhost", 0, 8)?;
    let port = listener.local_addr()?.as_socket().unwrap().port();
    let server = spawn(curio::net::run_server(listener, echo_once)).await?;
    let mut log = Vec::new();
    let sock = create_connection(format!("localhost:{port}")).await?;
    sock.sendall(b"socket").await?;
    log.push(String::from_utf8_lossy(&sock.recv(100).await?).into_owned());
    sock.close().await?;
    let stream = curio::net::open_connection("localhost".into(), port).await?;
    stream.write(b"stream").await?;
    log.push(String::from_utf8_lossy(&stream.read(100).await?).into_owned());
    stream.close().await?;
    server.cancel().await?;
    Ok(log)
}

#[curio::task]
async fn echo_once(client: Socket, _addr: curio::net::Address) -> Result<()> {
    let data = client.recv(100).await?;
    client.sendall(data).await?;
    Ok(())
}

#[test]
fn host_names_are_looked_up() {
    let _serial = serial();
    let before = open_fds();
    assert_eq!(curio::run(by_name()).unwrap(), ["socket", "stream"]);
    assert_eq!(open_fds(), before);
}
