//! A trait method returning `impl Coroutine`, implemented with
//! `#[curio::task]` on the `impl` block (which lets the macro say that the
//! coroutine does not hold the `&self` borrow).
use curio::Coroutine;

trait Service {
    fn call(&self, n: i64) -> impl Coroutine<Output = curio::Result<i64>>;
}

#[derive(Clone)]
struct Doubler;

#[curio::task]
impl Service for Doubler {
    async fn call(&self, n: i64) -> curio::Result<i64> {
        curio::sleep(0.0).await?;
        Ok(n * 2)
    }
}

#[curio::task]
async fn user(d: Doubler) -> curio::Result<i64> {
    let a = d.call(2).await?;
    Ok(a)
}

fn main() {
    assert_eq!(curio::run(user(Doubler)).unwrap(), 4);
}
