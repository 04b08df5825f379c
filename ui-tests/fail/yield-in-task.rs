#[curio::task]
async fn numbers() -> u32 {
    yield 1;
    2
}

fn main() {}
