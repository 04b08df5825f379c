//! Every rejection of `#[curio::task]` and `coroutine!`, pinned with its
//! reviewed message (`ui-tests/fail`), and accepted tricky shapes
//! (`ui-tests/pass`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui-tests/fail/*.rs");
    t.pass("ui-tests/pass/*.rs");
}
