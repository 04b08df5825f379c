use curio::traps::clock;

#[curio::task]
async fn classify(n: u32) -> curio::Result<&'static str> {
    Ok(match n {
        0 => "zero",
        _ if clock().await? > 10.0 => "late",
        _ => "early",
    })
}

fn main() {}
