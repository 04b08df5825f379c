//! Long runs and hostile input stay bounded: the fast versions of the soak
//! script's checks (`scripts/soak.sh`). Live heap bytes are counted per
//! thread by a wrapping allocator (each test runs its kernel in its own
//! thread).

mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use curio::net::{Address, run_server, tcp_server_socket, unix_server_socket};
use curio::socket::{Domain, SockAddr, Socket, Type};
use curio::{Kernel, Result, spawn};

/// Counts the live heap bytes of each thread.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Adds `delta` to this thread's live bytes.
fn count(delta: isize) {
    let live = LIVE.get() + delta;
    LIVE.set(live);
    if live > PEAK.get() {
        PEAK.set(live);
    }
}

// SAFETY: every call goes straight to the system allocator; the counter is
// a const-initialised thread-local without a destructor, so it is usable
// at any point of a thread's life.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// This thread's live heap bytes.
fn live() -> isize {
    LIVE.get()
}

/// The most live heap bytes this thread had since the last call.
fn take_peak() -> isize {
    PEAK.replace(LIVE.get())
}

/// Echoes one message, then ends (the client closes or resets).
#[curio::task]
async fn echo_once(client: Socket, _addr: Address) -> Result<()> {
    let data = client.recv(100).await?;
    client.sendall(data).await?;
    let _ = client.recv(100).await?;
    Ok(())
}

/// One connection: a byte there and back, then a close (TCP: a reset,
/// so that no port lingers in `TIME_WAIT`; Unix: a plain close).
#[curio::task]
async fn visit(addr: SockAddr, tcp: bool) -> Result<()> {
    let domain = if tcp { Domain::IPV4 } else { Domain::UNIX };
    let sock = Socket::new(domain, Type::STREAM)?;
    sock.connect(addr).await?;
    if tcp {
        sock.with_socket2(|s| s.set_linger(Some(std::time::Duration::ZERO)))?;
    }
    sock.sendall(b"x").await?;
    let echo = sock.recv(1).await?;
    assert_eq!(echo, b"x");
    sock.close().await
}

/// `cycles` connections, alternately TCP (reset) and Unix (closed).
#[curio::task]
async fn churn(tcp: SockAddr, unix: SockAddr, cycles: usize) -> Result<()> {
    for i in 0..cycles {
        visit(
            if i % 2 == 0 {
                tcp.clone()
            } else {
                unix.clone()
            },
            i % 2 == 0,
        )
        .await?;
    }
    Ok(())
}

/// A server's memory and task table depend on the clients connected now,
/// not on how many came before (the servers used to keep about 330 bytes
/// per connection ever served).
#[test]
fn a_server_keeps_nothing_of_the_clients_it_served() {
    std::thread::spawn(|| {
        let dir = std::env::temp_dir().join(format!("curio-bounded-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("server.sock");

        let mut kernel = Kernel::new();
        let tcp = tcp_server_socket("127.0.0.1", 0, 1024).unwrap();
        let tcp_addr = tcp.local_addr().unwrap();
        let unix = unix_server_socket(path.to_str().unwrap(), 1024).unwrap();
        let unix_addr = SockAddr::unix(&path).unwrap();
        kernel.run(start_servers(tcp, unix)).unwrap();
        let idle_tasks = kernel.task_count();
        assert_eq!(idle_tasks, 4, "two servers, each with its accepting task");

        // Warm up: buffers, tables and the allocator reach their sizes.
        kernel
            .run(churn(tcp_addr.clone(), unix_addr.clone(), 2000))
            .unwrap();
        kernel.run(curio::sleep(0.05)).unwrap();
        let before = live();
        kernel.run(churn(tcp_addr, unix_addr, 20_000)).unwrap();
        // The last handlers see their client's end on the next passes.
        kernel.run(curio::sleep(0.05)).unwrap();
        let grown = live() - before;
        assert_eq!(kernel.task_count(), idle_tasks, "every client task is gone");
        assert!(
            grown < 64 * 1024,
            "20000 connections left {grown} bytes behind"
        );
        kernel.shutdown().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    })
    .join()
    .unwrap();
}

#[curio::task]
async fn start_servers(tcp: Socket, unix: Socket) -> Result<()> {
    spawn(run_server(tcp, echo_once)).await?;
    spawn(run_server(unix, echo_once)).await?;
    curio::sleep(0.0).await?;
    Ok(())
}

#[curio::task]
async fn sleeps_long() -> Result<()> {
    curio::sleep(1e9).await?;
    Ok(())
}

/// Joins `t` with a timeout, `n` times; each times out.
#[curio::task]
async fn impatient_joins(t: curio::Task<()>, n: usize) -> Result<()> {
    for _ in 0..n {
        let joined = curio::ignore_after(1.0, t.join()).await?;
        assert!(joined.is_none());
    }
    Ok(())
}

#[curio::task]
async fn start_sleeper() -> Result<curio::Task<()>> {
    spawn(sleeps_long()).await
}

/// A join that times out leaves nothing behind (each used to leave 8
/// bytes until the joined task ended: 4M timeouts, 31 MB).
#[test]
fn timed_out_joins_leave_nothing_behind() {
    std::thread::spawn(|| {
        let mut kernel = Kernel::builder().virtual_clock().build();
        let t = kernel.run(start_sleeper()).unwrap();
        kernel.run(impatient_joins(t.clone(), 2000)).unwrap();
        let before = live();
        kernel.run(impatient_joins(t.clone(), 20_000)).unwrap();
        let grown = live() - before;
        assert!(grown < 8 * 1024, "20000 timed-out joins left {grown} bytes");
        kernel.shutdown().unwrap();
    })
    .join()
    .unwrap();
}

/// This thread's CPU time, in seconds (not wall time: other processes
/// on the machine do not count).
fn thread_cpu() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one timespec.
    assert_eq!(
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) },
        0
    );
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Spawns `n` sleeping members, then cancels the group: its CPU time.
#[curio::task]
async fn cancel_members(n: usize) -> Result<f64> {
    let g: curio::TaskGroup<()> = curio::TaskGroup::new(curio::Wait::All);
    for _ in 0..n {
        g.spawn(sleeps_long()).await?;
    }
    curio::sleep(0.0).await?;
    let start = thread_cpu();
    g.cancel_remaining().await?;
    g.join().await?;
    let spent = thread_cpu() - start;
    let left = g.exceptions()?.len();
    assert_eq!(left, 0, "cancelled members left the group");
    Ok(spent)
}

/// Cancelling a group costs the same per member whatever its size (it
/// was quadratic: 80k members took 4-8 s, 10k 0.1 s). A ratio of CPU
/// times with a wide margin: linear is about 4x for 4x the members,
/// quadratic 16x.
#[test]
fn cancelling_a_big_group_is_linear() {
    std::thread::spawn(|| {
        let mut kernel = Kernel::builder().virtual_clock().build();
        kernel.run(cancel_members(2000)).unwrap();
        let small = kernel.run(cancel_members(5000)).unwrap();
        let big = kernel.run(cancel_members(20_000)).unwrap();
        assert!(
            big < 9.0 * small,
            "5000 members: {small:.3} s, 20000: {big:.3} s"
        );
        kernel.shutdown().unwrap();
    })
    .join()
    .unwrap();
}

#[curio::task]
async fn read_a_line(sock: Socket) -> Result<String> {
    let stream = sock.as_stream();
    let line = stream.readline().await;
    Ok(match line {
        Err(e) => e.to_string(),
        Ok(line) => format!("a line of {} bytes", line.len()),
    })
}

/// A peer that sends 10 MB without a newline gets an error, and the
/// reader's memory stays near the line limit (it used to grow with the
/// line: 1 GiB took a server to a 2 GiB peak).
#[test]
fn an_endless_line_is_refused_with_bounded_memory() {
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    let (mine, theirs) = UnixStream::pair().unwrap();
    let flood = std::thread::spawn(move || {
        let mut theirs = theirs;
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..160 {
            if theirs.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    std::thread::spawn(move || {
        let mut kernel = Kernel::new();
        let sock = curio::socket::fromfd(&mine).unwrap();
        drop(mine);
        take_peak();
        let before = live();
        let said = kernel.run(read_a_line(sock)).unwrap();
        let peak = take_peak() - before;
        assert_eq!(
            said,
            "line too long: no newline within 65536 bytes (the stream's max_line)"
        );
        assert!(peak < 512 * 1024, "reading the line took {peak} bytes");
        kernel.shutdown().unwrap();
    })
    .join()
    .unwrap();
    flood.join().unwrap();
}

/// Reads a line that arrives a byte at a time from each stream; the bytes
/// the streams hold meanwhile.
#[curio::task]
async fn trickle(socks: Vec<(Socket, Socket)>) -> Result<isize> {
    let streams: Vec<_> = socks.iter().map(|(a, _)| a.as_stream()).collect();
    let before = live();
    for byte in b"abc" {
        for (_, b) in &socks {
            b.with_socket2(|s| std::io::Write::write_all(&mut &*s, &[*byte]))?;
        }
        for s in streams.clone() {
            // One byte each: no line yet.
            let got = curio::ignore_after(0.01, s.readline()).await?;
            assert!(got.is_none());
        }
    }
    Ok((live() - before) / socks.len() as isize)
}

/// A client trickling a byte at a time costs its stream one read buffer,
/// not a new, bigger one per byte (each stream held 128 KiB after two
/// bytes, and glibc's reallocation touched 64 KiB of it: 1,000 slowloris
/// clients took a server from 43 to 105 MB).
#[test]
fn a_trickling_client_costs_one_buffer() {
    std::thread::spawn(|| {
        let socks: Vec<_> = (0..50)
            .map(|_| curio::socket::socketpair(Domain::UNIX, Type::STREAM).unwrap())
            .collect();
        let per_stream = Kernel::new().run(trickle(socks)).unwrap();
        assert!(
            per_stream <= 66 * 1024,
            "{per_stream} bytes per trickling stream"
        );
    })
    .join()
    .unwrap();
}
