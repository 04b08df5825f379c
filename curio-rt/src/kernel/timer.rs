//! The timer queue: sleeps and timeouts, one binary heap with lazy deletion.
//!
//! # A discussion about time
//!
//! Most timers never fire. A timeout guards an operation that usually
//! finishes first, and a cancelled sleep is forgotten. Curio keeps timers
//! that are due within a second in a heap and later ones in a dict, so that
//! cancelling a far timer is a dict deletion.
//!
//! Here every timer goes into one heap, and cancelling one costs nothing:
//! the task forgets the deadline (its `sleep` or `timeout` field no longer
//! holds it), and the heap entry becomes *stale*. Stale entries are dropped
//! when they reach the top. So that a program which arms and cancels
//! timeouts in a loop cannot grow the heap without bound, the kernel counts
//! cancellations, and when more than half the entries may be stale it
//! rebuilds the heap from the live ones (linear time, amortised over at
//! least as many cancellations).
//!
//! An entry is 24 bytes; pushing a deadline later than everything queued
//! (the common case: `now + timeout`) costs one comparison.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Which deadline of a task an entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimerKind {
    Sleep,
    Timeout,
}

/// One armed timer. Ordered by deadline, then task id, then kind, so that
/// timers due together fire in a fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    /// The deadline's bits: for non-negative floats, integer order is
    /// numeric order.
    deadline: u64,
    /// The task's id, checked against the task found at `key`.
    pub id: u64,
    pub kind: TimerKind,
    /// The task's key in the kernel's task table.
    pub key: u32,
}

impl Entry {
    pub fn deadline(&self) -> f64 {
        f64::from_bits(self.deadline)
    }
}

/// Deadlines of sleeping and timed tasks.
#[derive(Default)]
pub(crate) struct TimeQueue {
    heap: BinaryHeap<Reverse<Entry>>,
    /// An upper bound on the stale entries in `heap`.
    stale: usize,
}

impl TimeQueue {
    /// Arms a timer.
    pub fn push(&mut self, deadline: f64, key: usize, id: u64, kind: TimerKind) {
        self.heap.push(Reverse(Entry {
            deadline: deadline.max(0.0).to_bits(),
            id,
            kind,
            key: key as u32,
        }));
    }

    /// Notes that one entry went stale; rebuilds the heap from the entries
    /// `is_live` keeps when that pays.
    pub fn forget(&mut self, is_live: impl FnMut(&Entry) -> bool) {
        self.stale += 1;
        if self.stale > 1024 && self.stale * 2 > self.heap.len() {
            self.compact(is_live);
        }
    }

    fn compact(&mut self, mut is_live: impl FnMut(&Entry) -> bool) {
        self.heap.retain(|Reverse(entry)| is_live(entry));
        self.heap.shrink_to(self.heap.len() * 2);
        self.stale = 0;
    }

    /// The earliest live deadline, dropping stale entries on the way.
    pub fn next_deadline(&mut self, mut is_live: impl FnMut(&Entry) -> bool) -> Option<f64> {
        while let Some(Reverse(top)) = self.heap.peek() {
            if is_live(top) {
                return Some(top.deadline());
            }
            self.heap.pop();
            self.stale = self.stale.saturating_sub(1);
        }
        None
    }

    /// Removes and returns the next entry due at `now` (live or stale: the
    /// caller checks).
    pub fn pop_expired(&mut self, now: f64) -> Option<Entry> {
        match self.heap.peek() {
            Some(Reverse(top)) if top.deadline() <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// Entries queued, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(q: &mut TimeQueue, now: f64) -> Vec<(f64, u64)> {
        std::iter::from_fn(|| q.pop_expired(now))
            .map(|e| (e.deadline(), e.id))
            .collect()
    }

    /// Curio's test_timequeue: a@50, b@25, c@100.
    #[test]
    fn expired_in_deadline_order() {
        let mut q = TimeQueue::default();
        q.push(50.0, 0, 1, TimerKind::Sleep);
        q.push(25.0, 1, 2, TimerKind::Sleep);
        q.push(100.0, 2, 3, TimerKind::Sleep);
        assert_eq!(q.next_deadline(|_| true), Some(25.0));
        assert_eq!(due(&mut q, 25.0), vec![(25.0, 2)]);
        assert_eq!(due(&mut q, 101.0), vec![(50.0, 1), (100.0, 3)]);
        assert_eq!(q.next_deadline(|_| true), None);
    }

    #[test]
    fn stale_entries_are_skipped_and_compacted() {
        let mut q = TimeQueue::default();
        for id in 0..4000u64 {
            q.push(id as f64, id as usize, id, TimerKind::Timeout);
        }
        // Three timers in four are cancelled.
        for _ in 0..3000 {
            q.forget(|e| e.id % 4 == 0);
        }
        assert_eq!(q.len(), 1000, "the heap keeps only live entries");
        assert_eq!(q.next_deadline(|e| e.id % 4 == 0 && e.id > 10), Some(12.0));
    }
}
