//! The differential oracle (DESIGN 4.7): generated programs run as a
//! `#[curio::task]` under a scripted driver and as a plain function whose
//! awaits are scripted calls; the traces must be identical, including when
//! the script throws at a suspension point or drops the task midway.
//!
//! The programs are in `oracle/generated.rs`, written by `oracle/gen.py`.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use curio::{Coroutine, Error, Step, Trap, Value};

thread_local! {
    static TRACE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static SCRIPT: RefCell<Option<Script>> = const { RefCell::new(None) };
}

fn trace(event: String) {
    TRACE.with(|t| t.borrow_mut().push(event));
}

fn take_trace() -> Vec<String> {
    TRACE.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

/// What the script does at the n-th suspension.
#[derive(Clone, Copy, Debug)]
enum Action {
    Resume(i64),
    Throw,
    Drop,
}

/// A deterministic script: resume with pseudo-random values, and throw or
/// drop at one chosen suspension.
#[derive(Clone, Debug)]
struct Script {
    seed: u64,
    at: usize,
    fault: Option<Action>,
    count: usize,
}

impl Script {
    fn new(seed: u64, at: usize, fault: Option<Action>) -> Self {
        Script {
            seed,
            at,
            fault,
            count: 0,
        }
    }

    fn next(&mut self) -> Action {
        let n = self.count;
        self.count += 1;
        if n == self.at
            && let Some(fault) = self.fault
        {
            return fault;
        }
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Action::Resume(((self.seed >> 33) % 13) as i64 - 3)
    }
}

struct Dropped;

// ---- the vocabulary of the generated programs ------------------------

struct N(&'static str, i64);

impl N {
    fn new(name: &'static str, value: i64) -> N {
        trace(format!("new {name} {value}"));
        N(name, value)
    }
    fn val(&self) -> i64 {
        self.1
    }
}

impl Drop for N {
    fn drop(&mut self) {
        trace(format!("drop {}", self.0));
    }
}

struct Pt {
    x: i64,
    y: i64,
}

impl Pt {
    fn sum(&self) -> i64 {
        self.x.wrapping_add(self.y)
    }
}

fn ev(tag: &str, value: i64) {
    trace(format!("{tag}={value}"));
}

fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

fn mix(a: i64, b: i64) -> i64 {
    trace(format!("mix {a} {b}"));
    a.wrapping_mul(3).wrapping_sub(b)
}

fn m3(x: i64) -> i64 {
    x.rem_euclid(3)
}

fn idx3(x: i64) -> usize {
    x.rem_euclid(3) as usize
}

fn flag(x: i64) -> bool {
    x.rem_euclid(2) == 0
}

fn opt(x: i64) -> Option<i64> {
    (x.rem_euclid(4) != 0).then_some(x)
}

fn check(x: i64) -> curio::Result<i64> {
    if x.rem_euclid(7) == 6 {
        Err(Error::msg(format!("check {x}")))
    } else {
        Ok(x)
    }
}

/// The task side: a leaf that suspends with the site number.
fn step(site: u32) -> curio::traps::TrapCall<i64> {
    curio::traps::TrapCall::new(Trap::Sleep {
        seconds: f64::from(site),
        absolute: false,
    })
}

/// The plain side: the same suspension as a call.
fn step_plain(site: u32) -> curio::Result<i64> {
    trace(format!("suspend {site}"));
    let action = SCRIPT.with(|s| s.borrow_mut().as_mut().expect("a script").next());
    match action {
        Action::Resume(v) => Ok(v),
        Action::Throw => Err(Error::cancelled()),
        Action::Drop => resume_unwind(Box::new(Dropped)),
    }
}

/// A generated program (its `_` parameter, a drop-logging value, is
/// passed by the closures).
pub struct Case {
    name: &'static str,
    task: fn(i64, i64) -> Box<dyn Coroutine<Output = curio::Result<i64>>>,
    plain: fn(i64, i64) -> curio::Result<i64>,
}

#[path = "oracle/generated.rs"]
mod generated;

fn outcome(result: curio::Result<i64>) -> String {
    match result {
        Ok(v) => format!("return Ok({v})"),
        Err(e) => format!("return Err({e})"),
    }
}

fn run_task(case: &Case, a: i64, b: i64, mut script: Script) -> Vec<String> {
    let mut co = (case.task)(a, b);
    let mut step = co.resume(Value::None);
    loop {
        match step {
            Step::Return(result) => {
                trace(outcome(result));
                break;
            }
            Step::Trap(Trap::Sleep { seconds, .. }) => {
                trace(format!("suspend {seconds}"));
                step = match script.next() {
                    Action::Resume(v) => co.resume(Value::Int(v)),
                    Action::Throw => co.throw(Error::cancelled()),
                    Action::Drop => {
                        drop(co);
                        trace("dropped".into());
                        break;
                    }
                };
            }
            Step::Trap(other) => panic!("unexpected trap {other:?}"),
        }
    }
    take_trace()
}

fn run_plain(case: &Case, a: i64, b: i64, script: Script) -> Vec<String> {
    SCRIPT.with(|s| *s.borrow_mut() = Some(script));
    match catch_unwind(AssertUnwindSafe(|| (case.plain)(a, b))) {
        Ok(result) => trace(outcome(result)),
        Err(payload) if payload.is::<Dropped>() => trace("dropped".into()),
        Err(payload) => resume_unwind(payload),
    }
    SCRIPT.with(|s| *s.borrow_mut() = None);
    take_trace()
}

#[test]
fn generated_programs_behave_like_plain_functions() {
    let cases = generated::cases();
    assert!(cases.len() >= 200, "the oracle needs at least 200 programs");
    let mut runs = 0;
    let mut suspensions = 0;
    let mut faults = 0;
    for (index, case) in cases.iter().enumerate() {
        for variant in 0..6u64 {
            let seed = index as u64 * 7919 + variant;
            let (a, b) = ((seed % 11) as i64 - 3, (seed % 5) as i64);
            let at = (seed % 5) as usize;
            let fault = match variant % 3 {
                0 => None,
                1 => Some(Action::Throw),
                _ => Some(Action::Drop),
            };
            let script = Script::new(seed, at, fault);
            let plain = run_plain(case, a, b, script.clone());
            let task = run_task(case, a, b, script);
            assert_eq!(
                task, plain,
                "program {} with a={a} b={b}, fault {fault:?} at suspension {at}",
                case.name
            );
            runs += 1;
            let count = plain.iter().filter(|e| e.starts_with("suspend")).count();
            suspensions += count;
            faults += usize::from(fault.is_some() && count > at);
        }
    }
    eprintln!("oracle: {runs} runs, {suspensions} suspensions, {faults} faults injected");
    assert!(
        faults > cases.len(),
        "the scripts must actually throw and drop"
    );
}

#[test]
fn generated_programs_are_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/generated.rs");
    let committed = std::fs::read_to_string(path).expect("generated.rs");
    let header = committed.lines().nth(1).expect("a header line");
    let args: Vec<&str> = header
        .trim_start_matches("// python3 tests/oracle/gen.py ")
        .split(' ')
        .take(4)
        .collect();
    let Ok(output) = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/gen.py"))
        .args(&args)
        .output()
    else {
        eprintln!("python3 not found: skipping the freshness check");
        return;
    };
    assert!(
        output.status.success(),
        "gen.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout) == committed,
        "tests/oracle/generated.rs is stale: regenerate it"
    );
}
