use curio::traps::clock;

#[curio::task]
async fn report() -> curio::Result<()> {
    println!("now {}", clock().await?);
    Ok(())
}

fn main() {}
