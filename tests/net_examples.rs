//! The tutorial's network programs, driven over loopback like `nc` would:
//! every echo server, the managed echo server's restart (each client gets
//! a goodbye), the chat server, and the client.

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use std::time::{Duration, Instant};
use util::example;

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local address").port()
}

/// A server example, killed when dropped.
struct Server {
    child: Child,
    out: BufReader<ChildStdout>,
    port: u16,
}

impl Server {
    fn start(name: &str) -> Server {
        let port = free_port();
        let mut child = Command::new(example(name))
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server");
        let out = BufReader::new(child.stdout.take().expect("piped stdout"));
        Server { child, out, port }
    }

    /// Reads what the server prints up to a line starting with `start`.
    fn wait_for(&mut self, start: &str) {
        loop {
            let mut l = String::new();
            let n = self.out.read_line(&mut l).expect("read the output");
            assert!(n > 0, "the server ended before printing {start:?}");
            if l.starts_with(start) {
                return;
            }
        }
    }

    /// A client connection, once the server listens.
    fn connect(&self) -> TcpStream {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match TcpStream::connect(("127.0.0.1", self.port)) {
                Ok(s) => {
                    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                    return s;
                }
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("connecting to port {}: {e}", self.port),
            }
        }
    }

    fn stdin(&mut self) -> &mut ChildStdin {
        self.child.stdin.as_mut().expect("piped stdin")
    }

    /// Ends standard input and returns what the server printed.
    fn finish(mut self) -> String {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut out = String::new();
        self.out.read_to_string(&mut out).unwrap();
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads exactly `n` bytes.
fn read_n(s: &mut TcpStream, n: usize) -> String {
    let mut buf = vec![0; n];
    s.read_exact(&mut buf).expect("read the reply");
    String::from_utf8(buf).unwrap()
}

/// Echoes two clients; a big message (`big` bytes, a line) comes back whole.
fn echoes(name: &str, big: usize) {
    let server = Server::start(name);
    let mut a = server.connect();
    let mut b = server.connect();
    for (s, text) in [(&mut a, "Hello\n"), (&mut b, "Is anyone there?\n")] {
        s.write_all(text.as_bytes()).unwrap();
        assert_eq!(read_n(s, text.len()), text, "{name}");
    }
    // A big message comes back whole, and the peer closing is seen.
    let big = "x".repeat(big - 1) + "\n";
    a.write_all(big.as_bytes()).unwrap();
    assert_eq!(read_n(&mut a, big.len()), big);
    a.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    a.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}

#[test]
fn raw_socket_echo_server() {
    echoes("echo_raw", 100_000);
}

#[test]
fn tcp_server_echo_server() {
    echoes("echo_tcp", 100_000);
}

#[test]
fn stream_echo_server() {
    echoes("echo_stream", 100_000);
}

#[test]
fn line_echo_server() {
    echoes("echo", 65536);
}

/// A line longer than the stream's limit fails that connection only: the
/// server closes it, and serves the next client.
#[test]
fn line_echo_server_refuses_an_endless_line() {
    let server = Server::start("echo");
    let mut hostile = server.connect();
    let junk = vec![b'x'; 1 << 20];
    // The server stops reading and closes: the writes fail or the read
    // sees the end.
    let _ = hostile.write_all(&junk);
    let mut rest = Vec::new();
    let _ = hostile.read_to_end(&mut rest);
    assert!(rest.is_empty(), "no echo of a line without an end");
    let mut next = server.connect();
    next.write_all(b"fine\n").unwrap();
    assert_eq!(read_n(&mut next, 5), "fine\n");
}

#[test]
fn managed_echo_server_restarts_and_says_goodbye() {
    let mut server = Server::start("echo_managed");
    server.wait_for("Starting the server");
    let mut clients = [server.connect(), server.connect()];
    for c in &mut clients {
        c.write_all(b"ping\n").unwrap();
        assert_eq!(read_n(c, 5), "ping\n");
    }
    // A restart: every client gets the goodbye, then the end of the stream.
    server.stdin().write_all(b"\n").unwrap();
    for c in &mut clients {
        let mut rest = String::new();
        c.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "SERVER IS GOING AWAY!\n");
    }
    // The new server serves (once the old one has closed its socket: a
    // connection to it would be reset).
    server.wait_for("Starting the server");
    let mut c = server.connect();
    c.write_all(b"again\n").unwrap();
    assert_eq!(read_n(&mut c, 6), "again\n");
    drop(c);
    let out = server.finish();
    let stops = out.lines().filter(|l| *l == "Server shutting down").count();
    assert_eq!(stops, 1, "{out}");
}

/// Reads one line.
fn line(r: &mut BufReader<TcpStream>) -> String {
    let mut l = String::new();
    r.read_line(&mut l).expect("read a line");
    l
}

/// A chat client that gave its name.
fn join(server: &Server, name: &str) -> TcpStream {
    let mut s = server.connect();
    assert_eq!(read_n(&mut s, 11), "Your name: ");
    s.write_all(format!("{name}\n").as_bytes()).unwrap();
    s
}

#[test]
fn chat_server() {
    let mut server = Server::start("chat");
    let join = |name: &str| join(&server, name);
    // A newcomer's own "joined" goes out before it subscribes, as in the
    // tutorial: the dispatcher runs before the newcomer's `outgoing`.
    let alice = join("alice");
    let mut alice_in = BufReader::new(alice.try_clone().unwrap());
    let mut bob = join("bob");
    let mut bob_in = BufReader::new(bob.try_clone().unwrap());
    assert_eq!(line(&mut alice_in), "bob:joined\n");
    bob.write_all(b"hi alice\n").unwrap();
    assert_eq!(line(&mut alice_in), "bob:hi alice\n");
    assert_eq!(line(&mut bob_in), "bob:hi alice\n");
    // Bob leaves: his workers' group ends, and the others hear of it.
    drop(bob_in);
    bob.shutdown(std::net::Shutdown::Both).unwrap();
    assert_eq!(line(&mut alice_in), "bob:has gone away\n");
    // A restart drops everyone with a goodbye.
    server.stdin().write_all(b"\n").unwrap();
    assert_eq!(line(&mut alice_in), "SERVER IS GOING AWAY!\n");
    assert_eq!(line(&mut alice_in), "");
    let out = server.finish();
    assert!(out.contains("Connection closed"), "{out}");
}

/// The listening address of the socket on `port`, from `/proc/net/tcp`
/// (`0100007F` is 127.0.0.1, `00000000` every interface).
fn listening_on(port: u16) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|row| {
        let fields: Vec<&str> = row.split_whitespace().collect();
        let (addr, p) = fields.get(1)?.split_once(':')?;
        // State 0A is LISTEN.
        (u16::from_str_radix(p, 16).ok()? == port && fields.get(3) == Some(&"0A"))
            .then(|| addr.to_string())
    })
}

/// The example servers listen on the loopback address unless given a
/// host (Curio's tutorial servers listen everywhere).
#[test]
fn example_servers_listen_on_loopback_by_default() {
    for name in [
        "echo_raw",
        "echo_tcp",
        "echo_stream",
        "echo",
        "echo_managed",
        "chat",
    ] {
        let server = Server::start(name);
        drop(server.connect());
        assert_eq!(
            listening_on(server.port).as_deref(),
            Some("0100007F"),
            "{name}"
        );
    }
    // `""` asks for every interface, as in Curio.
    let port = free_port();
    let mut child = Command::new(example("echo_tcp"))
        .args([port.to_string(), String::new()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while listening_on(port).is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = listening_on(port);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(seen.as_deref(), Some("00000000"));
}

/// A client that sends and never reads is dropped once its queue is full
/// (the tutorial's server would grow without limit); the others carry on.
#[test]
fn chat_server_drops_a_client_that_does_not_read() {
    use std::os::fd::AsRawFd;
    let mut server = Server::start("chat");
    let join = |name: &str| join(&server, name);
    let mut alice = join("alice");
    let alice_in = BufReader::new(alice.try_clone().unwrap());
    let mut flood = join("flood");
    // A small receive window, so that the server's writes to it stall soon.
    let small: libc::c_int = 4096;
    // SAFETY: SO_RCVBUF takes an int, passed by pointer with its size.
    let set = unsafe {
        libc::setsockopt(
            flood.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const small).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(set, 0);
    // Alice reads everything, until she hears that the flood is gone.
    let reader = std::thread::spawn(move || {
        let mut alice_in = alice_in;
        let mut seen = 0;
        loop {
            let l = line(&mut alice_in);
            if l == "flood:has gone away\n" {
                return (seen, alice_in);
            }
            assert!(!l.is_empty(), "alice was dropped too");
            seen += 1;
        }
    });
    let chunk = format!("{}\n", "x".repeat(8000));
    let mut sent = 0;
    while sent < 20_000 && flood.write_all(chunk.as_bytes()).is_ok() {
        sent += 1;
    }
    let (seen, mut alice_in) = reader.join().unwrap();
    assert!(seen > 100, "alice saw {seen} lines");
    alice.write_all(b"still here\n").unwrap();
    assert_eq!(line(&mut alice_in), "alice:still here\n");
    server.stdin().write_all(b"\n").unwrap();
    assert_eq!(line(&mut alice_in), "SERVER IS GOING AWAY!\n");
    let out = server.finish();
    assert!(
        out.contains("Dropping a client that does not keep up"),
        "{out}"
    );
    assert!(sent < 20_000, "the flood was never disconnected");
}

#[test]
fn client_talks_to_an_echo_server() {
    let server = Server::start("echo");
    drop(server.connect());
    let out = Command::new(example("client"))
        .args([&server.port.to_string(), "one", "two"])
        .output()
        .expect("run the client");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(out.starts_with("Connected to Some(127.0.0.1:"), "{out}");
    assert!(out.ends_with("one\ntwo\n"), "{out}");
}

#[test]
fn echo_tour_runs_by_itself() {
    let t = Instant::now();
    let out = Command::new(example("echo_tour"))
        .output()
        .expect("run the tour");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(t.elapsed() < Duration::from_secs(15));
    let out = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "  bob got: bob says 3\n",
        "   all clients done\n",
        "   readline timed out after 0.2 s\n",
        "   lingering client got: still here\n",
        "   lingering client got: SERVER IS GOING AWAY!\n",
        "   the timed-out client got: SERVER IS GOING AWAY!\n",
    ] {
        assert!(out.contains(expected), "{expected:?} missing from:\n{out}");
    }
    assert_eq!(out.matches("cancelled\n").count(), 2, "{out}");
}
