//! A coroutine that is neither awaited nor spawned does nothing: every one
//! the macro or the runtime returns is `#[must_use]`.
#![deny(unused_must_use)]

use curio::{Event, Queue};

#[curio::task]
async fn forgetful(q: Queue<i32>, evt: Event) -> curio::Result<()> {
    q.put(1);
    evt.set();
    curio::sleep(1.0);
    helper();
    Ok(())
}

#[curio::task]
async fn helper() -> curio::Result<()> {
    Ok(())
}

fn main() {}
