//! One snapshot per representative shape. Review a change to any of these
//! like a change to code: it is what users read to learn the transform.

use super::{expand, expand_block};

macro_rules! snapshot {
    ($name:ident, $src:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), expand($src));
        }
    };
}

snapshot!(
    straight_line,
    r#"
async fn main_task() -> curio::Result<()> {
    println!("Yawn. Getting sleepy.");
    sleep(10.0).await?;
    println!("Awake at last!");
    Ok(())
}
"#
);

snapshot!(
    loop_with_await,
    r#"
async fn countdown(mut n: u32) -> curio::Result<u32> {
    while n > 0 {
        println!("T-minus {n}");
        sleep(1.0).await?;
        n -= 1;
    }
    Ok(n)
}
"#
);

snapshot!(
    await_in_condition,
    r#"
async fn wait_ready(sock: Socket) -> curio::Result<usize> {
    let mut polls = 0;
    if sock.ready().await? {
        polls += 1;
    }
    Ok(polls)
}
"#
);

snapshot!(
    match_on_awaited_value,
    r#"
async fn dispatch(queue: Queue) -> curio::Result<u32> {
    match queue.get().await? {
        Msg::Ping(n) => {
            queue.put(Msg::Pong(n)).await?;
            Ok(n)
        }
        Msg::Stop => Ok(0),
    }
}
"#
);

snapshot!(
    labelled_break,
    r#"
async fn find(rows: Vec<Vec<u32>>, target: u32) -> Option<(usize, usize)> {
    'rows: for (i, row) in rows.into_iter().enumerate() {
        for (j, cell) in row.into_iter().enumerate() {
            if check(cell).await == target {
                break 'rows Some((i, j));
            }
        }
    }
    None
}
"#
);

snapshot!(
    question_mark_across_await,
    r#"
async fn fetch(addr: String) -> curio::Result<Vec<u8>> {
    let sock = open_connection(addr).await?;
    let data = sock.recv(1000).await?;
    Ok(data)
}
"#
);

snapshot!(
    early_return,
    r#"
async fn first_line(stream: Stream) -> curio::Result<String> {
    let line = stream.readline().await?;
    if line.is_empty() {
        return Err(curio::Error::msg("closed"));
    }
    stream.write(b"ok\n".to_vec()).await?;
    Ok(line)
}
"#
);

snapshot!(
    guard_held_across_await,
    r#"
async fn critical(lock: Lock) -> curio::Result<()> {
    let _guard = lock.acquire().await?;
    sleep(1.0).await?;
    Ok(())
}
"#
);

snapshot!(
    nested_sub_task,
    r#"
async fn parent() -> curio::Result<u32> {
    let a = child(1).await?;
    let b = child(2).await?;
    Ok(a + b)
}
"#
);

snapshot!(
    generic_fn,
    r#"
async fn sum_all<T, I>(items: I) -> curio::Result<T>
where
    T: std::iter::Sum<T> + 'static,
    I: IntoIterator<Item = T> + 'static,
{
    let mut all = Vec::new();
    for item in items {
        sleep(0.0).await?;
        all.push(item);
    }
    Ok(all.into_iter().sum())
}
"#
);

snapshot!(
    method_with_cloned_self,
    r#"
async fn count(&self, n: u32) -> curio::Result<u32> {
    for _ in 0..n {
        self.tick().await?;
    }
    Ok(self.total())
}
"#
);

snapshot!(
    await_in_arguments,
    r#"
async fn report(log: Log) -> curio::Result<()> {
    log.write(format_header(), read_sensor().await?, clock().await?);
    Ok(())
}
"#
);

#[test]
fn block_form() {
    insta::assert_snapshot!(
        "block_form",
        expand_block(
            r#"-> curio::Result<Vec<u8>> {
                let data = sock.recv(100).await?;
                Ok(data)
            }"#
        )
    );
}

snapshot!(
    buffer_reused_across_awaits,
    r#"
async fn echo(client: Socket) -> curio::Result<()> {
    let mut buf = Vec::with_capacity(16384);
    loop {
        let (n, data) = client.recv_into(buf).await?;
        if n == 0 {
            return Ok(());
        }
        buf = client.sendall(data).await?;
    }
}
"#
);
