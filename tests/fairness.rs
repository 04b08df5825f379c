//! Fairness: a task whose I/O keeps succeeding still lets the others run,
//! every `curio::BUDGET` operations (Curio itself would let it run until
//! it blocks).

mod util;

use std::cell::Cell;
use std::rc::Rc;

use curio::socket::{Domain, Type, socketpair};
use curio::stream::{FileStream, SocketStream};
use curio::{Result, sleep, spawn};
use util::take_log;

/// Writes `n` bytes one at a time (never blocking: a pipe has room for
/// 64 KiB), counting in `done`.
#[curio::task]
async fn sender(out: FileStream, n: u32, done: Rc<Cell<u32>>) -> Result<()> {
    for _ in 0..n {
        out.write(b"x").await?;
        done.set(done.get() + 1);
    }
    Ok(())
}

/// Reads `n` lines that are all buffered already, counting in `done`.
#[curio::task]
async fn line_reader(stream: SocketStream, n: u32, done: Rc<Cell<u32>>) -> Result<()> {
    for _ in 0..n {
        let line = stream.readline().await?;
        assert_eq!(line, b"x\n");
        done.set(done.get() + 1);
    }
    Ok(())
}

/// Logs how far the busy task got each time this one runs.
#[curio::task]
async fn watcher(done: Rc<Cell<u32>>, n: u32) -> Result<()> {
    while done.get() < n {
        logf!("{}", done.get());
        sleep(0.0).await?;
    }
    Ok(())
}

#[curio::task]
async fn busy_sender() -> Result<()> {
    let (_read, write) = util::pipe();
    let done = Rc::new(Cell::new(0));
    let busy = spawn(sender(FileStream::from_fd(write)?, 300, done.clone())).await?;
    let w = spawn(watcher(done, 300)).await?;
    busy.join().await?;
    w.join().await
}

/// What the watcher logs: the busy task starts at `done` and does 300
/// operations; it runs `BUDGET` of them, yields, then each time the
/// yielded one and `BUDGET` more.
fn slices(mut done: u32) -> Vec<String> {
    let budget = curio::BUDGET;
    let mut seen = Vec::new();
    done += budget;
    while done < 300 {
        seen.push(done.to_string());
        done += budget + 1;
    }
    seen
}

#[test]
fn a_task_whose_writes_succeed_yields_every_budget() {
    assert_eq!(curio::BUDGET, 32);
    curio::run(busy_sender()).unwrap();
    assert_eq!(take_log(), slices(0));
    assert_eq!(slices(0)[..2], ["32", "65"]);
}

#[curio::task]
async fn busy_reader() -> Result<()> {
    let (a, b) = socketpair(Domain::UNIX, Type::STREAM)?;
    a.sendall(b"x\n".repeat(300)).await?;
    let stream = b.as_stream();
    // The first line fills the buffer with all 300.
    let first = stream.readline().await?;
    assert_eq!(first, b"x\n");
    let done = Rc::new(Cell::new(1));
    let busy = spawn(line_reader(stream, 299, done.clone())).await?;
    let w = spawn(watcher(done, 300)).await?;
    busy.join().await?;
    w.join().await
}

/// Lines served from a stream's buffer count too: a flood of short lines
/// does not starve the others.
#[test]
fn buffered_lines_count_against_the_budget() {
    curio::run(busy_reader()).unwrap();
    assert_eq!(take_log(), slices(1));
}
