//! `?` inside an argument a macro evaluates only sometimes (an `assert!`'s
//! message) would return from the generated step function; the macro asks
//! to bind the value first.

fn parse(s: &str) -> curio::Result<u32> {
    s.parse().map_err(curio::Error::custom)
}

#[curio::task]
async fn shout(text: String) -> curio::Result<()> {
    curio::sleep(0.0).await?;
    assert!(!text.is_empty(), "{}", parse(&text)?);
    Ok(())
}

fn main() {
    let _ = shout(String::new());
}
