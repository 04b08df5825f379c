//! Ordinary async Rust, as acceptance testing wrote it (issue 13): each body
//! is compiled twice from the same tokens, as a `#[curio::task]` and as a
//! native `async fn`, and both must give the same result and the same event
//! log (drops included). The native side runs on a waker that is never used:
//! its `tick` never pends.

// The shapes are the ones users write, not the ones clippy prefers.
#![allow(
    clippy::needless_late_init,
    clippy::match_single_binding,
    clippy::single_match,
    clippy::unnecessary_literal_unwrap
)]

mod util;

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use curio::{Coroutine, Step, Value};
use util::{log, take_log};

/// The task side's vocabulary: `tick` suspends once (a sleep trap).
mod task_side {
    pub use super::util::log;

    #[curio::task]
    pub async fn tick(n: i64) -> curio::Result<i64> {
        log(format!("tick {n}"));
        curio::traps::sleep(0.0).await?;
        Ok(n)
    }
}

/// The native side's vocabulary: the same `tick` as a plain `async fn`.
mod native_side {
    pub use super::util::log;

    pub async fn tick(n: i64) -> curio::Result<i64> {
        log(format!("tick {n}"));
        Ok(n)
    }
}

fn run_task<C: Coroutine>(mut co: C) -> C::Output {
    let mut step = co.resume(Value::None);
    loop {
        match step {
            Step::Return(out) => return out,
            Step::Trap(_) => step = co.resume(Value::None),
        }
    }
}

fn run_native<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the native side never pends"),
    }
}

/// A value that logs its creation and its drop.
#[derive(Debug)]
struct D(&'static str, i64);

impl D {
    fn new(name: &'static str) -> D {
        log(format!("new {name}"));
        D(name, name.len() as i64)
    }
    fn take_it(self) -> i64 {
        log(format!("take {}", self.0));
        self.1
    }
}

impl Drop for D {
    fn drop(&mut self) {
        log(format!("drop {}", self.0));
    }
}

fn idx(label: &str, i: usize) -> usize {
    log(format!("index {label}"));
    i
}

/// Defines `$name::task::run` and `$name::native::run` from one body, and a
/// test that runs both with each argument list and compares results and logs.
macro_rules! both {
    ($name:ident ($($params:tt)*) -> $ret:ty $body:block
     with [$(($($val:expr),*)),+ $(,)?]) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            pub mod task {
                #[allow(unused_imports)]
                use super::super::{task_side::*, D, idx, HashMap};
                #[curio::task]
                pub async fn run($($params)*) -> $ret $body
            }
            pub mod native {
                #[allow(unused_imports)]
                use super::super::{native_side::*, D, idx, HashMap};
                pub async fn run($($params)*) -> $ret $body
            }
            #[test]
            fn same_as_async_fn() {
                $(
                    take_log();
                    let native = format!("{:?}", run_native(native::run($($val),*)));
                    let native_log = take_log();
                    let task = format!("{:?}", run_task(task::run($($val),*)));
                    let task_log = take_log();
                    assert_eq!((&task, &task_log), (&native, &native_log),
                        "arguments {:?}", ($($val,)*));
                    assert!(!native_log.is_empty() || native.contains("Ok"));
                )+
            }
        }
    };
}

// 1. `.await` inside a let-else's `else`.
both!(let_else_awaits_in_else(s: i64) -> curio::Result<i64> {
    let Some(n) = s.checked_sub(1).filter(|n| *n >= 0) else {
        tick(0).await?;
        return Ok(-1);
    };
    log(format!("n = {n}"));
    Ok(n)
} with [(0), (5)]);

// 2. Compound assignment to a place that is not a plain path, with an
// awaited right-hand side, in Rust's evaluation order for primitive
// operands (the value first, then the place). With an overloaded operator
// (`String += &str`) Rust evaluates the place first; the machine evaluates
// the awaited value first there too (README, deviations), which shows only
// when the place has side effects.
both!(compound_assignment_to_places(k: usize) -> curio::Result<(Vec<i64>, HashMap<&'static str, i64>, Vec<String>)> {
    let mut counts = vec![0i64; 3];
    counts[idx("counts", k)] += tick(5).await?;
    counts[k] *= tick(3).await?;
    let mut m = HashMap::new();
    *m.entry("a").or_insert(0) += tick(5).await?;
    *m.entry("a").or_insert(0) -= tick(1).await?;
    let mut words = vec![String::from("x"), String::from("y")];
    words[k % 2] += &tick(7).await?.to_string();
    Ok((counts, m, words))
} with [(0), (2)]);

// 3. Deferred initialisation.
both!(deferred_initialisation(c: bool) -> curio::Result<i64> {
    let x;
    if c {
        x = tick(1).await?;
    } else {
        x = 2;
    }
    let d: D;
    tick(3).await?;
    d = D::new("late");
    log(format!("x = {x}, d = {}", d.0));
    tick(4).await?;
    Ok(x)
} with [(true), (false)]);

// 4. Inference through a loop.
both!(inference_through_a_loop(n: i64) -> curio::Result<i64> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(tick(i - 1).await?);
    }
    Ok(out.iter().map(|x| x.abs()).sum())
} with [(0), (3)]);

// 6. Temporaries of a scrutinee or iterable live to the end of the
// `match`, `if let`, `while let` or `for`.
both!(scrutinee_temporaries_live_to_the_end(n: i64) -> curio::Result<i64> {
    let mut total = 0;
    match D::new("match tmp").0.len() {
        len => {
            total += tick(len as i64).await?;
            log("arm end");
        }
    }
    if let Some(v) = Some(D::new("if-let tmp").1).filter(|v| *v > n) {
        total += tick(v).await?;
        log("if-let end");
    }
    let mut left = 2;
    while let Some(v) = Some(D::new("while-let tmp").1).filter(|_| left > 0) {
        left -= 1;
        total += tick(v).await?;
        log("while-let body end");
    }
    for i in 0..D::new("for tmp").1.min(2) {
        total += tick(i).await?;
        log("for body end");
    }
    log("after the loops");
    Ok(total)
} with [(0), (100)]);

// 7. `_` parameters (and `_` parts of pattern parameters) are kept to the
// end of the body.
both!(ignored_parameters_live_to_the_end(_: D, (n, _): (i64, D)) -> curio::Result<i64> {
    tick(n).await?;
    log("body end");
    Ok(n)
} with [(D::new("first"), (1, D::new("second")))]);

// 8. A reference dead before the `.await` holds nothing across it.
both!(references_dead_at_the_await(msg: Option<String>) -> curio::Result<i64> {
    let mut v = vec![3, 4];
    let first = &v[0];
    let n = *first;
    tick(n).await?;
    let r = &mut v;
    r.push(2);
    tick(0).await?;
    let mut total = v.len() as i64;
    match &msg {
        Some(s) => {
            let len = s.len() as i64;
            total += tick(len).await?;
        }
        None => {}
    }
    Ok(total)
} with [(Some(String::from("hello"))), (None::<String>)]);

// 9. Partial moves and moves out of a box before an `.await`: the macro
// cannot tell a move of a field from a copy, so a local whose scope goes
// on across the `.await` is moved as a whole (destructured, or `*{ b }`),
// which it sees. Drops stay where Rust has them.
both!(partial_moves_written_as_whole_moves(k: i64) -> curio::Result<i64> {
    let (left, right) = (D::new("left"), D::new("right"));
    tick(k).await?;
    drop(left);
    tick(k).await?;
    let b = Box::new(D::new("boxed"));
    let inner: D = *{ b };
    tick(inner.1).await?;
    log("before the end");
    Ok(right.1)
} with [(1)]);

// 10. A consuming method on a local (the macro knows `into_*`, `unwrap*`
// and the standard consuming combinators; any other is written as a call
// of the type's function, or on a moved value `{ x }`).
both!(consuming_methods_before_the_await(k: i64) -> curio::Result<i64> {
    let opt = D::new("consumed");
    let v = D::take_it(opt);
    tick(v).await?;
    let kept = D::new("kept");
    let w = tick(k).await? + { kept }.take_it();
    let o = Some(D::new("option"));
    tick(k).await?;
    let inner = o.unwrap();
    Ok(v + w + inner.1)
} with [(2)]);

// Guards and let chains that await (accepted as async Rust accepts them).
both!(guards_that_await(n: i64) -> curio::Result<&'static str> {
    let d = D::new("scrutinee");
    Ok(match (n, d) {
        (0, _) => "zero",
        (m, ref held) if held.1 > 0 && tick(m).await? > 10 => "big",
        (m, _) if tick(m * 2).await? > 10 => "medium",
        _ => "small",
    })
} with [(0), (3), (6), (20)]);

both!(let_chains_that_await(v: Option<i64>) -> curio::Result<bool> {
    if let Some(n) = v
        && tick(n).await? > 2
        && let Some(m) = n.checked_mul(2)
        && tick(m).await? > 10
    {
        log("inside");
        return Ok(true);
    }
    Ok(false)
} with [(None::<i64>), (Some(1)), (Some(4)), (Some(9))]);

struct Builder(i64);

impl Builder {
    #[curio::task]
    async fn build(self) -> curio::Result<i64> {
        task_side::tick(self.0).await
    }
}

/// A method taking `self` by value, awaited on a parameter: written as the
/// type's function (the macro cannot see that `build` consumes `b`).
#[curio::task]
async fn consumes_self_result(b: Builder) -> curio::Result<i64> {
    let v = Builder::build(b).await?;
    Ok(v + 1)
}

#[test]
fn a_consuming_method_on_self_is_awaited() {
    assert_eq!(run_task(consumes_self_result(Builder(4))).unwrap(), 5);
    assert_eq!(take_log(), ["tick 4"]);
}

// A local moved before the next `.await`, with an early `return` or `?`
// before the move (the echo server's `let (n, data) = …; if n == 0 {
// return } … sendall(data).await`): it stays an ordinary local, and the
// drops on every path are an `async fn`'s, in the same order.
both!(moved_after_an_early_exit(k: i64) -> curio::Result<i64> {
    let a = D::new("a");
    let data = D::new("data");
    if k == 0 {
        return Ok(-1);
    }
    let checked = if k < 0 { Err(curio::Error::msg("negative")) } else { Ok(k) }?;
    let got = tick(D::take_it(data) + checked).await?;
    log(format!("a is {}", a.0));
    Ok(got)
} with [(0), (-1), (3)]);

// The same with a local declared between the declaration and the exit:
// the order of drops on the exit must stay "latest first".
both!(declared_between_then_exit(k: i64) -> curio::Result<i64> {
    let data = D::new("data");
    let later = D::new("later");
    if k == 0 {
        return Ok(-1);
    }
    let got = tick(D::take_it(data)).await?;
    log(format!("{} {}", later.0, got));
    Ok(got)
} with [(0), (2)]);

// `.await` and `?` in the arguments of the standard macros that evaluate
// every argument in order: the arguments are evaluated first, in order,
// as an `async fn` evaluates them; places are named where they are.
both!(awaits_in_standard_macros(k: i64) -> curio::Result<(String, Vec<i64>, i64)> {
    use std::fmt::Write;
    let name = String::from("n");
    let line = format!("{name} {} {}", tick(k).await?, tick(k + 1).await? * 2);
    log(line.clone());
    let v = vec![k, tick(3).await?, name.len() as i64];
    assert_eq!(tick(v[1]).await?, 3, "three");
    assert!(tick(1).await? > 0, "positive");
    let mut out = String::new();
    write!(out, "{} {k}", tick(4).await?).unwrap();
    let parsed = format!("{}", "7".parse::<i64>().map_err(curio::Error::custom)?);
    log(format!("{out} {parsed} {five}", five = tick(5).await?));
    let n = format!("{name}!").len() as i64 + tick(vec![tick(6).await?; 2].len() as i64).await?;
    Ok((line, v, n))
} with [(1), (2)]);
