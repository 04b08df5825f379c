//! Methods that await each other, with one edge boxed, as the error for
//! the unboxed cycle says.
#[derive(Clone)]
struct Parity;

#[curio::task]
impl Parity {
    async fn even(&self, n: u64) -> bool {
        if n == 0 { true } else { curio::boxed(self.odd(n - 1)).await }
    }

    async fn odd(&self, n: u64) -> bool {
        if n == 0 { false } else { self.even(n - 1).await }
    }
}

#[curio::task]
async fn check() -> curio::Result<(bool, bool)> {
    let p = Parity;
    Ok((p.even(10).await, p.odd(7).await))
}

fn main() {
    assert_eq!(curio::run(check()).unwrap(), (true, true));
}
