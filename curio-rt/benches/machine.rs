//! The generated state machine against a hand-written one for the same
//! logic: resume cost per step, three shapes (issue: within 1.2x).
//!
//! Run: `cargo bench -p curio-rt --bench machine`
//!
//! Each case drives a coroutine to completion, answering every trap at
//! once, and reports nanoseconds per resume (the median of several rounds)
//! for the generated and the hand-written machine, and their ratio.

use std::hint::black_box;
use std::time::Instant;

use curio::traps::TrapCall;
use curio::{Coroutine, Error, Location, Step, Trap, Value};

const STEPS: u64 = 1024;

/// The leaf every case awaits: the runtime's own trap coroutine (one trap,
/// then the reply as an integer), as every real task awaits.
type Tick = TrapCall<i64>;

fn tick() -> Tick {
    TrapCall::new(Trap::Clock)
}

// ---- 1. a 1024-step counter ------------------------------------------

#[curio::task]
async fn counter(n: u64) -> u64 {
    let mut total = 0;
    let mut i = 0;
    while i < n {
        total += tick().await.unwrap_or(0) as u64;
        i += 1;
    }
    total
}

struct HandCounter {
    n: u64,
    total: u64,
    i: u64,
    sub: Option<Tick>,
}

fn hand_counter(n: u64) -> HandCounter {
    HandCounter {
        n,
        total: 0,
        i: 0,
        sub: None,
    }
}

impl Coroutine for HandCounter {
    type Output = u64;
    #[inline]
    fn resume(&mut self, mut value: Value) -> Step<u64> {
        loop {
            if let Some(sub) = &mut self.sub {
                match sub.resume(value) {
                    Step::Trap(t) => return Step::Trap(t),
                    Step::Return(v) => {
                        self.sub = None;
                        self.total += v.unwrap_or(0) as u64;
                        self.i += 1;
                    }
                }
            } else {
                // Nothing awaited yet: the reply (the start's `None`) is
                // not needed. Consuming it here leaves no drop behind.
                value.discard();
            }
            if self.i >= self.n {
                return Step::Return(self.total);
            }
            self.sub = Some(tick());
            value = Value::None;
        }
    }
    fn throw(&mut self, _: Error) -> Step<u64> {
        Step::Return(self.total)
    }
}

// ---- 2. nested sub-coroutines, depth 8 --------------------------------

#[curio::task]
async fn depth1() -> u64 {
    counter(STEPS).await
}
/// `depthN` awaits `depth(N-1)` and adds one: eight levels of nesting.
macro_rules! nest {
    ($($name:ident => $inner:ident),* $(,)?) => {$(
        #[curio::task]
        async fn $name() -> u64 {
            $inner().await + 1
        }
    )*};
}

nest!(depth2 => depth1, depth3 => depth2, depth4 => depth3, depth5 => depth4, depth6 => depth5, depth7 => depth6, depth8 => depth7);

/// Hand-written "await the inner coroutine, then add one".
struct Plus1<C>(C);

impl<C: Coroutine<Output = u64>> Coroutine for Plus1<C> {
    type Output = u64;
    #[inline]
    fn resume(&mut self, value: Value) -> Step<u64> {
        match self.0.resume(value) {
            Step::Trap(t) => Step::Trap(t),
            Step::Return(v) => Step::Return(v + 1),
        }
    }
    fn throw(&mut self, e: Error) -> Step<u64> {
        match self.0.throw(e) {
            Step::Trap(t) => Step::Trap(t),
            Step::Return(v) => Step::Return(v + 1),
        }
    }
    fn traceback(&self, visit: &mut dyn FnMut(&'static Location)) {
        self.0.traceback(visit)
    }
}

/// Hand-written "await the inner coroutine" (depth 1 awaits the counter).
struct Await<C>(C);

impl<C: Coroutine<Output = u64>> Coroutine for Await<C> {
    type Output = u64;
    #[inline]
    fn resume(&mut self, value: Value) -> Step<u64> {
        self.0.resume(value)
    }
    fn throw(&mut self, e: Error) -> Step<u64> {
        self.0.throw(e)
    }
}

type HandDepth8 = Plus1<Plus1<Plus1<Plus1<Plus1<Plus1<Plus1<Await<HandCounter>>>>>>>>;

fn hand_depth8() -> HandDepth8 {
    Plus1(Plus1(Plus1(Plus1(Plus1(Plus1(Plus1(Await(
        hand_counter(STEPS),
    ))))))))
}

// ---- 3. a large live state: 256 bytes across every await -------------

#[curio::task]
async fn big_state(n: u64) -> u64 {
    let mut buf = [0u8; 256];
    let mut i = 0;
    while i < n {
        let slot = (i % 256) as usize;
        buf[slot] = buf[slot].wrapping_add(tick().await.unwrap_or(0) as u8);
        i += 1;
    }
    buf.iter().map(|b| u64::from(*b)).sum()
}

struct HandBig {
    n: u64,
    buf: [u8; 256],
    i: u64,
    sub: Option<Tick>,
}

fn hand_big(n: u64) -> HandBig {
    HandBig {
        n,
        buf: [0; 256],
        i: 0,
        sub: None,
    }
}

impl Coroutine for HandBig {
    type Output = u64;
    #[inline]
    fn resume(&mut self, mut value: Value) -> Step<u64> {
        loop {
            if let Some(sub) = &mut self.sub {
                match sub.resume(value) {
                    Step::Trap(t) => return Step::Trap(t),
                    Step::Return(v) => {
                        self.sub = None;
                        let slot = (self.i % 256) as usize;
                        self.buf[slot] = self.buf[slot].wrapping_add(v.unwrap_or(0) as u8);
                        self.i += 1;
                    }
                }
            } else {
                // Nothing awaited yet: the reply (the start's `None`) is
                // not needed. Consuming it here leaves no drop behind.
                value.discard();
            }
            if self.i >= self.n {
                return Step::Return(self.buf.iter().map(|b| u64::from(*b)).sum());
            }
            self.sub = Some(tick());
            value = Value::None;
        }
    }
    fn throw(&mut self, _: Error) -> Step<u64> {
        Step::Return(0)
    }
}

// ---- the same bodies as rustc's own `async fn`, for the state's size ----

/// A future the size of the leaf trap (never polled: only its size counts).
struct FutTick(#[allow(dead_code)] Tick);

impl std::future::Future for FutTick {
    type Output = curio::Result<i64>;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<curio::Result<i64>> {
        std::task::Poll::Pending
    }
}

fn fut_tick() -> FutTick {
    FutTick(tick())
}

async fn native_counter(n: u64) -> u64 {
    let mut total = 0;
    let mut i = 0;
    while i < n {
        total += fut_tick().await.unwrap_or(0) as u64;
        i += 1;
    }
    total
}

async fn native_depth1() -> u64 {
    native_counter(STEPS).await
}

macro_rules! native_nest {
    ($($name:ident => $inner:ident),* $(,)?) => {$(
        async fn $name() -> u64 {
            $inner().await + 1
        }
    )*};
}

native_nest!(
    native_depth2 => native_depth1, native_depth3 => native_depth2,
    native_depth4 => native_depth3, native_depth5 => native_depth4,
    native_depth6 => native_depth5, native_depth7 => native_depth6,
    native_depth8 => native_depth7,
);

async fn native_big(n: u64) -> u64 {
    let mut buf = [0u8; 256];
    let mut i = 0;
    while i < n {
        let slot = (i % 256) as usize;
        buf[slot] = buf[slot].wrapping_add(fut_tick().await.unwrap_or(0) as u8);
        i += 1;
    }
    buf.iter().map(|b| u64::from(*b)).sum()
}

// ---- the harness -------------------------------------------------------

/// Drives one coroutine to completion, as the kernel will: through
/// `dyn Coroutine`, so each resume is a real call. Returns (output, resumes).
#[inline(never)]
fn drive(co: &mut dyn Coroutine<Output = u64>) -> (u64, u64) {
    let mut resumes = 1;
    let mut step = co.resume(Value::None);
    loop {
        match step {
            Step::Return(v) => return (v, resumes),
            Step::Trap(_) => {
                resumes += 1;
                step = co.resume(black_box(Value::Int(1)));
            }
        }
    }
}

/// Median nanoseconds per resume over `rounds` rounds of `runs` runs.
fn measure<C: Coroutine<Output = u64>>(make: impl Fn() -> C, expect: u64) -> f64 {
    let (rounds, runs) = (15, 200);
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let mut resumes = 0;
        for _ in 0..runs {
            let mut co = black_box(make());
            let (out, n) = drive(&mut co);
            assert_eq!(out, expect);
            resumes += n;
        }
        samples.push(start.elapsed().as_nanos() as f64 / resumes as f64);
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[rounds / 2]
}

/// One case: measures (generated, hand-written) nanoseconds per resume.
type Case = dyn Fn() -> (f64, f64);

/// `MACHINE_ONLY=counter|hand-counter|…` runs one machine for a while, for
/// `perf stat` (instructions and cycles per resume).
fn only(which: &str) {
    let runs: u64 = std::env::var("MACHINE_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20_000);
    let mut resumes = 0;
    for _ in 0..runs {
        resumes += match which {
            "counter" => drive(&mut counter(STEPS)).1,
            "hand-counter" => drive(&mut hand_counter(STEPS)).1,
            "depth8" => drive(&mut depth8()).1,
            "hand-depth8" => drive(&mut hand_depth8()).1,
            "big" => drive(&mut big_state(STEPS)).1,
            "hand-big" => drive(&mut hand_big(STEPS)).1,
            other => panic!("unknown machine {other}"),
        };
    }
    println!("{which}: {resumes} resumes");
}

fn main() {
    if let Ok(which) = std::env::var("MACHINE_ONLY") {
        return only(&which);
    }
    // `cargo test --benches` runs this binary with `--bench` absent: keep it quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let cases: [(&str, Box<Case>); 3] = [
        (
            "1024-step counter",
            Box::new(|| {
                (
                    measure(|| counter(STEPS), STEPS),
                    measure(|| hand_counter(STEPS), STEPS),
                )
            }),
        ),
        (
            "nested depth 8",
            Box::new(|| (measure(depth8, STEPS + 7), measure(hand_depth8, STEPS + 7))),
        ),
        (
            "256-byte live state",
            Box::new(|| {
                (
                    measure(|| big_state(STEPS), STEPS),
                    measure(|| hand_big(STEPS), STEPS),
                )
            }),
        ),
    ];
    println!(
        "{:<22} {:>14} {:>14} {:>8}",
        "case", "generated ns", "hand ns", "ratio"
    );
    for (name, run) in cases.iter() {
        if quick {
            let (g, h) = run();
            assert!(g > 0.0 && h > 0.0);
            continue;
        }
        // Interleave to share the machine's noise fairly; keep the best ratio's inputs.
        let (g1, h1) = run();
        let (g2, h2) = run();
        let (g, h) = (g1.min(g2), h1.min(h2));
        println!("{name:<22} {g:>14.2} {h:>14.2} {:>7.2}x", g / h);
    }
    // The state's size: the generated coroutine, rustc's `async fn` with
    // the same body (issue: at most 1.25x), the hand-written machine.
    println!(
        "{:<22} {:>10} {:>10} {:>8} {:>10}",
        "size (bytes)", "generated", "async fn", "ratio", "hand"
    );
    let sizes = [
        (
            "1024-step counter",
            std::mem::size_of_val(&counter(STEPS)),
            std::mem::size_of_val(&native_counter(STEPS)),
            std::mem::size_of_val(&hand_counter(STEPS)),
        ),
        (
            "nested depth 8",
            std::mem::size_of_val(&depth8()),
            std::mem::size_of_val(&native_depth8()),
            std::mem::size_of_val(&hand_depth8()),
        ),
        (
            "256-byte live state",
            std::mem::size_of_val(&big_state(STEPS)),
            std::mem::size_of_val(&native_big(STEPS)),
            std::mem::size_of_val(&hand_big(STEPS)),
        ),
    ];
    for (name, generated, native, hand) in sizes {
        println!(
            "{name:<22} {generated:>10} {native:>10} {:>7.2}x {hand:>10}",
            generated as f64 / native as f64
        );
    }
}
