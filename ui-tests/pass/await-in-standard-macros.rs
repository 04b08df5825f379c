//! `.await` and `?` in the arguments of the standard macros that always
//! evaluate them: hoisted, in order, before the macro runs.
use curio::traps::clock;

#[curio::task]
async fn report(tag: String) -> curio::Result<String> {
    println!("{tag}: now {}", clock().await?);
    let v = vec![clock().await?, 1.0];
    assert_eq!(v.len(), 2);
    Ok(format!("{} {}", v[1], "3".parse::<u8>().map_err(curio::Error::custom)?))
}

fn main() {
    let _ = report(String::new());
}
