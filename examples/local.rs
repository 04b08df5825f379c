//! Task-local request tagging (the older tutorial's `local-example.py`):
//! a synchronous `log` reads the request tag without `.await`, and helper
//! tasks inherit it.
//!
//! `cargo run --example local`

use curio::{Local, Result, Task, sleep, spawn};

thread_local! {
    static REQUEST_INFO: Local<u32> = Local::new();
}

/// Tags each line with the request identifier.
fn log(msg: &str) {
    // `get` fails outside a task; this logger prints "?" there too.
    let tag = REQUEST_INFO.with(|r| r.get().ok().flatten());
    println!(
        "request {}: {msg}",
        tag.map_or("?".to_string(), |t| t.to_string())
    );
}

/// The Python version sleeps `random()` seconds; fixed pseudo-random ones
/// keep the output the same every run.
fn pause(seed: u32) -> f64 {
    f64::from((seed * 7919 + 13) % 100) / 100.0
}

#[curio::task]
async fn concurrent_helper(job: u32, seed: u32) -> Result<()> {
    log(&format!("running helper task {job}"));
    sleep(pause(seed)).await?;
    log(&format!("finished helper task {job}"));
    Ok(())
}

#[curio::task]
async fn handle_request(tag: u32) -> Result<()> {
    REQUEST_INFO.with(|r| r.set(tag))?;
    log("Request received");
    sleep(pause(tag)).await?;
    let first = spawn(concurrent_helper(1, tag * 3 + 1)).await?;
    let second = spawn(concurrent_helper(2, tag * 3 + 2)).await?;
    for helper in [first, second] {
        helper.join().await?;
    }
    sleep(pause(tag + 10)).await?;
    log("Request complete");
    Ok(())
}

#[curio::task]
async fn start() -> Result<()> {
    let mut tasks: Vec<Task<()>> = Vec::new();
    for i in 0..3 {
        tasks.push(spawn(handle_request(i)).await?);
    }
    for task in tasks {
        task.join().await?;
    }
    Ok(())
}

fn main() -> Result<()> {
    curio::run(start())
}
