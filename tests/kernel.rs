//! The kernel: running, spawning, joining, stepping and shutting down
//! (ported from Curio's test_kernel and test_task).

mod util;

use curio::{Error, Kernel, Result, TaskState, clock, current_task, sleep, spawn};
use util::{log, take_log, vrun};

#[curio::task]
async fn hello() -> Result<&'static str> {
    Ok("hello")
}

#[test]
fn hello_returns_its_value() {
    assert_eq!(curio::run(hello()).unwrap(), "hello");
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
