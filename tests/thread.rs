//! `run_in_thread`: blocking work on worker threads while the kernel runs
//! the other tasks; results, panics, cancellation (the caller released at
//! once, the thread finishing in the background) and the 64-thread limit.

mod util;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use curio::{Error, Result, TaskState, run_in_thread, sleep, spawn, timeout_after};
use util::{log, take_log};

#[curio::task]
async fn ticker(count: Arc<AtomicUsize>) -> Result<()> {
    loop {
        sleep(0.01).await?;
        count.fetch_add(1, Ordering::Relaxed);
    }
}

#[curio::task]
async fn blocking_beside_a_ticker() -> Result<usize> {
    let ticks = Arc::new(AtomicUsize::new(0));
    let t = spawn(ticker(ticks.clone())).daemon(true).await?;
    let answer = run_in_thread(|| {
        std::thread::sleep(Duration::from_millis(300));
        42
    })
    .await?;
    t.cancel().await?;
    log(format!("answer {answer}"));
    Ok(ticks.load(Ordering::Relaxed))
}

#[test]
fn a_blocking_call_runs_while_other_tasks_run() {
    let ticks = curio::run(blocking_beside_a_ticker()).unwrap();
    assert_eq!(take_log(), ["answer 42"]);
    // 30 ticks in 300 ms at best; a loaded machine gives fewer, never 0.
    assert!(ticks >= 3, "the ticker ran {ticks} times");
}

#[curio::task]
async fn panicking() -> Result<String> {
    let e = run_in_thread(|| -> u32 { panic!("boom in a thread") })
        .await
        .unwrap_err();
    Ok(format!(
        "{}",
        matches!(&e, Error::Panic(m) if m == "boom in a thread")
    ))
}

#[test]
fn a_panic_in_the_thread_is_the_callers_error() {
    assert_eq!(curio::run(panicking()).unwrap(), "true");
}

#[curio::task]
async fn cancelled_caller(finished: Arc<AtomicBool>) -> Result<(bool, Duration)> {
    let start = Instant::now();
    let done = finished.clone();
    let r = timeout_after(
        0.05,
        run_in_thread(move || {
            std::thread::sleep(Duration::from_millis(400));
            done.store(true, Ordering::SeqCst);
            7
        }),
    )
    .await;
    let waited = start.elapsed();
    Ok((matches!(r, Err(Error::TaskTimeout(_))), waited))
}

#[test]
fn a_timeout_releases_the_caller_and_the_thread_finishes_in_the_background() {
    let finished = Arc::new(AtomicBool::new(false));
    let (timed_out, waited) = curio::run(cancelled_caller(finished.clone())).unwrap();
    assert!(timed_out);
    assert!(waited < Duration::from_millis(350), "waited {waited:?}");
    assert!(
        !finished.load(Ordering::SeqCst),
        "released before the thread ended"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !finished.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        finished.load(Ordering::SeqCst),
        "the thread ran to completion"
    );
}

#[curio::task]
async fn one_call(n: usize, busy: Arc<AtomicUsize>, peak: Arc<AtomicUsize>) -> Result<usize> {
    run_in_thread(move || {
        let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        busy.fetch_sub(1, Ordering::SeqCst);
        n * 2
    })
    .await
}

#[curio::task]
async fn many_calls() -> Result<(usize, usize)> {
    let busy = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for n in 0..150 {
        tasks.push(spawn(one_call(n, busy.clone(), peak.clone())).await?);
    }
    let mut sum = 0;
    for t in tasks {
        sum += t.join().await?;
    }
    Ok((sum, peak.load(Ordering::SeqCst)))
}

#[test]
fn at_most_64_threads_and_every_result_arrives() {
    let (sum, peak) = curio::run(many_calls()).unwrap();
    assert_eq!(sum, (0..150).map(|n| n * 2).sum::<usize>());
    assert!(peak <= curio::thread::MAX_WORKERS, "peak {peak}");
    assert!(curio::thread::workers() <= curio::thread::MAX_WORKERS);
}

#[curio::task]
async fn state_while_waiting() -> Result<String> {
    let t = spawn(run_in_thread(|| {
        std::thread::sleep(Duration::from_millis(100))
    }))
    .await?;
    sleep(0.02).await?;
    let state = t.state();
    t.join().await?;
    Ok(format!("{state} {}", state == TaskState::FutureWait))
}

#[test]
fn the_waiting_task_shows_future_wait() {
    assert_eq!(
        curio::run(state_while_waiting()).unwrap(),
        "FUTURE_WAIT true"
    );
}

#[test]
fn a_virtual_clock_kernel_waits_for_the_thread() {
    let mut kernel = curio::Kernel::builder().virtual_clock().build();
    let got = kernel
        .run(run_in_thread(|| {
            std::thread::sleep(Duration::from_millis(30));
            "done"
        }))
        .unwrap();
    assert_eq!(got, "done");
}

/// One closure, written once: at most one thread runs it at a time.
#[curio::task]
async fn one_callable(busy: Arc<AtomicUsize>, peak: Arc<AtomicUsize>) -> Result<()> {
    curio::block_in_thread(move || {
        let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(15));
        busy.fetch_sub(1, Ordering::SeqCst);
    })
    .await
}

#[curio::task]
async fn serialised() -> Result<(usize, usize)> {
    let (busy, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        tasks.push(spawn(one_callable(busy.clone(), peak.clone())).await?);
    }
    // Another callable is not held up by the first.
    let other = run_in_thread(|| 5).await?;
    for t in tasks {
        t.join().await?;
    }
    Ok((peak.load(Ordering::SeqCst), other))
}

#[test]
fn block_in_thread_runs_one_callable_on_one_thread_at_a_time() {
    assert_eq!(curio::run(serialised()).unwrap(), (1, 5));
}
