//! The kernel's own TCP state changes: the `sock:inet_sock_set_state`
//! tracepoint, read through `perf_event_open(2)` (one event and one mmap ring
//! per CPU, a kernel-side filter on the watched port, timestamps on
//! CLOCK_REALTIME like the packets'). Needs root or CAP_PERFMON (with
//! `perf_event_paranoid` at 2) and tracefs, which [`open`] mounts when it is
//! missing. Records are parsed by the pure [`parse_sample`] with the field
//! offsets the tracepoint's `format` file gives. With the socket calls on
//! ([`open_with`]), the tracepoints of [`super::callpoints`] write into the
//! same rings, and each sample carries its task (pid and thread).
//!
//! Where the kernel allows it (CAP_BPF), the state changes, and the socket
//! calls when they are on, come through [`super::ebpf`]'s programs and ring
//! instead of a perf sample each, which costs the traced programs a fifth
//! as much; the perf rings then carry only the processes' names and forks
//! (a dummy event's), or the calls alone when they cannot be had there.
//!
//! The kernel wakes a reader only when a perf ring is a quarter full (a
//! watermark), and the eBPF ring never, never per change: in a virtual
//! machine each wakeup is an interrupt and an exit, which cost the traced
//! programs most of their speed. The reader comes by on its own timer
//! ([`Tracepoint::wait`], or between frames) and takes what the rings hold
//! in one pass.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{Ordering, fence};
use std::time::Duration;

use perf_event_open_sys as sys;

use super::callpoints::{Decoder, RawEvent, RawSample};
use super::ebpf::{BpfRing, Filter};
use crate::model::call::Comm;

/// Where tracefs may be.
const TRACEFS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];
const EVENT: &str = "events/sock/inet_sock_set_state";
/// Bytes of ring for all CPUs together: 32 MiB, about 320,000 changes, a
/// few seconds of a 2-CPU machine's top rate: room for a reader kept off
/// the CPU by a busy machine. Each CPU's ring (a power of two of pages) is
/// its share, between [`MIN_RING`] and [`MAX_RING`]; where the
/// locked-memory limit refuses that much (CAP_PERFMON without root), halved
/// until it fits, down to [`MIN_PAGES`].
const RINGS: usize = 32 << 20;
const MIN_RING: usize = 1 << 20;
const MAX_RING: usize = 16 << 20;
const MIN_PAGES: usize = 16;

/// Data pages of each CPU's ring, for `cpus` CPUs and pages of `page` bytes.
fn ring_pages(cpus: usize, page: usize) -> usize {
    let share = (RINGS / cpus.max(1)).clamp(MIN_RING, MAX_RING);
    // The largest power of two of pages within the share.
    let pages = (share / page.max(1)).max(1);
    1 << pages.ilog2()
}

/// Byte offsets of the fields synack reads, from the `format` file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    pub skaddr: usize,
    pub oldstate: usize,
    pub newstate: usize,
    pub sport: usize,
    pub dport: usize,
    pub family: usize,
    pub protocol: usize,
    pub saddr: usize,
    pub daddr: usize,
    pub saddr_v6: usize,
    pub daddr_v6: usize,
}

/// Parses a tracepoint `format` file; `None` when a field is missing.
#[must_use]
pub fn fields(format: &str) -> Option<Fields> {
    let offset = |name: &str| -> Option<usize> {
        format.lines().find_map(|l| {
            let l = l.trim();
            let decl = l.strip_prefix("field:")?.split(';').next()?;
            let ident = decl.rsplit(' ').next()?.split('[').next()?;
            if ident != name {
                return None;
            }
            l.split(';').find_map(|p| p.trim().strip_prefix("offset:")?.parse().ok())
        })
    };
    Some(Fields {
        skaddr: offset("skaddr")?,
        oldstate: offset("oldstate")?,
        newstate: offset("newstate")?,
        sport: offset("sport")?,
        dport: offset("dport")?,
        family: offset("family")?,
        protocol: offset("protocol")?,
        saddr: offset("saddr")?,
        daddr: offset("daddr")?,
        saddr_v6: offset("saddr_v6")?,
        daddr_v6: offset("daddr_v6")?,
    })
}

/// One state change as the tracepoint reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawChange {
    /// Nanoseconds since the epoch (CLOCK_REALTIME).
    pub ts: u64,
    /// The socket's kernel address: the same socket across its changes (the
    /// client's first change, to SYN-SENT, comes before its port is chosen).
    pub sock: u64,
    pub local: std::net::SocketAddr,
    pub remote: std::net::SocketAddr,
    /// Kernel state numbers (`TCP_ESTABLISHED` = 1 ... `TCP_NEW_SYN_RECV` = 12).
    pub oldstate: i32,
    pub newstate: i32,
}

/// Parses the raw data of one sample; `None` when it is too short or not TCP.
#[must_use]
pub fn parse_sample(f: &Fields, ts: u64, raw: &[u8]) -> Option<RawChange> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    let u16_at = |at: usize| Some(u16::from_ne_bytes(raw.get(at..at + 2)?.try_into().ok()?));
    let i32_at = |at: usize| Some(i32::from_ne_bytes(raw.get(at..at + 4)?.try_into().ok()?));
    if u16_at(f.protocol)? != 6 {
        return None;
    }
    let (local, remote) = match u16_at(f.family)? {
        2 => {
            let s: [u8; 4] = raw.get(f.saddr..f.saddr + 4)?.try_into().ok()?;
            let d: [u8; 4] = raw.get(f.daddr..f.daddr + 4)?.try_into().ok()?;
            (IpAddr::V4(Ipv4Addr::from(s)), IpAddr::V4(Ipv4Addr::from(d)))
        }
        10 => {
            let s: [u8; 16] = raw.get(f.saddr_v6..f.saddr_v6 + 16)?.try_into().ok()?;
            let d: [u8; 16] = raw.get(f.daddr_v6..f.daddr_v6 + 16)?.try_into().ok()?;
            (IpAddr::V6(Ipv6Addr::from(s)), IpAddr::V6(Ipv6Addr::from(d)))
        }
        _ => return None,
    };
    Some(RawChange {
        ts,
        sock: u64::from_ne_bytes(raw.get(f.skaddr..f.skaddr + 8)?.try_into().ok()?),
        local: SocketAddr::new(local, u16_at(f.sport)?),
        remote: SocketAddr::new(remote, u16_at(f.dport)?),
        oldstate: i32_at(f.oldstate)?,
        newstate: i32_at(f.newstate)?,
    })
}

/// Why the kernel view is off.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    NoTracefs(io::Error),
    NoTracepoint(String),
    Refused(io::Error, String),
    Other(io::Error),
}

/// In the language of [`crate::i18n::current`].
impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Unavailable::NoTracefs(e) => crate::t!("cli-no-tracefs", cause = crate::app::io_words(e)),
            Unavailable::NoTracepoint(why) => crate::t!("cli-no-tracepoint", cause = why.clone()),
            Unavailable::Refused(e, detail) => {
                crate::t!("cli-tracepoint-refused", cause = crate::app::io_words(e), detail = detail.clone())
            }
            Unavailable::Other(e) => crate::app::io_words(e),
        };
        f.write_str(&s)
    }
}

/// The tracepoint's directory, mounting tracefs if needed (root only).
fn event_dir() -> Result<PathBuf, Unavailable> {
    for root in TRACEFS {
        let dir = Path::new(root).join(EVENT);
        match std::fs::metadata(dir.join("id")) {
            Ok(_) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(Unavailable::Refused(e, crate::t!("cli-tracefs-root-only", root = root)));
            }
            Err(_) => {}
        }
    }
    let target = CString::new(TRACEFS[0]).unwrap_or_default();
    let (src, kind) = (CString::new("nodev").unwrap_or_default(), CString::new("tracefs").unwrap_or_default());
    // SAFETY: all three strings are NUL-terminated and live across the call;
    // no mount data is passed.
    let r = unsafe { libc::mount(src.as_ptr(), target.as_ptr(), kind.as_ptr(), 0, std::ptr::null()) };
    if r != 0 {
        return Err(Unavailable::NoTracefs(io::Error::last_os_error()));
    }
    let dir = Path::new(TRACEFS[0]).join(EVENT);
    if dir.join("id").exists() { Ok(dir) } else { Err(Unavailable::NoTracepoint(dir.display().to_string())) }
}

/// One CPU's event and its ring, and the CPU's other events (the socket
/// calls' tracepoints), which write into the same ring
/// (`PERF_EVENT_IOC_SET_OUTPUT`): one budget, one watermark, and each CPU's
/// samples in time order across events.
struct Ring {
    fd: OwnedFd,
    others: Vec<OwnedFd>,
    base: *mut u8,
    /// Bytes mapped: the metadata page plus the data pages.
    len: usize,
    page: usize,
}

// SAFETY: the mapping is owned by this Ring and only touched through &mut self.
unsafe impl Send for Ring {}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: base/len are exactly what mmap returned; unmapped once.
        unsafe {
            libc::munmap(self.base.cast(), self.len);
        }
    }
}

/// The tracepoint, open on every CPU.
pub struct Tracepoint {
    /// The state changes, and the socket calls when they can be had there,
    /// through the eBPF programs' ring ([`super::ebpf`]), when the kernel
    /// allows it: then the perf rings carry only the processes' names and
    /// forks (or the calls, when they could not be had on the eBPF ring),
    /// and there are none without the calls.
    bpf: Option<BpfRing>,
    rings: Vec<Ring>,
    fields: Fields,
    /// The state-change tracepoint's id (a sample's `common_type`).
    id: u16,
    /// The socket calls' tracepoints, when they are open.
    calls: Option<Decoder>,
    /// Samples the kernel could not write (full rings), as PERF_RECORD_LOST says.
    lost: u64,
    /// CLOCK_REALTIME minus CLOCK_MONOTONIC, in nanoseconds.
    offset: i128,
    /// A record that wraps around the end of its ring, copied out whole.
    wrapped: Vec<u8>,
}

fn now(clock: libc::clockid_t) -> i128 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: t is a valid timespec to write into.
    unsafe { libc::clock_gettime(clock, &mut t) };
    i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec)
}

/// CLOCK_REALTIME minus CLOCK_MONOTONIC, from the tightest of a few reads.
fn clock_offset() -> i128 {
    (0..5)
        .map(|_| {
            let a = now(libc::CLOCK_MONOTONIC);
            let r = now(libc::CLOCK_REALTIME);
            let b = now(libc::CLOCK_MONOTONIC);
            (b - a, r - (a + b) / 2)
        })
        .min()
        .map_or(0, |(_, o)| o)
}

/// A tracepoint's id and `format` file, from its directory under the
/// tracefs root (`events/group/name`).
fn id_and_format(root: &Path, event: &str) -> Result<(u64, String), Unavailable> {
    let dir = root.join(event);
    let missing = |e: io::Error| Unavailable::NoTracepoint(format!("{event}: {e}"));
    let id = std::fs::read_to_string(dir.join("id"))
        .map_err(missing)?
        .trim()
        .parse()
        .map_err(|e: std::num::ParseIntError| Unavailable::NoTracepoint(format!("{event}: {e}")))?;
    let format = std::fs::read_to_string(dir.join("format")).map_err(missing)?;
    Ok((id, format))
}

/// The state-change tracepoint's id and field offsets (mounting tracefs if
/// needed), for opening a [`BpfRing`] of one's own.
///
/// # Errors
/// [`Unavailable`], saying why.
pub fn state_changes_event() -> Result<(u64, Fields), Unavailable> {
    event().map(|(_, id, fields)| (id, fields))
}

/// The tracefs root, and the state-change tracepoint's id and fields.
fn event() -> Result<(PathBuf, u64, Fields), Unavailable> {
    // The tracefs root, three levels up from events/sock/inet_sock_set_state.
    let root = event_dir()?.ancestors().nth(3).map(Path::to_path_buf).unwrap_or_default();
    let (id, format) = id_and_format(&root, EVENT)?;
    let fields = fields(&format).ok_or_else(|| Unavailable::NoTracepoint("unexpected format".into()))?;
    Ok((root, id, fields))
}

/// Whether this process sees pids as the host does (its pid namespace is
/// the initial one, whose inode is `PROC_PID_INIT_INO`).
fn in_host_pid_namespace() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self/ns/pid").is_ok_and(|m| m.ino() == 0xEFFF_FFFC)
}

/// Which way the state changes come from the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The eBPF ring where the kernel allows it (CAP_BPF), else perf.
    Auto,
    /// The eBPF ring ([`super::ebpf`]), or fail.
    Bpf,
    /// A perf sample per change: the plain path.
    Perf,
}

impl Route {
    /// `SYNACK_KERNEL_PATH`: `bpf`, `perf`, or anything else for [`Route::Auto`]
    /// (for measuring and checking one path against the other).
    #[must_use]
    pub fn from_env() -> Route {
        match std::env::var("SYNACK_KERNEL_PATH").as_deref() {
            Ok("bpf") => Route::Bpf,
            Ok("perf") => Route::Perf,
            _ => Route::Auto,
        }
    }
}

/// Opens the tracepoint for TCP sockets with `port` as either port (every
/// port with `None`).
///
/// # Errors
/// [`Unavailable`], saying why and how to get it.
pub fn open(port: Option<u16>) -> Result<Tracepoint, Unavailable> {
    open_with(port, false).map(|(t, _)| t)
}

/// As [`open`], and with `calls` the socket calls' tracepoints too (see
/// [`super::callpoints`]) on the same rings. When those cannot be had,
/// the state changes alone, and why the calls are off.
///
/// # Errors
/// [`Unavailable`] when the state changes cannot be had.
pub fn open_with(port: Option<u16>, calls: bool) -> Result<(Tracepoint, Option<Unavailable>), Unavailable> {
    open_via(port, calls, Route::from_env())
}

/// As [`open_with`], the state changes by `route`.
///
/// # Errors
/// [`Unavailable`], saying why and how to get it.
pub fn open_via(
    port: Option<u16>,
    calls: bool,
    route: Route,
) -> Result<(Tracepoint, Option<Unavailable>), Unavailable> {
    let (root, id, fields) = event()?;
    let mut why_not = None;
    let mut decoder = None;
    let mut others: Vec<(u64, CString)> = Vec::new();
    let mut found = Vec::new();
    if calls {
        for spec in super::callpoints::EVENTS {
            match id_and_format(&root, &format!("events/{}", spec.event)) {
                Ok((id, format)) => found.push((spec, id, format)),
                Err(e) => {
                    why_not = Some(e);
                    break;
                }
            }
        }
        if why_not.is_none() {
            match Decoder::new(found.iter().map(|(spec, id, format)| (**spec, *id, format.as_str()))) {
                Some(d) => {
                    others = found
                        .iter()
                        .map(|(spec, id, _)| (*id, CString::new(spec.filter).unwrap_or_default()))
                        .collect();
                    decoder = Some(d);
                }
                None => {
                    why_not =
                        Some(Unavailable::NoTracepoint("a socket call tracepoint has an unexpected format".into()))
                }
            }
        }
    }
    // SAFETY: sysconf has no memory-safety preconditions.
    let cpus = usize::try_from(unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) }).unwrap_or(1).max(1);
    // SAFETY: as above.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let filter = port.map(|p| CString::new(format!("sport == {p} || dport == {p}")).unwrap_or_default());
    // One ring for every CPU, as big as the largest perf ring. Not in a
    // pid namespace of its own when the calls are on: the program sees the
    // tasks' pids as the host numbers them, the calls' samples as synack's
    // namespace does.
    let route = if route == Route::Auto && decoder.is_some() && !in_host_pid_namespace() { Route::Perf } else { route };
    let mut bpf = match route {
        Route::Perf => None,
        Route::Auto => open_bpf(id, &fields, port).ok(),
        Route::Bpf => Some(open_bpf(id, &fields, port).map_err(|e| Unavailable::Refused(e, "eBPF".into()))?),
    };
    // The calls onto the same eBPF ring, when each of them can be had there.
    let calls_bpf = match (&mut bpf, &decoder) {
        (Some(b), Some(_)) => call_programs(&found).is_some_and(|events| b.attach_all(&events).is_ok()),
        _ => false,
    };
    let mut rings = Vec::with_capacity(cpus);
    // The perf rings: the state changes and the calls (perf alone); the
    // calls (the state changes on the eBPF ring); only the processes'
    // names and forks, on a dummy event (both on the eBPF ring); none (the
    // state changes on the eBPF ring, no calls).
    let (main, names, mut pages) = match (&bpf, &decoder) {
        (None, _) => (Event::Tracepoint(id), decoder.is_some(), ring_pages(cpus, page)),
        (Some(_), Some(_)) if calls_bpf => (Event::Dummy, true, NAMES_RING / page),
        (Some(_), Some(_)) => (Event::Tracepoint(id), false, ring_pages(cpus, page)),
        (Some(_), None) => (Event::Dummy, false, 0),
    };
    let cpus = if pages == 0 { 0 } else { cpus };
    for cpu in 0..cpus {
        let ring = loop {
            // The processes' names come with the main event, or with the
            // first call's when the main event stays off.
            let filter = if main == Event::Dummy { None } else { filter.as_deref() };
            match open_ring(main, cpu, page, pages, filter, names) {
                Ok(ring) => break Some(ring),
                // The locked-memory limit: a smaller ring.
                Err(Step::Map(e)) if pages > MIN_PAGES && e.raw_os_error() == Some(libc::EPERM) => pages /= 2,
                Err(Step::Open(e)) if cpu > 0 && e.raw_os_error() == Some(libc::ENODEV) => break None,
                Err(Step::Open(e)) => {
                    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid").unwrap_or_default();
                    return Err(Unavailable::Refused(e, format!("perf_event_paranoid is {}", paranoid.trim())));
                }
                Err(Step::Filter(e) | Step::Map(e)) => return Err(Unavailable::Other(e)),
            }
        };
        match ring {
            Some(ring) => rings.push(ring),
            None => break, // a CPU that is not online
        }
    }
    if !others.is_empty()
        && !calls_bpf
        && let Err(e) = add_others(&mut rings, &others, bpf.is_some())
    {
        for r in &mut rings {
            r.others.clear();
        }
        // With the eBPF ring, the perf rings were for the calls alone.
        if bpf.is_some() {
            rings.clear();
        }
        decoder = None;
        why_not = Some(e);
    }
    for r in &rings {
        // The state-change events stay off when the eBPF ring has them.
        let main = (bpf.is_none() || calls_bpf).then_some(&r.fd);
        for fd in main.into_iter().chain(&r.others) {
            // SAFETY: fd is an open perf event.
            if unsafe { sys::ioctls::ENABLE(fd.as_raw_fd(), 0) } != 0 {
                return Err(Unavailable::Other(io::Error::last_os_error()));
            }
        }
    }
    let id = u16::try_from(id).unwrap_or(u16::MAX);
    Ok((
        Tracepoint { bpf, rings, fields, id, calls: decoder, lost: 0, offset: clock_offset(), wrapped: Vec::new() },
        why_not,
    ))
}

/// Bytes of each CPU's perf ring when it carries only the processes' names
/// and forks.
const NAMES_RING: usize = 1 << 20;

/// What a perf ring's own event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    /// A tracepoint, by id.
    Tracepoint(u64),
    /// `PERF_COUNT_SW_DUMMY`: no sample of its own; its ring takes the
    /// names and forks, and the other events' samples.
    Dummy,
}

/// The eBPF ring with the state changes' program on it, for `port`.
fn open_bpf(id: u64, fields: &Fields, port: Option<u16>) -> io::Result<BpfRing> {
    let end = super::ebpf::record_end(fields).ok_or_else(|| io::Error::other("unexpected tracepoint format"))?;
    let filter = port.map_or(Filter::All, |port| Filter::Port { sport: fields.sport, dport: fields.dport, port });
    let mut ring = BpfRing::open(MAX_RING)?;
    ring.attach(id, end, filter)?;
    Ok(ring)
}

/// The socket calls' programs: each tracepoint's id, the end of its record
/// and its filter as an eBPF [`Filter`]; `None` when one's filter has no
/// such form.
fn call_programs(found: &[(&super::callpoints::Spec, u64, String)]) -> Option<Vec<(u64, usize, Filter)>> {
    use super::callpoints::field;
    found
        .iter()
        .map(|(spec, id, format)| {
            let end = super::ebpf::format_end(format)?;
            let filter = match spec.filter {
                "" => Filter::All,
                "protocol == 6" => {
                    let f = field(format, "protocol").filter(|f| f.size == 2 && f.at >= 8 && f.at % 2 == 0)?;
                    Filter::Equal { at: f.at, value: 6 }
                }
                "ret >= 0" => {
                    let f = field(format, "ret").filter(|f| f.size == 8 && f.at >= 8 && f.at % 8 == 0)?;
                    Filter::NotNegative { at: f.at }
                }
                _ => return None,
            };
            Some((*id, end, filter))
        })
        .collect()
}

/// Opens each of `others` (tracepoint id, filter) on every ring's CPU,
/// writing into that ring; with `names`, the first also records the
/// processes' names and forks.
fn add_others(rings: &mut [Ring], others: &[(u64, CString)], names: bool) -> Result<(), Unavailable> {
    for (cpu, ring) in rings.iter_mut().enumerate() {
        for (k, (id, filter)) in others.iter().enumerate() {
            let filter = (!filter.as_bytes().is_empty()).then_some(filter.as_c_str());
            let fd =
                open_event(Event::Tracepoint(*id), cpu, filter, u32::MAX, names && k == 0).map_err(|s| match s {
                    Step::Open(e) | Step::Filter(e) | Step::Map(e) => Unavailable::Other(e),
                })?;
            // SAFETY: both are open perf events on the same CPU; the kernel
            // then writes fd's samples into ring.fd's buffer.
            if unsafe { sys::ioctls::SET_OUTPUT(fd.as_raw_fd(), ring.fd.as_raw_fd()) } != 0 {
                return Err(Unavailable::Other(io::Error::last_os_error()));
            }
            ring.others.push(fd);
        }
    }
    Ok(())
}

/// Where opening one CPU's ring failed.
enum Step {
    Open(io::Error),
    Filter(io::Error),
    Map(io::Error),
}

/// The tracepoint `id` on `cpu`, filtered by `filter`, disabled until
/// enabled; samples carry the task, the time and the raw record, and wake a
/// reader by `watermark` bytes only (an event writing into another's ring
/// wakes by that ring's).
fn open_event(event: Event, cpu: usize, filter: Option<&CStr>, watermark: u32, names: bool) -> Result<OwnedFd, Step> {
    let (type_, config) = match event {
        Event::Tracepoint(id) => (sys::bindings::PERF_TYPE_TRACEPOINT, id),
        Event::Dummy => (sys::bindings::PERF_TYPE_SOFTWARE, u64::from(sys::bindings::PERF_COUNT_SW_DUMMY)),
    };
    let mut attr = sys::bindings::perf_event_attr {
        type_,
        size: u32::try_from(std::mem::size_of::<sys::bindings::perf_event_attr>()).unwrap_or(0),
        config,
        sample_type: u64::from(
            sys::bindings::PERF_SAMPLE_RAW | sys::bindings::PERF_SAMPLE_TIME | sys::bindings::PERF_SAMPLE_TID,
        ),
        clockid: libc::CLOCK_MONOTONIC,
        ..Default::default()
    };
    attr.__bindgen_anon_1.sample_period = 1;
    attr.set_watermark(1);
    attr.__bindgen_anon_2.wakeup_watermark = watermark;
    attr.set_disabled(1);
    attr.set_use_clockid(1);
    if names {
        // Every exec's and rename's new name, and every fork, with the
        // task and time: the names of processes that are gone by the time
        // their calls are worked out.
        attr.set_comm(1);
        attr.set_task(1);
        attr.set_sample_id_all(1);
    }
    // SAFETY: attr is a valid, fully initialised perf_event_attr; pid -1
    // with a CPU watches every task on that CPU.
    let raw = unsafe {
        sys::perf_event_open(
            &mut attr,
            -1,
            i32::try_from(cpu).unwrap_or(0),
            -1,
            sys::bindings::PERF_FLAG_FD_CLOEXEC.into(),
        )
    };
    if raw < 0 {
        return Err(Step::Open(io::Error::last_os_error()));
    }
    // SAFETY: raw is a new descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    if let Some(f) = filter {
        // SAFETY: fd is a perf event; the filter string is NUL-terminated
        // and outlives the call (the kernel copies it).
        let r = unsafe { sys::ioctls::SET_FILTER(fd.as_raw_fd(), f.as_ptr().cast_mut()) };
        if r != 0 {
            return Err(Step::Filter(io::Error::last_os_error()));
        }
    }
    Ok(fd)
}

/// The tracepoint `id` on `cpu`, filtered by `filter`, with a ring of
/// `pages` data pages of `page` bytes; disabled until enabled.
fn open_ring(
    event: Event,
    cpu: usize,
    page: usize,
    pages: usize,
    filter: Option<&CStr>,
    names: bool,
) -> Result<Ring, Step> {
    // Wake a reader by the bytes written (a quarter of the ring), never per
    // change.
    let fd = open_event(event, cpu, filter, u32::try_from(page * pages / 4).unwrap_or(u32::MAX), names)?;
    let len = page * (1 + pages);
    // SAFETY: mapping a perf event descriptor, shared, read-write (the
    // tail is written back); len is one metadata page plus 2^n pages.
    let base = unsafe {
        libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd.as_raw_fd(), 0)
    };
    if base == libc::MAP_FAILED {
        return Err(Step::Map(io::Error::last_os_error()));
    }
    Ok(Ring { fd, others: Vec::new(), base: base.cast(), len, page })
}

const PERF_RECORD_LOST: u32 = 2;
const PERF_RECORD_COMM: u32 = 3;
const PERF_RECORD_FORK: u32 = 7;
const PERF_RECORD_SAMPLE: u32 = 9;

/// The samples perf writes: `PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
/// PERF_SAMPLE_RAW`, and with the calls on, `sample_id_all` (pid, tid, time)
/// after each other record.
///
/// One ring record (its header first): a state change to `out` (and to
/// `samples` with its task when `calls` is on), a socket call's sample, a
/// name or a fork to `samples`. Returns the samples the kernel says it lost.
/// Pure; any bytes give records or nothing, never a panic.
fn parse_record(
    record: &[u8],
    fields: &Fields,
    id: u16,
    calls: Option<&Decoder>,
    offset: i128,
    out: &mut Vec<RawChange>,
    samples: &mut Vec<RawSample>,
) -> u64 {
    let u32_at = |at: usize| record.get(at..at + 4).map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
    let u64_at = |at: usize| record.get(at..at + 8).and_then(|b| b.try_into().ok()).map_or(0, u64::from_ne_bytes);
    let realtime = |mono: u64| u64::try_from(i128::from(mono) + offset).unwrap_or(0);
    let kind = u32_at(0);
    match kind {
        PERF_RECORD_SAMPLE if record.len() >= 28 => {
            let (pid, tid) = (u32_at(8), u32_at(12));
            let ts = realtime(u64_at(16));
            let end = 28usize.saturating_add(u32_at(24) as usize).min(record.len());
            let task = Task { ts, pid, tid };
            raw_record(&record[28..end], fields, id, calls, task, out, samples);
        }
        PERF_RECORD_COMM | PERF_RECORD_FORK if calls.is_some() && record.len() >= 32 => {
            let n = record.len();
            let ts = realtime(u64_at(n - 8));
            let (pid, event, tid) = if kind == PERF_RECORD_COMM {
                let name = &record[16..n - 16];
                let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
                (u32_at(8), RawEvent::Comm { name: Comm::new(&String::from_utf8_lossy(&name[..end])) }, u32_at(12))
            } else {
                (u32_at(8), RawEvent::Fork { parent: u32_at(12) }, u32_at(16))
            };
            samples.push(RawSample { ts, pid, tid, event });
        }
        PERF_RECORD_LOST if record.len() >= 24 => return u64_at(16),
        _ => {}
    }
    0
}

/// One record of the eBPF ring ([`super::ebpf::program`]): the time
/// (CLOCK_MONOTONIC), the task (tgid above pid), the tracepoint's id, then
/// its record from byte 8. A state change (tracepoint `id`) goes to `out`,
/// and with its task to `samples` when `calls`; a socket call's sample to
/// `samples`. Pure; any bytes give a change, a sample or nothing.
fn parse_bpf_record(
    record: &[u8],
    fields: &Fields,
    id: u16,
    calls: Option<&Decoder>,
    offset: i128,
    out: &mut Vec<RawChange>,
    samples: &mut Vec<RawSample>,
) {
    let u64_at = |at: usize| record.get(at..at + 8).and_then(|b| b.try_into().ok()).map(u64::from_ne_bytes);
    let (Some(mono), Some(task), Some(_)) = (u64_at(0), u64_at(8), u64_at(16)) else { return };
    let ts = u64::try_from(i128::from(mono) + offset).unwrap_or(0);
    let task = Task { ts, pid: (task >> 32) as u32, tid: task as u32 };
    // The raw record, its common fields replaced by the id (`common_type`
    // in its first two bytes).
    raw_record(&record[16..], fields, id, calls, task, out, samples);
}

/// When a record was written, and by which process and thread.
#[derive(Clone, Copy)]
struct Task {
    ts: u64,
    pid: u32,
    tid: u32,
}

/// A tracepoint's raw record (its id, `common_type`, in its first two
/// bytes), from either path: a state change (tracepoint `id`) to `out`, and
/// with its task to `samples` when `calls`; a socket call's sample to
/// `samples`.
fn raw_record(
    raw: &[u8],
    fields: &Fields,
    id: u16,
    calls: Option<&Decoder>,
    task: Task,
    out: &mut Vec<RawChange>,
    samples: &mut Vec<RawSample>,
) {
    let Task { ts, pid, tid } = task;
    let kind = raw.get(..2).map_or(0, |b| u16::from_ne_bytes([b[0], b[1]]));
    if kind == id {
        if let Some(c) = parse_sample(fields, ts, raw) {
            out.push(c);
            if calls.is_some() {
                samples.push(RawSample { ts, pid, tid, event: RawEvent::Change(c) });
            }
        }
    } else if let Some(event) = calls.and_then(|d| d.parse(kind, raw)) {
        samples.push(RawSample { ts, pid, tid, event });
    }
}

impl Tracepoint {
    /// Changes the kernel could not hand over (full rings) so far.
    #[must_use]
    pub fn lost(&self) -> u64 {
        self.lost + self.bpf.as_ref().map_or(0, BpfRing::lost)
    }

    /// Whether the state changes come through the eBPF ring.
    #[must_use]
    pub fn is_bpf(&self) -> bool {
        self.bpf.is_some()
    }

    /// Waits up to `timeout` for a perf ring to reach its watermark (the
    /// eBPF ring wakes no one: with it alone, this waits `timeout`).
    /// Returns whether one did (the rings may hold changes either way).
    ///
    /// # Errors
    /// When poll(2) fails for a reason other than a signal.
    pub fn wait(&self, timeout: Duration) -> io::Result<bool> {
        let mut fds: Vec<libc::pollfd> = self
            .rings
            .iter()
            .map(|r| libc::pollfd { fd: r.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 })
            .collect();
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        let n = libc::nfds_t::try_from(fds.len()).unwrap_or(0);
        // SAFETY: `fds` is a live array of `n` pollfds whose descriptors the
        // rings own (open until they drop).
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), n, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted { Ok(false) } else { Err(e) };
        }
        Ok(rc > 0)
    }

    /// Appends every change the rings hold to `out`, oldest first per CPU
    /// (the rings one after the other: not in time order across them).
    pub fn read(&mut self, out: &mut Vec<RawChange>) {
        let mut none = Vec::new();
        self.read_all(out, &mut none);
    }

    /// Whether the socket calls' tracepoints are open.
    #[must_use]
    pub fn has_calls(&self) -> bool {
        self.calls.is_some()
    }

    /// As [`Tracepoint::read`], and every sample the socket calls need
    /// (the state changes among them, with their task) to `samples`, in
    /// the same order.
    pub fn read_all(&mut self, out: &mut Vec<RawChange>, samples: &mut Vec<RawSample>) {
        let (fields, offset, id) = (self.fields, self.offset, self.id);
        let calls = self.calls.as_ref();
        if let Some(bpf) = &mut self.bpf {
            bpf.read(|record| parse_bpf_record(record, &fields, id, calls, offset, out, samples));
        }
        for ring in &mut self.rings {
            let meta = ring.base.cast::<sys::bindings::perf_event_mmap_page>();
            // SAFETY: the first page of the mapping is the metadata page; the
            // kernel writes data_head, we write data_tail (volatile, with the
            // barriers the ABI asks for).
            let head = unsafe { std::ptr::addr_of!((*meta).data_head).read_volatile() };
            fence(Ordering::Acquire);
            // SAFETY: as above.
            let mut tail = unsafe { std::ptr::addr_of!((*meta).data_tail).read_volatile() };
            if tail == head {
                continue;
            }
            let size = (ring.len - ring.page) as u64;
            // SAFETY: the data area follows the metadata page, `size` bytes
            // long; the kernel does not write between tail and head until
            // data_tail moves past it.
            let data = unsafe { std::slice::from_raw_parts(ring.base.add(ring.page), ring.len - ring.page) };
            while tail < head {
                let at = usize::try_from(tail % size).unwrap_or(0);
                let byte = |k: usize| data[(at + k) % data.len()];
                let header_size = usize::from(u16::from_ne_bytes([byte(6), byte(7)]));
                if header_size < 8 {
                    break;
                }
                // Records are read where they lie; one that wraps around the
                // end of the ring is copied out whole first.
                let record: &[u8] = if at + header_size <= data.len() {
                    &data[at..at + header_size]
                } else {
                    self.wrapped.clear();
                    self.wrapped.extend_from_slice(&data[at..]);
                    self.wrapped.extend_from_slice(&data[..header_size - (data.len() - at)]);
                    &self.wrapped
                };
                self.lost += parse_record(record, &fields, id, calls, offset, out, samples);
                tail += header_size as u64;
            }
            fence(Ordering::Release);
            // SAFETY: see above; tells the kernel the space up to head is free.
            unsafe { std::ptr::addr_of_mut!((*meta).data_tail).write_volatile(tail) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT: &str = "name: inet_sock_set_state
ID: 2287
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:const void * skaddr;\toffset:8;\tsize:8;\tsigned:0;
\tfield:int oldstate;\toffset:16;\tsize:4;\tsigned:1;
\tfield:int newstate;\toffset:20;\tsize:4;\tsigned:1;
\tfield:__u16 sport;\toffset:24;\tsize:2;\tsigned:0;
\tfield:__u16 dport;\toffset:26;\tsize:2;\tsigned:0;
\tfield:__u16 family;\toffset:28;\tsize:2;\tsigned:0;
\tfield:__u16 protocol;\toffset:30;\tsize:2;\tsigned:0;
\tfield:__u8 saddr[4];\toffset:32;\tsize:4;\tsigned:0;
\tfield:__u8 daddr[4];\toffset:36;\tsize:4;\tsigned:0;
\tfield:__u8 saddr_v6[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:__u8 daddr_v6[16];\toffset:56;\tsize:16;\tsigned:0;
";

    /// A ring record: `kind`, then `body`, its header's size set.
    fn rec(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut r = kind.to_ne_bytes().to_vec();
        r.extend_from_slice(&0u16.to_ne_bytes());
        r.extend_from_slice(&u16::try_from(8 + body.len()).unwrap().to_ne_bytes());
        r.extend_from_slice(body);
        r
    }

    #[test]
    fn records_of_every_kind_and_malformed_ones() {
        let f = fields(FORMAT).unwrap();
        let decoder = Decoder::default();
        let (mut out, mut samples) = (Vec::new(), Vec::new());
        // A state change sample: pid, tid, time, raw size, raw.
        let mut raw = vec![0u8; 72];
        raw[0..2].copy_from_slice(&2287u16.to_ne_bytes());
        raw[28..30].copy_from_slice(&2u16.to_ne_bytes());
        raw[30..32].copy_from_slice(&6u16.to_ne_bytes());
        let mut body = Vec::new();
        for v in [42u32, 43] {
            body.extend_from_slice(&v.to_ne_bytes());
        }
        body.extend_from_slice(&1_000u64.to_ne_bytes());
        body.extend_from_slice(&72u32.to_ne_bytes());
        body.extend_from_slice(&raw);
        let r = rec(PERF_RECORD_SAMPLE, &body);
        assert_eq!(parse_record(&r, &f, 2287, Some(&decoder), 5, &mut out, &mut samples), 0);
        assert_eq!((out.len(), samples.len()), (1, 1));
        assert_eq!((samples[0].pid, samples[0].tid, samples[0].ts), (42, 43, 1_005));
        // Without the calls, the change alone.
        parse_record(&r, &f, 2287, None, 5, &mut out, &mut samples);
        assert_eq!((out.len(), samples.len()), (2, 1));
        // A name: pid, tid, the name padded, then pid, tid, time.
        let mut body = Vec::new();
        for v in [7u32, 7] {
            body.extend_from_slice(&v.to_ne_bytes());
        }
        body.extend_from_slice(b"python3\0");
        for v in [7u32, 7] {
            body.extend_from_slice(&v.to_ne_bytes());
        }
        body.extend_from_slice(&50u64.to_ne_bytes());
        parse_record(&rec(PERF_RECORD_COMM, &body), &f, 2287, Some(&decoder), 0, &mut out, &mut samples);
        assert_eq!(samples[1].event, RawEvent::Comm { name: Comm::new("python3") });
        assert_eq!((samples[1].pid, samples[1].ts), (7, 50));
        // A fork: pid, ppid, tid, ptid, time, then the trailer.
        let mut body = Vec::new();
        for v in [9u32, 7, 9, 7] {
            body.extend_from_slice(&v.to_ne_bytes());
        }
        body.extend_from_slice(&60u64.to_ne_bytes());
        for v in [9u32, 9] {
            body.extend_from_slice(&v.to_ne_bytes());
        }
        body.extend_from_slice(&60u64.to_ne_bytes());
        parse_record(&rec(PERF_RECORD_FORK, &body), &f, 2287, Some(&decoder), 0, &mut out, &mut samples);
        assert_eq!((samples[2].pid, samples[2].tid, samples[2].event), (9, 9, RawEvent::Fork { parent: 7 }));
        // Lost samples are counted.
        let mut body = 1u64.to_ne_bytes().to_vec();
        body.extend_from_slice(&17u64.to_ne_bytes());
        assert_eq!(parse_record(&rec(PERF_RECORD_LOST, &body), &f, 2287, None, 0, &mut out, &mut samples), 17);
        // A sample whose raw size overruns the record, or has no raw data.
        let mut short = r.clone();
        short[24..28].copy_from_slice(&u32::MAX.to_ne_bytes());
        short.truncate(40);
        parse_record(&short, &f, 2287, Some(&decoder), 0, &mut out, &mut samples);
        parse_record(&r[..28], &f, 2287, Some(&decoder), 0, &mut out, &mut samples);
        assert_eq!((out.len(), samples.len()), (2, 3));
    }

    proptest::proptest! {
        #[test]
        fn any_record_parses_or_is_ignored(kind in 0u32..12, body in proptest::collection::vec(proptest::num::u8::ANY, 0..120)) {
            let f = fields(FORMAT).unwrap();
            let (mut out, mut samples) = (Vec::new(), Vec::new());
            let r = rec(kind, &body);
            parse_record(&r, &f, 2287, Some(&Decoder::default()), 0, &mut out, &mut samples);
            parse_record(&r[..r.len().min(9)], &f, 2287, Some(&Decoder::default()), 0, &mut out, &mut samples);
        }
    }

    #[test]
    fn an_ebpf_record_reads_as_the_perf_sample_does() {
        let f = fields(FORMAT).unwrap();
        let mut raw = vec![0u8; 72];
        raw[0..2].copy_from_slice(&2287u16.to_ne_bytes());
        raw[8..16].copy_from_slice(&0xffff_8880_0000_0001u64.to_ne_bytes());
        raw[16..20].copy_from_slice(&1i32.to_ne_bytes());
        raw[20..24].copy_from_slice(&4i32.to_ne_bytes());
        raw[24..26].copy_from_slice(&8001u16.to_ne_bytes());
        raw[26..28].copy_from_slice(&40000u16.to_ne_bytes());
        raw[28..30].copy_from_slice(&2u16.to_ne_bytes());
        raw[30..32].copy_from_slice(&6u16.to_ne_bytes());
        raw[32..36].copy_from_slice(&[127, 0, 0, 1]);
        raw[36..40].copy_from_slice(&[127, 0, 0, 1]);
        // The perf sample: pid, tid, time, raw size, raw.
        let mut body = Vec::new();
        for v in [42u32, 43] {
            body.extend_from_slice(&v.to_ne_bytes());
        }
        body.extend_from_slice(&1_000u64.to_ne_bytes());
        body.extend_from_slice(&72u32.to_ne_bytes());
        body.extend_from_slice(&raw);
        let (mut perf, mut perf_samples) = (Vec::new(), Vec::new());
        parse_record(
            &rec(PERF_RECORD_SAMPLE, &body),
            &f,
            2287,
            Some(&Decoder::default()),
            5,
            &mut perf,
            &mut perf_samples,
        );
        // The eBPF record: time, tgid above pid, the id, the raw record from byte 8.
        let mut record = 1_000u64.to_ne_bytes().to_vec();
        record.extend_from_slice(&((42u64 << 32) | 43).to_ne_bytes());
        record.extend_from_slice(&2287u64.to_ne_bytes());
        record.extend_from_slice(&raw[8..]);
        let decoder = Decoder::default();
        let (mut out, mut samples) = (Vec::new(), Vec::new());
        parse_bpf_record(&record, &f, 2287, Some(&decoder), 5, &mut out, &mut samples);
        assert_eq!(out, perf);
        assert_eq!(samples, perf_samples);
        assert_eq!((out[0].ts, out[0].newstate, samples[0].pid, samples[0].tid), (1_005, 4, 42, 43));
        // Without the calls, the change alone; short records, or another
        // tracepoint's the decoder does not know, give nothing.
        parse_bpf_record(&record, &f, 2287, None, 5, &mut out, &mut samples);
        assert_eq!((out.len(), samples.len()), (2, 1));
        for n in [0, 8, 16, 23, 24, 40] {
            parse_bpf_record(&record[..n], &f, 2287, Some(&decoder), 5, &mut out, &mut samples);
        }
        let mut other = record.clone();
        other[16..18].copy_from_slice(&2288u16.to_ne_bytes());
        parse_bpf_record(&other, &f, 2287, Some(&decoder), 5, &mut out, &mut samples);
        assert_eq!((out.len(), samples.len()), (2, 1));
    }

    proptest::proptest! {
        #[test]
        fn any_ebpf_record_parses_or_is_ignored(body in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            let f = fields(FORMAT).unwrap();
            let (mut out, mut samples) = (Vec::new(), Vec::new());
            parse_bpf_record(&body, &f, 2287, Some(&Decoder::default()), 0, &mut out, &mut samples);
            proptest::prop_assert_eq!(out.len(), samples.len());
        }
    }

    #[test]
    fn rings_share_the_budget() {
        assert_eq!(ring_pages(2, 4096), 4096, "16 MiB each on 2 CPUs");
        assert_eq!(ring_pages(1, 4096), 4096, "at most 16 MiB");
        assert_eq!(ring_pages(8, 4096), 1024, "4 MiB each on 8 CPUs");
        assert_eq!(ring_pages(96, 4096), 256, "at least 1 MiB");
        assert_eq!(ring_pages(3, 4096), 2048, "a power of two within the share");
        assert_eq!(ring_pages(2, 65536), 256, "64 KiB pages");
    }

    #[test]
    fn format_offsets_and_a_sample() {
        let f = fields(FORMAT).unwrap();
        assert_eq!((f.skaddr, f.oldstate, f.newstate, f.sport, f.saddr, f.daddr_v6), (8, 16, 20, 24, 32, 56));
        let mut raw = vec![0u8; 72];
        raw[8..16].copy_from_slice(&0xffff_8880_1234_5678u64.to_ne_bytes());
        raw[16..20].copy_from_slice(&10i32.to_ne_bytes()); // LISTEN
        raw[20..24].copy_from_slice(&3i32.to_ne_bytes()); // SYN_RECV
        raw[24..26].copy_from_slice(&8001u16.to_ne_bytes());
        raw[26..28].copy_from_slice(&40000u16.to_ne_bytes());
        raw[28..30].copy_from_slice(&2u16.to_ne_bytes());
        raw[30..32].copy_from_slice(&6u16.to_ne_bytes());
        raw[32..36].copy_from_slice(&[127, 0, 0, 1]);
        raw[36..40].copy_from_slice(&[127, 0, 0, 2]);
        let c = parse_sample(&f, 5, &raw).unwrap();
        assert_eq!(c.local.to_string(), "127.0.0.1:8001");
        assert_eq!(c.remote.to_string(), "127.0.0.2:40000");
        assert_eq!((c.oldstate, c.newstate, c.ts, c.sock), (10, 3, 5, 0xffff_8880_1234_5678));
        raw[30..32].copy_from_slice(&132u16.to_ne_bytes()); // SCTP
        assert_eq!(parse_sample(&f, 5, &raw), None);
        assert_eq!(parse_sample(&f, 5, &raw[..30]), None);
        assert_eq!(fields("format:\n"), None);
    }
}
