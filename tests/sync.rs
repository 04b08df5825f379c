//! Synchronization primitives, ported from Curio's test_sync (and the
//! manual's `SchedBarrier` example). Exact event logs on a virtual clock.

mod util;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use curio::{
    BoundedSemaphore, Condition, Error, Event, Lock, RLock, Result, SchedFifo, Semaphore,
    TaskState, coroutine, sleep, spawn, timeout_after,
};
use util::{log, take_log, vrun};

#[curio::task]
async fn event_setter(evt: Event, seconds: f64) -> Result<()> {
    log("sleep");
    sleep(seconds).await?;
    log("event_set");
    evt.set().await
}

#[curio::task]
async fn event_waiter(evt: Event) -> Result<()> {
    log("wait_start");
    logf!("{}", evt.is_set());
    evt.wait().await?;
    log("wait_done");
    logf!("{}", evt.is_set());
    evt.clear();
    logf!("{}", evt.is_set());
    Ok(())
}

#[curio::task]
async fn event_main() -> Result<()> {
    let evt = Event::new();
    let t1 = spawn(event_waiter(evt.clone())).await?;
    let t2 = spawn(event_setter(evt, 1.0)).await?;
    t1.join().await?;
    t2.join().await
}

#[test]
fn event_get_wait() {
    vrun(event_main()).unwrap();
    assert_eq!(
        take_log(),
        [
            "wait_start",
            "false",
            "sleep",
            "event_set",
            "wait_done",
            "true",
            "false"
        ]
    );
}

#[curio::task]
async fn event_many() -> Result<()> {
    let evt = Event::new();
    let mut waiters: Vec<curio::Task<()>> = Vec::new();
    for _ in 0..3 {
        waiters.push(spawn(event_waiter(evt.clone())).await?);
    }
    sleep(0.1).await?;
    evt.set().await?;
    // Already set: no wait.
    evt.wait().await?;
    log("main passed");
    for w in waiters {
        w.join().await?;
    }
    Ok(())
}

#[test]
fn event_set_wakes_every_waiter_in_order() {
    vrun(event_many()).unwrap();
    assert_eq!(
        take_log(),
        [
            "wait_start",
            "false",
            "wait_start",
            "false",
            "wait_start",
            "false",
            "main passed",
            "wait_done",
            "true",
            "false",
            "wait_done",
            "false",
            "false",
            "wait_done",
            "false",
            "false"
        ]
    );
}

#[curio::task]
async fn event_wait_timeout() -> Result<()> {
    let evt = Event::new();
    let r = timeout_after(0.5, evt.wait()).await;
    logf!("{:?} {}", r.is_err(), evt.is_set());
    let t = spawn(event_setter(evt.clone(), 0.1)).await?;
    timeout_after(1.0, evt.wait()).await?;
    log("no timeout");
    t.join().await
}

#[test]
fn event_wait_timeout_and_no_timeout() {
    vrun(event_wait_timeout()).unwrap();
    assert_eq!(
        take_log(),
        ["true false", "sleep", "event_set", "no timeout"]
    );
}

#[curio::task]
async fn lock_worker(lck: Lock, label: &'static str) -> Result<()> {
    logf!("{label} wait");
    logf!("{}", lck.locked());
    lck.with(coroutine!({
        logf!("{label} acquire");
        sleep(0.25).await?;
        Ok::<_, Error>(())
    }))
    .await?;
    logf!("{label} release");
    Ok(())
}

#[curio::task]
async fn lock_main() -> Result<()> {
    let lck = Lock::new();
    let t1 = spawn(lock_worker(lck.clone(), "work1")).await?;
    let t2 = spawn(lock_worker(lck.clone(), "work2")).await?;
    let t3 = spawn(lock_worker(lck, "work3")).await?;
    t1.join().await?;
    t2.join().await?;
    t3.join().await
}

#[test]
fn lock_sequence() {
    vrun(lock_main()).unwrap();
    assert_eq!(
        take_log(),
        [
            "work1 wait",
            "false",
            "work1 acquire",
            "work2 wait",
            "true",
            "work3 wait",
            "true",
            "work1 release",
            "work2 acquire",
            "work2 release",
            "work3 acquire",
            "work3 release"
        ]
    );
}

#[curio::task]
async fn fifo_worker(lck: Lock, n: u32) -> Result<()> {
    for _ in 0..2 {
        lck.acquire().await?;
        logf!("{n}");
        sleep(0.1).await?;
        lck.release().await?;
    }
    Ok(())
}

#[curio::task]
async fn lock_fifo() -> Result<()> {
    let lck = Lock::new();
    let mut tasks: Vec<curio::Task<()>> = Vec::new();
    for n in 0..3 {
        tasks.push(spawn(fifo_worker(lck.clone(), n)).await?);
    }
    for t in tasks {
        t.join().await?;
    }
    Ok(())
}

#[test]
fn lock_release_hands_off_in_fifo_order() {
    vrun(lock_fifo()).unwrap();
    assert_eq!(take_log(), ["0", "1", "2", "0", "1", "2"]);
}

#[curio::task]
async fn cancelled_waiter(lck: Lock) -> Result<()> {
    log("lock_wait");
    let r = lck
        .with(coroutine!({
            log("never here");
            Ok::<_, Error>(())
        }))
        .await;
    if let Err(e) = &r {
        logf!("lock_cancel {}", e.is_cancelled());
    }
    Ok(())
}

#[curio::task]
async fn acquire_cancel_main() -> Result<()> {
    let lck = Lock::new();
    lck.acquire().await?;
    let task = spawn(cancelled_waiter(lck.clone())).await?;
    log("sleep");
    sleep(1.0).await?;
    log("cancel_start");
    task.cancel().await?;
    log("cancel_done");
    lck.release().await?;
    logf!("unlocked {}", !lck.locked());
    Ok(())
}

#[test]
fn lock_acquire_cancel() {
    vrun(acquire_cancel_main()).unwrap();
    assert_eq!(
        take_log(),
        [
            "sleep",
            "lock_wait",
            "cancel_start",
            "lock_cancel true",
            "cancel_done",
            "unlocked true"
        ]
    );
}

#[curio::task]
async fn timed_acquire(lck: Lock) -> Result<()> {
    log("lock_wait");
    match timeout_after(0.5, lck.acquire()).await {
        Ok(()) => {
            log("never here");
            lck.release().await
        }
        Err(Error::TaskTimeout(_)) => {
            log("lock_timeout");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[curio::task]
async fn acquire_timeout_main() -> Result<()> {
    let lck = Lock::new();
    let holder = lck.clone();
    holder
        .with(coroutine!({
            let w = spawn(timed_acquire(lck)).await?;
            log("sleep");
            sleep(1.0).await?;
            log("sleep_done");
            w.join().await
        }))
        .await
}

#[test]
fn lock_acquire_timeout() {
    vrun(acquire_timeout_main()).unwrap();
    assert_eq!(
        take_log(),
        ["sleep", "lock_wait", "lock_timeout", "sleep_done"]
    );
}

#[curio::task]
async fn release_unlocked() -> Result<()> {
    let e = Lock::new().release().await.unwrap_err();
    logf!("{e}");
    Ok(())
}

#[test]
fn releasing_an_unlocked_lock_is_an_error() {
    vrun(release_unlocked()).unwrap();
    assert_eq!(take_log(), ["Lock not acquired"]);
}

#[curio::task]
async fn rlock_worker(lck: RLock, label: &'static str) -> Result<()> {
    lck.acquire().await?;
    lck.acquire().await?;
    logf!("{label} acquired twice");
    sleep(0.1).await?;
    lck.release().await?;
    logf!("{label} still locked {}", lck.locked());
    lck.release().await?;
    Ok(())
}

#[curio::task]
async fn rlock_main() -> Result<()> {
    let lck = RLock::new();
    let a = spawn(rlock_worker(lck.clone(), "a")).await?;
    let b = spawn(rlock_worker(lck.clone(), "b")).await?;
    sleep(0.05).await?;
    let e = lck.release().await.unwrap_err();
    logf!("main: {e}");
    a.join().await?;
    b.join().await?;
    logf!("locked {}", lck.locked());
    Ok(())
}

#[test]
fn rlock_reenters_and_only_its_owner_releases() {
    vrun(rlock_main()).unwrap();
    assert_eq!(
        take_log(),
        [
            "a acquired twice",
            "main: RLock can only be released by the owner",
            "a still locked true",
            "b acquired twice",
            "b still locked true",
            "locked false"
        ]
    );
}

#[curio::task]
async fn sema_worker(sema: Semaphore, label: &'static str, seconds: f64) -> Result<()> {
    logf!("{label} wait");
    logf!("{}", sema.locked());
    sema.with(coroutine!({
        logf!("{label} acquire");
        sleep(seconds).await?;
        Ok::<_, Error>(())
    }))
    .await?;
    logf!("{label} release");
    Ok(())
}

#[curio::task]
async fn sema_main(value: usize) -> Result<()> {
    let sema = Semaphore::new(value);
    let t1 = spawn(sema_worker(sema.clone(), "work1", 0.25)).await?;
    let t2 = spawn(sema_worker(sema.clone(), "work2", 0.30)).await?;
    let t3 = spawn(sema_worker(sema.clone(), "work3", 0.35)).await?;
    t1.join().await?;
    t2.join().await?;
    t3.join().await?;
    logf!("value {}", sema.value());
    Ok(())
}

#[test]
fn semaphore_of_one_is_a_lock() {
    vrun(sema_main(1)).unwrap();
    assert_eq!(
        take_log(),
        [
            "work1 wait",
            "false",
            "work1 acquire",
            "work2 wait",
            "true",
            "work3 wait",
            "true",
            "work1 release",
            "work2 acquire",
            "work2 release",
            "work3 acquire",
            "work3 release",
            "value 1"
        ]
    );
}

#[test]
fn semaphore_of_two_admits_two() {
    vrun(sema_main(2)).unwrap();
    assert_eq!(
        take_log(),
        [
            "work1 wait",
            "false",
            "work1 acquire",
            "work2 wait",
            "false",
            "work2 acquire",
            "work3 wait",
            "true",
            "work1 release",
            "work3 acquire",
            "work2 release",
            "work3 release",
            "value 2"
        ]
    );
}

#[curio::task]
async fn sema_cancel() -> Result<()> {
    let sema = Semaphore::new(0);
    let waiting = sema.clone();
    let w = spawn(coroutine!(-> Result<()> {
        log("sema_wait");
        let r = timeout_after(0.5, waiting.acquire()).await;
        logf!("sema_timeout {}", r.is_err());
        Ok(())
    }))
    .await?;
    w.join().await?;
    logf!("value {}", sema.value());
    Ok(())
}

#[test]
fn semaphore_acquire_timeout_takes_nothing() {
    vrun(sema_cancel()).unwrap();
    assert_eq!(take_log(), ["sema_wait", "sema_timeout true", "value 0"]);
}

#[curio::task]
async fn bounded() -> Result<()> {
    let plain = Semaphore::new(1);
    plain.release().await?;
    logf!("unbounded {}", plain.value());
    let sema = BoundedSemaphore::new(2);
    sema.acquire().await?;
    sema.release().await?;
    let e = sema.release().await.unwrap_err();
    logf!("bounded {} of {}: {e}", sema.value(), sema.bound());
    Ok(())
}

#[test]
fn bounded_semaphore_cannot_exceed_its_start() {
    vrun(bounded()).unwrap();
    assert_eq!(
        take_log(),
        [
            "unbounded 2",
            "bounded 2 of 2: BoundedSemaphore released too many times"
        ]
    );
}

type Items = Rc<RefCell<VecDeque<Option<u32>>>>;

#[curio::task]
async fn consumer(cond: Condition, q: Items, label: &'static str) -> Result<()> {
    loop {
        // A `coroutine!` block moves what it uses: give it its own handles.
        let (c, items) = (cond.clone(), q.clone());
        let done = cond
            .with(coroutine!({
                if items.borrow().is_empty() {
                    logf!("{label} wait");
                    c.wait().await?;
                }
                let item = items.borrow_mut().pop_front().expect("an item");
                match item {
                    None => Ok::<_, Error>(true),
                    Some(n) => {
                        logf!("{label} {n}");
                        Ok(false)
                    }
                }
            }))
            .await?;
        if done {
            break;
        }
    }
    logf!("{label} done");
    Ok(())
}

#[curio::task]
async fn producer(cond: Condition, q: Items, count: u32, consumers: u32) -> Result<()> {
    for n in 0..count {
        let (c, items) = (cond.clone(), q.clone());
        cond.with(coroutine!({
            items.borrow_mut().push_back(Some(n));
            logf!("producing {n}");
            c.notify(1).await
        }))
        .await?;
        sleep(0.1).await?;
    }
    for n in 0..consumers {
        let (c, items) = (cond.clone(), q.clone());
        cond.with(coroutine!({
            items.borrow_mut().push_back(None);
            logf!("ending {n}");
            c.notify(1).await
        }))
        .await?;
        sleep(0.1).await?;
    }
    Ok(())
}

#[curio::task]
async fn cond_main() -> Result<()> {
    let cond = Condition::with_lock(Lock::new());
    let q: Items = Rc::default();
    let t1 = spawn(consumer(cond.clone(), q.clone(), "cons1")).await?;
    let t2 = spawn(consumer(cond.clone(), q.clone(), "cons2")).await?;
    let t3 = spawn(producer(cond, q, 4, 2)).await?;
    t1.join().await?;
    t2.join().await?;
    t3.join().await
}

#[test]
fn condition_producer_consumer() {
    vrun(cond_main()).unwrap();
    assert_eq!(
        take_log(),
        [
            "cons1 wait",
            "cons2 wait",
            "producing 0",
            "cons1 0",
            "cons1 wait",
            "producing 1",
            "cons2 1",
            "cons2 wait",
            "producing 2",
            "cons1 2",
            "cons1 wait",
            "producing 3",
            "cons2 3",
            "cons2 wait",
            "ending 0",
            "cons1 done",
            "ending 1",
            "cons2 done"
        ]
    );
}

#[curio::task]
async fn cond_waiter(cond: Condition) -> Result<()> {
    let c = cond.clone();
    cond.with(coroutine!({
        log("cond_wait");
        c.wait().await?;
        log("wait_done");
        Ok::<_, Error>(())
    }))
    .await
}

#[curio::task]
async fn cond_notify_all() -> Result<()> {
    let cond = Condition::new();
    let mut tasks: Vec<curio::Task<()>> = Vec::new();
    for _ in 0..3 {
        tasks.push(spawn(cond_waiter(cond.clone())).await?);
    }
    log("sleep");
    sleep(1.0).await?;
    let c = cond.clone();
    cond.with(coroutine!({
        log("notify");
        c.notify_all().await
    }))
    .await?;
    log("done");
    for t in tasks {
        t.join().await?;
    }
    Ok(())
}

#[test]
fn condition_notify_all() {
    vrun(cond_notify_all()).unwrap();
    assert_eq!(
        take_log(),
        [
            "sleep",
            "cond_wait",
            "cond_wait",
            "cond_wait",
            "notify",
            "done",
            "wait_done",
            "wait_done",
            "wait_done"
        ]
    );
}

#[curio::task]
async fn cond_cancelled() -> Result<()> {
    let cond = Condition::new();
    let task = spawn(cond_waiter(cond.clone())).await?;
    log("sleep");
    sleep(1.0).await?;
    log("cancel_start");
    task.cancel().await?;
    logf!("cancel_done, lock released: {}", !cond.locked());
    let waiting = cond.clone();
    let timed = spawn(coroutine!(-> Result<()> {
        let r = waiting.with(timeout_after(0.25, waiting.wait())).await;
        logf!("worker_timeout {}", matches!(r, Err(Error::TaskTimeout(_))));
        Ok(())
    }))
    .await?;
    timed.join().await?;
    logf!("lock released again: {}", !cond.locked());
    Ok(())
}

#[test]
fn condition_wait_cancelled_or_timed_out_reacquires_then_releases() {
    vrun(cond_cancelled()).unwrap();
    assert_eq!(
        take_log(),
        [
            "sleep",
            "cond_wait",
            "cancel_start",
            "cancel_done, lock released: true",
            "worker_timeout true",
            "lock released again: true"
        ]
    );
}

#[curio::task]
async fn waitfor_consumer(cond: Condition, q: Items, label: &'static str) -> Result<()> {
    let c = cond.clone();
    cond.with(coroutine!({
        logf!("{label} waitfor");
        let probe = q.clone();
        let n = c
            .wait_for(move || {
                let len = probe.borrow().len();
                (len > 2).then_some(len)
            })
            .await?;
        logf!("{label} {n}");
        q.borrow_mut().pop_front();
        q.borrow_mut().push_back(Some(0));
        Ok::<_, Error>(())
    }))
    .await?;
    logf!("{label} done");
    Ok(())
}

#[curio::task]
async fn cond_waitfor() -> Result<()> {
    let cond = Condition::new();
    let q: Items = Rc::default();
    let t1 = spawn(waitfor_consumer(cond.clone(), q.clone(), "cons1")).await?;
    let t2 = spawn(waitfor_consumer(cond.clone(), q.clone(), "cons2")).await?;
    let t3 = spawn(producer(cond, q, 4, 0)).await?;
    t1.join().await?;
    t2.join().await?;
    t3.join().await
}

#[test]
fn condition_wait_for() {
    vrun(cond_waitfor()).unwrap();
    assert_eq!(
        take_log(),
        [
            "cons1 waitfor",
            "cons2 waitfor",
            "producing 0",
            "producing 1",
            "producing 2",
            "cons1 3",
            "cons1 done",
            "producing 3",
            "cons2 4",
            "cons2 done"
        ]
    );
}

#[curio::task]
async fn condition_errors() -> Result<()> {
    let c = Condition::new();
    let e = c.notify(1).await.unwrap_err();
    logf!("{e}");
    let e = c.wait().await.unwrap_err();
    logf!("{e}");
    // With the lock held and nobody waiting, notify is harmless.
    c.with(c.notify(5)).await?;
    log("harmless");
    Ok(())
}

#[test]
fn condition_needs_its_lock() {
    vrun(condition_errors()).unwrap();
    assert_eq!(
        take_log(),
        [
            "Can't notify on unacquired lock",
            "Can't wait on unacquired lock",
            "harmless"
        ]
    );
}

#[curio::task]
async fn fifo_parker(q: SchedFifo, name: &'static str) -> Result<()> {
    q.suspend(TaskState::Suspend).await?;
    logf!("{name} woken");
    Ok(())
}

#[curio::task]
async fn sched_fifo() -> Result<()> {
    let q = SchedFifo::new();
    let a = spawn(fifo_parker(q.clone(), "a")).await?;
    let b = spawn(fifo_parker(q.clone(), "b")).await?;
    let c = spawn(fifo_parker(q.clone(), "c")).await?;
    sleep(0.1).await?;
    logf!("waiting {} {}", q.len(), b.state());
    b.cancel().await?;
    logf!("after cancel {}", q.len());
    q.wake(1).await?;
    sleep(0.1).await?;
    q.wake(5).await?;
    a.join().await?;
    c.join().await?;
    logf!("empty {}", q.is_empty());
    Ok(())
}

#[test]
fn sched_fifo_wakes_in_order_and_skips_cancelled_waiters() {
    vrun(sched_fifo()).unwrap();
    assert_eq!(
        take_log(),
        [
            "waiting 3 SUSPEND",
            "after cancel 2",
            "a woken",
            "c woken",
            "empty true"
        ]
    );
}

#[curio::task]
async fn many_timeouts_on_a_queue() -> Result<usize> {
    let q = SchedFifo::new();
    for _ in 0..3000 {
        let r = timeout_after(0.001, q.suspend(TaskState::Suspend)).await;
        assert!(r.is_err());
    }
    Ok(q.len())
}

#[test]
fn cancelled_waiters_do_not_pile_up() {
    assert_eq!(vrun(many_timeouts_on_a_queue()).unwrap(), 0);
}

#[curio::task]
async fn with_releases_on_error() -> Result<()> {
    let lck = Lock::new();
    let r = lck
        .with(coroutine!({
            sleep(0.1).await?;
            Err::<(), Error>(Error::msg("body failed"))
        }))
        .await;
    logf!("{} locked {}", r.unwrap_err(), lck.locked());
    let r = lck.with(timeout_after(0.1, sleep(1.0))).await;
    logf!("{} locked {}", r.is_err(), lck.locked());
    Ok(())
}

#[test]
fn scoped_lock_releases_on_error_and_timeout() {
    vrun(with_releases_on_error()).unwrap();
    assert_eq!(
        take_log(),
        ["body failed locked false", "true locked false"]
    );
}

#[curio::task]
async fn holder(lck: Lock) -> Result<()> {
    lck.with(coroutine!({
        sleep(10.0).await?;
        Ok::<_, Error>(())
    }))
    .await
}

#[curio::task]
async fn cancel_holder() -> Result<()> {
    let lck = Lock::new();
    let t = spawn(holder(lck.clone())).await?;
    let waiter = spawn(lock_worker(lck.clone(), "next")).await?;
    sleep(0.1).await?;
    t.cancel().await?;
    waiter.join().await?;
    logf!("locked {}", lck.locked());
    Ok(())
}

#[test]
fn a_cancelled_holder_hands_the_lock_on() {
    vrun(cancel_holder()).unwrap();
    assert_eq!(
        take_log(),
        [
            "next wait",
            "true",
            "next acquire",
            "next release",
            "locked false"
        ]
    );
}

#[curio::task]
async fn event_reuse() -> Result<()> {
    let evt = Event::new();
    evt.set().await?;
    evt.wait().await?;
    evt.clear();
    let r = timeout_after(0.5, evt.wait()).await;
    logf!("cleared blocks: {}", r.is_err());
    let t = spawn(event_setter(evt.clone(), 0.2)).await?;
    evt.wait().await?;
    log("woken again");
    t.join().await
}

#[test]
fn an_event_can_be_cleared_and_set_again() {
    vrun(event_reuse()).unwrap();
    assert_eq!(
        take_log(),
        ["cleared blocks: true", "sleep", "event_set", "woken again"]
    );
}

#[curio::task]
async fn sema_cancelled_waiter() -> Result<()> {
    let sema = Semaphore::new(1);
    sema.acquire().await?;
    let waiter = spawn(sema_worker(sema.clone(), "w", 0.1)).await?;
    sleep(0.1).await?;
    waiter.cancel().await?;
    sema.release().await?;
    logf!("value {}", sema.value());
    Ok(())
}

#[test]
fn a_cancelled_semaphore_waiter_takes_no_unit() {
    vrun(sema_cancelled_waiter()).unwrap();
    assert_eq!(take_log(), ["w wait", "true", "value 1"]);
}

#[curio::task]
async fn rlock_scoped() -> Result<()> {
    let lck = RLock::new();
    let inner = lck.clone();
    lck.with(coroutine!({
        inner
            .with(coroutine!({
                log("nested");
                Ok::<_, Error>(())
            }))
            .await?;
        logf!("still held {}", inner.locked());
        Ok::<_, Error>(())
    }))
    .await?;
    logf!("released {}", !lck.locked());
    Ok(())
}

#[test]
fn rlock_scoped_forms_nest() {
    vrun(rlock_scoped()).unwrap();
    assert_eq!(take_log(), ["nested", "still held true", "released true"]);
}

#[curio::task]
async fn result_waiters(r: curio::sync::Result<u32>, name: &'static str) -> Result<()> {
    match r.unwrap().await {
        Ok(v) => logf!("{name} got {v}"),
        Err(e) => logf!("{name} failed: {e}"),
    }
    Ok(())
}

#[curio::task]
async fn sync_result() -> Result<()> {
    let r = curio::sync::Result::new();
    let a = spawn(result_waiters(r.clone(), "a")).await?;
    let b = spawn(result_waiters(r.clone(), "b")).await?;
    sleep(0.1).await?;
    logf!("set {}", r.is_set());
    r.set_value(5).await?;
    a.join().await?;
    b.join().await?;
    let failed = curio::sync::Result::<u32>::new();
    failed.set_exception(Error::msg("no value")).await?;
    let e = failed.unwrap().await.unwrap_err();
    logf!("{e} {}", failed.is_set());
    Ok(())
}

#[test]
fn sync_result_carries_a_value_or_an_error() {
    vrun(sync_result()).unwrap();
    assert_eq!(
        take_log(),
        ["set false", "a got 5", "b got 5", "no value true"]
    );
}
