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
    let tag = REQUEST.with(|r| r.get()).expect("inside a task");
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
    REQUEST.with(|r| r.set(tag))?;
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
    let inherited = local.get()?;
    local.set("child".to_string())?;
    sleep(0.1).await?;
    let now = local.get()?;
    util::log(format!("child sees {now:?}"));
    Ok(inherited)
}

#[curio::task]
async fn inheritance(local: Local<String>) -> Result<()> {
    let before = spawn(child_changes(local)).await?;
    local.set("parent".to_string())?;
    let after = spawn(child_changes(local)).await?;
    let (b, a) = (before.join().await?, after.join().await?);
    util::log(format!("inherited {b:?} {a:?}"));
    let still = local.get()?;
    util::log(format!("parent still {still:?}"));
    local.clear()?;
    let cleared = local.get()?;
    util::log(format!("cleared {cleared:?}"));
    // A second `del local.attr` is Curio's AttributeError.
    let again = local.clear().unwrap_err();
    util::log(format!("{again}"));
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
            "cleared None",
            "the task-local has no value to clear"
        ]
    );
    // Outside a task there is no current task: Curio's RuntimeError.
    let outside = "Accessing task local outside of the task context";
    assert_eq!(local.get().unwrap_err().to_string(), outside);
    assert_eq!(
        local.set("nowhere".into()).unwrap_err().to_string(),
        outside
    );
    assert_eq!(local.clear().unwrap_err().to_string(), outside);
}

/// Keys are unique across threads: a `Local` made in another thread is a
/// different variable from one made here, even in one kernel.
#[curio::task]
async fn two_keys(mine: Local<u32>, theirs: Local<u32>) -> Result<(Option<u32>, Option<u32>)> {
    mine.set(1)?;
    Ok((mine.get()?, theirs.get()?))
}

#[test]
fn locals_made_in_different_threads_never_share_storage() {
    let theirs = std::thread::spawn(Local::<u32>::new).join().unwrap();
    let mine = Local::<u32>::new();
    assert_eq!(vrun(two_keys(mine, theirs)).unwrap(), (Some(1), None));
}
