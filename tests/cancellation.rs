//! Cancellation: `cancel` in its forms, and cancellation control
//! (ported from Curio's test_kernel and test_task). Each test asserts the
//! exact order of events; times are on a virtual clock.

mod util;

use curio::{
    Error, Result, Task, TaskState, check_cancellation, check_cancellation_if, clock, coroutine,
    current_task, disable_cancellation, set_cancellation, sleep, spawn, timeout_after,
};
use util::{Noisy, log, take_log, vrun};

fn cause(e: &Error) -> &Error {
    match e {
        Error::TaskError { cause } => cause,
        other => panic!("expected a TaskError, got {other:?}"),
    }
}

/// Sleeps, logging how the sleep ended.
#[curio::task]
async fn sleeper(name: &'static str, seconds: f64) -> Result<()> {
    logf!("{name} sleep");
    match sleep(seconds).await {
        Ok(_) => {
            logf!("{name} awake");
            Ok(())
        }
        Err(e) => {
            logf!("{name} {e}");
            Err(e)
        }
    }
}

#[curio::task]
async fn cancel_sleeping() -> Result<()> {
    let t = spawn(sleeper("child", 1.0)).await?;
    sleep(0.1).await?;
    log("cancelling");
    t.cancel().await?;
    let now = clock().await?;
    logf!("cancelled at {now}: {} {}", t.cancelled(), t.state());
    let e = t.join().await.unwrap_err();
    assert!(matches!(cause(&e), Error::TaskCancelled(_)));
    Ok(())
}

#[test]
fn cancel_a_sleeping_task() {
    vrun(cancel_sleeping()).unwrap();
    assert_eq!(
        take_log(),
        [
            "child sleep",
            "cancelling",
            "child task cancelled",
            "cancelled at 0.1: true TERMINATED"
        ]
    );
}

#[curio::task]
async fn cancel_before_it_runs() -> Result<()> {
    let t = spawn(sleeper("child", 1.0)).await?;
    t.cancel().await?;
    log("done");
    Ok(())
}

#[test]
fn a_task_cancelled_before_it_runs_gets_it_at_its_first_blocking_call() {
    vrun(cancel_before_it_runs()).unwrap();
    assert_eq!(take_log(), ["child sleep", "child task cancelled", "done"]);
}

#[curio::task]
async fn quick() -> Result<i64> {
    Ok(1)
}

#[curio::task]
async fn cancel_finished() -> Result<()> {
    let t = spawn(quick()).await?;
    sleep(0.1).await?;
    t.cancel().await?;
    logf!("{} {} {}", t.joined(), t.terminated(), t.cancelled());
    Ok(())
}

#[test]
fn cancel_of_a_finished_task_does_nothing() {
    vrun(cancel_finished()).unwrap();
    assert_eq!(take_log(), ["true true false"]);
}

#[curio::task]
async fn joiner(target: Task<()>) -> Result<()> {
    log("joiner waits");
    match target.join().await {
        Err(e) => {
            logf!("joiner: {e}");
            Err(e)
        }
        Ok(()) => Ok(()),
    }
}

#[curio::task]
async fn cancel_joining() -> Result<()> {
    let long = spawn(sleeper("long", 10.0)).await?;
    let j = spawn(joiner(long.clone())).await?;
    sleep(0.1).await?;
    assert_eq!(j.state(), TaskState::TaskJoin);
    j.cancel().await?;
    log("joiner cancelled");
    sleep(0.1).await?;
    long.cancel().await?;
    log("long cancelled");
    Ok(())
}

#[test]
fn cancel_a_joining_task_leaves_the_target_alone() {
    vrun(cancel_joining()).unwrap();
    assert_eq!(
        take_log(),
        [
            "long sleep",
            "joiner waits",
            "joiner: task cancelled",
            "joiner cancelled",
            "long task cancelled",
            "long cancelled"
        ]
    );
}

#[curio::task]
async fn stubborn() -> Result<()> {
    log("start");
    if let Err(e) = sleep(1.0).await {
        logf!("cancel request: {e}");
        sleep(1.0).await?;
        log("cancelled");
        return Err(e);
    }
    log("not here");
    Ok(())
}

#[curio::task]
async fn double_cancel() -> Result<()> {
    let t = spawn(stubborn()).await?;
    sleep(0.5).await?;
    if let Err(Error::TaskTimeout(_)) = timeout_after(0.5, t.cancel()).await {
        log("retry");
        t.cancel().await?;
        log("done cancel");
    }
    Ok(())
}

#[test]
fn a_second_cancel_waits_for_the_first() {
    vrun(double_cancel()).unwrap();
    assert_eq!(
        take_log(),
        [
            "start",
            "cancel request: task cancelled",
            "retry",
            "cancelled",
            "done cancel"
        ]
    );
}

#[curio::task]
async fn custom_cancel() -> Result<()> {
    let t = spawn(sleeper("child", 10.0)).await?;
    sleep(0.1).await?;
    t.cancel().exc(Error::msg("shutting down")).await?;
    let e = t.join().await.unwrap_err();
    logf!("cause: {}", cause(&e));
    assert!(!cause(&e).is_cancelled());
    Ok(())
}

#[test]
fn cancel_with_a_custom_error() {
    vrun(custom_cancel()).unwrap();
    assert_eq!(
        take_log(),
        ["child sleep", "child shutting down", "cause: shutting down"]
    );
}

#[curio::task]
async fn cleanup_slowly() -> Result<()> {
    let err = sleep(10.0).await.unwrap_err();
    log("cleaning up");
    sleep(1.0).await?;
    log("cleaned up");
    Err(err)
}

#[curio::task]
async fn cancel_nonblocking() -> Result<()> {
    let t = spawn(cleanup_slowly()).await?;
    sleep(0.1).await?;
    t.cancel().blocking(false).await?;
    let now = clock().await?;
    logf!("cancel returned at {now}, {}", t.terminated());
    t.cancel().await?;
    let now = clock().await?;
    logf!("second cancel returned at {now}, {}", t.terminated());
    Ok(())
}

#[test]
fn nonblocking_cancel_returns_at_once() {
    vrun(cancel_nonblocking()).unwrap();
    assert_eq!(
        take_log(),
        [
            "cancel returned at 0.1, false",
            "cleaning up",
            "cleaned up",
            "second cancel returned at 1.1, true"
        ]
    );
}

#[curio::task]
async fn guarded(name: &'static str) -> Result<()> {
    let _guard = Noisy(name);
    sleep(10.0).await?;
    Ok(())
}

#[curio::task]
async fn cancel_drops_locals() -> Result<()> {
    let t = spawn(guarded("guard")).await?;
    sleep(0.1).await?;
    t.cancel().await?;
    log("after cancel");
    Ok(())
}

#[test]
fn a_cancelled_task_releases_its_locals() {
    vrun(cancel_drops_locals()).unwrap();
    assert_eq!(take_log(), ["drop guard", "after cancel"]);
}

#[curio::task]
async fn family(name: &'static str, depth: u32) -> Result<()> {
    let kid = if depth > 0 {
        Some(
            spawn(family_boxed(
                if depth == 2 { "parent" } else { "child" },
                depth - 1,
            ))
            .await?,
        )
    } else {
        log("start");
        None
    };
    match sleep(0.5).await {
        Ok(_) => {
            logf!("end {name}");
            Ok(())
        }
        Err(e) => {
            if let Some(kid) = kid {
                kid.cancel().await?;
            }
            logf!("{name} cancelled");
            Err(e)
        }
    }
}

fn family_boxed(name: &'static str, depth: u32) -> curio::BoxCoroutine<Result<()>> {
    curio::boxed(family(name, depth))
}

#[curio::task]
async fn child_cancel() -> Result<()> {
    let t = spawn(family("grandparent", 2)).await?;
    sleep(0.1).await?;
    log("cancel start");
    sleep(0.1).await?;
    log("cancelling");
    t.cancel().await?;
    log("done");
    Ok(())
}

#[test]
fn cancellation_is_not_inherited_but_can_be_passed_on() {
    vrun(child_cancel()).unwrap();
    assert_eq!(
        take_log(),
        [
            "start",
            "cancel start",
            "cancelling",
            "child cancelled",
            "parent cancelled",
            "grandparent cancelled",
            "done"
        ]
    );
}

#[curio::task]
async fn self_cancel() -> Result<()> {
    let me = current_task().await?;
    me.cancel().blocking(false).await?;
    log("still running");
    spawn(quick()).await?;
    let now = clock().await?;
    logf!("non-blocking traps do not deliver it ({now})");
    let e = sleep(0.0).await.unwrap_err();
    logf!("{e}");
    Ok(())
}

#[test]
fn self_cancellation_is_delivered_at_the_next_blocking_call() {
    vrun(self_cancel()).unwrap();
    assert_eq!(
        take_log(),
        [
            "still running",
            "non-blocking traps do not deliver it (0)",
            "task cancelled"
        ]
    );
}

#[curio::task]
async fn shielded() -> Result<()> {
    disable_cancellation(coroutine!({
        sleep(1.0).await?;
        log("success");
        let pending = check_cancellation().await?;
        logf!(
            "pending: {}",
            pending.map_or("none".to_string(), |e| e.to_string())
        );
        Ok::<(), Error>(())
    }))
    .await?;
    log("shield lifted");
    let e = sleep(1.0).await.unwrap_err();
    logf!("delivered: {e}");
    Err(e)
}

#[curio::task]
async fn cancel_shielded() -> Result<()> {
    let t = spawn(shielded()).await?;
    sleep(0.1).await?;
    t.cancel().await?;
    let now = clock().await?;
    logf!("done at {now}");
    Ok(())
}

#[test]
fn disable_cancellation_defers_until_the_next_blocking_call() {
    vrun(cancel_shielded()).unwrap();
    assert_eq!(
        take_log(),
        [
            "success",
            "pending: task cancelled",
            "shield lifted",
            "delivered: task cancelled",
            "done at 1"
        ]
    );
}

#[curio::task]
async fn poll_for_cancel() -> Result<()> {
    disable_cancellation(coroutine!({
        let mut rounds = 0;
        loop {
            sleep(0.3).await?;
            rounds += 1;
            if check_cancellation().await?.is_some() {
                logf!("bail out after {rounds}");
                break;
            }
        }
        Ok::<(), Error>(())
    }))
    .await?;
    check_cancellation().await?;
    log("not here");
    Ok(())
}

#[curio::task]
async fn cancel_poller() -> Result<()> {
    let t = spawn(poll_for_cancel()).await?;
    sleep(1.0).await?;
    t.cancel().await?;
    let e = t.join().await.unwrap_err();
    logf!("{}", cause(&e));
    Ok(())
}

#[test]
fn check_cancellation_raises_once_enabled() {
    vrun(cancel_poller()).unwrap();
    assert_eq!(take_log(), ["bail out after 4", "task cancelled"]);
}

#[curio::task]
async fn nested_shields() -> Result<()> {
    disable_cancellation(coroutine!({
        disable_cancellation(sleep(1.0)).await?;
        log("inner done");
        sleep(1.0).await?;
        log("outer done");
        Ok::<(), Error>(())
    }))
    .await?;
    sleep(0.0).await?;
    Ok(())
}

#[curio::task]
async fn cancel_nested_shields() -> Result<()> {
    let t = spawn(nested_shields()).await?;
    sleep(0.5).await?;
    t.cancel().await?;
    let now = clock().await?;
    logf!("terminated at {now}");
    Ok(())
}

#[test]
fn nested_shields_restore_the_outer_state() {
    vrun(cancel_nested_shields()).unwrap();
    assert_eq!(take_log(), ["inner done", "outer done", "terminated at 2"]);
}

#[curio::task]
async fn set_and_check() -> Result<()> {
    let previous = set_cancellation(Some(Error::cancelled())).await?;
    assert!(previous.is_none());
    let none = check_cancellation_if(|e| matches!(e, Error::TaskTimeout(_))).await?;
    logf!("timeout pending: {}", none.is_some());
    let e = sleep(1.0).await.unwrap_err();
    logf!("sleep: {e}");
    set_cancellation(Some(Error::cancelled())).await?;
    disable_cancellation(coroutine!({
        let got = check_cancellation_if(Error::is_cancelled).await?;
        logf!("taken: {}", got.map_or("none".into(), |e| e.to_string()));
        let left = check_cancellation().await?;
        logf!("left: {}", left.is_some());
        Ok::<(), Error>(())
    }))
    .await?;
    sleep(0.0).await?;
    let old = set_cancellation(None).await?;
    logf!("old: {}", old.is_none());
    Ok(())
}

#[test]
fn set_and_check_cancellation() {
    vrun(set_and_check()).unwrap();
    assert_eq!(
        take_log(),
        [
            "timeout pending: false",
            "sleep: task cancelled",
            "taken: task cancelled",
            "left: false",
            "old: true"
        ]
    );
}

#[curio::task]
async fn pending_at_every_blocking_trap() -> Result<()> {
    let other = spawn(sleeper("other", 5.0)).await?;
    set_cancellation(Some(Error::cancelled())).await?;
    let e = curio::traps::read_wait(0).await.unwrap_err();
    logf!("read_wait: {e}");
    set_cancellation(Some(Error::cancelled())).await?;
    let e = other.wait().await.unwrap_err();
    logf!("wait: {e}");
    set_cancellation(Some(Error::timeout(0.0))).await?;
    // Leaving a timeout block drops a pending timeout.
    timeout_after(10.0, coroutine!({ Ok::<(), Error>(()) })).await?;
    let left = check_cancellation().await?;
    logf!("after a timeout block: {}", left.is_some());
    other.cancel().await?;
    Ok(())
}

#[test]
fn pending_cancellation_is_delivered_instead_of_blocking() {
    vrun(pending_at_every_blocking_trap()).unwrap();
    assert_eq!(
        take_log(),
        [
            "read_wait: task cancelled",
            "wait: task cancelled",
            "after a timeout block: false",
            "other sleep",
            "other task cancelled"
        ]
    );
}

#[curio::task]
async fn raise_inside_shield() -> Result<()> {
    let r = disable_cancellation(coroutine!({
        sleep(0.1).await?;
        Err::<(), Error>(Error::cancelled())
    }))
    .await;
    logf!("returned: {}", r.unwrap_err());
    let pending = check_cancellation().await?;
    logf!("pending: {}", pending.is_some());
    Ok(())
}

#[test]
fn an_error_raised_inside_a_shield_is_returned() {
    vrun(raise_inside_shield()).unwrap();
    assert_eq!(take_log(), ["returned: task cancelled", "pending: false"]);
}

#[curio::task]
async fn cancel_clears_timeout() -> Result<()> {
    let t = spawn(coroutine!(-> Result<()> {
        log("child");
        let r = timeout_after(1.0, coroutine!({
            if let Err(e) = sleep(5.0).await {
                log("cancelled");
                sleep(1.0).await?;
                log("done cancel");
                return Err(e);
            }
            Ok(())
        }))
        .await;
        if let Err(Error::TaskTimeout(_)) = r {
            log("timeout");
        }
        r
    }))
    .await?;
    sleep(0.5).await?;
    t.cancel().await?;
    let now = clock().await?;
    logf!("over at {now}");
    Ok(())
}

#[test]
fn cancellation_also_cancels_timeouts() {
    vrun(cancel_clears_timeout()).unwrap();
    assert_eq!(
        take_log(),
        ["child", "cancelled", "done cancel", "over at 1.5"]
    );
}
