//! The tutorial's chat server: each client's lines go to every client.
//! Each connection runs two tasks in a `TaskGroup` with `Wait::Any`
//! (`TaskGroup(wait=any)`): `incoming` publishes what the client types,
//! `outgoing` writes what the others said; when one ends, the other is
//! cancelled.
//!
//! Press Enter to restart the server (the tutorial waits for `SIGHUP`):
//! every client is dropped with a goodbye. End standard input (Ctrl-D) to
//! stop. Try it with a few `nc localhost 25000`.
//!
//! **A client that does not read.** The tutorial gives each client an
//! unbounded queue, so a client that sends and never reads makes the
//! server's memory grow without limit. Here each client's queue holds at
//! most [`BACKLOG`] messages; a client that falls that far behind is
//! disconnected (its goodbye gets a second to go out), and everybody else
//! carries on.
//!
//! `cargo run --example chat [PORT [HOST]]` (port 25000 on 127.0.0.1
//! unless given; `""` as the host listens on every interface)

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use curio::net::{Address, tcp_server};
use curio::socket::Socket;
use curio::stream::{FileStream, SocketStream};
use curio::{
    Error, Queue, Result, Task, TaskGroup, Wait, coroutine, current_task, ignore_after, spawn,
};

/// A chat line: who said it and what.
type Message = (Vec<u8>, Vec<u8>);

/// How many messages a client may have waiting before it is dropped.
const BACKLOG: usize = 100;

/// A connected client, as the dispatcher sees it: its queue, and the task
/// that writes the queue out.
#[derive(Clone)]
struct Subscriber {
    queue: Queue<Message>,
    writer: Task,
}

/// The state the Python version keeps in module globals.
#[derive(Clone, Default)]
struct Hub {
    messages: Queue<Message>,
    subscribers: Rc<RefCell<Vec<Subscriber>>>,
}

#[curio::task]
async fn dispatcher(hub: Hub) -> Result<()> {
    loop {
        let msg = hub.messages.get().await?;
        let subscribers = hub.subscribers.borrow().clone();
        for sub in subscribers {
            if sub.queue.full() {
                // Too slow: drop it rather than let its queue grow (or
                // wait for it, which would hold up everybody).
                println!("Dropping a client that does not keep up");
                hub.subscribers
                    .borrow_mut()
                    .retain(|s| s.writer != sub.writer);
                sub.writer.cancel().blocking(false).await?;
            } else {
                sub.queue.put(msg.clone()).await?;
            }
        }
    }
}

#[curio::task]
async fn publish(hub: Hub, msg: Message) -> Result<()> {
    hub.messages.put(msg).await
}

/// Writes chat messages to the client.
#[curio::task]
async fn outgoing(hub: Hub, stream: SocketStream) -> Result<()> {
    let queue = Queue::new(BACKLOG);
    let writer = current_task().await?;
    hub.subscribers.borrow_mut().push(Subscriber {
        queue: queue.clone(),
        writer: writer.clone(),
    });
    let mine = queue.clone();
    let result = coroutine!(-> Result<()> {
        loop {
            let (name, msg) = mine.get().await?;
            stream.write([name, b":".to_vec(), msg].concat()).await?;
        }
    })
    .await;
    // Python's `finally: subscribers.discard(queue)`.
    hub.subscribers.borrow_mut().retain(|s| s.writer != writer);
    result
}

/// Reads chat messages from the client and publishes them.
#[curio::task]
async fn incoming(hub: Hub, stream: SocketStream, name: Vec<u8>) -> Result<()> {
    loop {
        match stream.next_line().await {
            Ok(Some(line)) => publish(hub.clone(), (name.clone(), line)).await?,
            Ok(None) => return Ok(()),
            Err(e) if e.is_cancelled() => {
                // A client that does not read would hold this up forever.
                ignore_after(1.0, stream.write(b"SERVER IS GOING AWAY!\n".to_vec())).await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Supervises one connection.
#[curio::task]
async fn chat_handler(hub: Hub, client: Socket, addr: Address) -> Result<()> {
    println!("Connection from {addr}");
    let stream = client.as_stream();
    stream.write(b"Your name: ".to_vec()).await?;
    let name = stream.readline().await?.trim_ascii().to_vec();
    publish(hub.clone(), (name.clone(), b"joined\n".to_vec())).await?;
    let workers: TaskGroup<()> = TaskGroup::new(Wait::Any);
    let w = workers.clone();
    let (h, s, n) = (hub.clone(), stream.clone(), name.clone());
    workers
        .with(coroutine!({
            w.spawn(outgoing(h.clone(), s.clone())).await?;
            w.spawn(incoming(h, s, n)).await?;
            Ok::<(), Error>(())
        }))
        .await?;
    publish(hub, (name, b"has gone away\n".to_vec())).await?;
    println!("Connection closed");
    Ok(())
}

#[curio::task]
async fn chat_server(host: String, port: u16) -> Result<()> {
    let hub = Hub::default();
    let g: TaskGroup<()> = TaskGroup::new(Wait::All);
    let h = g.clone();
    g.with(coroutine!({
        h.spawn(dispatcher(hub.clone())).await?;
        let handler = move |client, addr| chat_handler(hub.clone(), client, addr);
        h.spawn(tcp_server(host, port, handler)).await?;
        Ok::<(), Error>(())
    }))
    .await
}

/// Runs the server; each line on standard input restarts it, and the end
/// of standard input stops it.
#[curio::task]
async fn start(host: String, port: u16) -> Result<()> {
    let stdin = FileStream::stdin()?;
    loop {
        println!("Starting the server on {host}:{port}");
        let serv_task = spawn(chat_server(host.clone(), port)).await?;
        let line = stdin.readline().await?;
        println!("Server shutting down");
        serv_task.cancel().await?;
        if line.is_empty() {
            return Ok(());
        }
    }
}

fn main() -> Result<()> {
    let (host, port) = common::listen_address()?;
    curio::run(start(host, port))
}
