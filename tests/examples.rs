//! The examples print what Curio's tutorial prints (run fast, scaled).

mod util;

use std::process::Command;

use util::example;

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

#[test]
fn friends_final_version() {
    let out = run("friends", &["0.01", "--virtual"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.iter().filter(|l| **l == "Wha!?!").count(), 5);
    let tail: Vec<&str> = lines[lines
        .iter()
        .position(|l| l.starts_with("Building"))
        .unwrap()..]
        .to_vec();
    let mut expected = vec![
        "Building the Millenium Falcon in Minecraft",
        "Hi, my name is Max",
        "Playing Minecraft",
        "Hi, my name is Lillian",
        "Playing Minecraft",
        "Hi, my name is Thomas",
        "Playing Minecraft",
        "Let's go",
    ];
    let countdown: Vec<String> = (1..=10).rev().map(|n| format!("T-minus {n}")).collect();
    expected.extend(countdown.iter().map(String::as_str));
    expected.extend([
        "We're leaving!",
        "I warned you!",
        "Fine. Saving my work.",
        "Max going home",
        "Lillian going home",
        "Thomas going home",
        "Leaving!",
    ]);
    assert_eq!(tail, expected);
}

#[test]
fn prodcons() {
    let got: String = (0..10).map(|n| format!("Consumer got {n}\n")).collect();
    assert_eq!(run("prodcons", &[]), format!("{got}Producer done\n"));
}

#[test]
fn pubsub() {
    let expected: String = (0..10)
        .flat_map(|i| (1..=3).map(move |c| format!("child{c} got {i}\n")))
        .collect();
    assert_eq!(run("pubsub", &[]), expected);
}

#[test]
fn local_request_tags() {
    let out = run("local", &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 18);
    for tag in 0..3 {
        let mine = lines
            .iter()
            .filter(|l| l.starts_with(&format!("request {tag}:")))
            .count();
        assert_eq!(mine, 6, "request {tag}: received, 2 helpers x 2, complete");
    }
    assert_eq!(lines[0], "request 0: Request received");
}
