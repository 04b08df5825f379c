#!/usr/bin/env python3
"""Build time and expansion size of `#[curio::task]` against a native
`async fn` with the same body, for functions of N awaits in four shapes.

    python3 scripts/compile_bench.py [N ...]        (default: 30 60 120 240)

Shapes:
  live   let a0 = tick(0).await?; ... Ok(a0 + a1 + ...)   every local live to the end
  chain  let a1 = tick(a0).await?; ...                     one local live at a time
  loop   N awaits in one loop body
  ifs    N `if`s, each with an await

Each function is built alone in a scratch crate (under target/compile-bench)
that depends on this workspace, with `cargo build` (the dev profile, not
incremental, so each build compiles the function again); the
dependencies are built once first, so a time is the crate's own. The table
prints the build time of the task and of the native `async fn`, their
ratio, and the expansion's lines (prettyplease-formatted, from the
macro's own expander: `cargo test -p curio-macros expand_file`).
"""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRATCH = os.path.join(ROOT, "target", "compile-bench")


def body(shape, n, awaited):
    """The function body; `awaited(expr)` spells an awaited tick."""
    if shape == "live":
        lines = [f"let a{i} = {awaited(str(i))}?;" for i in range(n)]
        total = " + ".join(f"a{i}" for i in range(n))
        return "\n    ".join(lines) + f"\n    Ok({total})"
    if shape == "chain":
        lines = ["let a0 = " + awaited("0") + "?;"]
        lines += [f"let a{i} = {awaited(f'a{i - 1} + 1')}?;" for i in range(1, n)]
        return "\n    ".join(lines) + f"\n    Ok(a{n - 1})"
    if shape == "loop":
        inner = "\n        ".join(f"s += {awaited(f'i + {k}')}?;" for k in range(n))
        return f"let mut s = 0;\n    for i in 0..3 {{\n        {inner}\n    }}\n    Ok(s)"
    if shape == "ifs":
        lines = [f"if s % {k % 3 + 2} == 0 {{ s += {awaited(str(k))}?; }}" for k in range(n)]
        return "let mut s = 0;\n    " + "\n    ".join(lines) + "\n    Ok(s)"
    raise ValueError(shape)


def task_source(shape, n):
    return f"""
#[curio::task]
pub async fn subject() -> curio::Result<i64> {{
    {body(shape, n, lambda e: f"tick({e}).await")}
}}
"""


def native_source(shape, n):
    return f"""
pub async fn subject() -> Result<i64, ()> {{
    {body(shape, n, lambda e: f"tick({e}).await")}
}}
"""


# Each side is driven to completion by a public function, so that the
# state machine is compiled to machine code (as in a program that runs it),
# not only type-checked.
PRELUDE_TASK = """
#[curio::task]
pub async fn tick(n: i64) -> curio::Result<i64> {
    Ok(n)
}

pub fn drive() -> i64 {
    curio::run(subject()).unwrap()
}
"""

PRELUDE_NATIVE = """
pub async fn tick(n: i64) -> Result<i64, ()> {
    Ok(n)
}

pub fn drive() -> i64 {
    let mut future = std::pin::pin!(subject());
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value.unwrap();
        }
    }
}
"""


def setup():
    os.makedirs(os.path.join(SCRATCH, "src"), exist_ok=True)
    with open(os.path.join(SCRATCH, "Cargo.toml"), "w") as f:
        f.write(f"""[package]
name = "compile-bench"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
curio = {{ path = "{ROOT}", package = "curio-kernel" }}

[workspace]
""")
    write_lib(PRELUDE_NATIVE + native_source("chain", 2))
    run_build()


def write_lib(text):
    with open(os.path.join(SCRATCH, "src", "lib.rs"), "w") as f:
        f.write("#![allow(unused)]\nuse std::future::Future;\n" + text)


def run_build():
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(SCRATCH, "target"), CARGO_INCREMENTAL="0")
    start = time.monotonic()
    result = subprocess.run(["cargo", "build", "-q"], cwd=SCRATCH, env=env,
                            capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stderr[-3000:]}")
    return elapsed


def build_time(text):
    """The best of two builds of `text` (the crate alone)."""
    best = None
    for _ in range(2):
        write_lib(text)
        elapsed = run_build()
        best = elapsed if best is None else min(best, elapsed)
    return best


def expansion_lines(text):
    path = os.path.join(SCRATCH, "expand.rs")
    with open(path, "w") as f:
        f.write(text.split("#[curio::task]", 1)[1])
    env = dict(os.environ, CURIO_EXPAND=path, RUST_MIN_STACK="268435456")
    out = subprocess.run(
        ["cargo", "test", "-q", "-p", "curio-macros", "--lib", "expand_file", "--",
         "--ignored", "--nocapture"],
        cwd=ROOT, env=env, capture_output=True, text=True).stdout
    start = out.index("running 1 test") + len("running 1 test\n")
    return len(out[start:].strip().splitlines())


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [30, 60, 120, 240]
    setup()
    print("| shape | N | curio build (s) | native build (s) | ratio | expansion lines | lines / N |")
    print("|---|---|---|---|---|---|---|")
    for shape in ["live", "chain", "loop", "ifs"]:
        for n in sizes:
            task = PRELUDE_TASK + task_source(shape, n)
            native = PRELUDE_NATIVE + native_source(shape, n)
            t_task = build_time(task)
            t_native = build_time(native)
            lines = expansion_lines(task_source(shape, n))
            print(f"| {shape} | {n} | {t_task:.2f} | {t_native:.2f} | {t_task / t_native:.2f} "
                  f"| {lines} | {lines / n:.0f} |", flush=True)


if __name__ == "__main__":
    main()
