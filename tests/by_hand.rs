//! A task driven by hand, without a kernel: every reply it needs travels
//! through `resume` (or `throw`), as the protocol's docs say. The task uses
//! `current_task`, an `RLock`, `timeout_after` (one that passes, one that
//! expires) and a `TaskGroup`; the driver below answers each trap itself,
//! keeping a clock of its own.

mod util;

use curio::{
    Coroutine, Error, RLock, Result, Step, Task, TaskGroup, Trap, Value, Wait, current_task, sleep,
    timeout_after,
};
use util::{log, take_log};

#[curio::task]
async fn child() -> Result<u32> {
    Ok(7)
}

#[curio::task]
async fn worker() -> Result<String> {
    let me = current_task().await?;
    let lock = RLock::new();
    lock.acquire().await?;
    lock.acquire().await?; // re-entrant: the owner is the current task
    let held = lock.locked();
    let passed = timeout_after(5.0, sleep(1.0)).await;
    let expired = timeout_after(0.5, sleep(1.0)).await;
    lock.release().await?;
    lock.release().await?;
    let group = TaskGroup::new(Wait::None);
    let member = group.spawn(child()).await?;
    group.join().await?;
    Ok(format!(
        "{} held={held} passed={passed:?} expired={} unlocked={} joined={} member={}",
        me.name(),
        expired.unwrap_err(),
        !lock.locked(),
        group.joined(),
        member.name()
    ))
}

/// A driver with a clock of its own: it answers as the kernel would, and
/// raises a timeout at a sleep that would outlast the deadline in force.
fn drive<C: Coroutine>(mut co: C, me: &Task) -> C::Output {
    let mut now = 100.0_f64;
    let mut deadlines: Vec<Option<f64>> = Vec::new();
    let mut step = co.resume(Value::None);
    loop {
        let trap = match step {
            Step::Return(out) => return out,
            Step::Trap(trap) => trap,
        };
        let reply = match trap {
            Trap::GetCurrent => Ok(Value::Task(me.clone())),
            Trap::Clock => Ok(Value::Float(now)),
            Trap::SetTimeout(deadline) => {
                log(format!("set timeout {deadline:?}"));
                let prior = deadlines.last().copied().flatten();
                deadlines.push(deadline);
                Ok(prior.map_or(Value::None, Value::Float))
            }
            Trap::UnsetTimeout(prior) => {
                log(format!("unset timeout, back to {prior:?}"));
                deadlines.pop();
                Ok(Value::Float(now))
            }
            Trap::Sleep { seconds, .. } => match deadlines.last().copied().flatten() {
                Some(deadline) if now + seconds > deadline => {
                    log(format!("sleep {seconds}: times out at {deadline}"));
                    now = deadline;
                    Err(Error::timeout(deadline))
                }
                _ => {
                    log(format!("sleep {seconds}"));
                    now += seconds;
                    Ok(Value::Float(now))
                }
            },
            Trap::Spawn(task) => {
                log(format!("spawn {}", task.name()));
                Ok(Value::None)
            }
            Trap::CancelTask(task) => {
                log(format!("cancel {}", task.name()));
                Ok(Value::None)
            }
            Trap::TaskWait(task) => {
                log(format!("wait for {}", task.name()));
                Ok(Value::None)
            }
            other => panic!("unexpected trap {other:?}"),
        };
        step = match reply {
            Ok(value) => co.resume(value),
            Err(error) => co.throw(error),
        };
    }
}

#[test]
fn a_task_using_timeouts_locks_and_groups_runs_without_a_kernel() {
    let me = Task::standalone("by-hand");
    let out = drive(worker(), &me).unwrap();
    assert_eq!(
        out,
        "by-hand held=true passed=Ok(101.0) expired=task timeout at clock 101.5 unlocked=true \
         joined=true member=child"
    );
    assert_eq!(
        take_log(),
        [
            "set timeout Some(105.0)",
            "sleep 1",
            "unset timeout, back to None",
            "set timeout Some(101.5)",
            "sleep 1: times out at 101.5",
            "unset timeout, back to None",
            "spawn child",
            "cancel child",
            "wait for child",
        ]
    );
}
