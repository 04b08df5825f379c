//! A little publish-subscribe service: a queue, a dispatcher task and a
//! publish function (the tutorial's, with `TaskGroup`).
//!
//! `cargo run --example pubsub`

use std::cell::RefCell;
use std::rc::Rc;

use curio::{Queue, Result, TaskGroup, Wait, coroutine, sleep};

/// The shared state the Python version keeps in module globals.
#[derive(Clone)]
struct Hub {
    messages: Queue<u32>,
    subscribers: Rc<RefCell<Vec<Queue<u32>>>>,
}

#[curio::task]
async fn dispatcher(hub: Hub) -> Result<()> {
    loop {
        let msg = hub.messages.get().await?;
        let subscribers: Vec<Queue<u32>> = hub.subscribers.borrow().clone();
        for q in subscribers {
            q.put(msg).await?;
        }
    }
}

#[curio::task]
async fn publish(hub: Hub, msg: u32) -> Result<()> {
    hub.messages.put(msg).await
}

#[curio::task]
async fn subscriber(hub: Hub, name: &'static str) -> Result<()> {
    let queue = Queue::unbounded();
    hub.subscribers.borrow_mut().push(queue.clone());
    let mine = queue.clone();
    let result = coroutine!(-> Result<()> {
        loop {
            let msg = mine.get().await?;
            println!("{name} got {msg}");
        }
    })
    .await;
    // Python's `finally: subscribers.discard(queue)`.
    hub.subscribers.borrow_mut().retain(|q| *q != queue);
    result
}

#[curio::task]
async fn producer(hub: Hub) -> Result<()> {
    for i in 0..10 {
        publish(hub.clone(), i).await?;
        sleep(0.1).await?;
    }
    Ok(())
}

#[curio::task]
async fn start() -> Result<()> {
    let hub = Hub {
        messages: Queue::unbounded(),
        subscribers: Rc::default(),
    };
    let g = TaskGroup::new(Wait::All);
    let h = g.clone();
    g.with(coroutine!({
        h.spawn(dispatcher(hub.clone())).await?;
        for name in ["child1", "child2", "child3"] {
            h.spawn(subscriber(hub.clone(), name)).await?;
        }
        let ptask = h.spawn(producer(hub.clone())).await?;
        ptask.join().await?;
        h.cancel_remaining().await
    }))
    .await
}

fn main() -> Result<()> {
    curio::run(start())
}
