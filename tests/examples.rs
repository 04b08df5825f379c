//! The examples print what Curio's tutorial prints (run fast, scaled).

use std::path::PathBuf;
use std::process::Command;

/// The built example binary. `cargo test` builds the examples before the
/// tests; a filtered run (`--test examples`) may not, so build it then.
fn example(name: &str) -> PathBuf {
    let mut path = std::env::current_exe().expect("test binary path");
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    let path = path.join("examples").join(name);
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", name])
            .status()
            .expect("run cargo");
        assert!(status.success(), "building example {name}");
    }
    path
}

fn run(name: &str, args: &[&str]) -> String {
    let out = Command::new(example(name))
        .args(args)
        .output()
        .expect("run the example");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn hello_kid_and_parent() {
    let countdown: String = (1..=10).rev().map(|n| format!("T-minus {n}\n")).collect();
    assert_eq!(
        run("hello", &["0.002"]),
        format!(
            "Building the Millenium Falcon in Minecraft\nLet's go\n{countdown}\
             We're leaving!\nI warned you!\nFine. Saving my work.\nLeaving!\n"
        )
    );
}

#[test]
fn hello_countdown() {
    let countdown: String = (1..=10).rev().map(|n| format!("T-minus {n}\n")).collect();
    assert_eq!(run("hello", &["0.001", "countdown"]), countdown);
}
