#[curio::task]
async fn factorial(n: u64) -> u64 {
    if n <= 1 {
        return 1;
    }
    n * factorial(n - 1).await
}

fn main() {}
