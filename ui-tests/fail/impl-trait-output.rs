#[curio::task]
async fn shown(n: u32) -> impl std::fmt::Display {
    n
}

fn main() {}
