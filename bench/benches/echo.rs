//! Echo servers side by side: curio (a reused buffer, like the tokio
//! server; and `curio-recv`, the tutorial's `recv` / `sendall`), tokio
//! `current_thread`, and a raw mio loop (the floor). Each server runs in
//! its own process pinned to CPU 0; this process is the load client,
//! pinned to CPU 1: N connections each doing ping-pong of S bytes for T
//! seconds.
//!
//! Reported per server: round trips per second, p50/p99 latency, the
//! server's CPU time per round trip and its user-space part (from
//! /proc/PID/stat; connection set-up left out), memory per idle
//! connection (VmRSS with 1000 idle connections), and with
//! `BENCH_CALLGRIND=1` the server's user-space instructions per round trip
//! (valgrind --tool=callgrind, two fixed loads subtracted so start-up and
//! connection set-up cancel out).
//!
//! `cargo bench --manifest-path bench/Cargo.toml --bench echo`
//! Environment: `BENCH_SECS` (default 1), `BENCH_ROUNDS` (default 9: each
//! load figure is the median of that many interleaved runs per server),
//! `BENCH_LOADS` (default `1x64,1x1000,100x64,100x1000,1000x64,1000x1000`:
//! connections x bytes), `BENCH_SERVERS` (default
//! `curio,curio-recv,tokio,mio`), `BENCH_CALLGRIND=1`, `BENCH_PARTS`
//! (default `load,memory`; add `callgrind` or use `BENCH_CALLGRIND=1` for
//! the instruction counts; `fairness` for the fairness table).
//!
//! **Fairness** (`BENCH_PARTS=fairness`, servers
//! `curio,tokio,curio-lines,tokio-lines` unless `BENCH_SERVERS` says
//! otherwise): one bulk client streams 64 KiB writes as fast as the
//! server echoes them, while a probe client does 64-byte round trips
//! beside it; both clients on CPU 1. For the line echo servers
//! (`*-lines`) the bulk client's writes are 1-byte lines (`"x\n"` 32768
//! times) and the probe's message is a line. Reported: the probe's p50,
//! p99 and worst round trip, and the bulk client's throughput, each the
//! median of `BENCH_ROUNDS` interleaved rounds of `BENCH_SECS` (at least
//! 2 s).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

// ---------------------------------------------------------------- servers

mod curio_server {
    use curio::Result;
    use curio::net::Address;
    use curio::net::tcp_server;
    use curio::socket::Socket;

    /// Like the tokio server: one buffer per connection, reused.
    #[curio::task]
    async fn echo_client(client: Socket, _: Address) -> Result<()> {
        let mut buf = Vec::with_capacity(16384);
        loop {
            let (n, data) = client.recv_into(buf).await?;
            if n == 0 {
                return Ok(());
            }
            buf = client.sendall(data).await?;
        }
    }

    /// The tutorial's server: a new vector per `recv`.
    #[curio::task]
    async fn echo_client_recv(client: Socket, _: Address) -> Result<()> {
        loop {
            let data = client.recv(16384).await?;
            if data.is_empty() {
                return Ok(());
            }
            client.sendall(data).await?;
        }
    }

    /// The tutorial's line echo server (`async for line in s`).
    #[curio::task]
    async fn echo_client_lines(client: Socket, _: Address) -> Result<()> {
        let s = client.as_stream();
        while let Some(line) = s.next_line().await? {
            s.write(line).await?;
        }
        Ok(())
    }

    pub fn run(port: u16) {
        curio::run(tcp_server("127.0.0.1".into(), port, echo_client)).unwrap();
    }

    pub fn run_lines(port: u16) {
        curio::run(tcp_server("127.0.0.1".into(), port, echo_client_lines)).unwrap();
    }

    pub fn run_recv(port: u16) {
        curio::run(tcp_server("127.0.0.1".into(), port, echo_client_recv)).unwrap();
    }
}

mod tokio_server {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    /// A line echo server, like the curio one.
    pub fn run_lines(port: u16) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .unwrap();
            loop {
                let sock = match listener.accept().await {
                    Ok((sock, _)) => sock,
                    Err(_) => {
                        // Out of fds: back off, as curio's servers do.
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                tokio::spawn(async move {
                    let (read, mut write) = sock.into_split();
                    let mut read = BufReader::new(read);
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        match read.read_until(b'\n', &mut line).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {
                                if write.write_all(&line).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
    }

    pub fn run(port: u16) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .unwrap();
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16384];
                    loop {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                if sock.write_all(&buf[..n]).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
    }
}

mod mio_server {
    use std::io::{ErrorKind, Read, Write};

    use mio::net::TcpListener;
    use mio::{Events, Interest, Poll, Token};

    pub fn run(port: u16) {
        let mut poll = Poll::new().unwrap();
        let mut listener = TcpListener::bind(([127, 0, 0, 1], port).into()).unwrap();
        poll.registry()
            .register(&mut listener, Token(usize::MAX), Interest::READABLE)
            .unwrap();
        let mut conns: slab::Slab<mio::net::TcpStream> = slab::Slab::new();
        let mut events = Events::with_capacity(1024);
        let mut buf = vec![0u8; 16384];
        loop {
            poll.poll(&mut events, None).unwrap();
            for ev in &events {
                if ev.token() == Token(usize::MAX) {
                    while let Ok((mut s, _)) = listener.accept() {
                        let e = conns.vacant_entry();
                        poll.registry()
                            .register(&mut s, Token(e.key()), Interest::READABLE)
                            .unwrap();
                        e.insert(s);
                    }
                    continue;
                }
                let key = ev.token().0;
                let mut closed = false;
                while let Some(s) = conns.get_mut(key) {
                    match s.read(&mut buf) {
                        Ok(0) => {
                            closed = true;
                            break;
                        }
                        Ok(n) => {
                            let mut sent = 0;
                            while sent < n {
                                match s.write(&buf[sent..n]) {
                                    Ok(k) => sent += k,
                                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                                    Err(_) => {
                                        closed = true;
                                        break;
                                    }
                                }
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => {
                            closed = true;
                            break;
                        }
                    }
                }
                if closed && conns.contains(key) {
                    let mut s = conns.remove(key);
                    let _ = poll.registry().deregister(&mut s);
                }
            }
        }
    }
}

// ----------------------------------------------------------------- client

fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t with one bit set, for this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
}

impl Server {
    fn start(kind: &str, port: u16, callgrind: Option<&str>) -> Server {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = match callgrind {
            Some(out) => {
                let mut c = Command::new("valgrind");
                c.args(["--tool=callgrind", &format!("--callgrind-out-file={out}")]);
                c.arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let child = cmd
            .args(["--server", kind, &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{kind} server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Server { child }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// utime + stime in seconds.
    /// CPU seconds used so far: `(user + system, user)`.
    fn cpu(&self) -> (f64, f64) {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split(' ').collect();
        let user: f64 = f[11].parse().unwrap();
        let system: f64 = f[12].parse().unwrap();
        // SAFETY: sysconf only reads a constant.
        let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        ((user + system) / tick, user / tick)
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap()
            .parse()
            .unwrap()
    }

    fn stop(mut self) {
        // SAFETY: sending SIGTERM to our child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

struct Load {
    round_trips: u64,
    latencies_ns: Vec<u64>,
}

/// Ping-pong of `size` bytes on `conns` connections, for `secs` seconds or
/// until `total` round trips. `started` runs once every connection is
/// open, just before the first message: what it measures leaves out the
/// connection set-up.
fn load(
    port: u16,
    conns: usize,
    size: usize,
    secs: f64,
    total: u64,
    started: &mut dyn FnMut(),
) -> Load {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut poll = Poll::new().unwrap();
    let mut socks = Vec::new();
    for i in 0..conns {
        let std = std::net::TcpStream::connect(addr).unwrap();
        std.set_nodelay(true).unwrap();
        std.set_nonblocking(true).unwrap();
        let mut s = TcpStream::from_std(std);
        poll.registry()
            .register(&mut s, Token(i), Interest::READABLE)
            .unwrap();
        socks.push(s);
    }
    let msg = vec![b'x'; size];
    let mut got = vec![0usize; conns];
    started();
    let mut started = vec![Instant::now(); conns];
    for (i, s) in socks.iter_mut().enumerate() {
        s.write_all(&msg).unwrap();
        started[i] = Instant::now();
    }
    let mut buf = vec![0u8; 65536];
    let mut events = Events::with_capacity(1024);
    let mut out = Load {
        round_trips: 0,
        latencies_ns: Vec::new(),
    };
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut in_flight = conns;
    let mut stopping = false;
    while in_flight > 0 {
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        if !stopping && (Instant::now() >= end || out.round_trips >= total) {
            stopping = true;
        }
        for ev in &events {
            let i = ev.token().0;
            loop {
                match socks[i].read(&mut buf) {
                    Ok(0) => panic!("the server closed a connection"),
                    Ok(n) => got[i] += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
            }
            if got[i] >= size {
                got[i] = 0;
                out.round_trips += 1;
                out.latencies_ns
                    .push(started[i].elapsed().as_nanos() as u64);
                if stopping || out.round_trips >= total {
                    in_flight -= 1;
                    stopping = true;
                } else {
                    socks[i].write_all(&msg).unwrap();
                    started[i] = Instant::now();
                }
            }
        }
    }
    out
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize] as f64 / 1000.0
}

/// Server instructions (callgrind `summary:` / `totals:` line).
fn callgrind_ir(path: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary: ")
                .or_else(|| l.strip_prefix("totals: "))
        })
        .and_then(|v| v.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 4 && args[1] == "--server" {
        pin(0);
        let port: u16 = args[3].parse().unwrap();
        match args[2].as_str() {
            "curio" => curio_server::run(port),
            "curio-recv" => curio_server::run_recv(port),
            "curio-lines" => curio_server::run_lines(port),
            "tokio" => tokio_server::run(port),
            "tokio-lines" => tokio_server::run_lines(port),
            "mio" => mio_server::run(port),
            other => panic!("unknown server {other}"),
        }
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    pin(1);
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let servers =
        std::env::var("BENCH_SERVERS").unwrap_or_else(|_| "curio,curio-recv,tokio,mio".into());
    let servers: Vec<&str> = servers.split(',').collect();
    let mut parts = std::env::var("BENCH_PARTS").unwrap_or_else(|_| "load,memory".into());
    if std::env::var("BENCH_CALLGRIND").as_deref() == Ok("1") {
        parts.push_str(",callgrind");
    }
    let parts: Vec<&str> = parts.split(',').collect();
    if parts.contains(&"load") {
        let rounds: usize = std::env::var("BENCH_ROUNDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(9);
        let loads = std::env::var("BENCH_LOADS")
            .unwrap_or_else(|_| "1x64,1x1000,100x64,100x1000,1000x64,1000x1000".into());
        let loads: Vec<(usize, usize)> = loads
            .split(',')
            .map(|l| {
                let (conns, size) = l.split_once('x').expect("BENCH_LOADS: CONNSxBYTES,...");
                (conns.parse().unwrap(), size.parse().unwrap())
            })
            .collect();
        load_table(&servers, secs, rounds.max(1), &loads);
    }
    if parts.contains(&"memory") {
        memory_table(&servers);
    }
    if parts.contains(&"callgrind") {
        callgrind_table(&servers);
    }
    if parts.contains(&"fairness") {
        let rounds: usize = std::env::var("BENCH_ROUNDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(9);
        let fair_servers: Vec<&str> = if std::env::var("BENCH_SERVERS").is_ok() {
            servers.clone()
        } else {
            vec!["curio", "tokio", "curio-lines", "tokio-lines"]
        };
        fairness_table(&fair_servers, secs.max(2.0), rounds.max(1));
    }
}

/// What one fairness round measured.
#[derive(Clone, Copy)]
struct Fairness {
    p50: f64,
    p99: f64,
    max: f64,
    bulk_mb_s: f64,
}

/// A bulk client (a thread, streaming 64 KiB writes and reading the echo
/// back) and a probe doing 64-byte round trips beside it, for `secs`.
fn fairness_round(kind: &str, secs: f64) -> Fairness {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    let port = free_port();
    let server = Server::start(kind, port, None);
    let lines = kind.ends_with("-lines");
    let stop = Arc::new(AtomicBool::new(false));
    let echoed = Arc::new(AtomicU64::new(0));
    let bulk = {
        let (stop, echoed) = (stop.clone(), echoed.clone());
        std::thread::spawn(move || {
            pin(1);
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let std = std::net::TcpStream::connect(addr).unwrap();
            std.set_nonblocking(true).unwrap();
            let mut s = TcpStream::from_std(std);
            let mut poll = Poll::new().unwrap();
            poll.registry()
                .register(&mut s, Token(0), Interest::READABLE | Interest::WRITABLE)
                .unwrap();
            let chunk = if lines {
                b"x\n".repeat(32768)
            } else {
                vec![b'x'; 65536]
            };
            let mut buf = vec![0u8; 65536];
            let mut events = Events::with_capacity(8);
            let (mut sent, mut got) = (0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                poll.poll(&mut events, Some(Duration::from_millis(10)))
                    .unwrap();
                // Keep at most 4 MiB in flight, so the echo keeps flowing.
                while sent - got < 4 << 20 {
                    match s.write(&chunk) {
                        Ok(n) => sent += n as u64,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => panic!("bulk write: {e}"),
                    }
                }
                loop {
                    match s.read(&mut buf) {
                        Ok(0) => panic!("the server closed the bulk connection"),
                        Ok(n) => got += n as u64,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => panic!("bulk read: {e}"),
                    }
                }
                echoed.store(got, Ordering::Relaxed);
            }
        })
    };
    // Let the bulk stream reach full speed.
    std::thread::sleep(Duration::from_millis(300));
    let mut probe = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    probe.set_nodelay(true).unwrap();
    let mut msg = [b'p'; 64];
    msg[63] = b'\n';
    let mut reply = [0u8; 64];
    let mut latencies = Vec::new();
    let got0 = echoed.load(Ordering::Relaxed);
    let t0 = Instant::now();
    while t0.elapsed().as_secs_f64() < secs {
        let start = Instant::now();
        probe.write_all(&msg).unwrap();
        probe.read_exact(&mut reply).unwrap();
        latencies.push(start.elapsed().as_nanos() as u64);
    }
    let bulk_bytes = echoed.load(Ordering::Relaxed) - got0;
    let wall = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    bulk.join().unwrap();
    server.stop();
    latencies.sort_unstable();
    Fairness {
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        max: *latencies.last().unwrap() as f64 / 1000.0,
        bulk_mb_s: bulk_bytes as f64 / wall / 1e6,
    }
}

/// The fairness table: the probe's latency beside a bulk client.
fn fairness_table(servers: &[&str], secs: f64, rounds: usize) {
    println!(
        "| server | probe p50 µs | probe p99 µs | probe worst µs (median of rounds) | bulk echo MB/s |"
    );
    println!("|---|---|---|---|---|");
    let samples = interleaved(servers, rounds, |kind| fairness_round(kind, secs));
    for (kind, runs) in servers.iter().zip(&samples) {
        let mid = |f: fn(&Fairness) -> f64| median(runs.iter().map(f).collect());
        let range = |f: fn(&Fairness) -> f64| {
            let v: Vec<f64> = runs.iter().map(f).collect();
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(0.0, f64::max);
            format!("{lo:.0}-{hi:.0}")
        };
        println!(
            "| {kind} | {:.0} ({}) | {:.0} ({}) | {:.0} ({}) | {:.0} |",
            mid(|f| f.p50),
            range(|f| f.p50),
            mid(|f| f.p99),
            range(|f| f.p99),
            mid(|f| f.max),
            range(|f| f.max),
            mid(|f| f.bulk_mb_s),
        );
    }
    println!();
}

/// One server's figures for one load.
#[derive(Clone, Copy)]
struct Sample {
    rate: f64,
    p50: f64,
    p99: f64,
    cpu_per_rt: f64,
    user_per_rt: f64,
}

/// Runs `kind`'s server under one load (after a warm-up).
fn measure(kind: &str, conns: usize, size: usize, secs: f64) -> Sample {
    let port = free_port();
    let server = Server::start(kind, port, None);
    load(port, conns, size, 0.2, u64::MAX, &mut || {});
    let (mut cpu0, mut t0) = ((0.0, 0.0), Instant::now());
    let mut l = load(port, conns, size, secs, u64::MAX, &mut || {
        (cpu0, t0) = (server.cpu(), Instant::now());
    });
    let wall = t0.elapsed().as_secs_f64();
    let cpu1 = server.cpu();
    let rts = l.round_trips as f64;
    server.stop();
    l.latencies_ns.sort_unstable();
    Sample {
        rate: rts / wall,
        p50: percentile(&l.latencies_ns, 0.5),
        p99: percentile(&l.latencies_ns, 0.99),
        cpu_per_rt: (cpu1.0 - cpu0.0) * 1e6 / rts,
        user_per_rt: (cpu1.1 - cpu0.1) * 1e6 / rts,
    }
}

/// The middle value (of an odd count; the upper middle otherwise).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// `rounds` samples of `run` for each server, the servers interleaved and
/// each round starting with a different one, so that a slow moment of the
/// machine falls on every server alike; by server.
fn interleaved<S>(servers: &[&str], rounds: usize, mut run: impl FnMut(&str) -> S) -> Vec<Vec<S>> {
    let mut samples: Vec<Vec<S>> = servers.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        for i in 0..servers.len() {
            let at = (i + round) % servers.len();
            samples[at].push(run(servers[at]));
        }
    }
    samples
}

/// Round trips per second, latency and server CPU per round trip: for
/// each load, `rounds` rounds with the servers interleaved (each round
/// starts with a different one), each figure the median over the rounds,
/// so that a slow moment of the machine falls on every server alike.
fn load_table(servers: &[&str], secs: f64, rounds: usize, loads: &[(usize, usize)]) {
    println!(
        "| server | conns | bytes | round trips/s | p50 µs | p99 µs | server CPU µs/RT | of which user |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &(conns, size) in loads {
        let samples = interleaved(servers, rounds, |kind| measure(kind, conns, size, secs));
        for (kind, runs) in servers.iter().zip(&samples) {
            let mid = |f: fn(&Sample) -> f64| median(runs.iter().map(f).collect());
            println!(
                "| {kind} | {conns} | {size} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} |",
                mid(|s| s.rate),
                mid(|s| s.p50),
                mid(|s| s.p99),
                mid(|s| s.cpu_per_rt),
                mid(|s| s.user_per_rt),
            );
        }
    }

    println!();
}

/// Resident memory per idle connection.
fn memory_table(servers: &[&str]) {
    println!("| server | KiB per idle connection (1000 connections) |");
    println!("|---|---|");
    for &kind in servers {
        let port = free_port();
        let server = Server::start(kind, port, None);
        let before = server.rss_kib();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut idle = Vec::new();
        for _ in 0..1000 {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"x").unwrap();
            let mut b = [0u8; 1];
            s.read_exact(&mut b).unwrap();
            idle.push(s);
        }
        std::thread::sleep(Duration::from_millis(200));
        let after = server.rss_kib();
        drop(idle);
        server.stop();
        println!(
            "| {kind} | {:.2} |",
            (after.saturating_sub(before)) as f64 / 1000.0
        );
    }

    println!();
}

/// User-space instructions per round trip under callgrind: two fixed
/// loads, subtracted so that start-up and connection set-up cancel out.
fn callgrind_table(servers: &[&str]) {
    println!("| server | instructions per round trip (100 conns x 1000 bytes, callgrind) |");
    println!("|---|---|");
    let (small, big) = (5_000u64, 25_000u64);
    for &kind in servers {
        let mut ir = Vec::new();
        for (run, total) in [(0, small), (1, big)] {
            let out = format!("/tmp/curio-echo-callgrind-{kind}-{run}.out");
            let port = free_port();
            let server = Server::start(kind, port, Some(&out));
            let l = load(port, 100, 1000, 600.0, total, &mut || {});
            server.stop();
            std::thread::sleep(Duration::from_millis(300));
            ir.push((callgrind_ir(&out), l.round_trips));
        }
        let per = (ir[1].0 - ir[0].0) as f64 / (ir[1].1 - ir[0].1) as f64;
        println!("| {kind} | {per:.0} |");
    }
    println!();
}
