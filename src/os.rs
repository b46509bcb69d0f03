//! What touches the kernel, and all the crate's `unsafe` code but two modules
//! (`export::jsonl::append`, text appended in whole words, and
//! `engine::arenas`, the sharded engine's malloc tunables): the packet socket
//! and its BPF filter, the PACKET_MMAP receive ring, batch reads, privileges,
//! the kernel view's tracepoints (perf events, and the eBPF program that
//! reads the state changes into a BPF ring buffer),
//! the few socket options std does not offer, capture files mapped into
//! memory, a cache prefetch hint. Each unsafe block carries a `// SAFETY:`
//! comment.
//!
//! File descriptors are [`std::os::fd::OwnedFd`] from the call that makes them
//! to the place that closes them, and [`std::os::fd::BorrowedFd`] everywhere
//! else: no safe function here can close a descriptor it does not own.
//! Everything that can be checked without the kernel is a pure function,
//! tested without privileges: the BPF program ([`bpf`]) against `tcpdump -dd`,
//! the eBPF program's layout ([`ebpf::program`]; the kernel's verifier checks
//! it at load, and `tests/kernel_paths.rs` what it reads against perf's),
//! the ring's block parser ([`ring::parse`]) on byte buffers, the privilege
//! decision ([`privileges::target`]) on environment values.
//!
//! Socket options go through `socket2` where it has them (packet socket,
//! filter, receive buffer, SO_LINGER); `libc` for the rest (PACKET_RX_RING,
//! PACKET_STATISTICS, SO_TIMESTAMPNS, recvmmsg, mmap, set*id); `caps` for the
//! capability sets.

pub mod bpf;
pub mod callpoints;
pub mod diag;
pub mod ebpf;
pub mod map;
pub mod netstat;
pub mod packet;
pub mod prefetch;
pub mod privileges;
pub mod ring;
pub mod sock;
pub mod tracepoint;
