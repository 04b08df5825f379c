
#[curio::task]
async fn each(n: u32) -> curio::Result<u32> {
    let mut done = 0;
    for i in 0..n {
        let c = curio::coroutine!({
            if i % 2 == 0 {
                continue;
            }
            curio::sleep(0.0).await?;
            Ok::<_, curio::Error>(i)
        });
        done += c.await?;
    }
    Ok(done)
}

fn main() {}
