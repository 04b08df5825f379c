use curio::traps::sleep;

#[curio::task]
async fn nap() -> curio::Result<()> {
    let later = async move {
        sleep(1.0).await
    };
    drop(later);
    Ok(())
}

fn main() {}
