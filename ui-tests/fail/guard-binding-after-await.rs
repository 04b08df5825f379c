#[curio::task]
async fn tick(n: i64) -> curio::Result<i64> {
    Ok(n)
}

#[curio::task]
async fn classify(v: Option<i64>) -> curio::Result<&'static str> {
    Ok(match v {
        Some(x) if tick(1).await? > x => "small",
        _ => "other",
    })
}

fn main() {}
