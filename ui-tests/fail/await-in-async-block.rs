//! An `async` block is a Rust future (awaited with `curio::future_wait`):
//! a curio coroutine awaited inside it is rustc's "is not a future".
//! For an inline coroutine, write `curio::coroutine!({ … })`.
use curio::traps::sleep;

#[curio::task]
async fn nap() -> curio::Result<()> {
    let later = async move {
        sleep(1.0).await
    };
    drop(later);
    Ok(())
}

fn main() {}
