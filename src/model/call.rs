//! What a program did to its socket, as values: one socket call
//! ([`Call`]: connect, accept, send, recv, shutdown, close) as its source
//! reported it, and how a call is kept in a recording. Data only: where a
//! call comes from (the built-in programs, or kernel tracepoints for any
//! other program) is the capture's business; the connection keeps the calls
//! made on its two sockets. Pure.

use std::net::SocketAddr;

use super::segment::Timestamp;

/// Which socket call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `connect()` was called (the SYN leaves inside it).
    Connect,
    /// `accept()` returned this connection.
    Accept,
    /// `send()` (or `write()`, `sendmsg()`): `bytes` is what it returned.
    Send,
    /// `recv()` (or `read()`, `recvmsg()`): `bytes` is what it returned;
    /// 0 is the end of the stream (the peer's FIN).
    Recv,
    /// `shutdown()`, with its `how`.
    Shutdown,
    /// `close()` (of the last descriptor of the socket).
    Close,
}

impl CallKind {
    /// The name, as jsonl writes it: `connect`, `accept`, `send`, `recv`,
    /// `shutdown`, `close`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CallKind::Connect => "connect",
            CallKind::Accept => "accept",
            CallKind::Send => "send",
            CallKind::Recv => "recv",
            CallKind::Shutdown => "shutdown",
            CallKind::Close => "close",
        }
    }

    /// Reads back [`CallKind::name`].
    #[must_use]
    pub fn from_name(s: &str) -> Option<CallKind> {
        Some(match s {
            "connect" => CallKind::Connect,
            "accept" => CallKind::Accept,
            "send" => CallKind::Send,
            "recv" => CallKind::Recv,
            "shutdown" => CallKind::Shutdown,
            "close" => CallKind::Close,
            _ => return None,
        })
    }
}

/// `shutdown()`'s `how`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum How {
    /// `SHUT_RD` (0).
    Read,
    /// `SHUT_WR` (1): the FIN leaves.
    Write,
    /// `SHUT_RDWR` (2).
    Both,
}

impl How {
    /// From `shutdown()`'s argument.
    #[must_use]
    pub fn from_arg(n: i64) -> Option<How> {
        Some(match n {
            0 => How::Read,
            1 => How::Write,
            2 => How::Both,
            _ => return None,
        })
    }

    /// `read`, `write` or `both`, as jsonl writes it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            How::Read => "read",
            How::Write => "write",
            How::Both => "both",
        }
    }

    /// Reads back [`How::name`].
    #[must_use]
    pub fn from_name(s: &str) -> Option<How> {
        Some(match s {
            "read" => How::Read,
            "write" => How::Write,
            "both" => How::Both,
            _ => return None,
        })
    }
}

/// A process name as the kernel keeps it (`comm`: at most 15 bytes), or
/// none when the process had exited before its name was read (then only
/// its pid is shown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Comm {
    bytes: [u8; 15],
    len: u8,
}

impl Comm {
    /// The first 15 bytes of `name` (cut at a character boundary), without
    /// spaces or control characters (a recording keeps a call on one line).
    #[must_use]
    pub fn new(name: &str) -> Comm {
        let mut c = Comm::default();
        for ch in name.chars().map(|ch| if ch.is_whitespace() || ch.is_control() { '_' } else { ch }) {
            let mut buf = [0; 4];
            let b = ch.encode_utf8(&mut buf).as_bytes();
            let at = usize::from(c.len);
            if at + b.len() > c.bytes.len() {
                break;
            }
            c.bytes[at..at + b.len()].copy_from_slice(b);
            c.len += b.len() as u8;
        }
        c
    }

    /// The name; empty when unknown.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Built from whole characters only.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    /// Whether the name is unknown.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One socket call, as its source reported it: on the socket whose
/// endpoint is `local` and whose peer is `remote`.
///
/// `sock` ties a call made before the socket had its port (a `connect()`
/// seen by the kernel before the port was chosen: `local` port 0) to the
/// socket's later reports, as a kernel state change's does
/// ([`super::kernel_change::Change::sock`]); 0 when the source knows the
/// tuple already (the built-in programs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// When the call returned (`connect`: when it was made). A source that
    /// can tell (the built-in programs) times a call that causes segments
    /// (`connect`, `send`, `shutdown`, `close`) when it was made, so that it
    /// comes before the segments it caused.
    pub ts: Timestamp,
    pub sock: u64,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub pid: u32,
    pub comm: Comm,
    pub kind: CallKind,
    /// What `send`/`recv` returned, when it did not fail.
    pub bytes: Option<u64>,
    /// `shutdown`'s how.
    pub how: Option<How>,
    /// The error the call returned (a positive errno: ECONNRESET is 104,
    /// ECONNREFUSED 111).
    pub error: Option<i32>,
}

/// How a call is kept in a pcapng recording: the data of a custom block
/// (type 0x00000BAD, PEN [`super::kernel_change::PEN`]), one line of text:
/// `synack-call/1 TS_NS SOCK LOCAL REMOTE PID COMM KIND BYTES HOW ERROR`,
/// with `-` for a field that is absent (COMM included).
#[must_use]
pub fn to_record(c: &Call) -> String {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
    format!(
        "{RECORD_TAG} {} {} {} {} {} {} {} {} {} {}",
        c.ts.0,
        c.sock,
        c.local,
        c.remote,
        c.pid,
        if c.comm.is_empty() { "-" } else { c.comm.as_str() },
        c.kind.name(),
        opt(c.bytes.map(|b| b.to_string())),
        opt(c.how.map(|h| h.name().to_owned())),
        opt(c.error.map(|e| e.to_string())),
    )
}

const RECORD_TAG: &str = "synack-call/1";

/// Reads back [`to_record`]'s line; `None` when it is not one (or is
/// malformed: the caller counts it).
#[must_use]
pub fn from_record(line: &str) -> Option<Call> {
    let (ts, sock, local, remote, mut f) = super::kernel_change::record_head(line, RECORD_TAG)?;
    let pid = f.next()?.parse().ok()?;
    let comm = match f.next()? {
        "-" => Comm::default(),
        name => Comm::new(name),
    };
    let kind = CallKind::from_name(f.next()?)?;
    let opt = |s: &str| if s == "-" { Some(None) } else { Some(Some(s.to_owned())) };
    let bytes = match opt(f.next()?)? {
        Some(s) => Some(s.parse().ok()?),
        None => None,
    };
    let how = match opt(f.next()?)? {
        Some(s) => Some(How::from_name(&s)?),
        None => None,
    };
    let error = match opt(f.next()?)? {
        Some(s) => Some(s.parse().ok()?),
        None => None,
    };
    if f.next().is_some() {
        return None;
    }
    Some(Call { ts, sock, local, remote, pid, comm, kind, bytes, how, error })
}

/// Whether a recording's custom block claims to be a call (its tag), so a
/// malformed one is counted rather than taken for something else.
#[must_use]
pub fn is_record(line: &str) -> bool {
    line.starts_with(RECORD_TAG)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Call {
        Call {
            ts: Timestamp(1_700_000_000_123_456_789),
            sock: 0xffff_8880_1234_5678,
            local: "127.0.0.1:40000".parse().unwrap(),
            remote: "127.0.0.1:8001".parse().unwrap(),
            pid: 4242,
            comm: Comm::new("python3"),
            kind: CallKind::Recv,
            bytes: Some(10),
            how: None,
            error: None,
        }
    }

    #[test]
    fn a_record_reads_back_as_the_call_it_keeps() {
        let c = call();
        assert_eq!(from_record(&to_record(&c)), Some(c));
        let failed = Call { kind: CallKind::Recv, bytes: None, error: Some(104), comm: Comm::default(), ..c };
        assert_eq!(from_record(&to_record(&failed)), Some(failed));
        let shut = Call { kind: CallKind::Shutdown, bytes: None, how: Some(How::Write), ..c };
        assert_eq!(from_record(&to_record(&shut)), Some(shut));
        let v6 = Call { local: "[::1]:40000".parse().unwrap(), remote: "[::1]:8001".parse().unwrap(), ..c };
        assert_eq!(from_record(&to_record(&v6)), Some(v6));
    }

    #[test]
    fn a_malformed_record_is_none() {
        let line = to_record(&call());
        assert!(is_record(&line));
        assert_eq!(from_record(&line.replace(" recv ", " read ")), None);
        assert_eq!(from_record(&format!("{line} extra")), None);
        assert_eq!(from_record(&line[..line.len() - 4]), None);
        assert_eq!(from_record("synack-kernel/1 1 2"), None);
    }

    #[test]
    fn a_name_is_cut_to_what_the_kernel_keeps_at_a_character_boundary() {
        assert_eq!(Comm::new("a-very-long-process-name").as_str(), "a-very-long-pro");
        assert_eq!(Comm::new("服务器服务器服务器").as_str(), "服务器服务");
        assert_eq!(Comm::new("my prog\n").as_str(), "my_prog_");
        assert!(Comm::new("").is_empty());
    }
}
