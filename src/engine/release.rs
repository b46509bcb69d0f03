//! When a finished connection is written: the one queue of connections that
//! ended and wait, and its rules. The one-thread loop
//! ([`super::headless`]) runs it as frames come; the sharded writer
//! ([`super::sharded`]) runs the same queue over the frames the shards
//! report, so its connections are written when, and in the order, one thread
//! writes them.
//!
//! The rules:
//! - **ended**: a connection that ended joins the back of the queue, with the
//!   time of its last segment;
//! - **late**: a segment that comes after its end still belongs to it (a late
//!   ACK, an RST after both FINs, a FIN retransmitted and answered from
//!   TIME-WAIT), and its wait runs from that segment;
//! - **due**: the oldest is written once [`AFTER_CLOSE`] has passed since its
//!   last segment (on the capture's clock), or at once when more than the
//!   limit wait (so a tracker that keeps `--max-connections` finished ones
//!   never drops one unwritten). One that waits holds back those that ended
//!   after it.

use std::collections::VecDeque;
use std::time::Duration;

use crate::model::segment::Timestamp;
use crate::model::tracker::Limits;

/// How long a connection that ended is kept before it is written: segments
/// that come after its close (a late ACK, an RST after both FINs, a FIN
/// retransmitted after the minimum retransmission timeout of 200 ms and
/// answered from TIME-WAIT) still belong to it and are written with it.
/// Measured on the capture's clock (and on the wall clock while a live
/// capture or a stream is idle).
pub const AFTER_CLOSE: Duration = Duration::from_secs(1);

/// Connections that ended, oldest first, each with the time of its last
/// segment as far as the queue was told. `T` names a connection: its id in
/// the one tracker, or its shard and its id there.
#[derive(Debug)]
pub struct Queue<T> {
    waiting: VecDeque<(T, Timestamp)>,
    /// More than this many waiting: the oldest is due at once.
    limit: usize,
}

impl<T: Copy + PartialEq> Queue<T> {
    /// A queue for a run that keeps `limits.finished` finished connections:
    /// at most one fewer wait.
    #[must_use]
    pub fn new(limits: &Limits) -> Queue<T> {
        Queue { waiting: VecDeque::new(), limit: limits.finished.saturating_sub(1) }
    }

    /// Connections waiting.
    #[must_use]
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// None waits.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// The `i`-th waiting, from the oldest (to load it before its turn).
    #[must_use]
    pub fn get(&self, i: usize) -> Option<T> {
        self.waiting.get(i).map(|&(who, _)| who)
    }

    /// Connection `who` ended; its last segment came at `last`.
    pub fn ended(&mut self, who: T, last: Timestamp) {
        self.waiting.push_back((who, last));
    }

    /// A segment of connection `who` came after its end, at `last`: its
    /// wait runs from then (if it still waits).
    pub fn late(&mut self, who: T, last: Timestamp) {
        if let Some(w) = self.waiting.iter_mut().rev().find(|(w, _)| *w == who) {
            w.1 = last;
        }
    }

    /// From when the oldest is due, by what the queue was told of it: at
    /// once (`Timestamp(0)`) when more wait than the limit. `None` when none
    /// waits, or its time is past the last time there is.
    #[must_use]
    pub fn due_from(&self) -> Option<Timestamp> {
        let &(_, last) = self.waiting.front()?;
        if self.waiting.len() > self.limit {
            return Some(Timestamp(0));
        }
        due_at(last)
    }

    /// Takes the oldest if it is due at `now` (with `None`, the input ended:
    /// every one is). `last` gives the time of its last segment when the
    /// caller knows it better than the queue (a tracker that took its late
    /// segments without telling the queue); `None`: as the queue was told.
    pub fn pop_due(&mut self, now: Option<Timestamp>, last: impl FnOnce(T) -> Option<Timestamp>) -> Option<T> {
        if let Some(now) = now {
            // Not due even by what the queue knows (a lower bound): no need to ask.
            if self.due_from().is_none_or(|at| now < at) {
                return None;
            }
            let &(who, _) = self.waiting.front()?;
            if self.waiting.len() <= self.limit
                && let Some(last) = last(who)
                && due_at(last).is_none_or(|at| now < at)
            {
                return None;
            }
        }
        self.waiting.pop_front().map(|(who, _)| who)
    }
}

/// The first time at which a connection whose last segment came at `last`
/// is due by time (none when that is past the last time there is).
fn due_at(last: Timestamp) -> Option<Timestamp> {
    let wait = u64::try_from(AFTER_CLOSE.as_nanos()).unwrap_or(u64::MAX);
    last.0.checked_add(wait).map(Timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    fn queue(finished: usize) -> Queue<u64> {
        Queue::new(&Limits { finished, ..Limits::default() })
    }

    #[test]
    fn the_oldest_goes_a_second_after_its_last_segment_and_holds_back_the_others() {
        let mut q = queue(100);
        q.ended(1, Timestamp(5 * SECOND));
        q.ended(2, Timestamp(SECOND));
        assert_eq!(q.due_from(), Some(Timestamp(6 * SECOND)));
        assert_eq!(q.pop_due(Some(Timestamp(6 * SECOND - 1)), |_| None), None);
        assert_eq!(q.pop_due(Some(Timestamp(6 * SECOND)), |_| None), Some(1));
        // Due long ago, and only now its turn.
        assert_eq!(q.pop_due(Some(Timestamp(6 * SECOND)), |_| None), Some(2));
        assert_eq!(q.pop_due(None, |_| None), None);
    }

    #[test]
    fn a_late_segment_moves_the_wait_on_whoever_tells_it() {
        let mut told = queue(100);
        told.ended(1, Timestamp(SECOND));
        told.late(1, Timestamp(SECOND + 500));
        assert_eq!(told.pop_due(Some(Timestamp(2 * SECOND)), |_| None), None);
        assert_eq!(told.pop_due(Some(Timestamp(2 * SECOND + 500)), |_| None), Some(1));
        // Not told: asked at its turn.
        let mut asked = queue(100);
        asked.ended(1, Timestamp(SECOND));
        assert_eq!(asked.pop_due(Some(Timestamp(2 * SECOND)), |_| Some(Timestamp(SECOND + 500))), None);
        assert_eq!(asked.pop_due(Some(Timestamp(2 * SECOND + 500)), |_| Some(Timestamp(SECOND + 500))), Some(1));
    }

    #[test]
    fn past_the_limit_the_oldest_goes_at_once() {
        let mut q = queue(3);
        q.ended(1, Timestamp(SECOND));
        q.ended(2, Timestamp(SECOND));
        assert_eq!(q.pop_due(Some(Timestamp(SECOND)), |_| None), None);
        q.ended(3, Timestamp(SECOND));
        assert_eq!(q.due_from(), Some(Timestamp(0)));
        assert_eq!(q.pop_due(Some(Timestamp(SECOND)), |_| Some(Timestamp(SECOND))), Some(1));
        assert_eq!(q.pop_due(Some(Timestamp(SECOND)), |_| None), None);
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn at_the_end_every_one_goes_and_at_the_end_of_time_none_is_due_by_time() {
        let mut q = queue(100);
        q.ended(1, Timestamp(u64::MAX));
        assert_eq!(q.due_from(), None);
        assert_eq!(q.pop_due(Some(Timestamp(u64::MAX)), |_| None), None);
        assert_eq!(q.pop_due(None, |_| None), Some(1));
    }
}
