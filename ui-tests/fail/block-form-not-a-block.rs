fn main() {
    let _co = curio::coroutine!(42);
}
