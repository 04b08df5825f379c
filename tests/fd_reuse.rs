//! Two kernels in one thread, and an fd number reused after a close: each
//! kernel must forget its own registration of a closed fd, whichever
//! kernel was running when it closed. Alone in its test binary, so that
//! the operating system hands the closed numbers out again at once.

use curio::socket::{Domain, Socket, Type, socketpair};
use curio::{Kernel, Result, ignore_after, spawn};

/// Waits on `sock` once (registering it with this kernel's poller), for
/// nothing: the wait times out.
#[curio::task]
async fn register(sock: Socket) -> Result<()> {
    let got = ignore_after(0.01, sock.recv(10)).await?;
    assert!(got.is_none(), "nothing was sent");
    Ok(())
}

/// Drops `pair` in a task of whichever kernel runs this, then lets the
/// kernel look at the closed fds.
#[curio::task]
async fn close_pair(pair: (Socket, Socket)) -> Result<()> {
    drop(pair);
    curio::sleep(0.0).await?;
    Ok(())
}

/// A reader on `a` and a writer on `b`: the reader must wake.
#[curio::task]
async fn talk(a: Socket, b: Socket) -> Result<Option<Vec<u8>>> {
    let reader = spawn(ignore_after(2.0, a.recv(10))).await?;
    curio::sleep(0.01).await?;
    b.sendall(b"hello").await?;
    reader.join().await
}

#[test]
fn a_reused_fd_number_wakes_in_each_kernel() {
    let mut first = Kernel::new();
    let mut second = Kernel::new();
    let (a, b) = socketpair(Domain::UNIX, Type::STREAM).unwrap();
    let numbers = (a.fileno(), b.fileno());
    first.run(register(a.clone())).unwrap();
    // Closed while the other kernel runs; that kernel looks, and used to
    // take the news away from the first.
    second.run(close_pair((a, b))).unwrap();
    let (c, d) = socketpair(Domain::UNIX, Type::STREAM).unwrap();
    assert_eq!((c.fileno(), d.fileno()), numbers, "the numbers are reused");
    let got = first.run(talk(c, d)).unwrap();
    assert_eq!(got.as_deref(), Some(&b"hello"[..]), "the reader woke");

    // And the other way round, with `close` (which releases the fd from
    // the kernel closing it) instead of a drop.
    let (e, f) = socketpair(Domain::UNIX, Type::STREAM).unwrap();
    second.run(register(e.clone())).unwrap();
    first.run(close_both(e, f)).unwrap();
    let (g, h) = socketpair(Domain::UNIX, Type::STREAM).unwrap();
    let got = second.run(talk(g, h)).unwrap();
    assert_eq!(got.as_deref(), Some(&b"hello"[..]), "the reader woke");
}

#[curio::task]
async fn close_both(e: Socket, f: Socket) -> Result<()> {
    e.close().await?;
    f.close().await
}
