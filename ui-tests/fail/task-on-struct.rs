//! `#[curio::task]` goes on an `async fn` or an `impl` block.

#[curio::task]
struct NotATask {
    n: u32,
}

fn main() {}
