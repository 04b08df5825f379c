//! Producer and consumer with a queue (the older tutorial's `prodcons.py`).
//!
//! `cargo run --example prodcons`

use curio::{Queue, Result, spawn};

#[curio::task]
async fn producer(queue: Queue<u32>) -> Result<()> {
    for n in 0..10 {
        queue.put(n).await?;
    }
    queue.join().await?;
    println!("Producer done");
    Ok(())
}

#[curio::task]
async fn consumer(queue: Queue<u32>) -> Result<()> {
    loop {
        let item = queue.get().await?;
        println!("Consumer got {item}");
        queue.task_done().await?;
    }
}

#[curio::task]
async fn start() -> Result<()> {
    let q = Queue::unbounded();
    let prod_task = spawn(producer(q.clone())).await?;
    let cons_task = spawn(consumer(q)).await?;
    prod_task.join().await?;
    cons_task.cancel().await
}

fn main() -> Result<()> {
    curio::run(start())
}
