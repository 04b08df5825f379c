//! The kernel beside tokio's `current_thread` runtime, in one run:
//!
//! * spawn + join of 100k trivial tasks,
//! * two tasks switching 1M times (`sleep(0)` / `yield_now`),
//! * 100k sleeping tasks: live heap bytes per task,
//! * cancelling those 100k sleeping tasks (cancel all, then wait for all),
//! * 1M timeouts armed and cancelled, each around one yield.
//!
//! `cargo bench --manifest-path bench/Cargo.toml --bench kernel`
//! (`BENCH_RUNS=n` sets the runs per case; the best run counts).

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use curio::{Result, Task, sleep, spawn, timeout_after};
use curio_bench::{Counting, best_of, live_bytes};

#[global_allocator]
static ALLOC: Counting = Counting;

const TASKS: u64 = 100_000;
const SWITCHES: u64 = 1_000_000;
const TIMERS: u64 = 1_000_000;

// ---- curio ----------------------------------------------------------------

#[curio::task]
async fn trivial(i: u64) -> Result<u64> {
    Ok(i)
}

#[curio::task]
async fn spawn_join(n: u64) -> Result<u64> {
    let mut handles: Vec<Task<u64>> = Vec::with_capacity(n as usize);
    for i in 0..n {
        handles.push(spawn(trivial(i)).await?);
    }
    let mut sum = 0;
    for h in handles {
        sum += h.join().await?;
    }
    Ok(sum)
}

#[curio::task]
async fn yielder(n: u64) -> Result<()> {
    for _ in 0..n {
        sleep(0.0).await?;
    }
    Ok(())
}

#[curio::task]
async fn switch(n: u64) -> Result<()> {
    let a = spawn(yielder(n / 2)).await?;
    let b = spawn(yielder(n / 2)).await?;
    a.join().await?;
    b.join().await?;
    Ok(())
}

#[curio::task]
async fn sleeper() -> Result<()> {
    sleep(10.0).await?;
    Ok(())
}

/// Spawns `n` sleepers; reports (bytes per task, seconds to cancel all).
#[curio::task]
async fn sleepers(n: u64, report: Rc<Cell<(f64, f64)>>) -> Result<()> {
    let before = live_bytes();
    let mut handles: Vec<Task<()>> = Vec::with_capacity(n as usize);
    for _ in 0..n {
        handles.push(spawn(sleeper()).await?);
    }
    sleep(0.05).await?;
    let per_task = (live_bytes() - before) as f64 / n as f64;
    let start = Instant::now();
    for h in handles.clone() {
        h.cancel().blocking(false).await?;
    }
    for h in handles {
        h.wait().await?;
    }
    report.set((per_task, start.elapsed().as_secs_f64()));
    Ok(())
}

#[curio::task]
async fn timers(n: u64) -> Result<()> {
    for _ in 0..n {
        timeout_after(100.0, sleep(0.0)).await?;
    }
    Ok(())
}

// ---- tokio ----------------------------------------------------------------

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime")
}

async fn tokio_spawn_join(n: u64) -> u64 {
    let mut handles = Vec::with_capacity(n as usize);
    for i in 0..n {
        handles.push(tokio::spawn(async move { i }));
    }
    let mut sum = 0;
    for h in handles {
        sum += h.await.expect("join");
    }
    sum
}

async fn tokio_switch(n: u64) {
    let yielder = move || async move {
        for _ in 0..n / 2 {
            tokio::task::yield_now().await;
        }
    };
    let a = tokio::spawn(yielder());
    let b = tokio::spawn(yielder());
    a.await.expect("join");
    b.await.expect("join");
}

async fn tokio_sleepers(n: u64) -> (f64, f64) {
    let before = live_bytes();
    let mut handles = Vec::with_capacity(n as usize);
    for _ in 0..n {
        handles.push(tokio::spawn(tokio::time::sleep(Duration::from_secs(10))));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let per_task = (live_bytes() - before) as f64 / n as f64;
    let start = Instant::now();
    for h in &handles {
        h.abort();
    }
    for h in handles {
        let _ = h.await;
    }
    (per_task, start.elapsed().as_secs_f64())
}

async fn tokio_timers(n: u64) {
    for _ in 0..n {
        let _ = tokio::time::timeout(Duration::from_secs(100), tokio::task::yield_now()).await;
    }
}

// ---- the table ------------------------------------------------------------

fn row(name: &str, unit: &str, curio: f64, tokio: f64, higher_is_better: bool) {
    let ratio = if higher_is_better {
        curio / tokio
    } else {
        tokio / curio
    };
    println!("| {name} | {curio:.1} {unit} | {tokio:.1} {unit} | {ratio:.2}x |");
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let rt = tokio_rt();
    // `BENCH_CASE=switch` runs only the matching cases (for profiling).
    let case = std::env::var("BENCH_CASE").unwrap_or_default();
    let want = |name: &str| name.contains(case.as_str());
    let per = |secs: f64, n: u64| n as f64 / secs / 1e6;
    // `BENCH_TOKIO=0` skips tokio's runs (for profiling curio alone).
    let tokio_runs = if std::env::var("BENCH_TOKIO").as_deref() == Ok("0") {
        0
    } else {
        runs
    };

    println!("| case | curio | tokio current_thread | curio advantage |");
    println!("|---|---|---|---|");

    if want("spawn") {
        let c = best_of(runs, || {
            assert_eq!(
                curio::run(spawn_join(TASKS)).unwrap(),
                TASKS * (TASKS - 1) / 2
            );
        });
        let t = best_of(tokio_runs, || {
            assert_eq!(
                rt.block_on(tokio_spawn_join(TASKS)),
                TASKS * (TASKS - 1) / 2
            );
        });
        row(
            "spawn + join, 100k tasks",
            "M tasks/s",
            per(c, TASKS),
            per(t, TASKS),
            true,
        );
    }

    if want("switch") {
        let c = best_of(runs, || curio::run(switch(SWITCHES)).unwrap());
        let t = best_of(tokio_runs, || rt.block_on(tokio_switch(SWITCHES)));
        row(
            "2 tasks switching, 1M yields",
            "M switches/s",
            per(c, SWITCHES),
            per(t, SWITCHES),
            true,
        );
    }

    if want("sleep") {
        let report = Rc::new(Cell::new((0.0, 0.0)));
        let mut curio_mem = f64::INFINITY;
        let mut curio_cancel = f64::INFINITY;
        for _ in 0..runs {
            curio::run(sleepers(TASKS, report.clone())).unwrap();
            let (mem, secs) = report.get();
            curio_mem = curio_mem.min(mem);
            curio_cancel = curio_cancel.min(secs);
        }
        let mut tokio_mem = f64::INFINITY;
        let mut tokio_cancel = f64::INFINITY;
        for _ in 0..tokio_runs.max(1) {
            let (mem, secs) = rt.block_on(tokio_sleepers(TASKS));
            tokio_mem = tokio_mem.min(mem);
            tokio_cancel = tokio_cancel.min(secs);
        }
        row(
            "memory per sleeping task, 100k tasks",
            "bytes",
            curio_mem,
            tokio_mem,
            false,
        );
        row(
            "cancel 100k sleeping tasks",
            "M tasks/s",
            per(curio_cancel, TASKS),
            per(tokio_cancel, TASKS),
            true,
        );
    }

    if want("timer") {
        let c = best_of(runs, || curio::run(timers(TIMERS)).unwrap());
        let t = best_of(tokio_runs, || rt.block_on(tokio_timers(TIMERS)));
        row(
            "1M timeouts armed and cancelled",
            "M timeouts/s",
            per(c, TIMERS),
            per(t, TIMERS),
            true,
        );
    }
}
