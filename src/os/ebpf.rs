//! The kernel view's cheap path: a small eBPF program on each tracepoint
//! (`sock:inet_sock_set_state`, and with the socket calls on, each of
//! [`super::callpoints::EVENTS`]) copies each record it keeps (the watched
//! port's changes; TCP's sends and receives; accepts that returned a
//! descriptor; every close, shutdown and dup) into one BPF ring buffer
//! (`BPF_MAP_TYPE_RINGBUF`, Linux 5.8), in place of a perf sample each.
//!
//! Why: a perf sample costs the traced program about a microsecond in
//! `perf_swevent_event` on this kind of virtual machine (5 % of all CPU
//! time at 10 changes per connection and 15,000 connections a second);
//! the program and its ring cost a fifth of that. What it writes is what
//! the perf sample held: the time (CLOCK_MONOTONIC, as the perf events are
//! opened), the task (`bpf_get_current_pid_tgid`), the tracepoint's id and
//! its record past its common fields, so the same parsers read both
//! ([`super::tracepoint::parse_sample`], [`super::callpoints::Decoder`]).
//! One ring for all of them: one budget, and the records of every CPU in
//! the order they were written.
//!
//! The program returns 1: other perf users of the tracepoint (`perf record
//! -e sock:inet_sock_set_state`) still get their samples. It is attached
//! through a perf event that is never enabled, so perf writes nothing for
//! synack. A program never wakes the reader (`BPF_RB_NO_WAKEUP`): the reader comes
//! by on its own timer (the dashboard's every 10 ms, `trace` between frames
//! and when the capture is idle), and the ring (16 MiB, about 190,000
//! changes) holds over a second of the machine's top rate. A full ring
//! counts the record in a one-element array, mapped beside the ring.
//!
//! Needs CAP_BPF and CAP_PERFMON (root); without them the kernel view
//! keeps the perf path, as it does where the kernel refuses the ring (before
//! Linux 5.11 its 16 MiB counted against RLIMIT_MEMLOCK), and, with the
//! socket calls on, in a pid namespace of its own (the program sees the
//! host's pids). Limit: the kernel skips a tracepoint's programs on a CPU
//! where another eBPF tracing program is running at that moment (an
//! interrupt nested in it), and the change is then neither read nor counted
//! here: it takes another tracing tool on the machine. The program is assembled here ([`program`], pure)
//! and the kernel's verifier checks it at load; `tests/kernel_paths.rs`
//! compares what it reads with the perf path's, change for change.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use perf_event_open_sys as sys;

use super::tracepoint::Fields;

/// One eBPF instruction (`struct bpf_insn`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    pub code: u8,
    /// `dst_reg` in the low nibble, `src_reg` in the high one.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn { code, regs: (src << 4) | (dst & 0xf), off, imm }
}

// Opcodes (linux/bpf.h, linux/bpf_common.h).
const MOV64_X: u8 = 0xbf;
const MOV64_K: u8 = 0xb7;
const ADD64_K: u8 = 0x07;
const LDX_B: u8 = 0x71;
const LDX_H: u8 = 0x69;
const LDX_W: u8 = 0x61;
const LDX_DW: u8 = 0x79;
const STX_B: u8 = 0x73;
const STX_H: u8 = 0x6b;
const STX_W: u8 = 0x63;
const STX_DW: u8 = 0x7b;
const ST_W: u8 = 0x62;
const ST_DW: u8 = 0x7a;
const LD_DW_IMM: u8 = 0x18;
const JEQ_K: u8 = 0x15;
const JNE_K: u8 = 0x55;
const JSLT_K: u8 = 0xc5;
const CALL: u8 = 0x85;
const EXIT: u8 = 0x95;
const ATOMIC_DW: u8 = 0xdb;
/// `ld_imm64`'s source register for a map's descriptor.
const PSEUDO_MAP_FD: u8 = 1;
// Helpers.
const MAP_LOOKUP_ELEM: i32 = 1;
const KTIME_GET_NS: i32 = 5;
const GET_CURRENT_PID_TGID: i32 = 14;
const RINGBUF_OUTPUT: i32 = 130;
// Ring buffer flags and queries.
const RB_NO_WAKEUP: i32 = 1;
// Registers.
const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R6: u8 = 6;
const FP: u8 = 10;

/// Bytes of the tracepoint's record the program copies: from the end of
/// its common fields (8 bytes, which a program may not read) to the end of
/// the last field synack reads. `None` when a field is not where a program
/// may read it.
#[must_use]
pub fn record_end(f: &Fields) -> Option<usize> {
    let ends = [
        f.skaddr + 8,
        f.oldstate + 4,
        f.newstate + 4,
        f.sport + 2,
        f.dport + 2,
        f.family + 2,
        f.protocol + 2,
        f.saddr + 4,
        f.daddr + 4,
        f.saddr_v6 + 16,
        f.daddr_v6 + 16,
    ];
    let starts = [
        f.skaddr, f.oldstate, f.newstate, f.sport, f.dport, f.family, f.protocol, f.saddr, f.daddr, f.saddr_v6,
        f.daddr_v6,
    ];
    let end = *ends.iter().max()?;
    let readable = starts.iter().all(|&s| s >= 8) && f.sport.is_multiple_of(2) && f.dport.is_multiple_of(2);
    (readable && end <= 256).then_some(end)
}

/// Bytes of one record in the ring: the time, the task, the tracepoint's
/// id, then its record from byte 8 to `end`, padded to 8.
#[must_use]
pub fn record_size(end: usize) -> usize {
    24 + end.next_multiple_of(8) - 8
}

/// The end of a tracepoint's fields past its common ones, from its
/// `format` file: what a program copies. `None` without such a field, or
/// past 256 bytes.
#[must_use]
pub fn format_end(format: &str) -> Option<usize> {
    let end = format
        .lines()
        .filter_map(|l| {
            let part = |key: &str| l.split(';').find_map(|p| p.trim().strip_prefix(key)?.parse::<usize>().ok());
            l.trim().starts_with("field:").then(|| Some(part("offset:")? + part("size:")?))?
        })
        .filter(|&e| e > 8)
        .max()?;
    (end <= 256).then_some(end)
}

/// Which of a tracepoint's records a program keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Every one.
    All,
    /// Those whose u16 at `sport` or at `dport` is `port`.
    Port { sport: usize, dport: usize, port: u16 },
    /// Those whose u16 at `at` is `value` (`protocol == 6`).
    Equal { at: usize, value: u16 },
    /// Those whose signed 64-bit value at `at` is not negative (`ret >= 0`).
    NotNegative { at: usize },
}

/// The program for the tracepoint `id`: for a record that `filter` keeps,
/// write [time, pid_tgid, `id`, record bytes 8..`end`] into the ring
/// `ring_fd`, waking no one; when the ring is full, add one to element 0
/// of `lost_fd`. Returns 1 (perf's own users of the tracepoint go on).
#[must_use]
pub fn program(id: u16, end: usize, filter: Filter, ring_fd: i32, lost_fd: i32) -> Vec<Insn> {
    let size = record_size(end);
    let rec = -i16::try_from(size).unwrap_or(i16::MAX);
    let key = rec - 8;
    let off = |at: usize| i16::try_from(at).unwrap_or(i16::MAX);
    let mut p = vec![insn(MOV64_X, R6, R1, 0, 0)];
    // Jumps to the exit are patched once its place is known.
    let mut to_exit = Vec::new();
    match filter {
        Filter::All => {}
        Filter::Port { sport, dport, port } => {
            let port = i32::from(port);
            p.push(insn(LDX_H, R2, R6, off(sport), 0));
            p.push(insn(JEQ_K, R2, 0, 2, port));
            p.push(insn(LDX_H, R2, R6, off(dport), 0));
            to_exit.push(p.len());
            p.push(insn(JNE_K, R2, 0, 0, port));
        }
        Filter::Equal { at, value } => {
            p.push(insn(LDX_H, R2, R6, off(at), 0));
            to_exit.push(p.len());
            p.push(insn(JNE_K, R2, 0, 0, i32::from(value)));
        }
        Filter::NotNegative { at } => {
            p.push(insn(LDX_DW, R2, R6, off(at), 0));
            to_exit.push(p.len());
            p.push(insn(JSLT_K, R2, 0, 0, 0));
        }
    }
    p.push(insn(CALL, 0, 0, 0, KTIME_GET_NS));
    p.push(insn(STX_DW, FP, R0, rec, 0));
    p.push(insn(CALL, 0, 0, 0, GET_CURRENT_PID_TGID));
    p.push(insn(STX_DW, FP, R0, rec + 8, 0));
    p.push(insn(MOV64_K, R1, 0, 0, i32::from(id)));
    p.push(insn(STX_DW, FP, R1, rec + 16, 0));
    // Whole words, then what is left of the last one (the kernel refuses a
    // program that reads past the record), its slot zeroed first.
    for at in (8..end).step_by(8) {
        let slot = rec + 24 + off(at - 8);
        if at + 8 <= end {
            p.push(insn(LDX_DW, R1, R6, off(at), 0));
            p.push(insn(STX_DW, FP, R1, slot, 0));
            continue;
        }
        p.push(insn(ST_DW, FP, 0, slot, 0));
        let mut k = at;
        for (width, load, store) in [(4, LDX_W, STX_W), (2, LDX_H, STX_H), (1, LDX_B, STX_B)] {
            if k + width <= end {
                p.push(insn(load, R1, R6, off(k), 0));
                p.push(insn(store, FP, R1, slot + off(k - at), 0));
                k += width;
            }
        }
    }
    let map = |p: &mut Vec<Insn>, fd: i32| {
        p.push(insn(LD_DW_IMM, R1, PSEUDO_MAP_FD, 0, fd));
        p.push(Insn::default());
    };
    map(&mut p, ring_fd);
    p.push(insn(MOV64_K, R4, 0, 0, RB_NO_WAKEUP));
    p.push(insn(MOV64_X, R2, FP, 0, 0));
    p.push(insn(ADD64_K, R2, 0, 0, i32::from(rec)));
    p.push(insn(MOV64_K, R3, 0, 0, i32::try_from(size).unwrap_or(0)));
    p.push(insn(CALL, 0, 0, 0, RINGBUF_OUTPUT));
    to_exit.push(p.len());
    p.push(insn(JEQ_K, R0, 0, 0, 0));
    // The ring was full: count the change.
    p.push(insn(ST_W, FP, 0, key, 0));
    map(&mut p, lost_fd);
    p.push(insn(MOV64_X, R2, FP, 0, 0));
    p.push(insn(ADD64_K, R2, 0, 0, i32::from(key)));
    p.push(insn(CALL, 0, 0, 0, MAP_LOOKUP_ELEM));
    to_exit.push(p.len());
    p.push(insn(JEQ_K, R0, 0, 0, 0));
    p.push(insn(MOV64_K, R1, 0, 0, 1));
    // lock *(u64 *)(r0 + 0) += r1 (BPF_ADD is 0).
    p.push(insn(ATOMIC_DW, R0, R1, 0, 0));
    let exit = p.len();
    p.push(insn(MOV64_K, R0, 0, 0, 1));
    p.push(insn(EXIT, 0, 0, 0, 0));
    for at in to_exit {
        p[at].off = i16::try_from(exit - at - 1).unwrap_or(0);
    }
    p
}

fn bpf(cmd: libc::c_long, attr: &mut [u64]) -> io::Result<OwnedFd> {
    let size = std::mem::size_of_val(attr);
    // SAFETY: `attr` is a live, zero-padded `union bpf_attr` of `size` bytes
    // for the duration of the call.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_mut_ptr(), size) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(i32::try_from(rc).unwrap_or(-1)) })
}

const MAP_CREATE: libc::c_long = 0;
const PROG_LOAD: libc::c_long = 5;
const MAP_TYPE_ARRAY: u64 = 2;
const MAP_TYPE_RINGBUF: u64 = 27;
const PROG_TYPE_TRACEPOINT: u64 = 5;
/// `BPF_RINGBUF_BUSY_BIT`, `BPF_RINGBUF_DISCARD_BIT`, `BPF_RINGBUF_HDR_SZ`.
const BUSY: u32 = 1 << 31;
const DISCARD: u32 = 1 << 30;
const HEADER: usize = 8;

/// `BPF_F_MMAPABLE`: an array whose values can be mapped into memory.
const F_MMAPABLE: u64 = 1 << 10;

/// A map: type, key size, value size, entries, flags (`union bpf_attr`, the
/// fields of BPF_MAP_CREATE, zero-padded).
fn map_create(kind: u64, key: u32, value: u32, entries: u32, flags: u64) -> io::Result<OwnedFd> {
    let mut attr = [0u64; 8];
    attr[0] = kind | (u64::from(key) << 32);
    attr[1] = u64::from(value) | (u64::from(entries) << 32);
    attr[2] = flags;
    bpf(MAP_CREATE, &mut attr)
}

/// The program loaded; on refusal, the verifier's log in the error.
fn prog_load(insns: &[Insn]) -> io::Result<OwnedFd> {
    let license = c"Dual MIT/GPL";
    let mut log = vec![0u8; 1 << 16];
    let mut attr = [0u64; 16];
    attr[0] = PROG_TYPE_TRACEPOINT | ((insns.len() as u64) << 32);
    attr[1] = insns.as_ptr() as u64;
    attr[2] = license.as_ptr() as u64;
    // log_level 1, log_size, log_buf.
    attr[3] = 1 | ((log.len() as u64) << 32);
    attr[4] = log.as_mut_ptr() as u64;
    match bpf(PROG_LOAD, &mut attr) {
        Ok(fd) => Ok(fd),
        Err(e) => {
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]);
            let last: Vec<&str> = text.lines().rev().take(4).collect();
            Err(io::Error::new(e.kind(), format!("{e}; verifier: {}", last.join(" / "))))
        }
    }
}

/// The program on the tracepoint, its ring mapped.
pub struct BpfRing {
    /// Each program, and the perf event it is attached through (never
    /// enabled): closing that event detaches it.
    attached: Vec<(OwnedFd, OwnedFd)>,
    _map: OwnedFd,
    _lost_map: OwnedFd,
    /// The counter of changes the ring had no room for, mapped read-only.
    lost: *mut u8,
    /// The consumer page (read-write) and the producer page with the data
    /// mapped twice after it (read-only): a record that wraps is
    /// contiguous.
    consumer: *mut u8,
    producer: *mut u8,
    page: usize,
    size: usize,
}

// SAFETY: the mappings are owned by this BpfRing and only read or written
// through &mut self (or atomics through &self).
unsafe impl Send for BpfRing {}

impl Drop for BpfRing {
    fn drop(&mut self) {
        // SAFETY: the two mappings, exactly as mmap returned them, unmapped once.
        unsafe {
            libc::munmap(self.consumer.cast(), self.page);
            libc::munmap(self.producer.cast(), self.page + 2 * self.size);
            libc::munmap(self.lost.cast(), self.page);
        }
    }
}

impl BpfRing {
    /// A ring of `size` bytes (a power of two of pages), with no program
    /// writing into it yet.
    ///
    /// # Errors
    /// When the kernel refuses a map (CAP_BPF) or its mapping.
    pub fn open(size: usize) -> io::Result<BpfRing> {
        // SAFETY: sysconf has no memory-safety preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        let entries = u32::try_from(size).map_err(io::Error::other)?;
        let map = map_create(MAP_TYPE_RINGBUF, 0, 0, entries, 0)?;
        // Mapped, so that it is read without a system call (and without
        // CAP_BPF, once privileges are dropped).
        let lost_map = map_create(MAP_TYPE_ARRAY, 4, 8, 1, F_MMAPABLE)?;
        // SAFETY: mapping the ring's consumer page read-write, its producer
        // page and data (twice) read-only, as the kernel lays them out, and
        // the counter's page read-only; checked for failure below.
        let (consumer, producer, lost) = unsafe {
            let c = libc::mmap(
                std::ptr::null_mut(),
                page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                map.as_raw_fd(),
                0,
            );
            let p = libc::mmap(
                std::ptr::null_mut(),
                page + 2 * size,
                libc::PROT_READ,
                libc::MAP_SHARED,
                map.as_raw_fd(),
                i64::try_from(page).unwrap_or(0),
            );
            let l = libc::mmap(std::ptr::null_mut(), page, libc::PROT_READ, libc::MAP_SHARED, lost_map.as_raw_fd(), 0);
            (c, p, l)
        };
        if [consumer, producer, lost].contains(&libc::MAP_FAILED) {
            let e = io::Error::last_os_error();
            // SAFETY: whichever mapping succeeded is unmapped once.
            unsafe {
                for (m, len) in [(consumer, page), (producer, page + 2 * size), (lost, page)] {
                    if m != libc::MAP_FAILED {
                        libc::munmap(m, len);
                    }
                }
            }
            return Err(e);
        }
        Ok(BpfRing {
            attached: Vec::new(),
            _map: map,
            _lost_map: lost_map,
            lost: lost.cast(),
            consumer: consumer.cast(),
            producer: producer.cast(),
            page,
            size,
        })
    }

    /// Attaches a program to the tracepoint `id` that writes the records
    /// `filter` keeps, each copied to `end` ([`program`]).
    ///
    /// # Errors
    /// When the kernel refuses the program or the event.
    pub fn attach(&mut self, id: u64, end: usize, filter: Filter) -> io::Result<()> {
        self.attach_all(&[(id, end, filter)])
    }

    /// Attaches one program for each of `events` (id, end, filter): all of
    /// them, or none.
    ///
    /// # Errors
    /// When the kernel refuses one.
    pub fn attach_all(&mut self, events: &[(u64, usize, Filter)]) -> io::Result<()> {
        let pairs =
            events.iter().map(|&(id, end, filter)| self.load(id, end, filter)).collect::<io::Result<Vec<_>>>()?;
        self.attached.extend(pairs);
        Ok(())
    }

    fn load(&self, id: u64, end: usize, filter: Filter) -> io::Result<(OwnedFd, OwnedFd)> {
        let kind = u16::try_from(id).map_err(io::Error::other)?;
        let prog = prog_load(&program(kind, end, filter, self._map.as_raw_fd(), self._lost_map.as_raw_fd()))?;
        let carrier = carrier(id)?;
        // SAFETY: both descriptors are open; the kernel takes its own
        // reference to the program.
        if unsafe { sys::ioctls::SET_BPF(carrier.as_raw_fd(), u32::try_from(prog.as_raw_fd()).unwrap_or(0)) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((carrier, prog))
    }

    /// Hands each record the ring holds to `each` (oldest first), and
    /// frees its space.
    pub fn read(&mut self, mut each: impl FnMut(&[u8])) {
        // SAFETY: the consumer and producer positions (`unsigned long`) are
        // the first word of their pages, written by us and by the kernel respectively, read
        // and written as atomics (the ring's ABI: acquire and release).
        let (consumer, producer) = unsafe {
            (&*self.consumer.cast::<AtomicUsize>().cast_const(), &*self.producer.cast::<AtomicUsize>().cast_const())
        };
        let mut pos = consumer.load(Ordering::Acquire);
        let mask = self.size - 1;
        loop {
            let head = producer.load(Ordering::Acquire);
            if pos >= head {
                break;
            }
            while pos < head {
                let at = pos & mask;
                // SAFETY: `at` is within the data area; each record's header
                // is a u32 the kernel publishes with release order.
                let len = unsafe { &*self.producer.add(self.page + at).cast::<AtomicU32>() }.load(Ordering::Acquire);
                if len & BUSY != 0 {
                    consumer.store(pos, Ordering::Release);
                    return;
                }
                let n = (len & !(BUSY | DISCARD)) as usize;
                if n + HEADER > self.size {
                    // Not a record the kernel could have written: stop here.
                    consumer.store(pos, Ordering::Release);
                    return;
                }
                if len & DISCARD == 0 {
                    // SAFETY: the record lies after its header, contiguous
                    // (the data is mapped twice), committed by the kernel.
                    let body = unsafe { std::slice::from_raw_parts(self.producer.add(self.page + at + HEADER), n) };
                    each(body);
                }
                pos += (n + HEADER).next_multiple_of(8);
            }
            consumer.store(pos, Ordering::Release);
        }
    }

    /// Changes the program could not write (the ring was full), so far.
    #[must_use]
    pub fn lost(&self) -> u64 {
        // SAFETY: the counter is the first u64 of its mapped page, which the
        // program adds to atomically.
        unsafe { &*self.lost.cast::<AtomicU64>().cast_const() }.load(Ordering::Relaxed)
    }
}

/// A perf event on the tracepoint `id`, on CPU 0 for every task, never
/// enabled: the program's attachment, nothing else.
fn carrier(id: u64) -> io::Result<OwnedFd> {
    let mut attr = sys::bindings::perf_event_attr {
        type_: sys::bindings::PERF_TYPE_TRACEPOINT,
        size: u32::try_from(std::mem::size_of::<sys::bindings::perf_event_attr>()).unwrap_or(0),
        config: id,
        ..Default::default()
    };
    attr.__bindgen_anon_1.sample_period = 1;
    attr.set_disabled(1);
    // SAFETY: attr is a valid, fully initialised perf_event_attr.
    let raw = unsafe { sys::perf_event_open(&mut attr, -1, 0, -1, sys::bindings::PERF_FLAG_FD_CLOEXEC.into()) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: raw is a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            skaddr: 8,
            oldstate: 16,
            newstate: 20,
            sport: 24,
            dport: 26,
            family: 28,
            protocol: 30,
            saddr: 32,
            daddr: 36,
            saddr_v6: 40,
            daddr_v6: 56,
        }
    }

    #[test]
    fn the_record_and_its_copy() {
        let f = fields();
        assert_eq!(record_end(&f), Some(72));
        assert_eq!(record_size(72), 88);
        assert_eq!(record_end(&Fields { sport: 25, ..f }), None, "a u16 load must be aligned");
        assert_eq!(record_end(&Fields { skaddr: 0, ..f }), None, "the common fields are not readable");
        let port = Filter::Port { sport: 24, dport: 26, port: 8001 };
        let p = program(2287, 72, port, 3, 4);
        // Every jump lands inside the program, on its exit or before it.
        for (i, ins) in p.iter().enumerate() {
            if matches!(ins.code, JEQ_K | JNE_K | JSLT_K) {
                let to = i as i64 + 1 + i64::from(ins.off);
                assert!(to > i as i64 && (to as usize) < p.len(), "jump at {i} to {to}");
            }
        }
        assert_eq!(p.last().unwrap().code, EXIT);
        // The record's eight words are each loaded from the context once.
        let loads: Vec<i16> = p.iter().filter(|i| i.code == LDX_DW).map(|i| i.off).collect();
        assert_eq!(loads, vec![8, 16, 24, 32, 40, 48, 56, 64]);
        // The id is written beside them.
        assert!(p.iter().any(|i| i.code == MOV64_K && i.imm == 2287));
        // The port is compared with both ports; without a port, no compare.
        assert_eq!(p.iter().filter(|i| matches!(i.code, JEQ_K | JNE_K) && i.imm == 8001).count(), 2);
        let all = program(2287, 72, Filter::All, 3, 4);
        assert_eq!(all.len(), p.len() - 4);
        // Both maps are referenced by descriptor.
        let maps: Vec<i32> = p.iter().filter(|i| i.code == LD_DW_IMM).map(|i| i.imm).collect();
        assert_eq!(maps, vec![3, 4]);
        // The calls' filters: one load and one jump each.
        let eq = program(7, 32, Filter::Equal { at: 18, value: 6 }, 3, 4);
        assert!(eq.windows(2).any(|w| w[0].code == LDX_H && w[0].off == 18 && w[1].code == JNE_K && w[1].imm == 6));
        let ret = program(7, 24, Filter::NotNegative { at: 16 }, 3, 4);
        assert!(ret.windows(2).any(|w| w[0].code == LDX_DW && w[0].off == 16 && w[1].code == JSLT_K && w[1].imm == 0));
    }

    #[test]
    fn a_formats_end() {
        let send = "format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:void * sk;\toffset:8;\tsize:8;\tsigned:0;
\tfield:__u16 family;\toffset:16;\tsize:2;\tsigned:0;
\tfield:__u16 protocol;\toffset:18;\tsize:2;\tsigned:0;
\tfield:int ret;\toffset:20;\tsize:4;\tsigned:1;
\tfield:int flags;\toffset:24;\tsize:4;\tsigned:1;
";
        assert_eq!(format_end(send), Some(28));
        // Its last word is copied in part: a u32, then nothing past byte 28.
        let p = program(7, 28, Filter::All, 3, 4);
        let loads: Vec<(u8, i16)> =
            p.iter().filter(|i| matches!(i.code, LDX_DW | LDX_W | LDX_H | LDX_B)).map(|i| (i.code, i.off)).collect();
        assert_eq!(loads, vec![(LDX_DW, 8), (LDX_DW, 16), (LDX_W, 24)]);
        assert_eq!(record_size(28), 48);
        assert_eq!(format_end("format:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\n"), None);
    }
}
