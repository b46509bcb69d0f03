//! The pure core: decoding, sequence numbers, the TCP state machine, the
//! connection tracker and the timeline. No IO, no threads, no clock, no
//! terminal: everything here is tested without privileges.

pub mod call;
pub mod classify;
pub mod connection;
pub mod decode;
pub mod diagram;
pub mod encap;
pub mod explain;
pub mod kernel;
pub mod kernel_change;
pub mod reassembly;
pub mod segment;
pub mod seq;
pub mod tcp;
pub mod timeline;
pub mod tracker;
pub mod udp;
pub mod zeek;
