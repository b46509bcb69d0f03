//! The tracepoints that show a program's socket calls, and their samples
//! parsed into [`RawSample`]s: `sock:sock_send_length` and
//! `sock:sock_recv_length` (a socket's address, what the call returned),
//! the entries and exits of `close` and `shutdown`, the exits of
//! `accept` and `accept4`, and the entries of `dup2` and `dup3` (a
//! descriptor replaced). They are opened by [`super::tracepoint::open_with`]
//! on the kernel view's rings; what the samples mean is worked out by
//! `capture::kernel::calls`, a pure module. Parsing here is pure too: field
//! offsets come from each tracepoint's `format` file.

use super::tracepoint::RawChange;
use crate::model::call::Comm;

/// A system call whose entry or exit is traced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sys {
    Close,
    Shutdown,
    Accept,
}

/// What a traced event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// `sock:sock_send_length`.
    Send,
    /// `sock:sock_recv_length`.
    Recv,
    /// A `sys_enter_*`: its first argument (the descriptor) and, for
    /// shutdown, its second (`how`).
    Enter(Sys),
    /// A `sys_exit_*`: its return value.
    Exit(Sys),
    /// `sys_enter_dup2` / `sys_enter_dup3`: the descriptor replaced.
    Dup,
}

/// A tracepoint to open: `group/name` under tracefs' `events/`, what it is,
/// and its kernel-side filter (empty: none).
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub event: &'static str,
    pub what: What,
    pub filter: &'static str,
}

/// Every tracepoint the socket calls need (kernel 6.3 or later: the
/// `sock_*_length` tracepoints came with it). Send and receive are kept to
/// TCP in the kernel; accepts to those that returned a descriptor.
/// `connect()` needs none of its own: the state change CLOSED → SYN-SENT is
/// made inside it, in the caller's task. Every event here costs the traced
/// programs a sample (see docs/socket-calls.md).
pub const EVENTS: &[Spec] = &[
    Spec { event: "sock/sock_send_length", what: What::Send, filter: "protocol == 6" },
    Spec { event: "sock/sock_recv_length", what: What::Recv, filter: "protocol == 6" },
    Spec { event: "syscalls/sys_enter_close", what: What::Enter(Sys::Close), filter: "" },
    Spec { event: "syscalls/sys_exit_close", what: What::Exit(Sys::Close), filter: "" },
    Spec { event: "syscalls/sys_enter_shutdown", what: What::Enter(Sys::Shutdown), filter: "" },
    Spec { event: "syscalls/sys_exit_shutdown", what: What::Exit(Sys::Shutdown), filter: "" },
    Spec { event: "syscalls/sys_exit_accept4", what: What::Exit(Sys::Accept), filter: "ret >= 0" },
    Spec { event: "syscalls/sys_exit_accept", what: What::Exit(Sys::Accept), filter: "ret >= 0" },
    Spec { event: "syscalls/sys_enter_dup2", what: What::Dup, filter: "" },
    Spec { event: "syscalls/sys_enter_dup3", what: What::Dup, filter: "" },
];

/// What one sample says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawEvent {
    /// A state change (`sock:inet_sock_set_state`).
    Change(RawChange),
    /// A send on socket `sk` returned `ret` (bytes, or minus an errno).
    Send { sk: u64, ret: i64 },
    /// A receive on `sk` returned `ret`, called with `flags`.
    Recv { sk: u64, ret: i64, flags: i64 },
    /// A system call was entered on descriptor `fd` (`how`: shutdown's).
    Enter { call: Sys, fd: i64, how: i64 },
    /// A system call returned `ret`.
    Exit { call: Sys, ret: i64 },
    /// Descriptor `fd` was replaced by `dup2`/`dup3`.
    Dup { fd: i64 },
    /// The process (`pid == tid`) or thread took this name (exec, or a
    /// rename).
    Comm { name: Comm },
    /// The task was made by `fork`/`clone` in process `parent`.
    Fork { parent: u32 },
}

/// One sample: when (nanoseconds since the epoch), which process and
/// thread, and what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawSample {
    pub ts: u64,
    pub pid: u32,
    pub tid: u32,
    pub event: RawEvent,
}

/// A field's offset and size in a sample's raw data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) at: usize,
    pub(crate) size: usize,
}

/// A field of a `format` file by name.
pub(crate) fn field(format: &str, name: &str) -> Option<Field> {
    format.lines().find_map(|l| {
        let l = l.trim();
        let decl = l.strip_prefix("field:")?.split(';').next()?;
        if decl.rsplit(' ').next()? != name {
            return None;
        }
        let part = |key: &str| l.split(';').find_map(|p| p.trim().strip_prefix(key)?.parse().ok());
        Some(Field { at: part("offset:")?, size: part("size:")? })
    })
}

/// The open tracepoints' ids and where their fields are.
#[derive(Clone, Debug, Default)]
pub struct Decoder {
    events: Vec<(u16, What, [Field; 3])>,
}

impl Decoder {
    /// From each tracepoint's spec, id and `format` file; `None` when a
    /// field is missing or sized unexpectedly.
    #[must_use]
    pub fn new<'a>(found: impl IntoIterator<Item = (Spec, u64, &'a str)>) -> Option<Decoder> {
        let mut events = Vec::new();
        for (spec, id, format) in found {
            let f = |name: &str| field(format, name).filter(|f| matches!(f.size, 4 | 8));
            let none = Field::default();
            let fields = match spec.what {
                What::Send | What::Recv => [f("sk").filter(|f| f.size == 8)?, f("ret")?, f("flags")?],
                What::Enter(Sys::Shutdown) => [f("fd")?, f("how")?, none],
                What::Enter(_) => [f("fd").or_else(|| f("fildes"))?, none, none],
                What::Exit(_) => [f("ret")?, none, none],
                What::Dup => [f("newfd")?, none, none],
            };
            events.push((u16::try_from(id).ok()?, spec.what, fields));
        }
        Some(Decoder { events })
    }

    /// The event in a sample's raw data whose `common_type` is `kind`;
    /// `None` for another tracepoint or data too short.
    #[must_use]
    pub fn parse(&self, kind: u16, raw: &[u8]) -> Option<RawEvent> {
        let (_, what, f) = self.events.iter().find(|(id, ..)| *id == kind)?;
        let int = |f: Field| -> Option<i64> {
            let b = raw.get(f.at..f.at.checked_add(f.size)?)?;
            Some(match f.size {
                4 => i64::from(i32::from_ne_bytes(b.try_into().ok()?)),
                _ => i64::from_ne_bytes(b.try_into().ok()?),
            })
        };
        Some(match what {
            What::Send => RawEvent::Send { sk: int(f[0])?.cast_unsigned(), ret: int(f[1])? },
            What::Recv => RawEvent::Recv { sk: int(f[0])?.cast_unsigned(), ret: int(f[1])?, flags: int(f[2])? },
            // The syscall tracepoints keep every argument in 8 bytes; the
            // descriptor is an int.
            What::Enter(call) => RawEvent::Enter {
                call: *call,
                fd: i64::from(int(f[0])? as i32),
                how: if *call == Sys::Shutdown { int(f[1])? } else { 0 },
            },
            What::Exit(call) => RawEvent::Exit { call: *call, ret: int(f[0])? },
            What::Dup => RawEvent::Dup { fd: i64::from(int(f[0])? as i32) },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEND: &str = "name: sock_send_length
ID: 2284
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:void * sk;\toffset:8;\tsize:8;\tsigned:0;
\tfield:__u16 family;\toffset:16;\tsize:2;\tsigned:0;
\tfield:__u16 protocol;\toffset:18;\tsize:2;\tsigned:0;
\tfield:int ret;\toffset:20;\tsize:4;\tsigned:1;
\tfield:int flags;\toffset:24;\tsize:4;\tsigned:1;
";
    const SHUTDOWN: &str = "name: sys_enter_shutdown
ID: 2216
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int fd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:int how;\toffset:24;\tsize:8;\tsigned:0;
";
    const EXIT: &str = "name: sys_exit_accept4
ID: 2233
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;
";

    fn spec(what: What) -> Spec {
        *EVENTS.iter().find(|s| s.what == what).unwrap()
    }

    fn decoder() -> Decoder {
        Decoder::new([
            (spec(What::Recv), 2283, SEND),
            (spec(What::Enter(Sys::Shutdown)), 2216, SHUTDOWN),
            (spec(What::Exit(Sys::Accept)), 2233, EXIT),
        ])
        .unwrap()
    }

    #[test]
    fn samples_parse_by_their_tracepoint() {
        let d = decoder();
        let mut raw = vec![0u8; 28];
        raw[8..16].copy_from_slice(&0xffff_8880_0000_1000u64.to_ne_bytes());
        raw[20..24].copy_from_slice(&(-104i32).to_ne_bytes());
        raw[24..28].copy_from_slice(&2i32.to_ne_bytes());
        assert_eq!(d.parse(2283, &raw), Some(RawEvent::Recv { sk: 0xffff_8880_0000_1000, ret: -104, flags: 2 }));
        assert_eq!(d.parse(2283, &raw[..26]), None, "too short");
        assert_eq!(d.parse(9999, &raw), None, "another tracepoint");

        let mut raw = vec![0u8; 32];
        raw[16..24].copy_from_slice(&5u64.to_ne_bytes());
        raw[24..32].copy_from_slice(&1u64.to_ne_bytes());
        assert_eq!(d.parse(2216, &raw), Some(RawEvent::Enter { call: Sys::Shutdown, fd: 5, how: 1 }));

        let mut raw = vec![0u8; 24];
        raw[16..24].copy_from_slice(&(-11i64).to_ne_bytes());
        assert_eq!(d.parse(2233, &raw), Some(RawEvent::Exit { call: Sys::Accept, ret: -11 }));
    }

    #[test]
    fn a_missing_field_refuses_the_decoder() {
        assert!(Decoder::new([(spec(What::Send), 1, EXIT)]).is_none());
        assert!(Decoder::new([(spec(What::Enter(Sys::Shutdown)), 1, EXIT)]).is_none());
        assert!(Decoder::new([(spec(What::Exit(Sys::Close)), 1, EXIT)]).is_some());
    }

    #[test]
    fn every_event_has_a_group_and_a_name() {
        for s in EVENTS {
            assert_eq!(s.event.split('/').count(), 2, "{}", s.event);
        }
    }
}
