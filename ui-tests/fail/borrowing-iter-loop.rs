#[curio::task]
async fn tick(n: i64) -> curio::Result<i64> {
    Ok(n)
}

#[curio::task]
async fn sum(v: Vec<i64>) -> curio::Result<i64> {
    let mut total = 0;
    for x in v.iter() {
        total += tick(*x).await?;
    }
    Ok(total)
}

fn main() {}
