#[curio::task]
async fn lonely() -> curio::Result<()> {
    curio::sleep(0.0).await?;
    continue;
}

fn main() {}
