//! Every construct the transform accepts, run under a scripted driver, with
//! the exact event log (values, branches, drops) asserted.

mod util;

use curio::traps::sleep;
use curio::{Coroutine, Error, Step, Value};
use util::{Noisy, Reply, drive, log, run, take_log};

/// A leaf that yields a sleep trap and returns the scripted reply as an int.
fn ask(n: i64) -> curio::traps::TrapCall<i64> {
    curio::traps::TrapCall::new(curio::Trap::Sleep {
        seconds: n as f64,
        absolute: false,
    })
}

fn ints(values: &[i64]) -> Vec<Reply> {
    values
        .iter()
        .map(|v| Reply::Resume(Value::Int(*v)))
        .collect()
}

#[curio::task]
async fn countdown(mut n: u32) -> curio::Result<u32> {
    while n > 0 {
        log(format!("T-minus {n}"));
        sleep(1.0).await?;
        n -= 1;
    }
    Ok(n)
}

#[test]
fn while_loop_with_await() {
    assert_eq!(run(countdown(3)).unwrap(), 0);
    assert_eq!(
        take_log(),
        [
            "T-minus 3",
            "trap sleep 1",
            "T-minus 2",
            "trap sleep 1",
            "T-minus 1",
            "trap sleep 1"
        ]
    );
}

#[curio::task]
async fn branches(x: i64) -> i64 {
    let y = if x > 0 {
        ask(1).await.unwrap() + x
    } else if x == 0 {
        0
    } else {
        let z = ask(2).await.unwrap();
        z * x
    };
    let kind = match y {
        0 => "zero",
        n if n > 10 => {
            ask(3).await.unwrap();
            "big"
        }
        _ => "small",
    };
    log(format!("{x} -> {y} {kind}"));
    y
}

#[test]
fn if_else_if_and_match_with_guards() {
    assert_eq!(drive(&mut branches(5), ints(&[7, 0])), 12);
    assert_eq!(drive(&mut branches(0), vec![]), 0);
    assert_eq!(drive(&mut branches(-2), ints(&[-8, 0])), 16);
    assert_eq!(drive(&mut branches(1), ints(&[1])), 2);
    assert_eq!(
        take_log(),
        [
            "trap sleep 1",
            "trap sleep 3",
            "5 -> 12 big",
            "0 -> 0 zero",
            "trap sleep 2",
            "trap sleep 3",
            "-2 -> 16 big",
            "trap sleep 1",
            "1 -> 2 small",
        ]
    );
}

#[curio::task]
#[allow(clippy::never_loop)] // clippy misses the `continue 'outer`
async fn labelled(limit: i64) -> (i64, i64) {
    let mut found = (0, 0);
    let total = 'outer: loop {
        for i in 0..limit {
            let mut j = 0;
            while j < limit {
                let v = ask(i * 10 + j).await.unwrap();
                if v < 0 {
                    break 'outer -1;
                }
                if v == 1 {
                    j += 1;
                    continue;
                }
                if v == 2 {
                    continue 'outer;
                }
                if v == 9 {
                    found = (i, j);
                    break 'outer i * 100 + j;
                }
                j += 1;
            }
        }
        break 0;
    };
    log(format!("total {total}"));
    found
}

#[test]
fn labelled_break_continue_and_break_with_value() {
    // 00 01 10 11 -> replies 0, 1, 0, 9: found at (1, 1).
    assert_eq!(drive(&mut labelled(2), ints(&[0, 1, 0, 9])), (1, 1));
    // `continue 'outer` restarts the outer loop; then -1 breaks out.
    assert_eq!(drive(&mut labelled(2), ints(&[0, 2, -1])), (0, 0));
    assert_eq!(
        take_log(),
        [
            "trap sleep 0",
            "trap sleep 1",
            "trap sleep 10",
            "trap sleep 11",
            "total 101",
            "trap sleep 0",
            "trap sleep 1",
            "trap sleep 0",
            "total -1"
        ]
    );
}

#[curio::task]
async fn lets_and_patterns(pairs: Vec<(i64, Option<i64>)>) -> i64 {
    let mut sum = 0;
    for (a, b) in pairs {
        let Some(b) = b else {
            log(format!("skip {a}"));
            continue;
        };
        let (x, y) = (ask(a).await.unwrap(), ask(b).await.unwrap());
        if let (1, z) = (x, y) {
            sum += z;
        }
        let before = sum;
        let sum = std::convert::identity(before); // shadowing
        log(format!("sum {sum}"));
    }
    let mut queue = vec![3, 2];
    while let Some(item) = queue.pop() {
        sum += ask(item).await.unwrap();
    }
    sum
}

#[test]
fn let_patterns_let_else_if_let_while_let_and_shadowing() {
    let out = drive(
        &mut lets_and_patterns(vec![(1, Some(5)), (2, None), (3, Some(4))]),
        ints(&[1, 5, 1, 4, 100, 1000]),
    );
    assert_eq!(out, 1109);
    assert_eq!(
        take_log(),
        [
            "trap sleep 1",
            "trap sleep 5",
            "sum 5",
            "skip 2",
            "trap sleep 3",
            "trap sleep 4",
            "sum 9",
            "trap sleep 2",
            "trap sleep 3"
        ]
    );
}

fn pair(a: i64, b: i64) -> i64 {
    log(format!("pair {a} {b}"));
    a * 10 + b
}

fn side(label: &str, v: i64) -> i64 {
    log(format!("eval {label}"));
    v
}

#[derive(Debug, PartialEq)]
struct Point {
    x: i64,
    y: i64,
}

#[curio::task]
async fn positions() -> curio::Result<Vec<i64>> {
    let mut out = vec![];
    // Arguments: left to right, the impure one before the await is evaluated once.
    out.push(pair(side("a", 1), ask(2).await?));
    // Operands and method receivers.
    out.push(side("l", 3) + ask(4).await? * side("r", 2));
    // Conditions and match scrutinees.
    if ask(5).await? > 0 {
        out.push(match ask(6).await? {
            0 => 0,
            n => n,
        });
    }
    // Struct literals and the `for` iterable.
    let p = Point {
        x: side("x", 7),
        y: ask(8).await?,
    };
    out.push(p.x + p.y);
    for i in 0..ask(9).await? {
        out.push(i);
    }
    // A method on an awaited value, and an await in an index.
    out.push(ask(10).await?.pow(2));
    let table = [100, 200, 300];
    out.push(table[ask(11).await? as usize]);
    // Short circuits await only when they must.
    let t = side("t", 1) == 1 || ask(99).await? == 0;
    let f = side("f", 0) == 1 && ask(98).await? == 0;
    out.push(t as i64 * 10 + f as i64);
    Ok(out)
}

#[test]
fn await_in_every_expression_position_is_evaluated_left_to_right() {
    let out = drive(&mut positions(), ints(&[2, 4, 1, 6, 8, 2, 3, 1])).unwrap();
    assert_eq!(out, vec![12, 11, 6, 15, 0, 1, 9, 200, 10]);
    assert_eq!(
        take_log(),
        [
            "eval a",
            "trap sleep 2",
            "pair 1 2",
            "eval l",
            "trap sleep 4",
            "eval r",
            "trap sleep 5",
            "trap sleep 6",
            "eval x",
            "trap sleep 8",
            "trap sleep 9",
            "trap sleep 10",
            "trap sleep 11",
            "eval t",
            "eval f"
        ]
    );
}

#[curio::task]
async fn early(x: i64) -> curio::Result<i64> {
    let _a = Noisy("a");
    if x == 0 {
        return Ok(0);
    }
    let v = ask(x).await?;
    if v < 0 {
        return Err(Error::msg("negative"));
    }
    let _b = Noisy("b");
    let w: i64 = "12".parse::<i64>().map_err(Error::custom)?;
    Ok(v + w)
}

#[test]
fn early_return_and_question_mark_drop_in_order() {
    assert_eq!(run(early(0)).unwrap(), 0);
    assert_eq!(take_log(), ["drop a"]);
    assert_eq!(
        drive(&mut early(1), ints(&[-1])).unwrap_err().to_string(),
        "negative"
    );
    assert_eq!(take_log(), ["trap sleep 1", "drop a"]);
    assert_eq!(drive(&mut early(1), ints(&[5])).unwrap(), 17);
    assert_eq!(take_log(), ["trap sleep 1", "drop b", "drop a"]);
    // `?` on a thrown error propagates it, dropping live locals.
    assert!(
        drive(&mut early(1), vec![Reply::Throw(Error::cancelled())])
            .unwrap_err()
            .is_cancelled()
    );
    assert_eq!(take_log(), ["trap sleep 1", "drop a"]);
}

#[curio::task]
async fn option_question_mark(v: Vec<i64>) -> Option<i64> {
    // A copy, not a borrow of `v`: a task's state cannot point into itself.
    let first = *v.first()?;
    let n = ask(first).await.ok()?;
    Some(n + 1)
}

#[test]
fn question_mark_on_option() {
    assert_eq!(
        drive(&mut option_question_mark(vec![3]), ints(&[4])),
        Some(5)
    );
    assert_eq!(run(option_question_mark(vec![])), None);
    take_log();
}

/// A guard in the style of a lock: logs acquire and release.
struct Guard(&'static str);
impl Guard {
    fn acquire(name: &'static str) -> Guard {
        log(format!("acquire {name}"));
        Guard(name)
    }
    fn touch(&self) {
        log(format!("touch {}", self.0));
    }
}
impl Drop for Guard {
    fn drop(&mut self) {
        log(format!("release {}", self.0));
    }
}

#[curio::task]
async fn guarded() -> curio::Result<()> {
    let g = Guard::acquire("lock");
    g.touch();
    sleep(1.0).await?;
    log("after first await");
    {
        let _inner = Guard::acquire("inner");
        sleep(2.0).await?;
    }
    log("inner released");
    sleep(3.0).await?;
    Ok(())
}

#[test]
fn a_guard_held_across_await_stays_held_to_the_end_of_its_scope() {
    run(guarded()).unwrap();
    assert_eq!(
        take_log(),
        [
            "acquire lock",
            "touch lock",
            "trap sleep 1",
            "after first await",
            "acquire inner",
            "trap sleep 2",
            "release inner",
            "inner released",
            "trap sleep 3",
            "release lock"
        ]
    );
}

#[curio::task]
async fn holds_three() -> curio::Result<()> {
    let _first = Noisy("first");
    let second = Noisy("second");
    let moved = Noisy("moved");
    drop(moved);
    let _third = Noisy("third");
    sleep(1.0).await?;
    drop(second);
    Ok(())
}

#[test]
fn dropping_a_suspended_task_drops_its_live_locals_in_reverse_order() {
    let mut co = holds_three();
    assert!(co.resume(Value::None).into_trap().is_some());
    assert_eq!(take_log(), ["drop moved"]);
    drop(co);
    assert_eq!(take_log(), ["drop third", "drop second", "drop first"]);
}

#[curio::task]
async fn inner(label: &'static str) -> curio::Result<i64> {
    let _n = Noisy(label);
    let v = ask(1).await?;
    Ok(v)
}

#[curio::task]
async fn outer() -> curio::Result<i64> {
    let _o = Noisy("outer");
    let a = inner("inner-1").await?;
    let b = inner("inner-2").await?;
    Ok(a + b)
}

#[test]
fn nested_sub_tasks_forward_traps_throws_and_drops() {
    assert_eq!(drive(&mut outer(), ints(&[3, 4])).unwrap(), 7);
    assert_eq!(
        take_log(),
        [
            "trap sleep 1",
            "drop inner-1",
            "trap sleep 1",
            "drop inner-2",
            "drop outer"
        ]
    );
    // A throw reaches the innermost await; `?` unwinds both levels.
    let err = drive(
        &mut outer(),
        vec![
            Reply::Resume(Value::Int(1)),
            Reply::Throw(Error::timeout(1.0)),
        ],
    )
    .unwrap_err();
    assert!(matches!(err, Error::TaskTimeout(_)));
    assert_eq!(
        take_log(),
        [
            "trap sleep 1",
            "drop inner-1",
            "trap sleep 1",
            "drop inner-2",
            "drop outer"
        ]
    );
    // Dropping mid-way drops the sub-coroutine first, then the outer locals.
    let mut co = outer();
    let _ = co.resume(Value::None);
    drop(co);
    assert_eq!(take_log(), ["drop inner-1", "drop outer"]);
}

#[test]
fn traceback_follows_sub_coroutines() {
    let mut co = outer();
    let _ = co.resume(Value::None);
    let mut chain = Vec::new();
    co.traceback(&mut |loc| chain.push(format!("{} {}", loc.function, loc.awaiting)));
    assert_eq!(chain, ["outer inner(\"inner-1\")", "inner ask(1)"]);
    let here = co.location().unwrap();
    assert_eq!((here.function, here.file), ("inner", file!()));
    assert!(here.line > 0);
    drop(co);
    take_log();
}

#[curio::task]
async fn generic_sum<T, I>(items: I) -> curio::Result<T>
where
    T: std::iter::Sum<T> + Copy + 'static,
    I: IntoIterator<Item = T> + 'static,
{
    let mut all = Vec::new();
    for item in items {
        sleep(0.0).await?;
        all.push(item);
    }
    Ok(all.into_iter().sum())
}

#[test]
fn generic_functions_and_where_clauses() {
    assert_eq!(run(generic_sum(vec![1u8, 2, 3])).unwrap(), 6u8);
    assert_eq!(run(generic_sum([0.5f64, 0.25])).unwrap(), 0.75);
    take_log();
}

#[derive(Clone)]
struct Counter {
    name: String,
    step: i64,
}

impl Counter {
    /// `&self`: the coroutine keeps a clone of the handle.
    #[curio::task]
    async fn count(&self, n: i64) -> curio::Result<String> {
        let mut total = 0;
        for _ in 0..n {
            total += self.step;
            sleep(0.0).await?;
        }
        Ok(format!("{} counted {total}", self.name))
    }

    /// `self` by value: the coroutine owns it.
    #[curio::task]
    async fn consume(mut self) -> curio::Result<String> {
        self.step += 1;
        sleep(0.0).await?;
        Ok(format!("{} stepped {}", self.name, self.step))
    }
}

#[test]
fn methods_clone_or_own_self() {
    let co = {
        let c = Counter {
            name: "c".into(),
            step: 2,
        };
        c.count(3) // outlives `c`
    };
    assert_eq!(run(co).unwrap(), "c counted 6");
    assert_eq!(
        run(Counter {
            name: "d".into(),
            step: 1
        }
        .consume())
        .unwrap(),
        "d stepped 2"
    );
    take_log();
}

#[curio::task]
async fn closures_nested_fns_and_macros(values: Vec<i64>) -> curio::Result<i64> {
    fn double(x: i64) -> i64 {
        x * 2
    }
    let scale = |x: i64| -> i64 { double(x) + 1 };
    let first = ask(values[0]).await?;
    let mapped: Vec<i64> = values.iter().map(|v| scale(*v) + first).collect();
    assert_eq!(
        mapped.len(),
        values.len(),
        "lengths {} {}",
        mapped.len(),
        values.len()
    );
    log(format!("mapped {mapped:?}"));
    Ok(mapped.iter().sum())
}

#[test]
fn closures_nested_fns_and_macros_without_await() {
    assert_eq!(
        drive(&mut closures_nested_fns_and_macros(vec![1, 2]), ints(&[10])).unwrap(),
        3 + 5 + 20
    );
    assert_eq!(take_log(), ["trap sleep 1", "mapped [13, 15]"]);
}

#[curio::task]
async fn factorial(n: u64) -> u64 {
    if n <= 1 {
        return 1;
    }
    n * curio::boxed(factorial(n - 1)).await
}

#[test]
fn recursion_through_a_box() {
    assert_eq!(factorial(10).resume(Value::None), Step::Return(3628800));
}

#[test]
fn block_form_captures_by_move() {
    let name = String::from("block");
    let noisy = Noisy("captured");
    let mut co = curio::coroutine!(-> curio::Result<String> {
        let n = ask(1).await?;
        drop(noisy);
        Ok(format!("{name} {n}"))
    });
    assert_eq!(drive(&mut co, ints(&[4])).unwrap(), "block 4");
    assert_eq!(take_log(), ["trap sleep 1", "drop captured"]);
}

#[test]
fn block_form_as_an_argument() {
    #[curio::task]
    async fn twice<C: Coroutine<Output = i64> + 'static>(co: C) -> i64 {
        let v = co.await;
        v * 2
    }
    let base = 20;
    let out = drive(
        &mut twice(curio::coroutine!({ ask(1).await.unwrap() + base })),
        ints(&[1]),
    );
    assert_eq!(out, 42);
    take_log();
}

#[test]
fn location_is_none_for_leaves_and_unstarted_tasks() {
    assert!(sleep(1.0).location().is_none());
    assert!(outer().location().is_none());
}

#[test]
#[should_panic(expected = "has not started")]
fn throw_before_start_panics() {
    let _ = outer().throw(Error::cancelled());
}

#[derive(Clone)]
struct Handle<T> {
    items: std::rc::Rc<Vec<T>>,
}

impl<T: Clone + 'static> Handle<T> {
    /// A `&self` task in a generic impl: the coroutine owns a clone.
    #[curio::task]
    async fn nth(&self, n: usize) -> curio::Result<Option<T>> {
        sleep(0.0).await?;
        Ok(self.items.get(n).cloned())
    }
}

#[curio::task]
async fn show(item: impl std::fmt::Display + 'static) -> curio::Result<String> {
    sleep(0.0).await?;
    Ok(format!("<{item}>"))
}

#[test]
fn generic_impl_methods_and_impl_trait_arguments() {
    let handle = Handle {
        items: std::rc::Rc::new(vec!["a", "b"]),
    };
    assert_eq!(run(handle.nth(1)).unwrap(), Some("b"));
    assert_eq!(run(handle.nth(5)).unwrap(), None);
    assert_eq!(run(show(42)).unwrap(), "<42>");
    take_log();
}

#[curio::task]
async fn shadows() -> curio::Result<()> {
    let _outer = Noisy("outer");
    let outer = {
        log("same-block shadow");
        Noisy("outer-2")
    };
    for round in 0..2 {
        let outer = Noisy(if round == 0 { "inner-0" } else { "inner-1" });
        sleep(1.0).await?;
        log(format!("round {round} with {}", outer.0));
    }
    if let Some(outer) = Some(Noisy("pattern")) {
        sleep(2.0).await?;
        log(format!("pattern {}", outer.0));
    }
    sleep(3.0).await?;
    log(format!("end with {}", outer.0));
    Ok(())
}

#[test]
fn shadowed_locals_that_are_still_alive_drop_at_the_end_of_their_scope() {
    run(shadows()).unwrap();
    assert_eq!(
        take_log(),
        [
            "same-block shadow",
            "trap sleep 1",
            "round 0 with inner-0",
            "drop inner-0",
            "trap sleep 1",
            "round 1 with inner-1",
            "drop inner-1",
            "trap sleep 2",
            "pattern pattern",
            "drop pattern",
            "trap sleep 3",
            "end with outer-2",
            "drop outer-2",
            "drop outer",
        ]
    );
    // Dropped while suspended inside the loop: inner, then both outers.
    let mut co = shadows();
    let _ = co.resume(Value::None);
    take_log();
    drop(co);
    assert_eq!(take_log(), ["drop inner-0", "drop outer-2", "drop outer"]);
}

macro_rules! define_shadowing_task {
    ($name:ident) => {
        #[curio::task]
        async fn $name() -> curio::Result<()> {
            let guard = Noisy("outer guard");
            {
                let guard = Noisy("inner guard");
                sleep(1.0).await?;
                log(format!("holding {}", guard.0));
            }
            log("inner released");
            drop(guard);
            Ok(())
        }
    };
}

define_shadowing_task!(shadowing_from_a_macro);

#[test]
fn tasks_written_by_macro_rules_shadow_correctly() {
    run(shadowing_from_a_macro()).unwrap();
    assert_eq!(
        take_log(),
        [
            "trap sleep 1",
            "holding inner guard",
            "drop inner guard",
            "inner released",
            "drop outer guard"
        ]
    );
}

/// Awaits `f(seed)` after a sleep: a sub-coroutine built from a closure.
#[curio::task]
async fn apply(f: Box<dyn Fn(u32) -> u32>, seed: u32) -> curio::Result<u32> {
    sleep(0.0).await?;
    Ok(f(seed))
}

#[curio::task]
async fn closures_in_a_loop(n: u32) -> curio::Result<u32> {
    let mut total = 0;
    for i in 0..n {
        // The awaited expression is built in two arms (first iteration and
        // the next ones); each copy of the closure and of the block has its
        // own type, so the macro boxes this sub-coroutine.
        total += apply(Box::new(move |x| x + i), 1).await?;
        total += curio::coroutine!({
            sleep(0.0).await?;
            Ok::<u32, Error>(i * 10)
        })
        .await?;
    }
    Ok(total)
}

#[test]
fn closures_and_blocks_awaited_in_repeated_code() {
    // sum(1 + i) + sum(10 i) for i in 0..4 = 10 + 60
    assert_eq!(run(closures_in_a_loop(4)).unwrap(), 70);
    take_log();
}
