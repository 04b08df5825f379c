// A rejected task keeps its output type, so its callers see only the
// macro's error, even when the type's name contains "impl".
use curio::{Result, sleep};

pub struct Simplex(u32);

#[curio::task]
async fn rejected() -> Result<Simplex> {
    let f = || sleep(1.0).await;
    f();
    Ok(Simplex(1))
}

#[curio::task]
async fn caller() -> Result<u32> {
    let s: Simplex = rejected().await?;
    Ok(s.0)
}

fn main() {
    let _ = caller();
}
