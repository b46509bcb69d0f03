//! synack shows TCP's connection life cycle, segment by segment.
//!
//! ```text
//!  FrameSource (live socket | pcap file | stdin stream)
//!        │ frames (bytes + link type + timestamp)
//!        ▼
//!  model::decode ──▶ Segment ──▶ model::tracker (connections, states, phases, close kind)
//!                                      │
//!                                      ▼
//!                              model::timeline + ladder (what to draw)
//!                                      │
//!                      ┌───────────────┴───────────────┐
//!                      ▼                               ▼
//!               export (text, jsonl)           tui (dashboard)
//! ```
//!
//! The pure core ([`model`], [`ladder`], [`pipeline`]) does no IO, spawns no
//! thread and reads no clock. [`capture`] is the IO edge; [`app`] wires it all.

pub mod app;
pub mod capture;
pub mod cli;
pub mod echo;
pub mod engine;
pub mod export;
pub mod figure;
pub mod i18n;
/// The one-thread loop, where it was before the engine had a module.
pub use engine::headless;
pub mod ladder;
pub mod model;
pub mod os;
pub mod pipeline;
pub mod scenario;
pub mod signals;
pub mod tui;
pub mod udp_echo;
