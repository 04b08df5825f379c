use curio::Lock;

#[curio::task]
async fn each(lock: Lock) -> curio::Result<()> {
    loop {
        lock.with(curio::coroutine!({
            curio::sleep(0.0).await?;
            break;
        }))
        .await?;
    }
}

fn main() {}
