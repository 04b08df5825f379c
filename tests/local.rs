//! Task-local storage: the older Curio tutorial's request tagging, and
//! inheritance rules.

mod util;

use curio::{Local, Result, Task, sleep, spawn};
use util::{take_log, vrun};

thread_local! {
    static REQUEST: Local<u32> = Local::new();
}

/// A synchronous logging function that tags each line with the request.
fn tagged(msg: &str) {
    let tag = REQUEST.with(|r| r.get());
    util::log(format!(
        "request {}: {msg}",
        tag.map_or("-".into(), |t| t.to_string())
    ));
}

#[curio::task]
async fn concurrent_helper(job: u32, delay: f64) -> Result<()> {
    tagged(&format!("running helper task {job}"));
    sleep(delay).await?;
    tagged(&format!("finished helper task {job}"));
    Ok(())
}

#[curio::task]
async fn handle_request(tag: u32) -> Result<()> {
    REQUEST.with(|r| r.set(tag));
    tagged("Request received");
    sleep(0.1 * f64::from(3 - tag)).await?;
    let first = spawn(concurrent_helper(1, 0.05 * f64::from(tag + 1))).await?;
    let second = spawn(concurrent_helper(2, 0.5)).await?;
    let helpers: Vec<Task<()>> = vec![first, second];
    for helper in helpers {
        helper.join().await?;
    }
    tagged("Request complete");
    Ok(())
}

#[curio::task]
async fn requests() -> Result<()> {
    let mut tasks: Vec<Task<()>> = Vec::new();
    for i in 0..3 {
        tasks.push(spawn(handle_request(i)).await?);
    }
    tagged("main has no tag");
    for task in tasks {
        task.join().await?;
    }
    Ok(())
}

#[test]
fn request_tags_are_task_local_and_inherited() {
    vrun(requests()).unwrap();
    assert_eq!(
        take_log(),
        [
            "request -: main has no tag",
            "request 0: Request received",
            "request 1: Request received",
            "request 2: Request received",
            "request 2: running helper task 1",
            "request 2: running helper task 2",
            "request 1: running helper task 1",
            "request 1: running helper task 2",
            "request 2: finished helper task 1",
            "request 1: finished helper task 1",
            "request 0: running helper task 1",
            "request 0: running helper task 2",
            "request 0: finished helper task 1",
            "request 2: finished helper task 2",
            "request 2: Request complete",
            "request 1: finished helper task 2",
            "request 1: Request complete",
            "request 0: finished helper task 2",
            "request 0: Request complete"
        ]
    );
}

#[curio::task]
async fn child_changes(local: Local<String>) -> Result<Option<String>> {
    let inherited = local.get();
    local.set("child".to_string());
    sleep(0.1).await?;
    util::log(format!("child sees {:?}", local.get()));
    Ok(inherited)
}

#[curio::task]
async fn inheritance(local: Local<String>) -> Result<()> {
    let before = spawn(child_changes(local)).await?;
    local.set("parent".to_string());
    let after = spawn(child_changes(local)).await?;
    let (b, a) = (before.join().await?, after.join().await?);
    util::log(format!("inherited {b:?} {a:?}"));
    util::log(format!("parent still {:?}", local.get()));
    local.clear();
    util::log(format!("cleared {:?}", local.get()));
    Ok(())
}

#[test]
fn children_get_a_copy_taken_at_spawn() {
    let local = Local::new();
    vrun(inheritance(local)).unwrap();
    assert_eq!(
        take_log(),
        [
            "child sees Some(\"child\")",
            "child sees Some(\"child\")",
            "inherited None Some(\"parent\")",
            "parent still Some(\"parent\")",
            "cleared None"
        ]
    );
    // Outside a task there is no current task.
    assert_eq!(local.get(), None);
    assert!(!local.set("nowhere".into()));
}
