use curio::traps::clock;

fn main() {
    let _co = curio::coroutine!({
        let now = clock().await?;
        Ok(now * 2.0)
    });
}
