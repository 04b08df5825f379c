//! The developer guide's manual-driving walkthrough ("Coroutines" and
//! "Blocking Calls" in devel.txt): tasks driven by hand with send/throw.

use curio::traps::sleep;
use curio::{Coroutine, Error, Step, Trap, Value};

#[curio::task]
async fn greeting(name: String) -> String {
    format!("Hello {name}")
}

#[curio::task]
async fn main_task() -> curio::Result<&'static str> {
    sleep(10.0).await?;
    Ok("Awake at last!")
}

#[test]
fn a_task_that_never_blocks_finishes_on_the_first_resume() {
    let mut g = greeting("Dave".to_string());
    assert_eq!(
        g.resume(Value::None),
        Step::Return("Hello Dave".to_string())
    );
}

#[test]
fn a_sleeping_task_yields_its_trap_then_finishes() {
    let mut c = main_task();
    assert_eq!(
        c.resume(Value::None).into_trap(),
        Some(Trap::Sleep {
            seconds: 10.0,
            absolute: false
        })
    );
    assert!(matches!(
        c.resume(Value::None),
        Step::Return(Ok("Awake at last!"))
    ));
}

#[test]
fn throw_surfaces_as_the_error_of_the_suspended_await() {
    let mut c = main_task();
    let _ = c.resume(Value::None);
    match c.throw(Error::cancelled()) {
        Step::Return(Err(e)) => assert!(e.is_cancelled()),
        other => panic!("expected the cancellation back, got {other:?}"),
    }
}

#[test]
fn coroutines_calling_coroutines() {
    #[curio::task]
    async fn main() -> Vec<String> {
        let names = vec!["Dave", "Paula", "Thomas", "Lewis"];
        let mut out = Vec::new();
        for name in names {
            out.push(greeting(name.to_string()).await);
        }
        out
    }
    assert_eq!(
        main().resume(Value::None),
        Step::Return(vec![
            "Hello Dave".into(),
            "Hello Paula".into(),
            "Hello Thomas".into(),
            "Hello Lewis".into()
        ])
    );
}

#[test]
#[should_panic(expected = "resumed after completion")]
fn resuming_a_finished_task_panics() {
    let mut g = greeting("Dave".to_string());
    let _ = g.resume(Value::None);
    let _ = g.resume(Value::None);
}
