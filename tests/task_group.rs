//! Task groups, ported from Curio's test_task (the task-group parts).

mod util;

use curio::{Error, Event, Result, Task, TaskGroup, Wait, coroutine, sleep, spawn, timeout_after};
use util::{log, take_log, vrun};

#[curio::task]
async fn add(x: u32, y: u32) -> Result<u32> {
    Ok(x + y)
}

/// Adds after the event is set; fails when `y` is 0 (Python's `'bad'`).
#[curio::task]
async fn add_after(evt: Event, x: u32, y: u32) -> Result<u32> {
    if y == 0 {
        return Err(Error::msg("bad operand"));
    }
    evt.wait().await?;
    Ok(x + y)
}

#[curio::task]
async fn waits_forever() -> Result<u32> {
    sleep(1000.0).await?;
    Ok(0)
}

#[curio::task]
async fn all_members() -> Result<()> {
    let g = TaskGroup::new(Wait::All);
    let h = g.clone();
    let (t1, t2, t3) = g
        .with(coroutine!({
            let t1 = h.spawn(add(1, 1)).await?;
            let t2 = h.spawn(add(2, 2)).await?;
            let t3 = h.spawn(add(3, 3)).await?;
            Ok::<_, Error>((t1, t2, t3))
        }))
        .await?;
    logf!(
        "{} {}",
        t1.terminated() && t2.terminated() && t3.terminated(),
        g.joined()
    );
    let results = g.results()?;
    logf!("{results:?}");
    Ok(())
}

#[test]
fn task_group_collects_all_results_in_id_order() {
    vrun(all_members()).unwrap();
    assert_eq!(take_log(), ["true true", "[2, 4, 6]"]);
}

#[curio::task]
async fn daemons() -> Result<()> {
    let t0 = spawn(waits_forever()).daemon(true).await?;
    let g = TaskGroup::new(Wait::All);
    g.add_task(t0.clone()).await?;
    g.spawn(add(1, 1)).await?;
    g.spawn_daemon(add(2, 2)).await?;
    let t4 = g.spawn_daemon(waits_forever()).await?;
    g.join().await?;
    let results = g.results()?;
    logf!("{results:?} {} {}", t0.cancelled(), t4.cancelled());
    logf!("{}", g.tasks().len());
    Ok(())
}

#[test]
fn daemon_members_are_ignored_and_cancelled() {
    vrun(daemons()).unwrap();
    assert_eq!(take_log(), ["[2] true true", "1"]);
}

#[curio::task]
async fn existing_tasks() -> Result<()> {
    let evt = Event::new();
    let t1 = spawn(add(1, 1)).await?;
    let t2 = spawn(add_after(evt.clone(), 2, 2)).await?;
    let t3 = spawn(add_after(evt.clone(), 3, 3)).await?;
    let t4 = spawn(add(4, 4)).await?;
    // Joined before they join the group: their results still count.
    t1.join().await?;
    t4.join().await?;
    let g = TaskGroup::new(Wait::All);
    for t in [t1.clone(), t2.clone(), t3.clone()] {
        g.add_task(t).await?;
    }
    evt.set().await?;
    g.add_task(t4.clone()).await?;
    let again = g.add_task(t4.clone()).await.unwrap_err();
    logf!("{again}");
    g.join().await?;
    let each = [t1.result()?, t2.result()?, t3.result()?, t4.result()?];
    logf!("{each:?}");
    // Reading a member's result does not take it from the group, and the
    // group's accessors can be read again.
    let (results, again) = (g.results()?, g.results()?);
    logf!("{results:?} {again:?}");
    let errors = g.exceptions()?;
    logf!("{errors:?}");
    let twice = t1.join().await? + t1.join().await?;
    logf!("{twice}");
    Ok(())
}

#[test]
fn existing_tasks_join_a_group() {
    vrun(existing_tasks()).unwrap();
    assert_eq!(
        take_log(),
        [
            "Task is already part of a task group",
            "[2, 4, 6, 8]",
            "[2, 4, 6, 8] [2, 4, 6, 8]",
            "[None, None, None, None]",
            "4"
        ]
    );
}

/// Curio's `test_task_group_join_done`: a member joined directly leaves
/// the group; the others are collected.
#[curio::task]
async fn join_done() -> Result<()> {
    let w = TaskGroup::new(Wait::All);
    w.spawn(add(1, 1)).await?;
    w.spawn(add(2, 2)).await?;
    let t3 = w.spawn(add(3, 3)).await?;
    let r3 = t3.join().await?;
    w.join().await?;
    let results = w.results()?;
    logf!("{r3} {results:?} {}", w.tasks().len());
    Ok(())
}

#[test]
fn a_member_joined_directly_leaves_the_group() {
    vrun(join_done()).unwrap();
    assert_eq!(take_log(), ["6 [2, 4] 2"]);
}

/// A result that is not `Clone` is moved out once, by `join_take`,
/// `take_result` or `take_results`; afterwards it reads as taken.
#[curio::task]
async fn boxed(x: u32) -> Result<Box<u32>> {
    Ok(Box::new(x))
}

#[derive(Debug)]
#[allow(dead_code)] // read through `Debug`
struct NotClone(u32);

#[curio::task]
async fn not_clone(x: u32) -> Result<NotClone> {
    Ok(NotClone(x))
}

#[curio::task]
async fn take_style() -> Result<()> {
    let t = spawn(not_clone(7)).await?;
    let v = t.join_take().await?;
    let again = t.join_take().await.unwrap_err();
    logf!("{v:?} / {again} / {}", t.take_result().unwrap_err());
    let g = TaskGroup::new(Wait::All);
    g.spawn(not_clone(1)).await?;
    g.spawn(not_clone(2)).await?;
    g.join().await?;
    let all = g.take_results()?;
    logf!("{all:?} / {}", g.take_results().unwrap_err());
    let b = spawn(boxed(3)).await?;
    b.wait().await?;
    let (x, y) = (b.result()?, b.result()?);
    logf!("{x} {y}");
    Ok(())
}

#[test]
fn results_that_are_not_clone_are_taken_once() {
    vrun(take_style()).unwrap();
    assert_eq!(
        take_log(),
        [
            "NotClone(7) / the task's result was already taken (by join or take_result) / the task's result was already taken (by join or take_result)",
            "[NotClone(1), NotClone(2)] / the task's result was already taken (by join or take_result)",
            "3 3"
        ]
    );
}

#[curio::task]
async fn any_member() -> Result<()> {
    let evt = Event::new();
    let g = TaskGroup::new(Wait::Any);
    let t1 = g.spawn(add(1, 1)).await?;
    let t2 = g.spawn(add_after(evt.clone(), 2, 2)).await?;
    let t3 = g.spawn(add_after(evt, 3, 3)).await?;
    g.join().await?;
    let result = g.result()?;
    logf!("{} {result}", g.completed() == Some(t1.clone()));
    logf!("{} {}", t2.cancelled(), t3.cancelled());
    Ok(())
}

#[test]
fn wait_any_takes_the_first_and_cancels_the_rest() {
    vrun(any_member()).unwrap();
    assert_eq!(take_log(), ["true 2", "true true"]);
}

#[curio::task]
async fn any_error() -> Result<()> {
    let evt = Event::new();
    let g = TaskGroup::new(Wait::Any);
    let t1 = g.spawn(add_after(evt.clone(), 1, 0)).await?;
    let t2 = g.spawn(add_after(evt.clone(), 2, 2)).await?;
    let t3 = g.spawn(add_after(evt, 3, 3)).await?;
    g.join().await?;
    let e = g.result().unwrap_err();
    logf!("result: {e}");
    let first = g.exception()?;
    logf!(
        "exception: {}",
        first.map_or("none".into(), |e| e.to_string())
    );
    logf!(
        "{} {} {}",
        t1.exception().unwrap().is_some(),
        t2.cancelled(),
        t3.cancelled()
    );
    let all = g.exceptions()?;
    logf!("{} {}", all.len(), all.iter().all(Option::is_some));
    Ok(())
}

#[test]
fn wait_any_reports_a_failure_through_the_accessors() {
    vrun(any_error()).unwrap();
    assert_eq!(
        take_log(),
        [
            "result: bad operand",
            "exception: bad operand",
            "true true true",
            // Every member: reading `g.result()` does not remove the
            // failed one (Curio's `exceptions` after `result`).
            "3 true"
        ]
    );
}

#[curio::task]
async fn iterate() -> Result<()> {
    let g = TaskGroup::new(Wait::All);
    g.spawn(add_slowly(3, 3, 0.3)).await?;
    g.spawn(add_slowly(1, 1, 0.1)).await?;
    g.spawn(add_slowly(2, 2, 0.2)).await?;
    while let Some(task) = g.next_done().await? {
        let r = task.result()?;
        logf!("{r}");
    }
    g.join().await?;
    let results = g.results()?;
    logf!("{results:?}");
    Ok(())
}

#[curio::task]
async fn add_slowly(x: u32, y: u32, delay: f64) -> Result<u32> {
    sleep(delay).await?;
    Ok(x + y)
}

#[test]
fn iteration_yields_members_in_completion_order() {
    vrun(iterate()).unwrap();
    assert_eq!(take_log(), ["2", "4", "6", "[]"]);
}

#[curio::task]
async fn wait_none() -> Result<()> {
    let evt = Event::new();
    let g = TaskGroup::new(Wait::None);
    let t2 = g.spawn(add_after(evt.clone(), 2, 2)).await?;
    let t3 = g.spawn(add_after(evt, 3, 3)).await?;
    g.join().await?;
    logf!("{} {}", t2.cancelled(), t3.cancelled());
    Ok(())
}

#[test]
fn wait_none_cancels_at_once() {
    vrun(wait_none()).unwrap();
    assert_eq!(take_log(), ["true true"]);
}

#[curio::task]
async fn join_daemon_directly() -> Result<()> {
    let g = TaskGroup::new(Wait::All);
    let t2 = g.spawn_daemon(add_slowly(2, 2, 0.1)).await?;
    g.spawn(add_slowly(3, 3, 0.1)).await?;
    let r = t2.join().await?;
    g.join().await?;
    let results = g.results()?;
    logf!("{r} {results:?}");
    Ok(())
}

#[test]
fn a_daemon_member_can_be_joined_directly() {
    vrun(join_daemon_directly()).unwrap();
    assert_eq!(take_log(), ["4 [6]"]);
}

#[curio::task]
async fn member_fails() -> Result<()> {
    let evt = Event::new();
    let g = TaskGroup::new(Wait::All);
    let t1 = g.spawn(add_after(evt.clone(), 1, 1)).await?;
    let t2 = g.spawn(add_after(evt.clone(), 2, 2)).await?;
    let t3 = g.spawn(add_after(evt, 3, 0)).await?;
    g.join().await?;
    logf!(
        "{} {}",
        t3.exception().unwrap().is_some(),
        g.completed() == Some(t3)
    );
    logf!("{} {}", t1.cancelled(), t2.cancelled());
    let e = g.results().unwrap_err();
    logf!("{e}");
    Ok(())
}

#[test]
fn a_failing_member_cancels_the_rest() {
    vrun(member_fails()).unwrap();
    assert_eq!(take_log(), ["true true", "true true", "task cancelled"]);
}

#[curio::task]
async fn body_fails() -> Result<()> {
    let evt = Event::new();
    let g: TaskGroup<u32> = TaskGroup::new(Wait::All);
    let h = g.clone();
    let members: std::rc::Rc<std::cell::RefCell<Vec<Task<u32>>>> = Default::default();
    let m = members.clone();
    let r = g
        .with(coroutine!({
            for n in 1..=3 {
                let t = h.spawn(add_after(evt.clone(), n, n)).await?;
                m.borrow_mut().push(t);
            }
            Err::<(), Error>(Error::msg("body failed"))
        }))
        .await;
    logf!("{}", r.unwrap_err());
    let all = members
        .borrow()
        .iter()
        .all(|t| t.cancelled() && t.terminated());
    logf!("{all}");
    Ok(())
}

#[test]
fn a_failing_body_cancels_every_member() {
    vrun(body_fails()).unwrap();
    assert_eq!(take_log(), ["body failed", "true"]);
}

#[curio::task]
async fn direct_join_inside() -> Result<()> {
    let evt = Event::new();
    let g = TaskGroup::new(Wait::All);
    let t1 = g.spawn(add_after(evt.clone(), 1, 0)).await?;
    let t2 = g.spawn(add_after(evt.clone(), 2, 2)).await?;
    let t3 = g.spawn(add_after(evt.clone(), 3, 3)).await?;
    let e = t1.join().await.unwrap_err();
    logf!(
        "{e}: {}",
        t1.exception().unwrap().map_or("".into(), |e| e.to_string())
    );
    logf!("{}", t2.result().unwrap_err());
    logf!("{}", t2.exception().unwrap_err());
    evt.set().await?;
    g.join().await?;
    let results = g.results()?;
    logf!("{} {} {results:?}", t2.cancelled(), t3.cancelled());
    Ok(())
}

#[test]
fn joining_a_member_directly_removes_it_from_the_group() {
    vrun(direct_join_inside()).unwrap();
    assert_eq!(
        take_log(),
        [
            "task failed: bad operand",
            "Task not terminated",
            "Task not terminated",
            "false false [4, 6]"
        ]
    );
}

#[curio::task]
async fn cancellable_group(started: Event) -> Result<()> {
    let g = TaskGroup::new(Wait::All);
    let h = g.clone();
    let r = g
        .with(coroutine!({
            for _ in 0..3 {
                h.spawn(waits_forever()).await?;
            }
            started.set().await?;
            Ok::<_, Error>(())
        }))
        .await;
    let tasks = g.tasks();
    let cancelled = tasks.iter().all(|t| t.cancelled() && t.terminated());
    logf!(
        "group cancelled: {} members cancelled: {cancelled}",
        r.is_err()
    );
    r
}

#[curio::task]
async fn cancel_the_joiner() -> Result<()> {
    let started = Event::new();
    let t = spawn(cancellable_group(started.clone())).await?;
    started.wait().await?;
    t.cancel().await?;
    log("joiner cancelled");
    Ok(())
}

#[test]
fn cancelling_the_joiner_cancels_every_member() {
    vrun(cancel_the_joiner()).unwrap();
    assert_eq!(
        take_log(),
        [
            "group cancelled: true members cancelled: true",
            "joiner cancelled"
        ]
    );
}

#[curio::task]
async fn group_timeout() -> Result<()> {
    let g = TaskGroup::new(Wait::All);
    g.spawn(waits_forever()).await?;
    g.spawn(waits_forever()).await?;
    let r = timeout_after(0.25, g.join()).await;
    let all = g.tasks().iter().all(|t| t.cancelled());
    logf!(
        "{} {all} {}",
        matches!(r, Err(Error::TaskTimeout(_))),
        g.joined()
    );
    Ok(())
}

#[test]
fn a_timeout_on_join_cancels_every_member() {
    vrun(group_timeout()).unwrap();
    assert_eq!(take_log(), ["true true true"]);
}

#[curio::task]
async fn cancel_remaining() -> Result<()> {
    let g = TaskGroup::new(Wait::All);
    let t0 = g.spawn(add(1, 1)).await?;
    g.spawn(add_slowly(2, 2, 0.1)).await?;
    let t2 = g.spawn(waits_forever()).await?;
    let t3 = g.spawn(waits_forever()).await?;
    let first = g.next_done().await?;
    let same = first == Some(t0);
    logf!("{same}");
    let r = g.next_result().await?;
    logf!("{r}");
    g.cancel_remaining().await?;
    g.join().await?;
    logf!("{} {} {}", t2.cancelled(), t3.cancelled(), g.tasks().len());
    let e = g.next_result().await.unwrap_err();
    logf!("{e}");
    Ok(())
}

#[test]
fn next_done_next_result_and_cancel_remaining() {
    vrun(cancel_remaining()).unwrap();
    assert_eq!(
        take_log(),
        ["true", "4", "true true 0", "No task available"]
    );
}

#[curio::task]
async fn use_errors() -> Result<()> {
    let g: TaskGroup<u32> = TaskGroup::new(Wait::All);
    logf!("{}", g.result().unwrap_err());
    logf!("{}", g.results().unwrap_err());
    g.join().await?;
    let late = g.spawn(add(1, 1)).await.unwrap_err();
    logf!("{late}");
    let t = spawn(add(1, 2)).await?;
    let late = g.add_task(t.clone()).await.unwrap_err();
    logf!("{late}");
    t.join().await?;
    let (none, all) = (g.exception()?.is_none(), g.exceptions()?);
    logf!("{none:?} {all:?}");
    let results = g.results()?;
    logf!("{results:?} {}", g.result().unwrap_err());
    Ok(())
}

#[test]
fn misuse_and_an_empty_group() {
    vrun(use_errors()).unwrap();
    assert_eq!(
        take_log(),
        [
            "Task group not yet terminated",
            "Task group not yet terminated",
            "TaskGroup already joined",
            "TaskGroup already joined",
            "true []",
            "[] No task successfully completed"
        ]
    );
}

#[curio::task]
async fn maybe(n: u32, delay: f64) -> Result<Option<u32>> {
    sleep(delay).await?;
    Ok((n % 2 == 0).then_some(n))
}

#[curio::task]
async fn wait_object() -> Result<()> {
    let g = TaskGroup::wait_object(Option::is_some);
    g.spawn(maybe(1, 0.1)).await?;
    g.spawn(maybe(2, 0.2)).await?;
    let slow = g.spawn(maybe(4, 0.3)).await?;
    g.join().await?;
    let result = g.result()?;
    logf!("{result:?} {}", slow.cancelled());
    Ok(())
}

#[test]
fn wait_object_waits_for_a_value() {
    vrun(wait_object()).unwrap();
    assert_eq!(take_log(), ["Some(2) true"]);
}

#[curio::task]
async fn panicking_member() -> Result<u32> {
    sleep(0.1).await?;
    panic!("member broke");
}

#[curio::task]
async fn group_with_panic() -> Result<()> {
    let g = TaskGroup::new(Wait::All);
    g.spawn(panicking_member()).await?;
    let other = g.spawn(waits_forever()).await?;
    g.join().await?;
    let e = g.exception()?;
    logf!(
        "{} {}",
        e.map_or("none".into(), |e| e.to_string()),
        other.cancelled()
    );
    Ok(())
}

#[test]
fn a_panicking_member_is_a_failure_like_any_other() {
    vrun(group_with_panic()).unwrap();
    assert_eq!(take_log(), ["task panicked: member broke true"]);
}

#[curio::task]
async fn daemon_error_body() -> Result<()> {
    let g: TaskGroup<u32> = TaskGroup::new(Wait::All);
    let h = g.clone();
    let d: std::rc::Rc<std::cell::RefCell<Option<Task<u32>>>> = Default::default();
    let slot = d.clone();
    let r = g
        .with(coroutine!({
            *slot.borrow_mut() = Some(h.spawn_daemon(waits_forever()).await?);
            Err::<(), Error>(Error::msg("value error"))
        }))
        .await;
    let daemon = d.borrow().clone().expect("spawned");
    logf!("{} {}", r.unwrap_err(), daemon.cancelled());
    Ok(())
}

#[test]
fn a_failing_body_cancels_daemon_members_too() {
    vrun(daemon_error_body()).unwrap();
    assert_eq!(take_log(), ["value error true"]);
}

#[curio::task]
async fn finished_before_added() -> Result<()> {
    let t = spawn(add(20, 22)).await?;
    t.wait().await?;
    let g = TaskGroup::new(Wait::Any);
    g.add_task(t).await?;
    g.spawn(waits_forever()).await?;
    g.join().await?;
    let r = g.result()?;
    logf!("{r}");
    Ok(())
}

#[test]
fn a_task_that_already_finished_completes_the_group() {
    vrun(finished_before_added()).unwrap();
    assert_eq!(take_log(), ["42"]);
}
