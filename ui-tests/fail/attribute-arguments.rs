#[curio::task(daemon)]
async fn background() {}

fn main() {}
