//! Methods of one `#[curio::task]` impl block that await each other: the
//! macro sees the whole block, so it names the cycle and the fix.
#[derive(Clone)]
struct Parity;

#[curio::task]
impl Parity {
    async fn even(&self, n: u64) -> bool {
        if n == 0 { true } else { self.odd(n - 1).await }
    }

    async fn odd(&self, n: u64) -> bool {
        if n == 0 { false } else { Self::even(&self, n - 1).await }
    }
}

fn main() {}
