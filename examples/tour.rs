//! A tour of the protocol: tasks driven by hand, the way Curio's developer
//! guide drives coroutines with `send()` and `throw()`.
//!
//! Run: `cargo run --example tour`
//!
//! There is no kernel yet in this tour: `main` *is* the kernel. It resumes
//! a task, receives the trap the task is suspended on, "satisfies" it (here
//! by advancing a fake clock instead of sleeping), and resumes it again.

use curio::traps::{clock, sleep};
use curio::{Coroutine, Error, Step, Trap, Value};

#[curio::task]
async fn greeting(name: String) -> String {
    format!("Hello {name}")
}

#[curio::task]
async fn countdown(mut n: u32) -> curio::Result<()> {
    while n > 0 {
        println!("T-minus {n}");
        sleep(1.0).await?;
        n -= 1;
    }
    Ok(())
}

#[curio::task]
async fn kid() -> curio::Result<&'static str> {
    println!("Building the Millenium Falcon in Minecraft");
    let mut total = 0.0;
    loop {
        match sleep(10.0).await {
            Ok(_) => total += 10.0,
            Err(e) if e.is_cancelled() => {
                println!("Fine. Saving my work. (after {total} seconds)");
                return Err(e);
            }
            Err(e) => return Err(e),
        }
    }
}

#[curio::task]
async fn parent() -> curio::Result<String> {
    let start = clock().await?;
    countdown(3).await?;
    let now = clock().await?;
    let hello = greeting("Dave".to_string()).await;
    Ok(format!("{hello}: counted down in {} seconds", now - start))
}

/// A toy kernel: satisfies sleep and clock traps against a fake clock and
/// prints every trap. Stops after `limit` traps.
fn run_by_hand<C: Coroutine>(name: &str, mut task: C, limit: usize) -> Option<C::Output> {
    let mut now = 0.0;
    let mut step = task.resume(Value::None);
    for _ in 0..limit {
        match step {
            Step::Return(out) => return Some(out),
            Step::Trap(trap) => {
                let here = task
                    .location()
                    .map(|l| format!(" at line {} ({})", l.line, l.awaiting));
                println!("  [{name}] trap {trap:?}{}", here.unwrap_or_default());
                let reply = match trap {
                    Trap::Sleep { seconds, .. } => {
                        now += seconds;
                        Value::Float(now)
                    }
                    Trap::Clock => Value::Float(now),
                    _ => Value::None,
                };
                step = task.resume(reply);
            }
        }
    }
    None
}

fn main() {
    println!("1. A task that never blocks finishes on the first resume:");
    let mut g = greeting("Dave".to_string());
    println!("   {:?}\n", g.resume(Value::None));

    println!("2. A task that blocks hands out its traps:");
    let out = run_by_hand("parent", parent(), 100);
    println!("   parent returned {out:?}\n");

    println!("3. Throwing into a suspended task (Curio's cancel):");
    let mut k = kid();
    for _ in 0..3 {
        let step = k.resume(Value::None);
        println!("   kid suspended on {:?}", step.into_trap());
    }
    let mut chain = Vec::new();
    k.traceback(&mut |loc| chain.push(loc.to_string()));
    println!("   traceback: {chain:?}");
    match k.throw(Error::cancelled()) {
        Step::Return(result) => println!("   kid returned {result:?}\n"),
        Step::Trap(t) => println!("   kid caught it and trapped again: {t:?}\n"),
    }

    println!("4. Dropping a suspended task drops its locals; nothing leaks:");
    let mut c = countdown(10);
    let _ = c.resume(Value::None);
    drop(c);
    println!("   dropped a countdown suspended at its first sleep");
}
