use curio::traps::sleep;

#[curio::task]
async fn twice() -> curio::Result<u32> {
    let a = {
        fn helper() -> u32 {
            1
        }
        helper()
    };
    sleep(0.0).await?;
    let b = {
        fn helper() -> u32 {
            2
        }
        helper()
    };
    Ok(a + b)
}

fn main() {}
