//! The tutorial's kid and parent, final version: the kid nags until the
//! parent sets an event, plays with a task group of friends, and the
//! parent cancels the lot after a countdown and a timeout.
//!
//! ```text
//! cargo run --example friends              # real time (about 30 s)
//! cargo run --example friends -- 0.05      # 20 times faster
//! ```

use curio::{
    Error, Event, Kernel, Result, Task, TaskGroup, Wait, coroutine, sleep, spawn, timeout_after,
};

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
async fn friend(name: &'static str, scale: f64) -> Result<()> {
    println!("Hi, my name is {name}");
    println!("Playing Minecraft");
    if let Err(e) = sleep(1000.0 * scale).await {
        println!("{name} going home");
        return Err(e);
    }
    Ok(())
}

#[curio::task]
async fn kid(start: Event, scale: f64) -> Result<()> {
    loop {
        println!("Can I play?");
        match timeout_after(1.0 * scale, start.wait()).await {
            Ok(()) => break,
            Err(Error::TaskTimeout(_)) => println!("Wha!?!"),
            Err(e) => return Err(e),
        }
    }
    println!("Building the Millenium Falcon in Minecraft");
    let f = TaskGroup::new(Wait::All);
    let g = f.clone();
    f.with(coroutine!({
        for name in ["Max", "Lillian", "Thomas"] {
            g.spawn(friend(name, scale)).await?;
        }
        if let Err(e) = sleep(1000.0 * scale).await {
            println!("Fine. Saving my work.");
            return Err(e);
        }
        Ok(())
    }))
    .await
}

#[curio::task]
async fn parent(scale: f64) -> Result<()> {
    let start = Event::new();
    let kid_task: Task<()> = spawn(kid(start.clone(), scale)).await?;
    sleep(5.0 * scale).await?;

    println!("Yes, go play");
    start.set().await?;
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
    // `--virtual`: run on the virtual clock (instant, same output each time).
    let mut kernel = if args.next().as_deref() == Some("--virtual") {
        Kernel::builder().virtual_clock().build()
    } else {
        Kernel::new()
    };
    kernel.run(parent(scale))
}
