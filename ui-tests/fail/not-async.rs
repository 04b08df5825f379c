#[curio::task]
fn greeting(name: String) -> String {
    format!("Hello {name}")
}

fn main() {}
