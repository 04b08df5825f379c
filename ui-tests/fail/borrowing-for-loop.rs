use curio::Task;

#[curio::task]
async fn join_all(tasks: Vec<Task<i64>>) -> curio::Result<i64> {
    let mut total = 0;
    for t in &tasks {
        total += t.join().await?;
    }
    Ok(total)
}

fn main() {}
