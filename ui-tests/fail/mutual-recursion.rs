#[curio::task]
async fn even(n: u64) -> bool {
    if n == 0 { true } else { odd(n - 1).await }
}

#[curio::task]
async fn odd(n: u64) -> bool {
    if n == 0 { false } else { even(n - 1).await }
}

fn main() {}
