use curio::traps::sleep;

#[curio::task]
async fn hold(name: String) -> curio::Result<usize> {
    let view = &name;
    sleep(1.0).await?;
    Ok(view.len())
}

fn main() {}
