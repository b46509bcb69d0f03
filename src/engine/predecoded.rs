//! `trace --read FILE --threads N`: the file is read and its frames decoded on
//! a thread of their own, in batches, while the calling thread tracks
//! connections. What comes out is what the wrapped source would give, in the
//! same order, frame for frame: each decoded (IP fragments handed over
//! whole, for reassembly), with a recording's kernel changes after the frame
//! they followed, and the source's error, if it breaks, after everything read
//! before it.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::input::{self, Input};
use crate::capture::{FrameSource, Next, SourceError};
use crate::model::decode::{self, Decoded, Frame, LinkType};
use crate::model::kernel::Change;
use crate::model::segment::Timestamp;

/// Frames decoded per batch handed over.
pub const BATCH: usize = 1_024;
/// Batches decoded ahead of the tracking thread.
pub const AHEAD: usize = 4;

enum Item {
    Decoded(Timestamp, Decoded),
    /// A frame to decode again where it is tracked (an IP fragment).
    Raw(Timestamp, LinkType, Vec<u8>),
    Kernel(Vec<Change>),
    /// A recording's socket calls, read with the frame before.
    Calls(crate::capture::Replayed),
    Failed(SourceError),
    End,
}

/// A source whose frames are read and decoded on another thread.
pub struct Predecoded {
    batches: Option<Receiver<Vec<Item>>>,
    /// Batches handed out, sent back empty for the reading thread to refill
    /// (their memory stays warm and is not allocated again).
    empty: SyncSender<Vec<Item>>,
    /// The batch being handed out, and the next item of it.
    batch: Vec<Item>,
    at: usize,
    /// Kernel changes read with the frames handed out so far.
    kernel: Vec<Change>,
    /// Calls read with the frames handed out, not yet taken.
    calls: crate::capture::Replayed,
    thread: Option<JoinHandle<()>>,
}

impl Predecoded {
    /// Starts reading `source` on a thread.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn start<S: FrameSource + Send + 'static>(mut source: S) -> std::io::Result<Predecoded> {
        let (tx, batches) = mpsc::sync_channel::<Vec<Item>>(AHEAD);
        let (empty, emptied) = mpsc::sync_channel::<Vec<Item>>(AHEAD + 2);
        let thread = std::thread::Builder::new().name("read".into()).spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                let last = match source.next_frame() {
                    Ok(Next::Frame(frame)) => {
                        match decode::decode(&frame) {
                            Err(e) if e.is_fragment() => {
                                batch.push(Item::Raw(frame.ts, frame.link, frame.data.to_vec()));
                            }
                            decoded => batch.push(Item::Decoded(frame.ts, decoded)),
                        }
                        false
                    }
                    // A file does not idle; a stream is not read here.
                    Ok(Next::Idle) => continue,
                    Ok(Next::End) => {
                        batch.push(Item::End);
                        true
                    }
                    Err(e) => {
                        batch.push(Item::Failed(e));
                        true
                    }
                };
                let changes = source.take_kernel();
                if !changes.is_empty() {
                    batch.push(Item::Kernel(changes));
                }
                let calls = source.take_calls();
                if !calls.is_empty() {
                    batch.push(Item::Calls(calls));
                }
                let next = || emptied.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH));
                if (last || batch.len() >= BATCH) && tx.send(std::mem::replace(&mut batch, next())).is_err() {
                    // The reader stopped listening.
                    return;
                }
                if last {
                    return;
                }
            }
        })?;
        Ok(Predecoded {
            batches: Some(batches),
            empty,
            batch: Vec::new(),
            at: 0,
            kernel: Vec::new(),
            calls: crate::capture::Replayed::default(),
            thread: Some(thread),
        })
    }

    /// Moves on to the next batch once this one is handed out; `false` when
    /// there is none (the thread sends its last item, End or Failed, before
    /// it stops).
    fn refill(&mut self) -> bool {
        if self.at < self.batch.len() {
            return true;
        }
        match self.batches.as_ref().and_then(|rx| rx.recv().ok()) {
            Some(batch) => {
                let mut done = std::mem::replace(&mut self.batch, batch);
                if done.capacity() >= BATCH {
                    done.clear();
                    // Full (the thread has enough): dropped here instead.
                    let _ = self.empty.try_send(done);
                }
                self.at = 0;
                !self.batch.is_empty()
            }
            None => false,
        }
    }
}

impl Input for Predecoded {
    fn next_item(&mut self) -> Result<input::Item<'_>, SourceError> {
        loop {
            if !self.refill() {
                // The thread sends End or an error last: it died before.
                return Err(SourceError::Io {
                    name: "the input".into(),
                    source: std::io::Error::other("the reading thread stopped"),
                });
            }
            let i = self.at;
            self.at += 1;
            match &mut self.batch[i] {
                // Read with the frame before: kept for take_kernel.
                Item::Kernel(changes) => self.kernel.append(changes),
                Item::Calls(calls) => keep_calls(&mut self.calls, calls),
                Item::Failed(_) => {
                    let Item::Failed(e) = std::mem::replace(&mut self.batch[i], Item::End) else { unreachable!() };
                    // Asked again, the source is at its end.
                    self.at = i;
                    return Err(e);
                }
                Item::End => {
                    // The changes read at the end come after it.
                    for item in &mut self.batch[i + 1..] {
                        match item {
                            Item::Kernel(changes) => self.kernel.append(changes),
                            Item::Calls(calls) => keep_calls(&mut self.calls, calls),
                            _ => {}
                        }
                    }
                    self.at = i;
                    return Ok(input::Item::Next(Next::End));
                }
                Item::Decoded(..) | Item::Raw(..) => break,
            }
        }
        Ok(match &self.batch[self.at - 1] {
            Item::Decoded(ts, decoded) => input::Item::Decoded(*ts, decoded),
            Item::Raw(ts, link, data) => input::Item::Next(Next::Frame(Frame { ts: *ts, link: *link, data })),
            Item::Kernel(_) | Item::Calls(_) | Item::Failed(_) | Item::End => unreachable!("the loop stops at a frame"),
        })
    }

    fn take_kernel(&mut self) -> Vec<Change> {
        if let Some(Item::Kernel(changes)) = self.batch.get_mut(self.at) {
            self.kernel.append(changes);
            self.at += 1;
        }
        std::mem::take(&mut self.kernel)
    }

    fn take_calls(&mut self) -> crate::capture::Replayed {
        // Read with the frame just handed out: right after it in the batch.
        while let Some(item @ (Item::Calls(_) | Item::Kernel(_))) = self.batch.get_mut(self.at) {
            match item {
                Item::Calls(calls) => keep_calls(&mut self.calls, calls),
                Item::Kernel(changes) => self.kernel.append(changes),
                _ => {}
            }
            self.at += 1;
        }
        std::mem::take(&mut self.calls)
    }
}

/// Keeps a batch's calls (`from`) for [`Input::take_calls`] (`into`).
fn keep_calls(into: &mut crate::capture::Replayed, from: &mut crate::capture::Replayed) {
    into.calls.append(&mut from.calls);
    into.malformed += std::mem::take(&mut from.malformed);
    into.dropped += std::mem::take(&mut from.dropped);
}

impl Drop for Predecoded {
    fn drop(&mut self) {
        // The thread's next send fails, and it stops.
        self.batches = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
