//! The worker threads behind `run_in_thread`: up to [`MAX_WORKERS`]
//! (Curio's limit), started on demand, each leaving after
//! [`KEEP_ALIVE`] without work. A job that finds every worker busy and the
//! pool full waits in the queue, in order.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// The most worker threads at once (Curio's `MAX_WORKER_THREADS`).
pub const MAX_WORKERS: usize = 64;

/// How long an idle worker waits for a job before it leaves.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    state: Mutex<State>,
    work: Condvar,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Workers alive.
    workers: usize,
    /// Workers waiting for a job.
    idle: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State::default()),
        work: Condvar::new(),
    })
}

/// Runs `job` on a worker thread, starting one if none is idle and the
/// pool is not full.
pub fn submit(job: Job) {
    let pool = pool();
    let mut state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
    state.jobs.push_back(job);
    if state.idle > 0 {
        drop(state);
        pool.work.notify_one();
        return;
    }
    if state.workers < MAX_WORKERS {
        state.workers += 1;
        drop(state);
        let started = std::thread::Builder::new()
            .name("curio-worker".into())
            .spawn(work);
        if started.is_err() {
            // No thread: the job waits for a worker that exists, or, if
            // there is none, runs here (it must not be lost).
            let mut state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.workers -= 1;
            if state.workers == 0 {
                let job = state.jobs.pop_back();
                drop(state);
                if let Some(job) = job {
                    job();
                }
            }
        }
    }
}

/// The number of worker threads alive now.
pub fn workers() -> usize {
    pool()
        .state
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .workers
}

/// A worker: runs jobs until none comes for [`KEEP_ALIVE`].
fn work() {
    let pool = pool();
    let mut state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            // The job catches its own panics (see `run_in_thread`).
            job();
            state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        state.idle += 1;
        let (next, timeout) = pool
            .work
            .wait_timeout(state, KEEP_ALIVE)
            .unwrap_or_else(PoisonError::into_inner);
        state = next;
        state.idle -= 1;
        if timeout.timed_out() && state.jobs.is_empty() {
            state.workers -= 1;
            return;
        }
    }
}
