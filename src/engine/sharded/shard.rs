//! One shard: reads the whole capture, tracks the connections whose tuple
//! falls to it, numbers them from everyone's starts, and formats those the
//! writer releases into buffers for it.

use std::collections::VecDeque;
use std::sync::atomic::{Ordering, fence};
use std::sync::{Mutex, TryLockError, mpsc};

use super::place;
use super::{
    AHEAD, BUFFER, BUFFERS, Combined, Control, EPOCH, Gone, LAG, Last, Notice, Report, TICK, ToWriter, Unshardable,
};
use crate::capture::Next;
use crate::capture::SourceError;
use crate::engine::headless::Progress;
use crate::engine::input::Skim;
use crate::export::Exporter;
use crate::model::decode;
use crate::model::segment::{Segment, Timestamp};
use crate::model::tracker::{ConnId, Connection, Push};
use crate::pipeline::Pipeline;

/// One shard: what it reads, tracks and formats, and how it reaches the
/// writer and the other shards.
pub(super) struct Shard<'a, 'o, S> {
    /// Which shard this is, of `n`.
    pub me: usize,
    pub n: usize,
    /// Frames per epoch.
    pub epoch_len: u64,
    pub source: S,
    pub pipeline: Pipeline,
    pub exporter: Box<dyn Exporter + Send>,
    /// Its share of the open connections: past it, the split stops.
    pub open_cap: usize,
    pub link: Link<'a, 'o>,
    pub peers: Peers,
    /// How its connections are numbered across the capture.
    pub ids: Numbering,
    /// What it read since its last report.
    pub report: Report,
    /// Its released connections, on their way out.
    pub out: Output,
    /// The writer has played the frames before this one.
    pub played: u64,
    /// The input ended: every connection is released.
    pub all_released: bool,
}

/// How a shard reaches the writer, and what the shards share.
pub(super) struct Link<'a, 'o> {
    pub writer: &'a Mutex<Combined<'o>>,
    pub to_writer: mpsc::Sender<ToWriter>,
    pub notices: mpsc::Receiver<Notice>,
    pub control: &'a Control<'a>,
    pub progress: Option<&'a Progress>,
    /// Connections started here and added to the progress line.
    pub counted: u64,
}

/// The other shards: the frames this shard's connections started at go to
/// them, theirs come from them.
pub(super) struct Peers {
    pub to: Vec<mpsc::Sender<Vec<u64>>>,
    pub from: Vec<mpsc::Receiver<Vec<u64>>>,
    /// Lists of starts the others sent, emptied: this shard's go out in
    /// them. (Each list stays in use, going back and forth: a list freed by
    /// a shard that did not allocate it would wait for the other's malloc
    /// arena, and make the other's malloc wait.)
    pub lists: Vec<Vec<u64>>,
    /// The others' starts received ahead of the numbering, by sender.
    pub ready: Vec<Option<Vec<u64>>>,
}

/// How a shard's connections get the ids one thread gives them.
#[derive(Default)]
pub(super) struct Numbering {
    /// Started in this epoch: frame, id here.
    started: Vec<(u64, ConnId)>,
    /// The last epoch's, numbered at the end of this one.
    last_epoch: Option<Vec<(u64, ConnId)>>,
    /// Ids here up to this one are numbered.
    numbered: ConnId,
    /// The ids connections are written with, by their ids here.
    numbers: Numbers,
    /// Connections started, across shards, before the epoch numbered next.
    base: u64,
}

/// A shard's released connections, on their way to the writer, and the
/// memory that goes back and forth with it.
#[derive(Default)]
pub(super) struct Output {
    /// Released, in order, to be written once numbered.
    #[allow(clippy::vec_box)]
    released: VecDeque<Box<Connection>>,
    /// Written, on their way back to the tracker for reuse.
    #[allow(clippy::vec_box)]
    spent: Vec<Box<Connection>>,
    /// Buffers the writer gave back.
    buffers: Vec<String>,
    /// Buffers at the writer.
    at_writer: usize,
    /// Lists of frame times the writer gave back.
    stamp_lists: Vec<Vec<Timestamp>>,
}

impl<S: Skim> Shard<'_, '_, S> {
    pub fn run(mut self) {
        let _ = self.read();
    }

    fn read(&mut self) -> Result<(), Gone> {
        let mut frame_no = 0u64;
        let mut epoch = 0u64;
        // Whether this shard keeps the times of this epoch's frames.
        let mut stamping = self.stamping(epoch);
        let error = loop {
            if frame_no == (epoch + 1) * self.epoch_len {
                epoch += 1;
                if !self.next_epoch(frame_no, epoch)? {
                    break None;
                }
                stamping = self.stamping(epoch);
            }
            // Most frames are plainly another shard's: passed over in a tight
            // loop (their time kept), up to the next tick or epoch. The one it
            // stops at is read there.
            let until = ((frame_no / TICK + 1) * TICK).min((epoch + 1) * self.epoch_len);
            let (me, n, stamps) = (self.me, self.n, &mut self.report.stamps);
            // Whose the frame it stopped at plainly is, if anyone's.
            let mut stopped = None;
            let (skipped, found) = self.source.skim(until - frame_no, |frame| {
                let owner = place::plain_shard(frame, n);
                if owner.is_none_or(|o| o == me) {
                    stopped = owner;
                    return false;
                }
                if stamping {
                    stamps.push(frame.ts);
                }
                true
            });
            frame_no += skipped;
            // (No tick falls among the frames passed over before a frame is
            // found: they end short of `until`.)
            let (frame, plain) = match found {
                Some(frame) => (frame, stopped),
                None if skipped > 0 => {
                    self.tick(frame_no);
                    continue;
                }
                None => {
                    // A recording's kernel changes and socket calls need
                    // the one tracker. (Only pcapng holds them, and `skim`
                    // reads only pcap.)
                    if !self.source.take_kernel().is_empty() || !self.source.take_calls().is_empty() {
                        self.unshardable(frame_no, Unshardable::Kernel);
                    }
                    match self.source.next_frame() {
                        Ok(Next::Frame(frame)) => {
                            // Most segments are plain: whose they are is known
                            // without decoding them whole.
                            let plain = place::plain_shard(&frame, self.n);
                            (frame, plain)
                        }
                        Ok(Next::End) => break None,
                        Ok(Next::Idle) => continue,
                        Err(e) => break Some(e),
                    }
                }
            };
            let ts = frame.ts;
            if stamping {
                self.report.stamps.push(ts);
            }
            if plain.is_some_and(|owner| owner != self.me) {
                frame_no += 1;
                self.tick(frame_no);
                continue;
            }
            let decoded = decode::decode(&frame);
            let owner = plain.unwrap_or_else(|| match &decoded {
                Ok(Some(seg)) => place::shard_of(seg, self.n),
                // Below n: fits.
                _ => (frame_no % self.n as u64) as usize,
            });
            if owner == self.me {
                let fragment = matches!(decoded, Err(e) if e.is_fragment());
                // A datagram's fragments need the one reassembler, and an
                // ICMP error may quote a connection written already.
                if fragment {
                    self.report.unshardable.get_or_insert((frame_no, Unshardable::Fragment));
                } else if matches!(&decoded, Ok(Some(seg)) if seg.icmp.is_some()) {
                    self.report.unshardable.get_or_insert((frame_no, Unshardable::Icmp));
                }
                let push = if fragment {
                    self.pipeline.frame(&frame)
                } else {
                    match self.pipeline.counted(&decoded) {
                        Some(seg) => Some(self.track(frame_no, seg)?),
                        None => None,
                    }
                };
                if let Some(push) = push {
                    self.tracked(frame_no, ts, push);
                }
                if self.pipeline.tracker.open() > self.open_cap {
                    self.unshardable(frame_no, Unshardable::Open);
                }
            }
            frame_no += 1;
            self.tick(frame_no);
        };
        self.finish(frame_no, error)
    }

    /// Frame `frame_no` begins epoch `epoch`: the last one is reported and
    /// its starts sent, and the shard waits for the writer when it is ahead.
    /// False when the run stops here (interrupted).
    fn next_epoch(&mut self, frame_no: u64, epoch: u64) -> Result<bool, Gone> {
        self.close_epoch(frame_no, false)?;
        if self.link.control.abort.load(Ordering::Relaxed) {
            return Err(Gone);
        }
        self.keep_up(frame_no)?;
        Ok(self.link.control.begin(epoch))
    }

    /// The end of the input (or of the run) at frame `frame_no`, with the
    /// source's `error` if it broke: the writer releases everything; what is
    /// open is written last.
    fn finish(&mut self, frame_no: u64, error: Option<SourceError>) -> Result<(), Gone> {
        self.close_epoch(frame_no, true)?;
        let last = self.ids.last_epoch.take().unwrap_or_default();
        self.number(&last)?;
        while !self.all_released {
            let notice = self.link.notices.recv().map_err(|_| Gone)?;
            self.take_released(notice);
        }
        self.write_released(true)?;
        let mut bytes = String::new();
        let mut open = Vec::new();
        for conn in self.pipeline.tracker.open_connections() {
            let mut conn = conn.clone();
            conn.id = self.ids.numbers.get(conn.id).unwrap_or(conn.id);
            let from = bytes.len();
            self.exporter.append(&conn, &mut bytes);
            open.push((conn.id, from..bytes.len()));
        }
        let counters = std::mem::take(&mut self.pipeline.counters);
        let started = self.pipeline.tracker.started();
        let last = Last { open, bytes, counters, started, error };
        self.send(ToWriter::Last(self.me, last))
    }

    /// Whether this shard keeps the times of epoch `epoch`'s frames for the
    /// writer (the shards take turns, so that they do as much). Its report
    /// then makes room for them.
    fn stamping(&mut self, epoch: u64) -> bool {
        let mine = epoch % self.n as u64 == self.me as u64;
        if mine && self.report.stamps.capacity() == 0 {
            match self.out.stamp_lists.pop() {
                Some(list) => self.report.stamps = list,
                None => self.report.stamps.reserve(usize::try_from(self.epoch_len).unwrap_or(0).min(EPOCH as usize)),
            }
        }
        mine
    }

    /// Every [`TICK`] frames: the progress line, and what the writer released.
    fn tick(&mut self, frame_no: u64) {
        if frame_no.is_multiple_of(TICK) {
            if self.me == 0
                && let Some(p) = self.link.progress
            {
                p.frames.store(frame_no, Ordering::Relaxed);
            }
            self.poll();
            // Buffers may have come back: what waited for one is written.
            let _ = self.write_released(false);
        }
    }

    fn unshardable(&mut self, frame_no: u64, why: Unshardable) {
        self.report.unshardable.get_or_insert((frame_no, why));
    }

    /// Notes what a tracked segment did: a connection started, or ended.
    fn tracked(&mut self, frame_no: u64, ts: Timestamp, push: Push) {
        if push.started {
            self.ids.started.push((frame_no, push.id));
        }
        if push.ended || push.superseded.is_some() || push.expired.is_some() {
            for id in push.finished() {
                let last = self.pipeline.tracker.get(id).map_or(ts, Connection::last);
                self.report.ends.push((frame_no, last, id));
            }
        }
    }

    /// Tracks segment `seg`, of frame `frame_no`. One for a connection that
    /// has ended is that connection's if the connection was not released
    /// before this frame, else it starts anew (it finds the tuple free): the
    /// shard waits until the writer has played the frames before it.
    fn track(&mut self, frame_no: u64, seg: &Segment) -> Result<Push, Gone> {
        let route = self.pipeline.tracker.route(seg);
        let Some(id) = route.after_end() else { return Ok(self.pipeline.tracker.push_routed(seg, route)) };
        self.publish(frame_no)?;
        while self.played < frame_no && !self.all_released {
            let notice = self.link.notices.recv().map_err(|_| Gone)?;
            self.take_released(notice);
        }
        // Released (taken from the tracker) or not: routed again.
        let released = !self.pipeline.tracker.get(id).is_some_and(|c| c.ended);
        let push = self.pipeline.track(seg);
        if !released {
            let last = self.pipeline.tracker.get(id).map_or(seg.ts, Connection::last);
            self.report.lates.push((id, frame_no, last));
        }
        Ok(push)
    }

    /// Hands the writer a message, and plays and writes what it lets.
    ///
    /// A shard never waits for another to be done with the writer: the
    /// message goes to the writer's inbox, and
    /// whichever shard holds the writer takes it. Whoever lets the writer go
    /// looks again for messages sent meanwhile: with a fence on each side,
    /// either the sender sees the writer free, or the one that let it go sees
    /// the message counted.
    fn send(&self, message: ToWriter) -> Result<(), Gone> {
        let pending = &self.link.control.pending;
        self.link.to_writer.send(message).map_err(|_| Gone)?;
        pending.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        loop {
            let mut combined = match self.link.writer.try_lock() {
                Ok(combined) => combined,
                Err(TryLockError::WouldBlock) => return Ok(()),
                Err(TryLockError::Poisoned(_)) => return Err(Gone),
            };
            let taken = combined.drain(self.link.control);
            let failed = combined.failed();
            drop(combined);
            fence(Ordering::SeqCst);
            if failed {
                return Err(Gone);
            }
            if pending.load(Ordering::SeqCst) == 0 {
                return Ok(());
            }
            if taken == 0 {
                // Counted, not yet taken: a sender between its two steps.
                std::thread::yield_now();
            }
        }
    }

    /// Sends the writer what was read before frame `through`.
    fn publish(&mut self, through: u64) -> Result<(), Gone> {
        let mut report = Report::new(self.me, self.epoch_len);
        std::mem::swap(&mut report, &mut self.report);
        // What this shard cannot follow stays so.
        self.report.unshardable = report.unshardable;
        report.through = through;
        self.send(ToWriter::Report(report))
    }

    /// Waits, when the writer has played fewer than all but [`LAG`] epochs
    /// of what this shard read: connections wait in the tracker until the
    /// writer releases them, and it plays only what every shard has
    /// reported, so a shard ahead of another would otherwise let them pile up.
    fn keep_up(&mut self, frame_no: u64) -> Result<(), Gone> {
        while !self.all_released && frame_no.saturating_sub(self.played) > LAG * self.epoch_len {
            let notice = self.link.notices.recv().map_err(|_| Gone)?;
            self.take_released(notice);
        }
        Ok(())
    }

    /// Takes what the writer has released so far, without waiting.
    fn poll(&mut self) {
        while let Ok(notice) = self.link.notices.try_recv() {
            self.take_released(notice);
        }
    }

    fn take_released(&mut self, notice: Notice) {
        // Released connections ended a second ago or more: cold. Each one's
        // struct starts loading a few places ahead of its turn.
        for (i, &id) in notice.released.iter().enumerate() {
            if let Some(next) = notice.released.get(i + 2 * AHEAD).and_then(|&n| self.pipeline.tracker.get(n)) {
                crate::os::prefetch::prefetch(next);
            }
            if let Some(conn) = self.pipeline.tracker.take(id) {
                self.out.released.push_back(conn);
            }
        }
        self.played = self.played.max(notice.through);
        self.all_released |= notice.all;
        self.out.at_writer -= notice.buffers.len().min(self.out.at_writer);
        self.out.buffers.extend(notice.buffers);
        self.out.stamp_lists.extend(notice.stamps);
    }

    /// Ends an epoch at frame `frame_no`: reports it, sends its starts to the
    /// others, numbers the one before, and writes what is numbered.
    fn close_epoch(&mut self, frame_no: u64, ended: bool) -> Result<(), Gone> {
        for to in &self.peers.to {
            // Room for most epochs' starts at once (a connection is ~10 frames).
            let mut list = self.peers.lists.pop().unwrap_or_else(|| Vec::with_capacity(EPOCH as usize / 4));
            list.extend(self.ids.started.iter().map(|s| s.0));
            to.send(list).map_err(|_| Gone)?;
        }
        if let Some(p) = self.link.progress {
            let started = self.pipeline.tracker.started();
            p.connections.fetch_add(started - self.link.counted, Ordering::Relaxed);
            self.link.counted = started;
        }
        self.report.ended = ended;
        let starts = std::mem::take(&mut self.ids.started);
        let mut reported = false;
        if let Some(prev) = self.ids.last_epoch.replace(starts) {
            // A shard never waits with its progress unreported (the writer
            // plays only what every shard has reported). Most often the
            // others' starts are in: the report then goes after the
            // numbering, with the buffers it let be written (one message, one
            // turn of the writer, rather than one a buffer).
            if !self.others_ready() {
                self.publish(frame_no)?;
                reported = true;
            }
            self.number(&prev)?;
        }
        self.poll();
        self.write_released(false)?;
        if reported { self.send_written() } else { self.publish(frame_no) }
    }

    /// Whether every other shard's starts for the epoch numbered next are in.
    fn others_ready(&mut self) -> bool {
        for (from, ready) in self.peers.from.iter().zip(&mut self.peers.ready) {
            if ready.is_none() {
                *ready = from.try_recv().ok();
            }
        }
        self.peers.ready.iter().all(Option::is_some)
    }

    /// Numbers an epoch's connections from everyone's starts.
    fn number(&mut self, own: &[(u64, ConnId)]) -> Result<(), Gone> {
        let mut others = Vec::with_capacity(self.peers.from.len());
        for (from, ready) in self.peers.from.iter().zip(&mut self.peers.ready) {
            others.push(match ready.take() {
                Some(list) => list,
                None => from.recv().map_err(|_| Gone)?,
            });
        }
        let mut seen = vec![0usize; others.len()];
        for (rank, &(frame, id)) in (1u64..).zip(own) {
            let mut before = 0;
            for (list, seen) in others.iter().zip(&mut seen) {
                while list.get(*seen).is_some_and(|&f| f < frame) {
                    *seen += 1;
                }
                before += *seen as u64;
            }
            self.ids.numbers.set(id, self.ids.base + rank + before);
            self.ids.numbered = id;
        }
        self.ids.base += own.len() as u64 + others.iter().map(|l| l.len() as u64).sum::<u64>();
        self.peers.lists.extend(others.into_iter().map(|mut list| {
            list.clear();
            list
        }));
        Ok(())
    }

    /// Writes the released connections that are numbered, in order.
    /// Buffers of at most about [`BUFFER`] bytes go to the writer, and at
    /// most [`BUFFERS`] are out at a time. Past that, the rest waits for the
    /// writer to give one back: until then the shard reads on (the others
    /// may be waiting for its starts), or at the end (`wait`) it waits (the
    /// writer writes in order, and the next it needs is then in a buffer it
    /// holds).
    fn write_released(&mut self, wait: bool) -> Result<(), Gone> {
        while self.out.released.front().is_some_and(|conn| conn.id <= self.ids.numbered) {
            while self.out.at_writer >= BUFFERS {
                // Out of buffers: those not sent yet go now, so that the
                // writer can give them back (released connections wait for
                // one, unformatted: ~1 KiB each). The writer writes in
                // order: the buffer it needs next is then one it has.
                self.send_written()?;
                if !wait {
                    return Ok(());
                }
                let notice = self.link.notices.recv().map_err(|_| Gone)?;
                self.take_released(notice);
            }
            let mut bytes = self.out.buffers.pop().unwrap_or_else(|| String::with_capacity(BUFFER));
            // About as many as a buffer holds (~2 KiB each): grown seldom.
            let mut conns = Vec::with_capacity(BUFFER / 2_048);
            // Short of the capacity by what most connections take: the buffer
            // is seldom grown.
            while bytes.len() < BUFFER
                && let Some(conn) = self.out.released.front()
                && conn.id <= self.ids.numbered
            {
                let Some(mut conn) = self.out.released.pop_front() else { break };
                // Formatted next: the records of those a few places on.
                if let Some(next) = self.out.released.get(AHEAD) {
                    crate::os::prefetch::prefetch(next.records.as_slice());
                }
                if let Some(next) = self.out.released.get(2 * AHEAD) {
                    crate::os::prefetch::prefetch(&**next);
                }
                conn.id = self.ids.numbers.take(conn.id).unwrap_or(conn.id);
                let from = bytes.len();
                self.exporter.append(&conn, &mut bytes);
                conns.push(from..bytes.len());
                self.out.spent.push(conn);
            }
            self.pipeline.tracker.recycle(&mut self.out.spent);
            self.out.at_writer += 1;
            // Sent with the next report: a message of its own would wake the
            // writer (a context switch) for every buffer.
            self.report.written.push((conns, bytes));
            if wait {
                // But at the end, every buffer goes at once: the shards
                // format what the end released side by side, and the writer
                // gives buffers back as it writes them. (Held until all are
                // full, they would take turns: one formatting while the other
                // waits for a buffer.)
                self.send_written()?;
                self.poll();
            }
        }
        if wait {
            self.send_written()?;
        }
        Ok(())
    }

    /// Sends the buffers written since the last report now.
    fn send_written(&mut self) -> Result<(), Gone> {
        if self.report.written.is_empty() {
            return Ok(());
        }
        let written = std::mem::take(&mut self.report.written);
        self.send(ToWriter::Written(self.me, written))
    }
}

/// The ids a shard's connections are written with (their place across the
/// capture), by their ids in the shard: those are handed out in order and
/// numbered in that order, so a deque from the oldest not yet written on
/// finds each one (the connections written are emptied, and trimmed from
/// the front).
#[derive(Default)]
struct Numbers {
    /// From the connection with id `first` on; 0: written.
    ids: VecDeque<ConnId>,
    first: ConnId,
}

impl Numbers {
    /// Connection `id`, the one after the last numbered, is written as `number`.
    fn set(&mut self, id: ConnId, number: ConnId) {
        if self.ids.is_empty() {
            self.first = id;
        }
        debug_assert_eq!(id, self.first + self.ids.len() as ConnId);
        self.ids.push_back(number);
    }

    /// The id connection `id` is written with, once numbered.
    fn get(&self, id: ConnId) -> Option<ConnId> {
        let at = usize::try_from(id.checked_sub(self.first)?).ok()?;
        self.ids.get(at).copied().filter(|&n| n != 0)
    }

    /// [`Numbers::get`], for the last time: connection `id` is written.
    fn take(&mut self, id: ConnId) -> Option<ConnId> {
        let at = usize::try_from(id.checked_sub(self.first)?).ok()?;
        let number = std::mem::take(self.ids.get_mut(at)?);
        while self.ids.front() == Some(&0) {
            self.ids.pop_front();
            self.first += 1;
        }
        (number != 0).then_some(number)
    }
}
