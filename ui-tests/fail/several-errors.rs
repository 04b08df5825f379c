use curio::traps::{clock, sleep};

#[curio::task]
async fn messy(label: &str) -> curio::Result<()> {
    println!("{label} {}", clock().await?);
    let f = || sleep(1.0).await;
    drop(f);
    Ok(())
}

fn main() {}
