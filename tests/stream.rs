//! Streams and servers over loopback (a first part of Curio's test_io and
//! test_network).

mod util;

use curio::net::{open_connection, run_server, tcp_server_socket};
use curio::socket::{Domain, Socket, Type, socketpair};
use curio::stream::{FileStream, SocketStream};
use curio::{Error, Result, sleep, spawn, timeout_after};
use util::{log, take_log, vrun};

/// The tests of this file run one at a time: fd counts are process-wide.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn pair() -> Result<(SocketStream, SocketStream)> {
    let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
    Ok((SocketStream::new(a), SocketStream::new(b)))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[curio::task]
async fn lines() -> Result<()> {
    let (a, b) = pair()?;
    a.write(b"line 1\nline 2\npartial".to_vec()).await?;
    let one = b.readline().await?;
    log(text(&one));
    let exact = b.read_exactly(4).await?;
    log(text(&exact));
    a.close().await?;
    let rest = b.readlines().await?;
    log(format!("{rest:?}"));
    let end = b.readline().await?;
    log(format!("eof {}", end.is_empty()));
    Ok(())
}

#[test]
fn readline_read_exactly_and_readlines() {
    let _serial = serial();
    curio::run(lines()).unwrap();
    assert_eq!(
        take_log(),
        [
            "line 1\n",
            "line",
            "[[32, 50, 10], [112, 97, 114, 116, 105, 97, 108]]",
            "eof true"
        ]
    );
}

#[curio::task]
async fn short_stream() -> Result<()> {
    let (a, b) = pair()?;
    a.write(b"abc".to_vec()).await?;
    a.close().await?;
    let e = b.read_exactly(10).await.unwrap_err();
    log(e.to_string());
    // The bytes are still there for the next read.
    let all = b.readall().await?;
    log(text(&all));
    Ok(())
}

#[test]
fn read_exactly_at_end_of_file_keeps_the_bytes() {
    let _serial = serial();
    curio::run(short_stream()).unwrap();
    assert_eq!(
        take_log(),
        [
            "I/O error: expected 10 bytes, the stream ended after 3",
            "abc"
        ]
    );
}

#[curio::task]
async fn timed_out_readline() -> Result<()> {
    let (a, b) = pair()?;
    a.write(b"half a ".to_vec()).await?;
    let r = timeout_after(0.05, b.readline()).await;
    log(format!(
        "timeout {}",
        matches!(r, Err(Error::TaskTimeout(_)))
    ));
    a.write(b"line\n".to_vec()).await?;
    let line = b.readline().await?;
    log(text(&line));
    Ok(())
}

#[test]
fn a_timed_out_readline_loses_nothing() {
    let _serial = serial();
    curio::run(timed_out_readline()).unwrap();
    assert_eq!(take_log(), ["timeout true", "half a line\n"]);
}

#[curio::task]
async fn managed_echo(client: Socket, _addr: curio::net::Address) -> Result<()> {
    let stream = SocketStream::new(client);
    loop {
        match stream.readline().await {
            Ok(line) if line.is_empty() => return Ok(()),
            Ok(line) => stream.write(line).await?,
            Err(e) if e.is_cancelled() => {
                stream.write(b"Goodbye\n".to_vec()).await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        }
    }
}

#[curio::task]
async fn server_and_clients() -> Result<()> {
    let listener = tcp_server_socket("127.0.0.1", 0, 16)?;
    let port = listener.local_addr()?.as_socket().expect("inet").port();
    let server = spawn(run_server(listener, managed_echo)).await?;
    let c1 = open_connection("127.0.0.1".into(), port).await?;
    let c2 = open_connection("127.0.0.1".into(), port).await?;
    c1.write(b"hello\n".to_vec()).await?;
    c2.write(b"world\n".to_vec()).await?;
    let (r1, r2) = (c1.readline().await?, c2.readline().await?);
    log(format!("{}{}", text(&r1), text(&r2)));
    server.cancel().await?;
    for c in [c1, c2] {
        let bye = c.readall().await?;
        log(text(&bye));
    }
    sleep(0.0).await?;
    Ok(())
}

#[test]
fn cancelling_a_server_says_goodbye_to_every_client() {
    let _serial = serial();
    let before = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0);
    curio::run(server_and_clients()).unwrap();
    assert_eq!(take_log(), ["hello\nworld\n", "Goodbye\n", "Goodbye\n"]);
    let after = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(after, before, "no fd leaked");
}

#[curio::task]
async fn virtual_pair() -> Result<()> {
    let (a, b) = pair()?;
    a.write(b"x".to_vec()).await?;
    let got = b.read(10).await?;
    log(text(&got));
    Ok(())
}

#[test]
fn streams_work_under_the_virtual_clock_too() {
    let _serial = serial();
    vrun(virtual_pair()).unwrap();
    assert_eq!(take_log(), ["x"]);
}

/// O_NONBLOCK of `fd`.
fn nonblocking(fd: &impl std::os::fd::AsRawFd) -> bool {
    // SAFETY: F_GETFL only reads the flags of an open fd.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    flags & libc::O_NONBLOCK != 0
}

#[curio::task]
async fn pipe_streams() -> Result<()> {
    let (r, w) = util::pipe();
    let (r_dup, w_dup) = (r.try_clone()?, w.try_clone()?);
    let (r, w) = (FileStream::from_fd(r)?, FileStream::from_fd(w)?);
    log(format!("non-blocking {}", nonblocking(&r_dup)));
    w.write(b"first\nsec".to_vec()).await?;
    log(text(&r.readline().await?));
    // A timed-out readline keeps the partial line buffered.
    let e = timeout_after(0.05, r.readline()).await.unwrap_err();
    log(format!("timeout {}", matches!(e, Error::TaskTimeout(_))));
    w.writelines(vec![b"ond\n".to_vec(), b"third\n".to_vec()])
        .await?;
    log(text(&r.readline().await?));
    // Raw blocking access is refused while bytes are buffered...
    let refused = r.blocking(|_| Ok(())).unwrap_err();
    log(format!("{refused}"));
    log(text(&r.readline().await?));
    // ... and allowed after; the fd is non-blocking again afterwards.
    w.write(b"raw".to_vec()).await?;
    let got = r.blocking(|f| {
        let mut buf = [0u8; 8];
        std::io::Read::read(&mut &*f, &mut buf).map(|n| buf[..n].to_vec())
    })?;
    log(format!("{} {}", text(&got), nonblocking(&r_dup)));
    // Closing puts the original (blocking) flags back.
    w.close().await?;
    let w_restored = !nonblocking(&w_dup);
    drop(w_dup);
    let end = r.next_line().await?;
    log(format!("eof {end:?}"));
    r.close().await?;
    log(format!("restored {} {w_restored}", !nonblocking(&r_dup)));
    Ok(())
}

#[test]
fn file_streams_over_a_pipe() {
    let _serial = serial();
    let before = util::open_fds();
    curio::run(pipe_streams()).unwrap();
    assert_eq!(
        take_log(),
        [
            "non-blocking true",
            "first\n",
            "timeout true",
            "second\n",
            "there are 6 bytes of unread buffered data",
            "third\n",
            "raw true",
            "eof None",
            "restored true true"
        ]
    );
    assert_eq!(util::open_fds(), before);
}

#[curio::task]
async fn partial_lines_and_writes() -> Result<()> {
    let (a, b) = pair()?;
    a.write(b"one\ntwo\nthr".to_vec()).await?;
    let e = timeout_after(0.05, b.readlines()).await.unwrap_err();
    // The timeout as itself; the lines read are back in the buffer, in
    // front of the partial line.
    log(format!("{} {}", matches!(e, Error::TaskTimeout(_)), e));
    a.write(b"ee\n".to_vec()).await?;
    for _ in 0..3 {
        log(text(&b.readline().await?));
    }
    // Nobody reads `b` now: writelines stops when the buffer is full.
    let line = vec![b'x'; 1 << 16];
    let lines = vec![line; 200];
    let e = timeout_after(0.05, a.writelines(lines)).await.unwrap_err();
    let written = e.bytes_written().expect("bytes_written");
    a.close().await?;
    let all = b.readall().await?;
    log(format!(
        "{} {}",
        e.is_cancelled(),
        all.len() == written && written > 0
    ));
    Ok(())
}

#[test]
fn readlines_and_writelines_report_progress_on_timeout() {
    let _serial = serial();
    vrun(partial_lines_and_writes()).unwrap();
    assert_eq!(
        take_log(),
        [
            "true task timeout at clock 0.05",
            "one\n",
            "two\n",
            "three\n",
            "true true"
        ]
    );
}

#[curio::task]
async fn socket_makefile() -> Result<()> {
    let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
    let f = a.makefile()?;
    f.write(b"via the file\n".to_vec()).await?;
    // The file is a duplicate: closing it leaves the socket open.
    f.close().await?;
    a.sendall(b"via the socket\n".to_vec()).await?;
    a.close().await?;
    let s = b.as_stream();
    let lines = s.readlines().await?;
    log(format!(
        "{:?}",
        lines.iter().map(|l| text(l)).collect::<Vec<_>>()
    ));
    Ok(())
}

#[test]
fn makefile_is_a_file_stream_on_a_duplicate() {
    let _serial = serial();
    let before = util::open_fds();
    curio::run(socket_makefile()).unwrap();
    assert_eq!(take_log(), ["[\"via the file\\n\", \"via the socket\\n\"]"]);
    assert_eq!(util::open_fds(), before);
}

#[curio::task]
async fn long_lines() -> Result<()> {
    let (a, b) = pair()?;
    logf!("default {}", b.max_line());
    b.set_max_line(8);
    logf!("clone {}", b.clone().max_line());
    // Eight bytes with the newline fit; nine do not.
    a.write(b"1234567\n12345678\nrest\n".to_vec()).await?;
    let fits = b.readline().await?;
    log(text(&fits));
    let e = b.readline().await.unwrap_err();
    logf!("{e}");
    logf!("{}", matches!(e, Error::LineTooLong { limit: 8 }));
    // The bytes stay buffered: read them raw, then lines go on.
    let raw = b.read(9).await?;
    log(text(&raw));
    let rest = b.readline().await?;
    log(text(&rest));
    // readlines fails with the error itself and keeps the lines it read
    // before the long one buffered.
    a.write(b"ok\nmuch too long\n".to_vec()).await?;
    a.close().await?;
    let e = b.readlines().await.unwrap_err();
    logf!("{}", matches!(e, Error::LineTooLong { .. }));
    b.set_max_line(usize::MAX);
    let all = b.readlines().await?;
    logf!("{all:?}");
    Ok(())
}

/// A line longer than the stream's limit is an error; what was read is
/// kept; the limit is per stream and may be lifted.
#[test]
fn readline_refuses_a_line_over_the_limit() {
    let _serial = serial();
    curio::run(long_lines()).unwrap();
    assert_eq!(
        take_log(),
        [
            "default 65536",
            "clone 8",
            "1234567\n",
            "line too long: no newline within 8 bytes (the stream's max_line)",
            "true",
            "12345678\n",
            "rest\n",
            "true",
            "[[111, 107, 10], [109, 117, 99, 104, 32, 116, 111, 111, 32, 108, 111, 110, 103, 10]]",
        ]
    );
}

#[curio::task]
async fn huge_maximums() -> Result<()> {
    let (a, b) = pair()?;
    a.write(b"some bytes".to_vec()).await?;
    let got = b.read(usize::MAX).await?;
    log(text(&got));
    a.socket().sendall(b"more").await?;
    let got = b.socket().recv(1 << 40).await?;
    log(text(&got));
    Ok(())
}

/// A huge maximum is legal and reads what is there (`recv(1 TiB)` used to
/// abort the process, `read(usize::MAX)` to panic).
#[test]
fn a_huge_maximum_reads_what_is_there() {
    let _serial = serial();
    curio::run(huge_maximums()).unwrap();
    assert_eq!(take_log(), ["some bytes", "more"]);
}
