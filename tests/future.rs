//! `future_wait`: Rust futures awaited inside curio tasks, polled on the
//! kernel's thread and woken from other threads: std futures, a thread
//! that wakes the waker, and the real tokio (a timer and a TCP connection
//! driven by a tokio runtime on its own threads, entered while polling, as
//! compatibility layers do), while other curio tasks keep running; a
//! timeout drops a pending future.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use curio::{Error, Result, TaskState, future_wait, sleep, spawn, timeout_after};

#[curio::task]
async fn ticker(count: Arc<AtomicUsize>) -> Result<()> {
    loop {
        sleep(0.01).await?;
        count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Polls `F` inside the tokio runtime's context.
struct InTokio<F>(tokio::runtime::Handle, Pin<Box<F>>);

impl<F: Future> Future for InTokio<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _entered = self.0.enter();
        self.1.as_mut().poll(cx)
    }
}

fn in_tokio<F: Future>(rt: &tokio::runtime::Runtime, f: F) -> InTokio<F> {
    InTokio(rt.handle().clone(), Box::pin(f))
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// A future made ready by another thread after `ms`.
fn woken_by_a_thread(ms: u64) -> impl Future<Output = &'static str> {
    let done = Arc::new(AtomicBool::new(false));
    let mut started = false;
    std::future::poll_fn(move |cx| {
        if done.load(Ordering::SeqCst) {
            return Poll::Ready("woken");
        }
        if !started {
            started = true;
            let (done, waker) = (done.clone(), cx.waker().clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(ms));
                done.store(true, Ordering::SeqCst);
                waker.wake();
            });
        }
        Poll::Pending
    })
}

#[curio::task]
async fn std_futures() -> Result<(String, usize)> {
    let ticks = Arc::new(AtomicUsize::new(0));
    let t = spawn(ticker(ticks.clone())).daemon(true).await?;
    let a = future_wait(std::future::ready(1)).await?;
    let b = future_wait(async { 2 }).await?;
    let w = spawn(future_wait(woken_by_a_thread(200))).await?;
    sleep(0.05).await?;
    let state = w.state();
    let c = w.join().await?;
    t.cancel().await?;
    Ok((
        format!("{a} {b} {c} {state}"),
        ticks.load(Ordering::Relaxed),
    ))
}

#[test]
fn std_futures_and_a_waker_from_another_thread() {
    let (text, ticks) = curio::run(std_futures()).unwrap();
    assert_eq!(text, "1 2 woken FUTURE_WAIT");
    assert!(ticks >= 3, "the ticker ran {ticks} times");
}

#[curio::task]
async fn tokio_timer(rt: Arc<tokio::runtime::Runtime>) -> Result<(Duration, usize)> {
    let ticks = Arc::new(AtomicUsize::new(0));
    let t = spawn(ticker(ticks.clone())).daemon(true).await?;
    let start = Instant::now();
    // Made inside the tokio context (a `Sleep` registers when created).
    let timer = in_tokio(&rt, async {
        tokio::time::sleep(Duration::from_millis(150)).await
    });
    future_wait(timer).await?;
    let waited = start.elapsed();
    t.cancel().await?;
    Ok((waited, ticks.load(Ordering::Relaxed)))
}

#[test]
fn a_tokio_timer_while_curio_tasks_run() {
    let rt = Arc::new(tokio_runtime());
    let (waited, ticks) = curio::run(tokio_timer(rt)).unwrap();
    assert!(waited >= Duration::from_millis(140), "{waited:?}");
    assert!(ticks >= 3, "the ticker ran {ticks} times");
}

#[curio::task]
async fn tokio_tcp(rt: Arc<tokio::runtime::Runtime>) -> Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let bind = in_tokio(&rt, tokio::net::TcpListener::bind("127.0.0.1:0"));
    let listener = future_wait(bind).await?.map_err(Error::from)?;
    let addr = listener.local_addr()?;
    // The server side runs on tokio; the client is awaited from curio.
    rt.spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).await.unwrap();
        s.write_all(&buf).await.unwrap();
    });
    let client = in_tokio(&rt, async move {
        let mut c = tokio::net::TcpStream::connect(addr).await?;
        c.write_all(b"hello").await?;
        let mut buf = [0u8; 5];
        c.read_exact(&mut buf).await?;
        std::io::Result::Ok(buf)
    });
    let reply = future_wait(client).await?.map_err(Error::from)?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

#[test]
fn a_tokio_tcp_connection_awaited_from_a_task() {
    let rt = Arc::new(tokio_runtime());
    assert_eq!(curio::run(tokio_tcp(rt)).unwrap(), "hello");
}

/// A future that never finishes and says when it is dropped.
struct Forever(Arc<AtomicBool>);

impl Future for Forever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Drop for Forever {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[curio::task]
async fn dropped_on_timeout(dropped: Arc<AtomicBool>) -> Result<(bool, bool)> {
    let r = timeout_after(0.05, future_wait(Forever(dropped.clone()))).await;
    Ok((
        matches!(r, Err(Error::TaskTimeout(_))),
        dropped.load(Ordering::SeqCst),
    ))
}

#[test]
fn a_timeout_drops_the_pending_future() {
    let dropped = Arc::new(AtomicBool::new(false));
    let mut kernel = curio::Kernel::builder().virtual_clock().build();
    assert_eq!(
        kernel.run(dropped_on_timeout(dropped)).unwrap(),
        (true, true)
    );
    let _ = TaskState::FutureWait;
}
