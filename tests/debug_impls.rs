//! Every public type a user may hold implements `Debug`, so that a user's
//! `#[derive(Debug)]` on a struct holding one compiles, and prints
//! something useful.

use curio::socket::{Domain, Type, socketpair};
use curio::stream::SocketStream;
use curio::{
    BoundedSemaphore, Condition, Event, Kernel, LifoQueue, Local, Lock, PriorityQueue, Queue,
    RLock, Result, Semaphore, TaskGroup, Wait, sync,
};

#[derive(Debug)]
#[allow(dead_code)] // held only to be printed
struct Holder {
    event: Event,
    lock: Lock,
    rlock: RLock,
    sema: Semaphore,
    bounded: BoundedSemaphore,
    cond: Condition,
    queue: Queue<u32>,
    lifo: LifoQueue<u32>,
    prio: PriorityQueue<u32>,
    result: sync::Result<u32>,
    local: Local<u32>,
    group: TaskGroup<u32>,
    stream: SocketStream,
}

#[curio::task]
async fn held() -> Result<String> {
    let (a, _b) = socketpair(Domain::UNIX, Type::STREAM)?;
    let holder = Holder {
        event: Event::new(),
        lock: Lock::new(),
        rlock: RLock::new(),
        sema: Semaphore::new(2),
        bounded: BoundedSemaphore::new(3),
        cond: Condition::new(),
        queue: Queue::new(4),
        lifo: LifoQueue::unbounded(),
        prio: PriorityQueue::unbounded(),
        result: sync::Result::new(),
        local: Local::new(),
        group: TaskGroup::new(Wait::All),
        stream: a.as_stream(),
    };
    holder.lock.acquire().await?;
    holder.queue.put(7).await?;
    Ok(format!("{holder:?}"))
}

#[test]
fn public_types_print_with_debug() {
    let text = curio::run(held()).unwrap();
    for part in [
        "event: Event { set: false, waiting: 0 }",
        "lock: Lock { locked: true, waiting: 0 }",
        "rlock: RLock { owner: None, count: 0, waiting: 0 }",
        "sema: Semaphore { value: 2, waiting: 0 }",
        "bounded: BoundedSemaphore { value: 3, bound: 3, waiting: 0 }",
        "queue: Queue { size: 1, maxsize: 4 }",
        "result: Result { value: None }",
        "group: TaskGroup { wait: All, tasks: 0, running: 0, joined: false }",
        "stream: Stream { fd: ",
    ] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
    let kernel = Kernel::builder().build();
    assert_eq!(format!("{kernel:?}"), "Kernel { .. }");
}
