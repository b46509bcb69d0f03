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

    /// Socket calls the source read since the last call (a pcapng recording
    /// made with calls holds them; a pcap file cannot), and how many of its
    /// call records were malformed (skipped, counted); none for most sources.
    fn take_calls(&mut self) -> Replayed {
        Replayed::default()
    }
}

/// A recording's socket calls, read with its frames ([`FrameSource::take_calls`]).
#[derive(Debug, Default)]
pub struct Replayed {
    pub calls: Vec<crate::model::call::Call>,
    /// Call records that did not read back (skipped; the frames are not).
    pub malformed: u64,
    /// Calls not kept: more than [`CALLS_HELD`] came between two frames.
    pub dropped: u64,
}

/// Calls a source holds between two frames, at most (memory stays bounded
/// whatever a file holds).
pub const CALLS_HELD: usize = 65_536;

impl Replayed {
    /// Calls read whole (the built-in programs' own, in the dashboard).
    #[must_use]
    pub fn of(calls: Vec<crate::model::call::Call>) -> Replayed {
        Replayed { calls, ..Replayed::default() }
    }

    /// Nothing read.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty() && self.malformed == 0 && self.dropped == 0
    }
}

/// Why a source stopped early. Each names the input and says where it broke
/// (in the language of [`crate::i18n::current`], `cli-source-*`).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    Empty {
        name: String,
    },
    NotACapture {
        name: String,
        found: String,
    },
    Truncated {
        name: String,
        packets: u64,
        offset: u64,
    },
    Corrupt {
        name: String,
        packets: u64,
        offset: u64,
        what: String,
    },
    Io {
        name: String,
        #[source]
        source: std::io::Error,
    },
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            SourceError::Empty { name } => crate::t!("cli-source-empty", name = name.clone()),
            SourceError::NotACapture { name, found } => {
                crate::t!("cli-source-not-capture", name = name.clone(), found = found.clone())
            }
            SourceError::Truncated { name, packets, offset } => crate::t!(
                "cli-source-truncated",
                name = name.clone(),
                packets = packets.to_string(),
                offset = offset.to_string()
            ),
            SourceError::Corrupt { name, packets, offset, what } => crate::t!(
                "cli-source-corrupt",
                name = name.clone(),
                packets = packets.to_string(),
                offset = offset.to_string(),
                what = what.clone()
            ),
            SourceError::Io { name, .. } => crate::t!("cli-source-io", name = name.clone()),
        };
        f.write_str(&s)
    }
}
