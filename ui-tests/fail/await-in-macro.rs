//! `.await` in a macro that evaluates its arguments only sometimes
//! (`debug_assert!` not at all in release builds) cannot be hoisted out of
//! it; the standard ones that always evaluate theirs (`println!`,
//! `format!`, `assert_eq!`'s operands, ...) are fine (`ui-tests/pass/`).
use curio::traps::clock;

#[curio::task]
async fn report() -> curio::Result<()> {
    debug_assert!(clock().await? >= 0.0);
    Ok(())
}

fn main() {}
