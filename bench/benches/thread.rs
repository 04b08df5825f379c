//! `run_in_thread` beside tokio's `spawn_blocking` (current_thread
//! runtime): the round trip of a trivial call to a worker thread and back,
//! one caller at a time (latency) and 64 callers at once (throughput).
//! Rounds alternate between the two, and the median round is reported.
//!
//! `cargo bench --manifest-path bench/Cargo.toml --bench thread`

use std::time::Instant;

use curio::{Result, run_in_thread, spawn};

const CALLS: usize = 20_000;
const ROUNDS: usize = 5;

#[curio::task]
async fn curio_caller(n: usize) -> Result<usize> {
    let mut sum = 0;
    for i in 0..n {
        sum += run_in_thread(move || i & 1).await?;
    }
    Ok(sum)
}

#[curio::task]
async fn curio_parallel(callers: usize, n: usize) -> Result<usize> {
    let mut tasks = Vec::new();
    for _ in 0..callers {
        tasks.push(spawn(curio_caller(n)).await?);
    }
    let mut sum = 0;
    for t in tasks {
        sum += t.join().await?;
    }
    Ok(sum)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(curio::thread::MAX_WORKERS)
        .build()
        .expect("runtime")
}

fn tokio_sequential(rt: &tokio::runtime::Runtime, n: usize) -> usize {
    rt.block_on(async move {
        let mut sum = 0;
        for i in 0..n {
            sum += tokio::task::spawn_blocking(move || i & 1).await.unwrap();
        }
        sum
    })
}

fn tokio_parallel(rt: &tokio::runtime::Runtime, callers: usize, n: usize) -> usize {
    rt.block_on(async move {
        let tasks: Vec<_> = (0..callers)
            .map(|_| {
                tokio::spawn(async move {
                    let mut sum = 0;
                    for i in 0..n {
                        sum += tokio::task::spawn_blocking(move || i & 1).await.unwrap();
                    }
                    sum
                })
            })
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    })
}

/// Median, and the range as `min-max`.
fn summary(mut v: Vec<f64>) -> (f64, String) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], format!("{:.0}-{:.0}", v[0], v[v.len() - 1]))
}

fn main() {
    let rt = tokio_rt();
    let callers = 64;
    let per = CALLS / callers;
    let (mut c_seq, mut t_seq, mut c_par, mut t_par) = (vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        let s = Instant::now();
        assert_eq!(curio::run(curio_caller(CALLS)).unwrap(), CALLS / 2);
        c_seq.push(s.elapsed().as_secs_f64() * 1e9 / CALLS as f64);
        let s = Instant::now();
        assert_eq!(tokio_sequential(&rt, CALLS), CALLS / 2);
        t_seq.push(s.elapsed().as_secs_f64() * 1e9 / CALLS as f64);
        let s = Instant::now();
        assert_eq!(curio::run(curio_parallel(callers, per)).unwrap(), callers * (per / 2));
        c_par.push(s.elapsed().as_secs_f64() * 1e9 / (callers * per) as f64);
        let s = Instant::now();
        assert_eq!(tokio_parallel(&rt, callers, per), callers * (per / 2));
        t_par.push(s.elapsed().as_secs_f64() * 1e9 / (callers * per) as f64);
    }
    let ((cs, csr), (ts, tsr)) = (summary(c_seq), summary(t_seq));
    let ((cp, cpr), (tp, tpr)) = (summary(c_par), summary(t_par));
    println!("| case | curio ns/call (median, range) | tokio ns/call (median, range) | ratio (tokio / curio) |");
    println!("|---|---|---|---|");
    println!("| one caller (round trip) | {cs:.0} ({csr}) | {ts:.0} ({tsr}) | {:.2}x |", ts / cs);
    println!("| 64 callers | {cp:.0} ({cpr}) | {tp:.0} ({tpr}) | {:.2}x |", tp / cp);
}
