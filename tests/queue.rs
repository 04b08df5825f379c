//! Queues, ported from Curio's test_queue (the parts that are not universal
//! queues), plus a property-style check that cancelled and timed-out gets
//! and puts never lose or duplicate an item.

mod util;

use std::cell::RefCell;
use std::rc::Rc;

use curio::{
    Error, LifoQueue, PriorityQueue, Queue, Result, Task, TaskState, sleep, spawn, timeout_after,
};
use util::{log, take_log, vrun};

#[curio::task]
async fn consumer(queue: Queue<Option<u32>>, label: &'static str, pause: f64) -> Result<()> {
    while let Some(item) = queue.get().await? {
        logf!("{label} {item}");
        if pause > 0.0 {
            sleep(pause).await?;
        }
        queue.task_done().await?;
    }
    queue.task_done().await?;
    logf!("{label} done");
    Ok(())
}

#[curio::task]
async fn simple() -> Result<()> {
    let queue = Queue::new(0);
    log("producer_start");
    let c1 = spawn(consumer(queue.clone(), "cons1", 0.0)).await?;
    let c2 = spawn(consumer(queue.clone(), "cons2", 0.0)).await?;
    sleep(0.1).await?;
    for n in 0..4 {
        queue.put(Some(n)).await?;
        sleep(0.1).await?;
    }
    for _ in 0..2 {
        queue.put(None).await?;
    }
    log("producer_join");
    queue.join().await?;
    log("producer_done");
    c1.join().await?;
    c2.join().await
}

#[test]
fn queue_simple() {
    vrun(simple()).unwrap();
    assert_eq!(
        take_log(),
        [
            "producer_start",
            "cons1 0",
            "cons2 1",
            "cons1 2",
            "cons2 3",
            "producer_join",
            "cons1 done",
            "cons2 done",
            "producer_done"
        ]
    );
}

#[curio::task]
async fn unbounded() -> Result<()> {
    let queue = Queue::unbounded();
    log("producer_start");
    let c1 = spawn(consumer(queue.clone(), "cons1", 0.0)).await?;
    sleep(0.1).await?;
    for n in 0..4 {
        queue.put(Some(n)).await?;
    }
    queue.put(None).await?;
    log("producer_join");
    queue.join().await?;
    log("producer_done");
    c1.join().await
}

#[test]
fn queue_unbounded() {
    vrun(unbounded()).unwrap();
    assert_eq!(
        take_log(),
        [
            "producer_start",
            "producer_join",
            "cons1 0",
            "cons1 1",
            "cons1 2",
            "cons1 3",
            "cons1 done",
            "producer_done"
        ]
    );
}

#[curio::task]
async fn bounded() -> Result<()> {
    let queue = Queue::new(2);
    log("producer_start");
    let c = spawn(consumer(queue.clone(), "cons1", 0.1)).await?;
    sleep(0.1).await?;
    for n in 0..4 {
        queue.put(Some(n)).await?;
        logf!("produced {n}");
    }
    queue.put(None).await?;
    log("producer_join");
    queue.join().await?;
    log("producer_done");
    c.join().await
}

#[test]
fn queue_bounded() {
    vrun(bounded()).unwrap();
    assert_eq!(
        take_log(),
        [
            "producer_start",
            "produced 0",
            "produced 1",
            "cons1 0",
            "produced 2",
            "cons1 1",
            "produced 3",
            "cons1 2",
            "producer_join",
            "cons1 3",
            "cons1 done",
            "producer_done"
        ]
    );
}

#[curio::task]
async fn get_waiter(queue: Queue<u32>) -> Result<()> {
    log("consumer waiting");
    match queue.get().await {
        Ok(_) => log("not here"),
        Err(e) if e.is_cancelled() => log("consumer cancelled"),
        Err(e) => return Err(e),
    }
    Ok(())
}

#[curio::task]
async fn get_cancel() -> Result<()> {
    let queue = Queue::new(0);
    let task = spawn(get_waiter(queue.clone())).await?;
    sleep(0.5).await?;
    task.cancel().await?;
    // The cancelled getter takes nothing.
    queue.put(7).await?;
    let item = queue.get().await?;
    logf!("got {item}");
    Ok(())
}

#[test]
fn queue_get_cancel() {
    vrun(get_cancel()).unwrap();
    assert_eq!(
        take_log(),
        ["consumer waiting", "consumer cancelled", "got 7"]
    );
}

#[curio::task]
async fn put_waiter(queue: Queue<u32>) -> Result<()> {
    log("producer_start");
    queue.put(0).await?;
    match queue.put(1).await {
        Ok(()) => log("not here"),
        Err(e) if e.is_cancelled() => log("producer_cancel"),
        Err(e) => return Err(e),
    }
    Ok(())
}

#[curio::task]
async fn put_cancel() -> Result<()> {
    let queue = Queue::new(1);
    let task = spawn(put_waiter(queue.clone())).await?;
    sleep(0.5).await?;
    task.cancel().await?;
    logf!("size {}", queue.size());
    let item = queue.get().await?;
    logf!("got {item}, empty {}", queue.empty());
    Ok(())
}

#[test]
fn queue_put_cancel() {
    vrun(put_cancel()).unwrap();
    assert_eq!(
        take_log(),
        [
            "producer_start",
            "producer_cancel",
            "size 1",
            "got 0, empty true"
        ]
    );
}

#[curio::task]
async fn timeouts() -> Result<()> {
    let queue: Queue<u32> = Queue::new(1);
    log("consumer waiting");
    if let Err(Error::TaskTimeout(_)) = timeout_after(0.5, queue.get()).await {
        log("consumer timeout");
    }
    queue.put(0).await?;
    logf!("full {}", queue.full());
    if let Err(Error::TaskTimeout(_)) = timeout_after(0.5, queue.put(1)).await {
        log("producer timeout");
    }
    logf!("size {} maxsize {}", queue.size(), queue.maxsize());
    Ok(())
}

#[test]
fn queue_get_and_put_timeouts() {
    vrun(timeouts()).unwrap();
    assert_eq!(
        take_log(),
        [
            "consumer waiting",
            "consumer timeout",
            "full true",
            "producer timeout",
            "size 1 maxsize 1"
        ]
    );
}

#[curio::task]
async fn priority() -> Result<Vec<u32>> {
    let queue = PriorityQueue::new(0);
    for n in [4, 2, 1, 3] {
        queue.put((n, Some(n))).await?;
    }
    queue.put((10, None)).await?;
    let mut out = Vec::new();
    while let (_, Some(n)) = queue.get().await? {
        out.push(n);
        queue.task_done().await?;
    }
    queue.task_done().await?;
    queue.join().await?;
    Ok(out)
}

#[test]
fn priority_queue_gives_the_smallest_first() {
    assert_eq!(vrun(priority()).unwrap(), [1, 2, 3, 4]);
}

#[curio::task]
async fn lifo() -> Result<Vec<u32>> {
    let queue = LifoQueue::new(0);
    queue.put(None).await?;
    for n in 0..4 {
        queue.put(Some(n)).await?;
    }
    let mut out = Vec::new();
    while let Some(n) = queue.get().await? {
        out.push(n);
    }
    Ok(out)
}

#[test]
fn lifo_queue_gives_the_last_first() {
    assert_eq!(vrun(lifo()).unwrap(), [3, 2, 1, 0]);
}

#[curio::task]
async fn getter_order() -> Result<()> {
    let queue = Queue::new(0);
    let mut getters: Vec<Task<()>> = Vec::new();
    for name in ["a", "b", "c"] {
        let q: Queue<u32> = queue.clone();
        getters.push(
            spawn(curio::coroutine!(-> Result<()> {
                let item = q.get().await?;
                logf!("{name} got {item}");
                Ok(())
            }))
            .await?,
        );
    }
    sleep(0.1).await?;
    logf!("{}", getters[0].state());
    for n in 0..3 {
        queue.put(n).await?;
    }
    for g in getters {
        g.join().await?;
    }
    let e = queue.task_done().await;
    logf!("{}", e.is_ok());
    Ok(())
}

#[test]
fn getters_are_served_in_arrival_order() {
    vrun(getter_order()).unwrap();
    assert_eq!(
        take_log(),
        [
            TaskState::QueueGet.name(),
            "a got 0",
            "b got 1",
            "c got 2",
            "true"
        ]
    );
}

#[curio::task]
async fn too_many_task_done() -> Result<()> {
    let queue: Queue<u8> = Queue::new(0);
    let e = queue.task_done().await.unwrap_err();
    logf!("{e}");
    Ok(())
}

#[test]
fn task_done_more_than_put_is_an_error() {
    vrun(too_many_task_done()).unwrap();
    assert_eq!(
        take_log(),
        ["task_done() called more times than items were put"]
    );
}

/// A small deterministic random generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

type Ledger = Rc<RefCell<Vec<u32>>>;

#[curio::task]
async fn flaky_producer(q: Queue<u32>, base: u32, seed: u64, put: Ledger) -> Result<()> {
    let mut rng = Rng(seed);
    for i in 0..200 {
        let item = base + i;
        // Some puts get a deadline too short to find room.
        let patience = if rng.below(3) == 0 { 0.0005 } else { 1.0 };
        if timeout_after(patience, q.put(item)).await.is_ok() {
            put.borrow_mut().push(item);
        }
        if rng.below(4) == 0 {
            sleep(0.001 * rng.below(3) as f64).await?;
        }
    }
    Ok(())
}

#[curio::task]
async fn flaky_consumer(q: Queue<u32>, seed: u64, got: Ledger) -> Result<()> {
    let mut rng = Rng(seed);
    loop {
        let patience = if rng.below(3) == 0 { 0.0005 } else { 0.05 };
        match timeout_after(patience, q.get()).await {
            Ok(item) => got.borrow_mut().push(item),
            Err(Error::TaskTimeout(_)) => {}
            Err(e) => return Err(e),
        }
        if rng.below(5) == 0 {
            sleep(0.001).await?;
        }
    }
}

#[curio::task]
async fn no_item_lost(seed: u64) -> Result<(Vec<u32>, Vec<u32>, Vec<u32>)> {
    let q = Queue::new(3);
    let put: Ledger = Rc::default();
    let got: Ledger = Rc::default();
    let mut consumers: Vec<Task<()>> = Vec::new();
    for c in 0..3 {
        consumers.push(spawn(flaky_consumer(q.clone(), seed * 7 + c, got.clone())).await?);
    }
    let mut producers: Vec<Task<()>> = Vec::new();
    for p in 0..3 {
        let producer = flaky_producer(q.clone(), p as u32 * 1000, seed * 13 + p, put.clone());
        producers.push(spawn(producer).await?);
    }
    for p in producers {
        p.join().await?;
    }
    sleep(1.0).await?;
    // Cancel the consumers wherever they are; a cancelled get takes nothing.
    for c in consumers {
        c.cancel().await?;
    }
    let mut left = Vec::new();
    while !q.empty() {
        left.push(q.get().await?);
    }
    let put = put.borrow().clone();
    let got = got.borrow().clone();
    Ok((put, got, left))
}

#[test]
fn cancelled_and_timed_out_gets_and_puts_lose_nothing() {
    for seed in 1..=20u64 {
        let (mut put, got, left) = vrun(no_item_lost(seed)).unwrap();
        let mut delivered: Vec<u32> = got.iter().chain(&left).copied().collect();
        put.sort_unstable();
        delivered.sort_unstable();
        assert_eq!(
            put, delivered,
            "seed {seed}: every put item arrives exactly once"
        );
        assert!(
            put.len() > 300 && put.len() < 600,
            "seed {seed}: {} puts",
            put.len()
        );
    }
}

#[curio::task]
async fn joiner(q: Queue<u32>, name: &'static str) -> Result<()> {
    q.join().await?;
    logf!("{name} joined");
    Ok(())
}

#[curio::task]
async fn many_joiners() -> Result<()> {
    let q = Queue::new(0);
    q.put(1).await?;
    q.put(2).await?;
    let a = spawn(joiner(q.clone(), "a")).await?;
    let b = spawn(joiner(q.clone(), "b")).await?;
    sleep(0.1).await?;
    q.get().await?;
    q.task_done().await?;
    log("one done");
    sleep(0.1).await?;
    q.get().await?;
    q.task_done().await?;
    a.join().await?;
    b.join().await?;
    q.join().await?;
    log("empty queue joins at once");
    Ok(())
}

#[test]
fn join_waits_for_every_task_done_and_wakes_all_joiners() {
    vrun(many_joiners()).unwrap();
    assert_eq!(
        take_log(),
        [
            "one done",
            "a joined",
            "b joined",
            "empty queue joins at once"
        ]
    );
}

#[curio::task]
async fn bounded_priority() -> Result<Vec<u32>> {
    let q = PriorityQueue::new(2);
    q.put(5).await?;
    q.put(1).await?;
    let r = timeout_after(0.1, q.put(3)).await;
    logf!("full {} {}", q.full(), r.is_err());
    let mut out = Vec::new();
    while !q.empty() {
        out.push(q.get().await?);
    }
    Ok(out)
}

#[test]
fn a_bounded_priority_queue() {
    assert_eq!(vrun(bounded_priority()).unwrap(), [1, 5]);
    assert_eq!(take_log(), ["full true true"]);
}

#[curio::task]
async fn put_wakes_getter_that_was_cancelled() -> Result<()> {
    let q = Queue::new(0);
    let a = spawn(get_waiter(q.clone())).await?;
    let b = spawn(get_waiter(q.clone())).await?;
    sleep(0.1).await?;
    a.cancel().await?;
    q.put(9).await?;
    b.join().await?;
    logf!("left {}", q.size());
    Ok(())
}

#[test]
fn a_put_skips_cancelled_getters() {
    vrun(put_wakes_getter_that_was_cancelled()).unwrap();
    assert_eq!(
        take_log(),
        [
            "consumer waiting",
            "consumer waiting",
            "consumer cancelled",
            "not here",
            "left 0"
        ]
    );
}
