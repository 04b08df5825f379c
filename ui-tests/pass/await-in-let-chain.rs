use curio::traps::clock;

#[curio::task]
async fn check(v: Option<u32>) -> curio::Result<bool> {
    if let Some(n) = v && clock().await? > f64::from(n) {
        return Ok(true);
    }
    Ok(false)
}

fn main() {}
