//! Timeouts: `timeout_after`, `ignore_after` and their nesting rules
//! (ported from Curio's test_kernel). Times are on a virtual clock unless a
//! test needs the loop to be blocked for real.

mod util;

use curio::{
    Error, Result, clock, coroutine, disable_cancellation, ignore_after, ignore_after_with, sleep,
    spawn, timeout_after,
};
use util::{log, take_log, vrun};

/// Logs its start, sleeps, logs its end.
#[curio::task]
async fn coro(name: &'static str, seconds: f64) -> Result<()> {
    logf!("{name} start");
    sleep(seconds).await?;
    logf!("{name} done");
    Ok(())
}

/// What an error is, for the log.
fn kind(e: &Error) -> &'static str {
    match e {
        Error::TaskTimeout(_) => "TaskTimeout",
        Error::TimeoutCancellationError(_) => "TimeoutCancellationError",
        Error::UncaughtTimeoutError => "UncaughtTimeoutError",
        Error::TaskCancelled(_) => "TaskCancelled",
        _ => "other",
    }
}

#[curio::task]
async fn sleep_timeout() -> Result<()> {
    let r = timeout_after(0.1, sleep(1.0)).await;
    let now = clock().await?;
    logf!("{} at {now}", kind(&r.unwrap_err()));
    Ok(())
}

#[test]
fn timeout_after_interrupts_a_sleep() {
    vrun(sleep_timeout()).unwrap();
    assert_eq!(take_log(), ["TaskTimeout at 0.1"]);
}

#[curio::task]
async fn no_timeout() -> Result<f64> {
    timeout_after(0.5, sleep(0.1)).await?;
    // The expired deadline must not fire later.
    sleep(0.5).await
}

#[test]
fn a_finished_block_leaves_no_timeout_behind() {
    assert_eq!(vrun(no_timeout()).unwrap(), 0.6);
}

#[curio::task]
async fn ignore_forms() -> Result<()> {
    let r = ignore_after(0.1, sleep(1.0)).await?;
    logf!("coroutine form: {r:?}");
    let r = ignore_after(
        0.1,
        coroutine!({
            sleep(1.0).await?;
            log("not here");
            Ok::<_, Error>("finished")
        }),
    )
    .await?;
    logf!("block form: {r:?}");
    let r = ignore_after_with(0.1, sleep(1.0), -1.0).await?;
    logf!("timeout_result: {r}");
    let r = ignore_after_with(1.0, coroutine!({ Ok::<_, Error>(5) }), 0).await?;
    logf!("in time: {r}");
    Ok(())
}

#[test]
fn ignore_after_returns_its_timeout_result_in_both_forms() {
    vrun(ignore_forms()).unwrap();
    assert_eq!(
        take_log(),
        [
            "coroutine form: None",
            "block form: None",
            "timeout_result: -1",
            "in time: 5"
        ]
    );
}

#[curio::task]
async fn nested_child() -> Result<()> {
    match timeout_after(5.0, coro("coro1", 1.0)).await {
        Ok(()) => log("coro1 success"),
        Err(e) if e.is_cancelled() => logf!("coro1 {}", kind(&e)),
        Err(e) => return Err(e),
    }
    coro("coro2", 1.0).await?;
    log("coro2 success");
    Ok(())
}

#[curio::task]
async fn nested_parent() -> Result<()> {
    if let Err(e) = timeout_after(0.75, nested_child()).await {
        logf!("parent {}", kind(&e));
    }
    Ok(())
}

#[test]
fn outer_timeout_expires_first() {
    vrun(nested_parent()).unwrap();
    assert_eq!(
        take_log(),
        [
            "coro1 start",
            "coro1 TimeoutCancellationError",
            "coro2 start",
            "parent TaskTimeout"
        ]
    );
}

#[curio::task]
async fn nested_block_form() -> Result<()> {
    let r = timeout_after(
        0.75,
        coroutine!({
            let inner = timeout_after(
                5.0,
                coroutine!({
                    coro("coro1", 1.0).await?;
                    Ok::<_, Error>(())
                }),
            )
            .await;
            if let Err(e) = &inner {
                logf!("coro1 {}", kind(e));
            }
            coro("coro2", 1.0).await?;
            Ok::<_, Error>(())
        }),
    )
    .await;
    logf!("parent {}", kind(&r.unwrap_err()));
    Ok(())
}

#[test]
fn outer_timeout_expires_first_block_form() {
    vrun(nested_block_form()).unwrap();
    assert_eq!(
        take_log(),
        [
            "coro1 start",
            "coro1 TimeoutCancellationError",
            "coro2 start",
            "parent TaskTimeout"
        ]
    );
}

#[curio::task]
async fn inner_expires() -> Result<()> {
    let r = timeout_after(
        5.0,
        coroutine!({
            let inner = timeout_after(0.5, coro("coro1", 1.0)).await;
            logf!("inner {}", kind(&inner.unwrap_err()));
            coro("coro2", 1.0).await?;
            Ok::<_, Error>("outer finished")
        }),
    )
    .await?;
    let now = clock().await?;
    logf!("{r} at {now}");
    Ok(())
}

#[test]
fn inner_timeout_expires_and_is_caught_inside() {
    vrun(inner_expires()).unwrap();
    assert_eq!(
        take_log(),
        [
            "coro1 start",
            "inner TaskTimeout",
            "coro2 start",
            "coro2 done",
            "outer finished at 1.5"
        ]
    );
}

#[curio::task]
async fn three_deep() -> Result<()> {
    let r = timeout_after(
        0.1,
        coroutine!({
            let r = timeout_after(
                15.0,
                coroutine!({
                    let r = timeout_after(10.0, sleep(5.0)).await;
                    logf!("innermost sees {}", kind(r.as_ref().unwrap_err()));
                    r
                }),
            )
            .await;
            logf!("middle sees {}", kind(r.as_ref().unwrap_err()));
            r
        }),
    )
    .await;
    logf!("outer sees {}", kind(&r.unwrap_err()));
    Ok(())
}

#[test]
fn only_the_outermost_expired_block_sees_task_timeout() {
    vrun(three_deep()).unwrap();
    assert_eq!(
        take_log(),
        [
            "innermost sees TimeoutCancellationError",
            "middle sees TimeoutCancellationError",
            "outer sees TaskTimeout"
        ]
    );
}

#[curio::task]
async fn both_expire() -> Result<()> {
    // Both deadlines pass while the loop is away: the outer one owns it.
    let r = timeout_after(
        1.0,
        coroutine!({
            let r = timeout_after(1.0, sleep(5.0)).await;
            logf!("inner sees {}", kind(r.as_ref().unwrap_err()));
            r
        }),
    )
    .await;
    logf!("outer sees {}", kind(&r.unwrap_err()));
    Ok(())
}

#[test]
fn when_both_expire_together_the_outer_one_owns_the_timeout() {
    vrun(both_expire()).unwrap();
    assert_eq!(
        take_log(),
        [
            "inner sees TimeoutCancellationError",
            "outer sees TaskTimeout"
        ]
    );
}

#[curio::task]
async fn uncaught_child() -> Result<()> {
    // The inner timeout's error is not handled here...
    timeout_after(1.0, coro("coro1", 5.0)).await
}

#[curio::task]
async fn uncaught_parent() -> Result<()> {
    // ...so the outer block, whose deadline has not passed, reports it.
    if let Err(e) = timeout_after(
        10.0,
        coroutine!({
            uncaught_child().await?;
            Ok::<_, Error>(())
        }),
    )
    .await
    {
        logf!("{}", kind(&e));
    }
    Ok(())
}

#[test]
fn an_inner_timeout_leaking_out_is_uncaught() {
    vrun(uncaught_parent()).unwrap();
    assert_eq!(take_log(), ["coro1 start", "UncaughtTimeoutError"]);
}

#[curio::task]
async fn none_child() -> Result<()> {
    timeout_after(None, coro("coro1", 2.0)).await?;
    log("coro1 success");
    coro("coro2", 1.0).await?;
    log("coro2 success");
    Ok(())
}

#[curio::task]
async fn none_parent() -> Result<()> {
    if let Err(e) = timeout_after(1.0, none_child()).await {
        logf!("parent {}", kind(&e));
    }
    Ok(())
}

#[test]
fn a_none_timeout_leaves_the_outer_one_in_force() {
    vrun(none_parent()).unwrap();
    assert_eq!(take_log(), ["coro1 start", "parent TaskTimeout"]);
}

#[curio::task]
async fn none_alone() -> Result<()> {
    timeout_after(None, coro("alone", 2.0)).await?;
    let r = ignore_after(
        None,
        coroutine!({
            let r = timeout_after(0.5, sleep(1.0)).await;
            logf!("inner {}", kind(r.as_ref().unwrap_err()));
            Ok::<_, Error>(7)
        }),
    )
    .await?;
    logf!("ignore_after(None) gave {r:?}");
    Ok(())
}

#[test]
fn a_none_timeout_alone_never_expires_and_passes_inner_ones_through() {
    vrun(none_alone()).unwrap();
    assert_eq!(
        take_log(),
        [
            "alone start",
            "alone done",
            "inner TaskTimeout",
            "ignore_after(None) gave Some(7)"
        ]
    );
}

#[curio::task]
async fn shielded_timeout() -> Result<()> {
    let r = disable_cancellation(coroutine!({
        let r = timeout_after(0.5, coro("shielded", 1.0)).await;
        log("block left");
        r
    }))
    .await;
    let now = clock().await?;
    logf!("{:?} at {now}", r.is_ok());
    // The timeout expired inside and was dropped with its block.
    sleep(1.0).await?;
    log("nothing pending");
    Ok(())
}

#[test]
fn a_timeout_inside_disable_cancellation_is_dropped_with_its_block() {
    vrun(shielded_timeout()).unwrap();
    assert_eq!(
        take_log(),
        [
            "shielded start",
            "shielded done",
            "block left",
            "true at 1",
            "nothing pending"
        ]
    );
}

#[curio::task]
async fn outer_deadline_over_shield() -> Result<()> {
    let r = timeout_after(
        0.5,
        coroutine!({
            disable_cancellation(coro("shielded", 1.0)).await?;
            log("shield lifted");
            sleep(1.0).await?;
            log("not here");
            Ok::<_, Error>(())
        }),
    )
    .await;
    let now = clock().await?;
    logf!("{} at {now}", kind(&r.unwrap_err()));
    Ok(())
}

#[test]
fn a_timeout_during_a_shield_is_delivered_after_it() {
    vrun(outer_deadline_over_shield()).unwrap();
    assert_eq!(
        take_log(),
        [
            "shielded start",
            "shielded done",
            "shield lifted",
            "TaskTimeout at 1"
        ]
    );
}

#[curio::task]
async fn multischedule() -> Result<bool> {
    let r = timeout_after(0.5, sleep(0.25)).await;
    assert!(r.is_ok(), "{r:?}");
    sleep(0.1).await?;
    Ok(true)
}

#[curio::task]
async fn block_the_loop() -> Result<bool> {
    let t = spawn(multischedule()).await?;
    sleep(0.1).await?;
    // Block the whole loop past both the sleep and the timeout.
    std::thread::sleep(std::time::Duration::from_millis(700));
    t.join().await
}

#[test]
fn stale_timer_entries_after_the_loop_was_blocked() {
    assert!(curio::run(block_the_loop()).unwrap());
}

#[curio::task]
async fn ready_child() -> Result<()> {
    log("child sleep");
    let r: Result<()> = coroutine!({
        sleep(0.1).await?;
        log("child slept");
        sleep(0.1).await?;
        log("should not see this");
        Ok::<_, Error>(())
    })
    .await;
    if let Err(e) = r {
        assert!(e.is_cancelled());
        log("child cancelled");
    }
    Ok(())
}

#[curio::task]
async fn ready_parent() -> Result<()> {
    let t = spawn(ready_child()).await?;
    log("parent sleep");
    sleep(0.05).await?;
    log("cancel start");
    t.cancel().await?;
    log("cancel done");
    Ok(())
}

#[curio::task]
async fn ready_main() -> Result<()> {
    let t = spawn(ready_parent()).await?;
    sleep(0.01).await?;
    // Both sleeps expire while the loop is blocked, so the child is on the
    // ready queue (not blocked) when the parent cancels it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    sleep(0.01).await?;
    t.join().await
}

#[test]
fn cancelling_a_task_on_the_ready_queue() {
    curio::run(ready_main()).unwrap();
    assert_eq!(
        take_log(),
        [
            "parent sleep",
            "child sleep",
            "cancel start",
            "child slept",
            "child cancelled",
            "cancel done"
        ]
    );
}

#[curio::task]
async fn badness() -> Result<()> {
    timeout_after(
        0.05,
        coroutine!({
            // No blocking operation: nothing can be interrupted.
            std::thread::sleep(std::time::Duration::from_millis(100));
            Ok::<_, Error>(())
        }),
    )
    .await?;
    log("made it");
    sleep(0.0).await?;
    log("nothing pending");
    Ok(())
}

#[test]
fn a_block_that_overruns_without_blocking_completes() {
    curio::run(badness()).unwrap();
    assert_eq!(take_log(), ["made it", "nothing pending"]);
}

#[curio::task]
async fn timeout_of_a_join() -> Result<()> {
    let t = spawn(coro("slow", 10.0)).await?;
    let r = timeout_after(1.0, t.join()).await;
    logf!("join {}", kind(&r.unwrap_err()));
    t.cancel().await?;
    Ok(())
}

#[test]
fn a_join_can_time_out() {
    vrun(timeout_of_a_join()).unwrap();
    assert_eq!(take_log(), ["slow start", "join TaskTimeout"]);
}

#[curio::task]
async fn many_timeouts() -> Result<usize> {
    // Arm and cancel far more timeouts than are ever pending at once.
    let mut finished = 0;
    for _ in 0..5000 {
        timeout_after(100.0, sleep(0.0)).await?;
        finished += 1;
    }
    Ok(finished)
}

#[test]
fn armed_and_cancelled_timeouts_do_not_accumulate() {
    assert_eq!(vrun(many_timeouts()).unwrap(), 5000);
}

/// What a result is, for the log: the value, or the error's kind and text.
fn outcome<T: std::fmt::Debug>(r: &Result<T>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(Error::ValueError(m)) => format!("ValueError: {m}"),
        Err(e) => kind(e).to_string(),
    }
}

#[curio::task]
async fn odd_durations() -> Result<()> {
    let r = sleep(f64::NAN).await;
    logf!("sleep NaN: {}", outcome(&r));
    let r = sleep(-1.0).await;
    logf!("sleep -1: {}", outcome(&r));
    let r = sleep(-0.0).await.map(|_| ());
    logf!("sleep -0: {}", outcome(&r));
    let r = curio::wake_at(f64::NAN).await;
    logf!("wake_at NaN: {}", outcome(&r));
    let r = curio::wake_at(-5.0).await;
    logf!("wake_at past: {}", outcome(&r));
    let nan = timeout_after(f64::NAN, coro("never", 1.0)).await;
    logf!("timeout_after NaN: {}", outcome(&nan));
    let negative = ignore_after(-1.0, coro("never", 1.0)).await;
    logf!("ignore_after -1: {}", outcome(&negative));
    // Infinite: no deadline of its own; the outer one is still in force.
    let inner = timeout_after(
        2.0,
        coroutine!({ timeout_after(f64::INFINITY, sleep(f64::INFINITY)).await }),
    )
    .await;
    let now = clock().await?;
    logf!("infinite inside 2 s: {} at {now}", outcome(&inner));
    // Huge but finite: a deadline that is never reached.
    let huge = timeout_after(1e20, coro("huge", 1.0)).await;
    logf!("timeout_after 1e20: {}", outcome(&huge));
    Ok(())
}

/// Infinite, huge, NaN and negative times (they used to panic inside the
/// kernel, or give a misleading `UncaughtTimeoutError`): infinite means
/// never, NaN and negative are a `ValueError` for that call only.
#[test]
fn odd_durations_are_never_or_a_clear_error() {
    vrun(odd_durations()).unwrap();
    assert_eq!(
        take_log(),
        [
            "sleep NaN: ValueError: sleep: the time must be a non-negative number, not NaN",
            "sleep -1: ValueError: sleep: the time must be a non-negative number, not -1",
            "sleep -0: ok ()",
            "wake_at NaN: ValueError: wake_at: the time must be a non-negative number, not NaN",
            "wake_at past: ok 0.0",
            "timeout_after NaN: ValueError: timeout: the time must be a non-negative number of seconds, not NaN",
            "ignore_after -1: ValueError: timeout: the time must be a non-negative number of seconds, not -1",
            "infinite inside 2 s: TaskTimeout at 2",
            "huge start",
            "huge done",
            "timeout_after 1e20: ok ()",
        ]
    );
}

#[curio::task]
async fn sleeps_forever(name: &'static str, seconds: f64) -> Result<()> {
    match sleep(seconds).await {
        Ok(_) => logf!("{name} woke"),
        Err(e) => logf!("{name}: {}", kind(&e)),
    }
    Ok(())
}

#[curio::task]
async fn far_timers() -> Result<()> {
    let never = spawn(sleeps_forever("infinite", f64::INFINITY)).await?;
    let far = spawn(sleeps_forever("1e20", 1e20)).await?;
    let guarded = timeout_after(1e20, sleep(0.02)).await;
    logf!("guarded: {}", outcome(&guarded.map(|_| ())));
    // With only far timers left, the real-clock kernel waits for them
    // without a limit; a short sleep still wakes on time.
    sleep(0.02).await?;
    never.cancel().await?;
    far.cancel().await?;
    logf!("states {} {}", never.state(), far.state());
    Ok(())
}

/// The real clock with far timers: the kernel's poll used to panic
/// computing a timeout of 1e20 seconds.
#[test]
fn far_timers_on_the_real_clock_wait_without_limit() {
    curio::run(far_timers()).unwrap();
    assert_eq!(
        take_log(),
        [
            "guarded: ok ()",
            "infinite: TaskCancelled",
            "1e20: TaskCancelled",
            "states TERMINATED TERMINATED"
        ]
    );
}
