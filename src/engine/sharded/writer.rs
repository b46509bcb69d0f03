//! The writer: plays one thread's queue of ended connections over the
//! shards' reports, tells them what is released, and writes it in order.

use std::collections::VecDeque;
use std::io::{IoSlice, Write};
use std::ops::Range;
use std::sync::mpsc;

use super::{Last, Notice, SLICES, Sharded, ToWriter, Unshardable, Written, write_all_vectored};
use crate::engine::headless::RunError;
use crate::engine::release::Queue;
use crate::model::segment::Timestamp;
use crate::model::tracker::{ConnId, Limits};
use crate::pipeline::Counters;

/// What the writer knows of a shard.
#[derive(Default)]
struct View {
    through: u64,
    ends: VecDeque<(u64, Timestamp, ConnId)>,
    lates: VecDeque<(ConnId, u64, Timestamp)>,
    unshardable: Option<(u64, Unshardable)>,
    ended: bool,
    /// Connections written by the shard and not yet by the writer: bytes,
    /// in which buffer.
    written: VecDeque<(Range<usize>, usize)>,
    /// Their buffers, by number (the first at `first`).
    buffers: VecDeque<String>,
    first: usize,
    last: Option<Last>,
    /// Released connections to tell the shard of.
    released: Vec<ConnId>,
    /// Buffers written out, to give back.
    emptied: Vec<String>,
    /// The times of the frames of its epochs, from `played` on.
    stamps: Stamps,
}

/// The times of a shard's frames, in the lists it sent them in (not copied
/// into one queue): read from the front, and the lists read through go back
/// to the shard to be filled again.
#[derive(Default)]
struct Stamps {
    lists: VecDeque<Vec<Timestamp>>,
    /// Read up to here in the first list.
    at: usize,
    /// How many are left to read.
    len: usize,
    /// Lists read through, emptied.
    spent: Vec<Vec<Timestamp>>,
}

impl Stamps {
    fn push(&mut self, list: Vec<Timestamp>) {
        if list.is_empty() {
            if list.capacity() > 0 {
                self.spent.push(list);
            }
            return;
        }
        self.len += list.len();
        // (`at` is 0 whenever no list is left: `skip` resets it.)
        self.lists.push_back(list);
    }

    /// How many of the next `upto` times come before the first at or after
    /// `due` (`upto` if none does).
    fn before(&self, upto: usize, due: Timestamp) -> usize {
        let mut seen = 0;
        let mut at = self.at;
        for list in &self.lists {
            let part = &list[at..list.len().min(at + (upto - seen))];
            if let Some(i) = part.iter().position(|t| t.0 >= due.0) {
                return seen + i;
            }
            seen += part.len();
            if seen == upto {
                break;
            }
            at = 0;
        }
        seen
    }

    /// Passes over the next `n` times (at most as many as are left).
    fn skip(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(first) = self.lists.front() else { break };
            let here = (first.len() - self.at).min(n);
            self.at += here;
            n -= here;
            if self.at == first.len()
                && let Some(mut list) = self.lists.pop_front()
            {
                list.clear();
                self.spent.push(list);
                self.at = 0;
            }
        }
    }

    fn pop_front(&mut self) -> Option<Timestamp> {
        let first = self.lists.front()?;
        let t = *first.get(self.at)?;
        if self.at + 1 < first.len() {
            self.at += 1;
            self.len -= 1;
        } else {
            self.skip(1);
        }
        Some(t)
    }
}

/// The writer: plays one thread's queue of ended connections over the
/// shards' reports, tells them what is released, and writes it in order.
pub(super) struct Writer {
    views: Vec<View>,
    pub notices: Vec<mpsc::Sender<Notice>>,
    limits: Limits,
    /// Frames per epoch: whose the times of a frame are.
    epoch: u64,
    /// The end of the epoch being played, and the shard that has the times
    /// of its frames.
    boundary: u64,
    turn: usize,
    /// Frames played.
    pub played: u64,
    /// Ended, not yet released: shard, id there. The one thread's queue.
    queue: Queue<(usize, ConnId)>,
    /// Released, to be written in this order: by which shard.
    order: VecDeque<usize>,
    pub written: u64,
    all_released: bool,
}

impl Writer {
    pub fn new(n: usize, limits: Limits, epoch: u64, notices: Vec<mpsc::Sender<Notice>>) -> Writer {
        Writer {
            views: (0..n).map(|_| View::default()).collect(),
            notices,
            limits,
            epoch,
            boundary: epoch,
            turn: 0,
            played: 0,
            queue: Queue::new(&limits),
            order: VecDeque::new(),
            written: 0,
            all_released: false,
        }
    }

    /// Takes a shard's message, plays and writes what it lets: the run's
    /// end once it has ended.
    pub fn take(&mut self, message: ToWriter, out: &mut dyn Write) -> Option<Result<Sharded, RunError>> {
        match message {
            ToWriter::Report(mut r) => {
                self.take_written(r.shard, std::mem::take(&mut r.written));
                let v = &mut self.views[r.shard];
                v.through = r.through;
                v.ends.extend(r.ends);
                v.lates.extend(r.lates);
                v.unshardable = v.unshardable.or(r.unshardable);
                v.ended |= r.ended;
                v.stamps.push(r.stamps);
            }
            ToWriter::Written(s, written) => self.take_written(s, written),
            ToWriter::Last(s, last) => self.views[s].last = Some(last),
        }
        if let Err((frame, why)) = self.play() {
            return Some(Ok(Sharded::Redo { written: self.written, frame, why }));
        }
        if let Err(e) = self.write(out) {
            return Some(Err(e));
        }
        if self.all_released && self.order.is_empty() && self.views.iter().all(|v| v.last.is_some()) {
            return Some(self.finish(out));
        }
        None
    }

    /// Takes shard `s`'s buffers of written connections.
    fn take_written(&mut self, s: usize, written: Vec<Written>) {
        let v = &mut self.views[s];
        for (conns, bytes) in written {
            let number = v.first + v.buffers.len();
            v.written.extend(conns.into_iter().map(|range| (range, number)));
            v.buffers.push_back(bytes);
        }
    }

    /// Plays the frames every shard has reported; the frame from which the
    /// shards cannot follow their connections apart, and why, when they met one.
    fn play(&mut self) -> Result<(), (u64, Unshardable)> {
        let through = self.views.iter().map(|v| v.through).min().unwrap_or(0);
        let stop = self
            .views
            .iter()
            .filter_map(|v| v.unshardable)
            .min_by_key(|u| u.0)
            .unwrap_or((u64::MAX, Unshardable::Lost));
        // A shard's reports fall short of what it said it read: it stopped.
        let lost = |played| (played, Unshardable::Lost);
        let before = self.played;
        while self.played < through {
            // The next frame that ends a connection or takes a late segment:
            // the frames before it can only release by time.
            let mut event = through.min(stop.0);
            for v in &self.views {
                if let Some(e) = v.ends.front() {
                    event = event.min(e.0);
                }
                if let Some(l) = v.lates.front() {
                    event = event.min(l.1);
                }
            }
            while self.played < event {
                // Frames up to the event can only release the oldest waiting
                // connection, and only once its time has come: skip to the
                // first frame where it has (within an epoch: one shard has
                // its frames' times).
                let upto = event.min(self.boundary);
                let left = usize::try_from(upto - self.played).unwrap_or(usize::MAX);
                let stamps = &mut self.views[self.turn].stamps;
                if stamps.len < left {
                    return Err(lost(self.played));
                }
                let skip = self.queue.due_from().map_or(left, |due| stamps.before(left, due));
                stamps.skip(skip);
                if skip < left {
                    let Some(now) = stamps.pop_front() else { return Err(lost(self.played)) };
                    self.step(skip as u64 + 1);
                    self.release(Some(now));
                } else {
                    self.step(skip as u64);
                }
            }
            if self.played == through {
                break;
            }
            let frame = self.played;
            if frame >= stop.0 {
                return Err(stop);
            }
            let Some(now) = self.views[self.turn].stamps.pop_front() else { return Err(lost(frame)) };
            for (s, v) in self.views.iter_mut().enumerate() {
                while let Some(&(id, at, last)) = v.lates.front()
                    && at == frame
                {
                    v.lates.pop_front();
                    self.queue.late((s, id), last);
                }
            }
            for (s, v) in self.views.iter_mut().enumerate() {
                while let Some(&(end, last, id)) = v.ends.front()
                    && end == frame
                {
                    v.ends.pop_front();
                    self.queue.ended((s, id), last);
                }
            }
            // One thread would drop the oldest unwritten finished connection here.
            if self.queue.len() > self.limits.finished {
                return Err((frame, Unshardable::Finished));
            }
            self.release(Some(now));
            self.step(1);
        }
        if self.views.iter().all(|v| v.ended) && self.played == through && !self.all_released {
            self.release(None);
            self.all_released = true;
        } else if self.played == before {
            return Ok(());
        }
        for (v, to) in self.views.iter_mut().zip(&self.notices) {
            let released = std::mem::take(&mut v.released);
            let buffers = std::mem::take(&mut v.emptied);
            let stamps = std::mem::take(&mut v.stamps.spent);
            // A shard that has gone is the run's end; it is seen elsewhere.
            let _ = to.send(Notice { through: self.played, released, all: self.all_released, buffers, stamps });
        }
        Ok(())
    }

    /// Plays on `frames` frames, to the end of the epoch at most.
    fn step(&mut self, frames: u64) {
        self.played += frames;
        if self.played == self.boundary {
            self.boundary += self.epoch;
            self.turn = (self.turn + 1) % self.views.len();
        }
    }

    /// Releases, oldest first, the connections whose wait is over at `now`
    /// (all with `None`) or that are too many.
    fn release(&mut self, now: Option<Timestamp>) {
        while let Some((s, id)) = self.queue.pop_due(now, |_| None) {
            self.order.push_back(s);
            self.views[s].released.push(id);
        }
    }

    /// Writes the released connections, in order, as far as their shards
    /// have written them: straight from the shards' buffers, up to
    /// [`SLICES`] at a time.
    fn write(&mut self, out: &mut dyn Write) -> Result<(), RunError> {
        loop {
            // Where the next connections are: shard, buffer, bytes.
            let mut next = Vec::new();
            let mut taken = vec![0usize; self.views.len()];
            for &s in self.order.iter().take(SLICES) {
                let Some((range, number)) = self.views[s].written.get(taken[s]) else { break };
                next.push((s, *number, range.clone()));
                taken[s] += 1;
            }
            if next.is_empty() {
                return Ok(());
            }
            let mut slices: Vec<IoSlice<'_>> = next
                .iter()
                .map(|(s, number, range)| {
                    let v = &self.views[*s];
                    IoSlice::new(&v.buffers[number - v.first].as_bytes()[range.clone()])
                })
                .collect();
            write_all_vectored(out, &mut slices).map_err(RunError::Output)?;
            for (v, taken) in self.views.iter_mut().zip(taken) {
                v.written.drain(..taken);
                // A buffer goes back once everything in it is written.
                while !v.buffers.is_empty() && v.written.front().is_none_or(|w| w.1 > v.first) {
                    if let Some(mut b) = v.buffers.pop_front() {
                        b.clear();
                        v.emptied.push(b);
                    }
                    v.first += 1;
                }
            }
            self.order.drain(..next.len());
            self.written += next.len() as u64;
            for (v, to) in self.views.iter_mut().zip(&self.notices) {
                if !v.emptied.is_empty() {
                    let buffers = std::mem::take(&mut v.emptied);
                    let released = std::mem::take(&mut v.released);
                    let stamps = std::mem::take(&mut v.stamps.spent);
                    // A shard that has gone is the run's end; it is seen elsewhere.
                    let _ = to.send(Notice { through: self.played, released, all: self.all_released, buffers, stamps });
                }
            }
        }
    }

    /// The connections still open, by id, and what was counted.
    fn finish(&mut self, out: &mut dyn Write) -> Result<Sharded, RunError> {
        let mut counters = Counters::default();
        let mut error = None;
        let mut started = 0;
        let mut open: Vec<(ConnId, &[u8])> = Vec::new();
        for v in &mut self.views {
            if let Some(l) = &mut v.last {
                counters.add(&l.counters);
                started += l.started;
                error = error.or(l.error.take());
            }
        }
        for l in self.views.iter().filter_map(|v| v.last.as_ref()) {
            open.extend(l.open.iter().map(|(id, r)| (*id, &l.bytes.as_bytes()[r.clone()])));
        }
        open.sort_unstable_by_key(|(id, _)| *id);
        for (_, bytes) in open {
            out.write_all(bytes).map_err(RunError::Output)?;
        }
        Ok(Sharded::Done { counters, started, error })
    }
}
