//! Accepted shapes that stress the lowering; this file must compile
//! without warnings under `-D warnings`.
#![deny(warnings)]

use curio::traps::{clock, sleep};
use curio::{Coroutine, Value};

struct Conn {
    id: u32,
}

#[curio::task]
async fn nested_awaits(conns: Vec<Conn>) -> curio::Result<f64> {
    // `.await` in a receiver, an argument, an operand and an index.
    let base = clock().await?.max(sleep(0.0).await?);
    let table = [1.0, 2.0, 3.0];
    let pick = table[(clock().await? as usize) % 3];
    let mut total = base + pick;
    for conn in conns {
        total += f64::from(conn.id) * sleep(0.0).await?;
    }
    // A labelled block with a value, and `break` out of it after an await.
    let extra = 'compute: {
        if clock().await? > 1.0e9 {
            break 'compute 1.0;
        }
        0.0
    };
    Ok(total + extra)
}

#[curio::task]
async fn shadowing_and_blocks(n: u32) -> curio::Result<u32> {
    let n = n + 1;
    let n = {
        let doubled = n * 2;
        sleep(0.0).await?;
        doubled
    };
    let (a, mut b) = (n, n + 1);
    b += sleep(0.0).await.map(|_| a)?;
    Ok(b)
}

#[curio::task]
async fn loops_with_values(limit: u32) -> curio::Result<u32> {
    let mut i = 0;
    let found = loop {
        i += 1;
        if i > limit {
            break None;
        }
        if clock().await? >= 0.0 && i % 3 == 0 {
            break Some(i);
        }
    };
    let mut queue = vec![1, 2, 3];
    let mut sum = 0;
    while let Some(v) = queue.pop() {
        sum += v;
        sleep(0.0).await?;
    }
    Ok(found.unwrap_or(0) + sum)
}

#[curio::task]
async fn shadowing_live_locals(names: Vec<String>) -> curio::Result<usize> {
    let label = String::from("outer");
    let mut total = 0;
    for name in names {
        let label = format!("{label}/{name}");
        sleep(0.0).await?;
        total += label.len();
    }
    Ok(total + label.len())
}

fn block_forms(prefix: String) -> impl Coroutine<Output = curio::Result<String>> {
    curio::coroutine!(-> curio::Result<String> {
        let now = clock().await?;
        Ok(format!("{prefix} at {now}"))
    })
}

/// Elided lifetimes in `Fn(&T)` and `fn(&T)` are higher-ranked: owned.
#[curio::task]
async fn closure_params(keep: impl Fn(&str) -> bool, pick: fn(&[u8]) -> usize) -> bool {
    let _ = sleep(0.0).await;
    keep("x") && pick(b"ab") == 2
}

#[curio::task]
async fn unit_task() {
    let _ = sleep(0.0).await;
}

fn main() {
    let mut co = shadowing_and_blocks(1);
    let _ = co.resume(Value::None);
    let _ = nested_awaits(Vec::new());
    let _ = loops_with_values(3);
    let _ = unit_task();
    let _ = closure_params(|s: &str| s.is_empty(), <[u8]>::len);
    let _ = shadowing_live_locals(vec!["a".into()]);
    let _ = block_forms("now".into());
    let _ = curio::coroutine!({ sleep(1.0).await.is_ok() });
}
