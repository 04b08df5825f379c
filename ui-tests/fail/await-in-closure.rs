use curio::traps::sleep;

#[curio::task]
async fn naps(times: Vec<f64>) -> curio::Result<()> {
    times.iter().for_each(|t| {
        let _ = sleep(*t).await;
    });
    Ok(())
}

fn main() {}
