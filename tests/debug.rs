//! The tracers of `curio::debug`, on the `log` crate (Curio's
//! `schedtrace`, `traptrace`, `logcrash`, `longblock`).

use std::cell::RefCell;

use curio::debug::{LogCrash, LongBlock, SchedTrace, TrapTrace};
use curio::{Error, Kernel, Result, sleep, spawn};

thread_local! {
    static LINES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Captures log lines per thread, so tests can run in parallel.
struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {} {}", record.level(), record.target(), record.args());
        LINES.with(|l| l.borrow_mut().push(line));
    }
    fn flush(&self) {}
}

fn capture() {
    static LOGGER: Capture = Capture;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
    LINES.with(|l| l.borrow_mut().clear());
}

/// The captured lines, with clock readings (`:1.234567:`) removed.
fn lines() -> Vec<String> {
    LINES.with(|l| {
        l.borrow()
            .iter()
            .map(|line| {
                let parts: Vec<&str> = line.split(':').collect();
                let kept: Vec<&str> = parts
                    .iter()
                    .enumerate()
                    .filter(|(i, p)| {
                        !(*i > 0
                            && *i + 1 < parts.len()
                            && p.contains('.')
                            && p.parse::<f64>().is_ok())
                    })
                    .map(|(_, p)| *p)
                    .collect();
                kept.join(":")
            })
            .collect()
    })
}

#[curio::task]
async fn worker() -> Result<()> {
    sleep(0.0).await?;
    Ok(())
}

#[curio::task]
async fn boss() -> Result<()> {
    let t = spawn(worker()).await?;
    t.join().await?;
    Ok(())
}

#[test]
fn schedtrace_logs_scheduling_of_the_filtered_tasks() {
    capture();
    let mut kernel = Kernel::builder()
        .activation(SchedTrace::new().filter(["worker"]))
        .build();
    kernel.run(boss()).unwrap();
    let lines = lines();
    let id = lines[0]
        .split("id=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap()
        .to_string();
    let task = |state: &str| format!("Task(id={id}, name=\"worker\", state={state})");
    assert_eq!(
        lines,
        [
            format!("INFO curio::debug CREATE:{}", task("READY")),
            format!("INFO curio::debug RUN:{}", task("READY")),
            format!("INFO curio::debug SUSPEND:{}", task("READY")),
            format!("INFO curio::debug RUN:{}", task("READY")),
            format!("INFO curio::debug SUSPEND:{}", task("TERMINATED")),
            format!("INFO curio::debug TERMINATED:{}", task("TERMINATED")),
        ]
    );
}

#[test]
fn traptrace_adds_the_traps() {
    capture();
    let mut kernel = Kernel::builder()
        .activation(TrapTrace::new().filter(["worker"]))
        .build();
    kernel.run(boss()).unwrap();
    let traps: Vec<String> = lines()
        .into_iter()
        .filter(|l| l.contains("TRAP:"))
        .collect();
    assert_eq!(
        traps,
        ["INFO curio::debug TRAP:Sleep { seconds: 0.0, absolute: false }"]
    );
}

#[curio::task]
async fn crash() -> Result<()> {
    Err(Error::msg("Dead"))
}

#[curio::task]
async fn cancelled() -> Result<()> {
    sleep(10.0).await?;
    Ok(())
}

#[curio::task]
async fn crashes() -> Result<()> {
    let a = spawn(crash()).await?;
    let b = spawn(cancelled()).await?;
    let joined = a.join().await;
    assert!(joined.is_err());
    b.cancel().await?;
    Ok(())
}

#[test]
fn logcrash_reports_failures_but_not_cancellations() {
    capture();
    let mut kernel = Kernel::builder().activation(LogCrash::new()).build();
    kernel.run(crashes()).unwrap();
    let crashes: Vec<String> = lines()
        .into_iter()
        .filter(|l| l.contains("Crash"))
        .collect();
    assert_eq!(crashes.len(), 2, "{crashes:?}");
    assert!(crashes[0].starts_with("ERROR curio::kernel Task Crash: Task(id="));
    assert!(crashes[0].ends_with("name=\"crash\", state=TERMINATED): Dead"));
    assert!(crashes[1].starts_with("ERROR curio::debug Task Crash: Task(id="));
    assert!(crashes[1].ends_with("name=\"crash\", state=TERMINATED): Dead"));
}

#[curio::task]
async fn hog() -> Result<()> {
    std::thread::sleep(std::time::Duration::from_millis(60));
    sleep(0.0).await?;
    Ok(())
}

#[test]
fn longblock_warns_about_tasks_that_run_too_long() {
    capture();
    let mut kernel = Kernel::builder().activation(LongBlock::new(0.05)).build();
    kernel.run(hog()).unwrap();
    let warnings: Vec<String> = lines()
        .into_iter()
        .filter(|l| l.starts_with("WARN"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("name=\"hog\""));
    assert!(warnings[0].contains("without blocking"));
}

#[curio::task]
async fn forgotten() -> Result<()> {
    let t = spawn(worker()).await?;
    let joined = spawn(worker()).await?;
    sleep(0.01).await?;
    assert!(t.terminated());
    joined.join().await?;
    Ok(())
}

#[test]
fn a_task_nobody_joined_is_reported_when_dropped() {
    capture();
    curio::run(forgotten()).unwrap();
    let warnings: Vec<String> = lines()
        .into_iter()
        .filter(|l| l.starts_with("WARN curio::task"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].ends_with("name=\"worker\") never joined"));
}
