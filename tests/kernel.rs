//! The kernel: running, spawning, joining, stepping, shutting down, panics,
//! I/O waits and activations (ported from Curio's test_kernel, test_task
//! and test_activation). Each test records an ordered log and asserts it.
//! Most run on a virtual clock, so timed behaviour is exact and instant.

mod util;

use std::cell::RefCell;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;

use curio::traps::{io_waiting, read_wait, write_wait};
use curio::{
    Activation, Error, Kernel, Result, Task, TaskState, Trap, clock, current_task, sleep, spawn,
    wake_at,
};
use util::{log, take_log, vrun};

/// The cause inside a `TaskError`.
fn cause(e: &Error) -> &Error {
    match e {
        Error::TaskError { cause } => cause,
        other => panic!("expected a TaskError, got {other:?}"),
    }
}

#[curio::task]
async fn hello() -> Result<&'static str> {
    Ok("hello")
}

#[test]
fn hello_returns_its_value() {
    assert_eq!(curio::run(hello()).unwrap(), "hello");
}

#[curio::task]
async fn boom() -> Result<()> {
    Err(Error::msg("boom"))
}

#[test]
fn main_error_comes_out_unwrapped() {
    let e = curio::run(boom()).unwrap_err();
    assert!(matches!(&e, Error::Message(m) if m == "boom"), "{e:?}");
}

#[curio::task]
async fn sleeper_clock() -> Result<(f64, f64, f64)> {
    let start = clock().await?;
    let woke = sleep(0.5).await?;
    let end = clock().await?;
    Ok((start, woke, end))
}

#[test]
fn sleep_returns_the_clock() {
    assert_eq!(vrun(sleeper_clock()).unwrap(), (0.0, 0.5, 0.5));
}

#[test]
fn real_sleep_takes_at_least_its_time() {
    let started = std::time::Instant::now();
    let (start, woke, end) = curio::run(sleeper_clock()).unwrap();
    assert!(started.elapsed().as_secs_f64() >= 0.5);
    assert!(woke - start >= 0.5 && end >= woke);
}

#[curio::task]
async fn wake_at_main() -> Result<f64> {
    let now = clock().await?;
    wake_at(now + 2.5).await
}

#[test]
fn wake_at_sleeps_until_the_clock_reads() {
    assert_eq!(vrun(wake_at_main()).unwrap(), 2.5);
}

#[curio::task]
async fn child(n: i64) -> Result<i64> {
    logf!("child {n} start");
    sleep(1.0).await?;
    logf!("child {n} done");
    Ok(n * 10)
}

#[curio::task]
async fn parent() -> Result<i64> {
    log("parent start");
    let t = spawn(child(1)).await?;
    log("parent spawned");
    let r = t.join().await?;
    let now = clock().await?;
    logf!("parent joined {r} at {now}");
    Ok(r)
}

#[test]
fn spawn_and_join_order() {
    assert_eq!(vrun(parent()).unwrap(), 10);
    assert_eq!(
        take_log(),
        [
            "parent start",
            "parent spawned",
            "child 1 start",
            "child 1 done",
            "parent joined 10 at 1"
        ]
    );
}

#[curio::task]
async fn fan_out() -> Result<Vec<i64>> {
    let mut tasks: Vec<Task<i64>> = Vec::new();
    for n in 1..=3 {
        tasks.push(spawn(child(n)).await?);
    }
    log("spawned");
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.join().await?);
    }
    Ok(results)
}

#[test]
fn spawned_tasks_run_in_fifo_order() {
    assert_eq!(vrun(fan_out()).unwrap(), [10, 20, 30]);
    assert_eq!(
        take_log(),
        [
            "spawned",
            "child 1 start",
            "child 2 start",
            "child 3 start",
            "child 1 done",
            "child 2 done",
            "child 3 done"
        ]
    );
}

#[curio::task]
async fn crasher() -> Result<i64> {
    sleep(0.1).await?;
    "bad".parse::<i64>().map_err(Error::custom)
}

#[curio::task]
async fn join_crashed() -> Result<()> {
    let t = spawn(crasher()).await?;
    let e = t.join().await.unwrap_err();
    assert!(matches!(cause(&e), Error::Custom(_)), "{e:?}");
    // `source()` walks the chain: TaskError -> Custom -> ParseIntError.
    let custom = std::error::Error::source(&e).expect("the cause");
    let parse = custom.source().expect("the custom error's source");
    assert_eq!(parse.to_string(), "invalid digit found in string");
    logf!("joined: {e}: {}", cause(&e));
    assert!(t.exception().unwrap().is_some());
    assert!(matches!(t.result(), Err(Error::Custom(_))));
    Ok(())
}

#[test]
fn join_of_a_crashed_task_is_a_task_error_with_the_cause() {
    vrun(join_crashed()).unwrap();
    assert_eq!(
        take_log(),
        ["joined: task failed: invalid digit found in string"]
    );
}

#[curio::task]
async fn panicker() -> Result<i64> {
    sleep(0.1).await?;
    let v: Vec<i64> = Vec::new();
    Ok(v[3])
}

#[curio::task]
async fn survive_a_panic() -> Result<i64> {
    let t = spawn(panicker()).await?;
    let other = spawn(child(7)).await?;
    let e = t.join().await.unwrap_err();
    assert!(matches!(cause(&e), Error::Panic(m) if m.contains("index out of bounds")));
    log("child panicked");
    other.join().await
}

#[test]
fn a_panic_in_a_child_becomes_its_error_and_the_kernel_keeps_running() {
    assert_eq!(vrun(survive_a_panic()).unwrap(), 70);
    assert_eq!(
        take_log(),
        ["child 7 start", "child panicked", "child 7 done"]
    );
}

#[curio::task]
async fn panicking_main() -> Result<()> {
    panic!("main is broken");
}

#[test]
fn a_panic_in_main_comes_out_of_run() {
    let e = curio::run(panicking_main()).unwrap_err();
    assert!(
        matches!(&e, Error::Panic(m) if m == "main is broken"),
        "{e:?}"
    );
}

#[curio::task]
async fn attributes() -> Result<()> {
    let me = current_task().await?;
    let t = spawn(child(2)).await?;
    logf!(
        "{} {} {:?} {}",
        t.name(),
        t.state(),
        t.parent_id() == Some(me.id()),
        t.cycles()
    );
    sleep(0.5).await?;
    logf!(
        "{} {} {}",
        t.state(),
        t.cycles(),
        t.location().map(|l| l.awaiting).unwrap_or("-")
    );
    assert!(t.traceback().contains("sleep(1.0)"));
    assert!(t.id() > me.id() && !t.daemon() && !t.terminated() && !t.cancelled());
    t.join().await?;
    logf!(
        "{} {} {} {}",
        t.state(),
        t.cycles(),
        t.terminated(),
        t.joined()
    );
    assert_eq!(t.location(), None);
    Ok(())
}

#[test]
fn task_attributes_follow_the_task() {
    vrun(attributes()).unwrap();
    assert_eq!(
        take_log(),
        [
            "child READY true 0",
            "child 2 start",
            "TIME_SLEEP 1 sleep(1.0)",
            "child 2 done",
            "TERMINATED 2 true true"
        ]
    );
}

#[curio::task]
async fn join_waiter(target: Task<i64>) -> Result<i64> {
    log("waiter joining");
    let me = current_task().await?;
    let r = target.join().await?;
    logf!("waiter got {r} ({})", me.name());
    Ok(r)
}

#[curio::task]
async fn two_joiners() -> Result<()> {
    let t = spawn(child(4)).await?;
    let w = spawn(join_waiter(t.clone())).await?;
    sleep(0.1).await?;
    assert_eq!(w.state(), TaskState::TaskJoin);
    // Every joiner gets the value, as in Curio.
    let second = t.join().await?;
    logf!("main join: {second}");
    w.join().await?;
    Ok(())
}

#[test]
fn joiners_are_all_woken() {
    vrun(two_joiners()).unwrap();
    assert_eq!(
        take_log(),
        [
            "child 4 start",
            "waiter joining",
            "child 4 done",
            "waiter got 40 (join_waiter)",
            "main join: 40"
        ]
    );
}

#[curio::task]
async fn self_join() -> Result<()> {
    let me = current_task().await?;
    let e = me.wait().await.unwrap_err();
    logf!("{e}");
    Ok(())
}

#[test]
fn a_task_cannot_wait_for_itself() {
    vrun(self_join()).unwrap();
    assert_eq!(take_log(), ["a task cannot wait for itself to terminate"]);
}

#[curio::task]
async fn nested_run() -> Result<()> {
    let e = curio::run(hello()).unwrap_err();
    logf!("{e}");
    let mut other = Kernel::new();
    assert!(matches!(other.run(hello()), Err(Error::RuntimeError(_))));
    Ok(())
}

#[test]
fn a_second_kernel_run_inside_a_task_is_an_error() {
    curio::run(nested_run()).unwrap();
    assert_eq!(
        take_log(),
        ["a kernel is already running in this thread (curio::run inside a task?)"]
    );
}

#[curio::task]
async fn stepped(value: Rc<RefCell<i32>>) -> Result<()> {
    sleep(0.0).await?;
    *value.borrow_mut() = 1;
    sleep(0.1).await?;
    *value.borrow_mut() = 2;
    Ok(())
}

#[test]
fn single_stepping() {
    let value = Rc::new(RefCell::new(0));
    let mut kernel = Kernel::new();
    let task = kernel
        .run(spawn(stepped(value.clone())).daemon(true))
        .unwrap();
    assert!(task.daemon());
    let mut steps = 0;
    while *value.borrow() < 1 {
        kernel.step().unwrap();
        steps += 1;
    }
    assert_eq!(steps, 2, "one step runs it to sleep(0), the next past it");
    assert_eq!(task.state(), TaskState::TimeSleep);
    std::thread::sleep(std::time::Duration::from_millis(200));
    kernel.step().unwrap();
    assert_eq!(*value.borrow(), 2);
    assert!(task.terminated());
    kernel.shutdown().unwrap();
}

#[curio::task]
async fn background(name: &'static str) -> Result<()> {
    logf!("{name} start");
    match sleep(100.0).await {
        Err(e) if e.is_cancelled() => {
            logf!("{name} cancelled");
            Err(e)
        }
        other => other.map(drop),
    }
}

#[curio::task]
async fn leave_tasks() -> Result<()> {
    spawn(background("first")).await?;
    spawn(background("daemon")).daemon(true).await?;
    spawn(background("last")).await?;
    sleep(1.0).await?;
    log("main done");
    Ok(())
}

#[test]
fn shutdown_cancels_leftover_tasks_newest_first() {
    let mut kernel = Kernel::builder().virtual_clock().build();
    kernel.run(leave_tasks()).unwrap();
    assert_eq!(kernel.task_count(), 3, "tasks outlive the main task");
    kernel.shutdown().unwrap();
    assert_eq!(kernel.task_count(), 0);
    assert_eq!(
        take_log(),
        [
            "first start",
            "daemon start",
            "last start",
            "main done",
            "last cancelled",
            "daemon cancelled",
            "first cancelled"
        ]
    );
    assert!(matches!(kernel.run(hello()), Err(Error::RuntimeError(_))));
}

#[test]
fn run_is_repeatable_and_tasks_carry_over() {
    let mut kernel = Kernel::builder().virtual_clock().build();
    let t = kernel.run(spawn(child(5))).unwrap();
    assert_eq!(kernel.run(sleeper_clock()).unwrap(), (0.0, 0.5, 0.5));
    assert_eq!(t.state(), TaskState::TimeSleep);
    assert_eq!(kernel.run(t.join()).unwrap(), 50);
    assert_eq!(take_log(), ["child 5 start", "child 5 done"]);
}

#[test]
fn dropping_a_kernel_shuts_it_down() {
    {
        let mut kernel = Kernel::builder().virtual_clock().build();
        kernel.run(spawn(background("orphan"))).unwrap();
    }
    assert_eq!(take_log(), ["orphan start", "orphan cancelled"]);
}

#[curio::task]
async fn yielder(name: &'static str, n: usize) -> Result<()> {
    for i in 0..n {
        logf!("{name}{i}");
        sleep(0.0).await?;
    }
    Ok(())
}

#[curio::task]
async fn round_robin() -> Result<()> {
    let a = spawn(yielder("a", 3)).await?;
    let b = spawn(yielder("b", 3)).await?;
    a.join().await?;
    b.join().await?;
    Ok(())
}

#[test]
fn sleep_zero_alternates_ready_tasks() {
    vrun(round_robin()).unwrap();
    assert_eq!(take_log(), ["a0", "b0", "a1", "b1", "a2", "b2"]);
}

#[curio::task]
async fn loop_forever() -> Result<()> {
    loop {
        sleep(0.0).await?;
    }
}

#[curio::task]
async fn survivor() -> Result<&'static str> {
    for _ in 0..10 {
        sleep(0.0).await?;
    }
    Ok("i survived!")
}

#[curio::task]
async fn starvation() -> Result<&'static str> {
    let l1 = spawn(loop_forever()).await?;
    let l2 = spawn(loop_forever()).await?;
    let s = spawn(survivor()).await?;
    let r = s.join().await?;
    l1.cancel().await?;
    l2.cancel().await?;
    assert!(l1.cancelled() && l2.terminated());
    Ok(r)
}

#[test]
fn sleep_zero_loops_do_not_starve_others_and_stay_cancellable() {
    assert_eq!(vrun(starvation()).unwrap(), "i survived!");
}

/// Reads one byte from a non-blocking stream, waiting with `read_wait`.
#[curio::task]
async fn recv1(sock: Rc<UnixStream>) -> Result<u8> {
    let mut buf = [0u8; 1];
    loop {
        match (&*sock).read(&mut buf) {
            Ok(_) => return Ok(buf[0]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                read_wait(sock.as_raw_fd()).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[curio::task]
async fn send1(sock: Rc<UnixStream>, byte: u8) -> Result<()> {
    write_wait(sock.as_raw_fd()).await?;
    (&*sock).write_all(&[byte])?;
    Ok(())
}

#[curio::task]
async fn io1(sock: Rc<UnixStream>) -> Result<()> {
    let b = recv1(sock.clone()).await?;
    logf!("io1 got {}", b as char);
    send1(sock.clone(), b'y').await?;
    let b = recv1(sock).await?;
    logf!("io1 got {}", b as char);
    Ok(())
}

#[curio::task]
async fn io2(sock: Rc<UnixStream>) -> Result<()> {
    send1(sock.clone(), b'x').await?;
    let b = recv1(sock.clone()).await?;
    logf!("io2 got {}", b as char);
    send1(sock, b'z').await
}

#[curio::task]
async fn io_beside_busy_loop() -> Result<()> {
    let looper = spawn(loop_forever()).await?;
    sleep(0.0).await?;
    let (a, b) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    b.set_nonblocking(true)?;
    let t1 = spawn(io1(Rc::new(a))).await?;
    let t2 = spawn(io2(Rc::new(b))).await?;
    t1.join().await?;
    t2.join().await?;
    looper.cancel().await?;
    Ok(())
}

#[test]
fn io_is_polled_while_a_task_spins_on_sleep_zero() {
    curio::run(io_beside_busy_loop()).unwrap();
    assert_eq!(take_log(), ["io1 got x", "io2 got y", "io1 got z"]);
}

#[curio::task]
async fn reader_only(sock: Rc<UnixStream>) -> Result<u8> {
    recv1(sock).await
}

#[curio::task]
async fn io_registration() -> Result<()> {
    let (a, b) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    // Fill a's send buffer, so waiting to write blocks.
    while (&a).write(&[0u8; 65536]).is_ok() {}
    let a = Rc::new(a);
    let fd = a.as_raw_fd();
    let reader = spawn(reader_only(a.clone())).await?;
    let writer = spawn(write_wait(fd)).await?;
    sleep(0.0).await?;
    let busy = write_wait(fd).await.unwrap_err();
    logf!("{busy}");
    let (r, w) = io_waiting(fd).await?;
    let ids = (r.map(|t| t.id()), w.map(|t| t.id()));
    assert_eq!(ids, (Some(reader.id()), Some(writer.id())));
    writer.cancel().await?;
    let (_, no_writer) = io_waiting(fd).await?;
    assert_eq!(no_writer, None);
    (&b).write_all(b"h")?;
    let got = reader.join().await?;
    logf!("reader got {}", got as char);
    Ok(())
}

#[test]
fn a_reader_and_a_writer_share_an_fd_but_a_second_writer_is_busy() {
    curio::run(io_registration()).unwrap();
    let log = take_log();
    assert_eq!(log.len(), 2);
    assert!(log[0].starts_with("resource busy: multiple tasks can't wait to write"));
    assert_eq!(log[1], "reader got h");
}

#[curio::task]
async fn bad_fd() -> Result<()> {
    let e = read_wait(-1).await.unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    log("bad fd refused");
    Ok(())
}

#[test]
fn waiting_on_a_bad_fd_is_an_error_for_that_task() {
    curio::run(bad_fd()).unwrap();
    assert_eq!(take_log(), ["bad fd refused"]);
}

/// Records activation events for tasks named `main`.
struct Recorder(Rc<RefCell<Vec<String>>>);

impl Activation for Recorder {
    fn activate(&mut self) {
        self.0.borrow_mut().push("activate".into());
    }
    fn created(&mut self, task: &Task) {
        self.0.borrow_mut().push(format!("created {}", task.name()));
    }
    fn running(&mut self, task: &Task) {
        if task.name() == "main" {
            self.0.borrow_mut().push("running".into());
        }
    }
    fn suspended(&mut self, task: &Task, trap: Option<&Trap>) {
        if task.name() == "main" {
            let what = match trap {
                Some(Trap::Sleep { .. }) => "sleep",
                Some(_) => "other",
                None => "end",
            };
            self.0.borrow_mut().push(format!("suspended {what}"));
        }
    }
    fn terminated(&mut self, task: &Task) {
        self.0
            .borrow_mut()
            .push(format!("terminated {}", task.name()));
    }
}

#[curio::task]
async fn main() -> Result<()> {
    sleep(0.01).await?;
    sleep(0.01).await?;
    sleep(0.01).await?;
    Ok(())
}

#[test]
fn activation_event_order() {
    let events = Rc::new(RefCell::new(Vec::new()));
    let mut kernel = Kernel::builder()
        .virtual_clock()
        .activation(Recorder(events.clone()))
        .build();
    kernel.run(main()).unwrap();
    drop(kernel);
    assert_eq!(
        *events.borrow(),
        [
            "activate",
            "created main",
            "running",
            "suspended sleep",
            "running",
            "suspended sleep",
            "running",
            "suspended sleep",
            "running",
            "suspended end",
            "terminated main"
        ]
    );
}

#[test]
fn shutdown_runs_as_a_task_when_tasks_remain() {
    let events = Rc::new(RefCell::new(Vec::new()));
    let mut kernel = Kernel::builder()
        .virtual_clock()
        .activation(Recorder(events.clone()))
        .build();
    kernel.run(spawn(background("bg"))).unwrap();
    events.borrow_mut().clear();
    kernel.shutdown().unwrap();
    assert_eq!(
        *events.borrow(),
        [
            "created shutdown_tasks",
            "terminated background",
            "terminated shutdown_tasks"
        ]
    );
    assert_eq!(take_log(), ["bg start", "bg cancelled"]);
}

#[curio::task]
async fn crash_main() -> Result<()> {
    sleep(0.01).await?;
    Err(Error::msg("Dead"))
}

#[test]
fn activation_sees_a_crash() {
    let events = Rc::new(RefCell::new(Vec::new()));
    let mut kernel = Kernel::builder()
        .virtual_clock()
        .activation(Recorder(events.clone()))
        .build();
    assert!(kernel.run(crash_main()).is_err());
    assert_eq!(
        *events.borrow(),
        ["activate", "created crash_main", "terminated crash_main"]
    );
}

#[curio::task]
async fn long_nap() -> Result<f64> {
    sleep(0.3).await
}

#[test]
fn the_waker_interrupts_a_blocked_kernel_from_another_thread() {
    let mut kernel = Kernel::new();
    let waker = kernel.waker().unwrap();
    let thread = std::thread::spawn(move || {
        for _ in 0..5 {
            std::thread::sleep(std::time::Duration::from_millis(20));
            waker.wake().unwrap();
        }
    });
    let started = std::time::Instant::now();
    let woke = kernel.run(long_nap()).unwrap();
    thread.join().unwrap();
    // Wake-ups cost extra passes, never an early end to the sleep.
    assert!(started.elapsed().as_secs_f64() >= 0.3);
    assert!(woke > 0.0);
}

#[curio::task]
async fn pinger(sock: Rc<UnixStream>, rounds: u32) -> Result<u32> {
    let mut seen = 0;
    for i in 0..rounds {
        send1(sock.clone(), (i % 251) as u8).await?;
        let b = recv1(sock.clone()).await?;
        assert_eq!(b, (i % 251) as u8);
        seen += 1;
    }
    Ok(seen)
}

#[curio::task]
async fn ponger(sock: Rc<UnixStream>, rounds: u32) -> Result<()> {
    for _ in 0..rounds {
        let b = recv1(sock.clone()).await?;
        send1(sock.clone(), b).await?;
    }
    Ok(())
}

#[curio::task]
async fn many_round_trips() -> Result<u32> {
    let (a, b) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    b.set_nonblocking(true)?;
    let p = spawn(ponger(Rc::new(b), 2000)).await?;
    let n = pinger(Rc::new(a), 2000).await?;
    p.join().await?;
    Ok(n)
}

#[test]
fn an_fd_stays_registered_across_thousands_of_waits() {
    // Edge-triggered, registered once: every wait after `WouldBlock` must
    // still be woken by the next edge.
    assert_eq!(curio::run(many_round_trips()).unwrap(), 2000);
}

#[curio::task]
async fn stranded_reader() -> Result<()> {
    let (a, _b) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    let fd = a.as_raw_fd();
    let reader = spawn(reader_only(Rc::new(a))).await?;
    sleep(0.0).await?;
    curio::traps::io_release(fd).await?;
    let e = reader.join().await.unwrap_err();
    logf!("{}", cause(&e));
    Ok(())
}

#[test]
fn releasing_an_fd_wakes_its_waiter_with_an_error() {
    curio::run(stranded_reader()).unwrap();
    let log = take_log();
    assert_eq!(log.len(), 1);
    assert!(
        log[0].contains("was released while this task waited on it"),
        "{log:?}"
    );
}

/// Panics the first time a task named `explodes` is about to run.
struct PanicsOnBoom(bool);

impl Activation for PanicsOnBoom {
    fn running(&mut self, task: &Task) {
        if task.name() == "explodes" && !self.0 {
            self.0 = true;
            panic!("activation failed");
        }
    }
}

#[curio::task]
async fn explodes() -> Result<()> {
    log("explodes ran");
    Ok(())
}

#[curio::task]
async fn worker() -> Result<()> {
    log("worker ran");
    Ok(())
}

#[curio::task]
async fn spawns_explodes_then_worker() -> Result<()> {
    spawn(explodes()).daemon(true).await?;
    spawn(worker()).daemon(true).await?;
    sleep(1.0).await?;
    Ok(())
}

#[curio::task]
async fn naps() -> Result<()> {
    sleep(1.0).await?;
    Ok(())
}

/// A panic in an activation unwinds out of `run`; the tasks that were
/// ready behind the one being run are not lost, and run next time.
#[test]
fn a_panicking_activation_loses_no_ready_task() {
    let mut kernel = Kernel::builder()
        .virtual_clock()
        .activation(PanicsOnBoom(false))
        .build();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        kernel.run(spawns_explodes_then_worker())
    }));
    assert!(panicked.is_err());
    assert_eq!(take_log(), Vec::<String>::new());
    kernel.run(naps()).unwrap();
    assert_eq!(take_log(), ["worker ran"]);
    drop(kernel);
}

#[curio::task]
async fn sleeper_forever() -> Result<()> {
    sleep(1000.0).await?;
    Ok(())
}

#[curio::task]
async fn start_sleeper() -> Result<Task<()>> {
    spawn(sleeper_forever()).await
}

#[curio::task]
async fn waits_for_event(evt: curio::Event) -> Result<()> {
    evt.wait().await?;
    log("event seen");
    Ok(())
}

#[curio::task]
async fn start_event_waiter(evt: curio::Event) -> Result<Task<()>> {
    let t = spawn(waits_for_event(evt)).await?;
    sleep(0.0).await?;
    Ok(t)
}

/// Everything a task of the other kernel tries with `t` and `evt`.
#[curio::task]
async fn meddle(t: Task<()>, evt: curio::Event) -> Result<()> {
    let cancelled = t.cancel().await;
    logf!("cancel: {}", cancelled.unwrap_err());
    let joined = t.join().await;
    logf!("join: {}", joined.unwrap_err());
    let group: curio::TaskGroup<()> = curio::TaskGroup::new(curio::Wait::All);
    let added = group.add_task(t.clone()).await;
    logf!("add_task: {}", added.unwrap_err());
    let set = evt.set().await;
    logf!("set: {}", set.unwrap_err());
    // This kernel's own tables are intact: its tasks run and join.
    let mine = spawn(hello()).await?;
    let own = mine.join().await?;
    logf!("own task: {own}");
    Ok(())
}

#[curio::task]
async fn finish(t: Task<()>, evt: curio::Event) -> Result<()> {
    evt.set().await?;
    t.cancel().await?;
    logf!("cancelled at home: {}", t.cancelled());
    Ok(())
}

/// A task handle (or a primitive with waiters) used in a kernel that does
/// not run it is a clear error there; both kernels keep working. It used
/// to corrupt the other kernel's task table (and dropping it then spun),
/// or hang.
#[test]
fn handles_used_in_another_kernel_are_refused() {
    let mut home = Kernel::builder().virtual_clock().build();
    let mut other = Kernel::builder().virtual_clock().build();
    let t = home.run(start_sleeper()).unwrap();
    let evt = curio::Event::new();
    let waiter = home.run(start_event_waiter(evt.clone())).unwrap();
    other.run(meddle(t.clone(), evt.clone())).unwrap();
    home.run(finish(t, evt)).unwrap();
    home.run(sleep(0.0)).unwrap();
    assert!(waiter.terminated());
    drop(home);
    drop(other);
    let log = take_log();
    let expected_task =
        "belongs to another kernel: a task can only be joined or cancelled from its own kernel";
    assert!(
        log[0].starts_with("cancel: Task(") && log[0].ends_with(expected_task),
        "{log:?}"
    );
    assert!(
        log[1].starts_with("join: Task(") && log[1].ends_with(expected_task),
        "{log:?}"
    );
    assert!(
        log[2].ends_with("runs in another kernel: it cannot join this one's task group"),
        "{log:?}"
    );
    assert_eq!(
        &log[3..],
        [
            "set: tasks of another kernel are waiting on this primitive (Lock, Event, Queue, ...): it cannot be used by two kernels at once",
            "own task: hello",
            "event seen",
            "cancelled at home: true",
        ]
    );
}
