//! The facade depended on as `rt`: `#[rt::task]` and `rt::coroutine!`
//! expand to paths through `::rt`, found in this crate's `Cargo.toml`.

use rt::{Result, coroutine, sleep, spawn};

#[rt::task]
async fn double(x: u32) -> Result<u32> {
    sleep(0.0).await?;
    Ok(2 * x)
}

#[rt::task]
async fn main_task() -> Result<u32> {
    let t = spawn(double(20)).await?;
    let extra = coroutine!({
        sleep(0.0).await?;
        Ok::<_, rt::Error>(2)
    })
    .await?;
    Ok(t.join().await? + extra)
}

fn main() {
    println!("{}", rt::run(main_task()).unwrap());
}
