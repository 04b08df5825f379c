//! Synchronization and queues beside tokio's `current_thread` runtime:
//!
//! * queue ping-pong between two tasks, 1M items (500k round trips),
//!   against `tokio::sync::mpsc::unbounded_channel`,
//! * lock hand-off under contention: 100 tasks x 1000 acquisitions, each
//!   holder yielding once while it holds the lock, against
//!   `tokio::sync::Mutex`,
//! * event broadcast: 10k tasks waiting, one `set`, until all have run,
//!   against `tokio::sync::Notify::notify_waiters`.
//!
//! `cargo bench --manifest-path bench/Cargo.toml --bench sync`

use std::rc::Rc;
use std::time::{Duration, Instant};

use curio::{Event, Lock, Queue, Result, Task, sleep, spawn};
use curio_bench::best_of;

const ITEMS: u64 = 1_000_000;
const LOCKERS: u64 = 100;
const ROUNDS: u64 = 1_000;
const WAITERS: u64 = 10_000;

// ---- curio ----------------------------------------------------------------

#[curio::task]
async fn echo(inq: Queue<u64>, outq: Queue<u64>, n: u64) -> Result<()> {
    for _ in 0..n {
        let item = inq.get().await?;
        outq.put(item).await?;
    }
    Ok(())
}

#[curio::task]
async fn ping_pong(n: u64) -> Result<u64> {
    let (q1, q2) = (Queue::unbounded(), Queue::unbounded());
    let other = spawn(echo(q1.clone(), q2.clone(), n)).await?;
    let mut sum = 0;
    for i in 0..n {
        q1.put(i).await?;
        sum += q2.get().await?;
    }
    other.join().await?;
    Ok(sum)
}

#[curio::task]
async fn locker(lock: Lock, rounds: u64) -> Result<()> {
    for _ in 0..rounds {
        lock.acquire().await?;
        sleep(0.0).await?;
        lock.release().await?;
    }
    Ok(())
}

#[curio::task]
async fn contention(tasks: u64, rounds: u64) -> Result<()> {
    let lock = Lock::new();
    let mut all: Vec<Task<()>> = Vec::new();
    for _ in 0..tasks {
        all.push(spawn(locker(lock.clone(), rounds)).await?);
    }
    for t in all {
        t.join().await?;
    }
    Ok(())
}

#[curio::task]
async fn waiter(evt: Event) -> Result<()> {
    evt.wait().await
}

/// Returns the seconds from `set` until every waiter has finished.
#[curio::task]
async fn broadcast(n: u64) -> Result<f64> {
    let evt = Event::new();
    let mut all: Vec<Task<()>> = Vec::new();
    for _ in 0..n {
        all.push(spawn(waiter(evt.clone())).await?);
    }
    sleep(0.0).await?;
    let start = Instant::now();
    evt.set().await?;
    for t in all {
        t.join().await?;
    }
    Ok(start.elapsed().as_secs_f64())
}

// ---- tokio ----------------------------------------------------------------

async fn tokio_ping_pong(n: u64) -> u64 {
    let (tx1, mut rx1) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let (tx2, mut rx2) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let other = tokio::spawn(async move {
        for _ in 0..n {
            let item = rx1.recv().await.expect("item");
            tx2.send(item).expect("send");
        }
    });
    let mut sum = 0;
    for i in 0..n {
        tx1.send(i).expect("send");
        sum += rx2.recv().await.expect("item");
    }
    other.await.expect("join");
    sum
}

async fn tokio_contention(tasks: u64, rounds: u64) {
    let lock = std::sync::Arc::new(tokio::sync::Mutex::new(()));
    let mut all = Vec::new();
    for _ in 0..tasks {
        let lock = lock.clone();
        all.push(tokio::spawn(async move {
            for _ in 0..rounds {
                let guard = lock.lock().await;
                tokio::task::yield_now().await;
                drop(guard);
            }
        }));
    }
    for t in all {
        t.await.expect("join");
    }
}

async fn tokio_broadcast(n: u64) -> f64 {
    let notify = Rc::new(tokio::sync::Notify::new());
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            let mut all = Vec::new();
            for _ in 0..n {
                let notify = notify.clone();
                all.push(tokio::task::spawn_local(async move {
                    notify.notified().await;
                }));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            let start = Instant::now();
            notify.notify_waiters();
            for t in all {
                t.await.expect("join");
            }
            start.elapsed().as_secs_f64()
        })
        .await
}

fn row(name: &str, unit: &str, curio: f64, tokio: f64) {
    println!(
        "| {name} | {curio:.2} {unit} | {tokio:.2} {unit} | {:.2}x |",
        curio / tokio
    );
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    // `BENCH_CASE=queue` (or `lock`, `event`) runs one case, for profiling.
    let case = std::env::var("BENCH_CASE").unwrap_or_default();
    let want = |name: &str| name.contains(case.as_str());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime");
    let per = |secs: f64, n: u64| n as f64 / secs / 1e6;
    let round_trips = ITEMS / 2;
    let expected = round_trips * (round_trips - 1) / 2;

    println!("| case | curio | tokio current_thread | curio advantage |");
    println!("|---|---|---|---|");

    if want("queue") {
        let c = best_of(runs, || {
            assert_eq!(curio::run(ping_pong(round_trips)).unwrap(), expected);
        });
        let t = best_of(runs, || {
            assert_eq!(rt.block_on(tokio_ping_pong(round_trips)), expected);
        });
        row(
            "queue ping-pong, 1M items",
            "M items/s",
            per(c, ITEMS),
            per(t, ITEMS),
        );
    }

    if want("lock") {
        let total = LOCKERS * ROUNDS;
        let c = best_of(runs, || curio::run(contention(LOCKERS, ROUNDS)).unwrap());
        let t = best_of(runs, || rt.block_on(tokio_contention(LOCKERS, ROUNDS)));
        row(
            "lock hand-off, 100 tasks x 1000",
            "M acquisitions/s",
            per(c, total),
            per(t, total),
        );
    }

    if want("event") {
        let mut c = f64::INFINITY;
        let mut t = f64::INFINITY;
        for _ in 0..runs {
            c = c.min(curio::run(broadcast(WAITERS)).unwrap());
            t = t.min(rt.block_on(tokio_broadcast(WAITERS)));
        }
        row(
            "event broadcast to 10k waiters",
            "M wake-ups/s",
            per(c, WAITERS),
            per(t, WAITERS),
        );
    }
}
