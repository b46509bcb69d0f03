//! What the engine reads, beyond [`FrameSource`]: frames decoded already
//! (by [`super::predecoded`]'s thread), and a fast way to pass over frames
//! another shard tracks ([`Skim`]). The core traits know neither.

use crate::capture::memory::MemorySource;
use crate::capture::pcap::PcapSource;
use crate::capture::{FrameSource, Next, SourceError};
use crate::model::decode::{Decoded, Frame};
use crate::model::kernel::Change;
use crate::model::segment::Timestamp;

/// What an [`Input`] has next: what a [`FrameSource`] has, or a frame
/// decoded already.
#[derive(Debug)]
pub enum Item<'a> {
    /// A frame, nothing yet, or the end.
    Next(Next<'a>),
    /// A frame decoded already, and its time.
    Decoded(Timestamp, &'a Decoded),
}

/// Where the one-thread loop reads: any [`FrameSource`], or a source whose
/// frames another thread decodes.
pub trait Input {
    /// The next item, borrowed until the next call.
    ///
    /// # Errors
    /// When the source breaks.
    fn next_item(&mut self) -> Result<Item<'_>, SourceError>;

    /// Kernel state changes read since the last call
    /// ([`FrameSource::take_kernel`]).
    fn take_kernel(&mut self) -> Vec<Change>;

    /// Socket calls read since the last call ([`FrameSource::take_calls`]).
    fn take_calls(&mut self) -> crate::capture::Replayed;
}

impl<S: FrameSource> Input for S {
    #[inline]
    fn next_item(&mut self) -> Result<Item<'_>, SourceError> {
        self.next_frame().map(Item::Next)
    }

    fn take_kernel(&mut self) -> Vec<Change> {
        FrameSource::take_kernel(self)
    }

    fn take_calls(&mut self) -> crate::capture::Replayed {
        FrameSource::take_calls(self)
    }
}

/// A source a shard can pass over frames of quickly: it reads on past up to
/// `max` frames for which `skip` is true, and reads the first for which it
/// is not; it returns how many it passed, and that frame, as `next_frame`
/// would have returned it. It may pass none, and may stop short without a
/// frame (at the end of what it holds, or at a record it does not read this
/// way): `next_frame` reads on from there.
pub trait Skim: FrameSource {
    /// See [`Skim`].
    fn skim<F: FnMut(&Frame<'_>) -> bool>(&mut self, max: u64, skip: F) -> (u64, Option<Frame<'_>>);
}

impl<R: std::io::Read> Skim for PcapSource<R> {
    #[inline]
    fn skim<F: FnMut(&Frame<'_>) -> bool>(&mut self, max: u64, skip: F) -> (u64, Option<Frame<'_>>) {
        PcapSource::skim(self, max, skip)
    }
}

impl Skim for MemorySource {
    fn skim<F: FnMut(&Frame<'_>) -> bool>(&mut self, max: u64, skip: F) -> (u64, Option<Frame<'_>>) {
        MemorySource::skim(self, max, skip)
    }
}
