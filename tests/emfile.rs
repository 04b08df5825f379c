//! A server that runs out of file descriptors keeps going: `accept` failing
//! with `EMFILE` is retried after a pause, and the waiting connections are
//! served once handlers finish. (Its own test binary: the fd limit is
//! process-wide.)

mod util;

use std::cell::Cell;
use std::rc::Rc;

use curio::net::{run_server, tcp_server_socket};
use curio::socket::{Socket, create_connection};
use curio::{Result, sleep, spawn};
use util::open_fds;

#[curio::task]
async fn handler(
    served: Rc<Cell<usize>>,
    client: Socket,
    _addr: curio::net::Address,
) -> Result<()> {
    served.set(served.get() + 1);
    while !client.recv(100).await?.is_empty() {}
    Ok(())
}

/// Sets the soft limit on open fds.
fn set_fd_limit(soft: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write one `rlimit`.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut lim), 0);
        let old = lim.rlim_cur;
        lim.rlim_cur = soft;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &raw const lim), 0);
        old
    }
}

/// One more than the highest open fd.
fn fd_ceiling() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap_or(2)
        + 1
}

#[curio::task]
async fn starved_server() -> Result<Vec<String>> {
    let mut log = Vec::new();
    let listener = tcp_server_socket("127.0.0.1", 0, 64)?;
    let port = listener.local_addr()?.as_socket().unwrap().port();
    // Six connections wait in the listener's backlog.
    let mut clients = Vec::new();
    for _ in 0..6 {
        let c = create_connection(format!("127.0.0.1:{port}")).await?;
        clients.push(c);
    }
    // Allow only two more fds. (The limit bounds fd numbers: first fill
    // the free numbers below the highest open fd.)
    let ceiling = fd_ceiling();
    let mut fillers = Vec::new();
    loop {
        let f = std::fs::File::open("/dev/null")?;
        if std::os::fd::AsRawFd::as_raw_fd(&f) as u64 >= ceiling {
            break;
        }
        fillers.push(f);
    }
    let old = set_fd_limit(ceiling + 2);
    let served = Rc::new(Cell::new(0));
    let counter = served.clone();
    let server = spawn(run_server(listener, move |c, a| {
        handler(counter.clone(), c, a)
    }))
    .await?;
    sleep(0.3).await?;
    log.push(format!("served while starved: {}", served.get()));
    // Two clients leave: their handlers end and free fds, and the server
    // accepts the connections that waited.
    for _ in 0..2 {
        let c = clients.remove(0);
        c.close().await?;
    }
    for _ in 0..100 {
        if served.get() == 6 {
            break;
        }
        sleep(0.05).await?;
    }
    log.push(format!("served in the end: {}", served.get()));
    log.push(format!("server running: {}", !server.terminated()));
    set_fd_limit(old);
    drop(fillers);
    for c in clients {
        c.close().await?;
    }
    server.cancel().await?;
    Ok(log)
}

#[test]
fn accept_out_of_fds_backs_off_and_recovers() {
    let before = open_fds();
    let log = curio::run(starved_server()).unwrap();
    assert_eq!(
        log,
        [
            "served while starved: 2",
            "served in the end: 6",
            "server running: true"
        ]
    );
    assert_eq!(open_fds(), before);
}
