//! The tutorial's first programs: a countdown, then a kid who will not
//! stop playing and a parent with a timeout and a cancel.
//!
//! ```text
//! cargo run --example hello                # the kid/parent program, real time
//! cargo run --example hello -- 0.05        # the same, 20 times faster
//! cargo run --example hello -- 1 countdown # just the countdown
//! ```
//!
//! The first argument scales every duration; the output is the tutorial's.

use curio::{Error, Result, Task, sleep, spawn, timeout_after};

#[curio::task]
async fn countdown(mut n: u32, scale: f64) -> Result<()> {
    while n > 0 {
        println!("T-minus {n}");
        sleep(1.0 * scale).await?;
        n -= 1;
    }
    Ok(())
}

#[curio::task]
async fn kid(scale: f64) -> Result<()> {
    println!("Building the Millenium Falcon in Minecraft");
    if let Err(e) = sleep(1000.0 * scale).await {
        if e.is_cancelled() {
            println!("Fine. Saving my work.");
        }
        return Err(e);
    }
    Ok(())
}

#[curio::task]
async fn parent(scale: f64) -> Result<()> {
    let kid_task: Task<()> = spawn(kid(scale)).await?;
    sleep(5.0 * scale).await?;

    println!("Let's go");
    let count_task = spawn(countdown(10, scale)).await?;
    count_task.join().await?;

    println!("We're leaving!");
    match timeout_after(10.0 * scale, kid_task.join()).await {
        Err(Error::TaskTimeout(_)) => {
            println!("I warned you!");
            kid_task.cancel().await?;
        }
        other => other?,
    }
    println!("Leaving!");
    Ok(())
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let scale: f64 = match args.next() {
        Some(s) => s
            .parse()
            .map_err(|_| Error::msg(format!("the time scale must be a number, not {s:?}")))?,
        None => 1.0,
    };
    match args.next().as_deref() {
        Some("countdown") => curio::run(countdown(10, scale)),
        Some(other) => Err(Error::msg(format!(
            "unknown program {other:?}; try `countdown`"
        ))),
        None => curio::run(parent(scale)),
    }
}
