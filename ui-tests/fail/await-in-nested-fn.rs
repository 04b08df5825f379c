use curio::traps::sleep;

#[curio::task]
async fn outer() -> curio::Result<()> {
    async fn helper() -> curio::Result<f64> {
        sleep(1.0).await
    }
    Ok(())
}

fn main() {}
