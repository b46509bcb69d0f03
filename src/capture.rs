//! IO at the edge: where frames come from. A [`FrameSource`] is a live socket,
//! a pcap/pcapng file or stream, or (in tests) a list in memory; the pipeline
//! never knows which.

pub mod kernel;
pub mod live;
pub mod memory;
pub mod pcap;
pub mod record;

use crate::model::decode::Frame;

/// What a source has next.
#[derive(Debug)]
pub enum Next<'a> {
    /// A frame.
    Frame(Frame<'a>),
    /// A frame already decoded (by [`crate::engine::predecoded::Predecoded`]'s thread).
    Decoded(crate::model::segment::Timestamp, &'a crate::model::decode::Decoded),
    /// Nothing yet (a live source timed out); ask again.
    Idle,
    /// The source is done.
    End,
}

/// Where frames come from.
pub trait FrameSource {
    /// The next frame, borrowed until the next call.
    ///
    /// # Errors
    /// When the source breaks: a truncated or corrupt file, a failing socket.
    fn next_frame(&mut self) -> Result<Next<'_>, SourceError>;

    /// Kernel state changes the source read since the last call (a pcapng
    /// recording of the kernel view holds them); none for most sources.
    fn take_kernel(&mut self) -> Vec<crate::model::kernel::Change> {
        Vec::new()
    }

    /// Reads on past up to `max` frames for which `skip` is true, and reads
    /// the first for which it is not: how many it read on past, and that
    /// frame, as [`next_frame`] would have returned it. A fast path for a
    /// reader that passes over most frames. A source may read none, and may
    /// stop short without a frame (at the end of what it holds, or at a
    /// record it does not read this way): `next_frame` reads on from there.
    ///
    /// [`next_frame`]: FrameSource::next_frame
    fn skim<F: FnMut(&Frame<'_>) -> bool>(&mut self, max: u64, skip: F) -> (u64, Option<Frame<'_>>)
    where
        Self: Sized,
    {
        let _ = (max, skip);
        (0, None)
    }
}

/// Why a source stopped early. Each names the input and says where it broke.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{name} is empty")]
    Empty { name: String },
    #[error("{name} is not a pcap or pcapng capture (it starts with bytes {found})")]
    NotACapture { name: String, found: String },
    #[error("{name} is truncated after packet {packets} (byte offset {offset})")]
    Truncated { name: String, packets: u64, offset: u64 },
    #[error("{name} is corrupt after packet {packets} (byte offset {offset}): {what}")]
    Corrupt { name: String, packets: u64, offset: u64, what: String },
    #[error("cannot read {name}")]
    Io {
        name: String,
        #[source]
        source: std::io::Error,
    },
}
