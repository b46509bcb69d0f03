//! What the programs' socket calls say about the segments, when the calls
//! were seen: which call sent a FIN (or an RST), how long a connection
//! waited in the accept queue, a `recv()` that returned bytes of several
//! segments (TCP is a byte stream), and `recv()` returning 0 at the peer's
//! FIN. Each sentence is made only from calls the connection has: with none,
//! none is said; nothing is guessed about calls that were not seen.

use super::ms_num;
use crate::i18n::Said;
use crate::model::call::{CallKind, How};
use crate::model::classify::Role;
use crate::model::connection::{AcceptFrom, CallRow, Connection, Record};
use crate::said;

/// The call as a program writes it: `close()`, `shutdown(SHUT_WR)`.
fn called(c: &CallRow) -> &'static str {
    match (c.kind, c.how) {
        (CallKind::Shutdown, Some(How::Write)) => "shutdown(SHUT_WR)",
        (CallKind::Shutdown, Some(How::Both)) => "shutdown(SHUT_RDWR)",
        _ => "close()",
    }
}

/// Appends the sentences the calls support (nothing without calls).
pub(super) fn words(conn: &Connection, s: &mut Vec<Said>) {
    if conn.calls.is_empty() {
        return;
    }
    // Who closed first is said first.
    let first = |role: Role| {
        conn.calls
            .iter()
            .find(|c| c.side == role && matches!(c.kind, CallKind::Close | CallKind::Shutdown))
            .map(|c| c.ts)
    };
    let order = if first(Role::Server) < first(Role::Client) && first(Role::Server).is_some() {
        [Role::Server, Role::Client]
    } else {
        [Role::Client, Role::Server]
    };
    for role in order {
        closing(conn, role, s);
    }
    accepted(conn, s);
    coalesced(conn, s);
    end_of_stream(conn, s);
}

/// `The client called close(); its FIN left 0.020 ms later.`: the first
/// call of `role` that ends its sending (close, or shutdown of its writing),
/// made without error, and the first FIN or RST `role` sent at or after it.
fn closing(conn: &Connection, role: Role, s: &mut Vec<Said>) {
    let ends = |c: &&CallRow| {
        c.side == role
            && c.error.is_none()
            && (c.kind == CallKind::Close
                || (c.kind == CallKind::Shutdown && matches!(c.how, Some(How::Write | How::Both))))
    };
    let Some(call) = conn.calls.iter().find(ends) else { return };
    let sent = conn
        .records
        .iter()
        .find(|r| r.dir.sender() == role && !r.retransmission && (r.flags.fin() || r.flags.rst()) && r.ts >= call.ts);
    let Some(r) = sent else { return };
    // A FIN sent before the call was another call's: only one sent after.
    if conn.records.iter().any(|e| e.dir.sender() == role && e.flags.fin() && e.ts < call.ts) {
        return;
    }
    let what = if r.flags.rst() { "RST" } else { "FIN" };
    s.push(said!(
        "explain-call-closed",
        who = role.name(),
        call = called(call),
        what = what,
        ms = ms_num(r.ts.millis_since(call.ts)),
    ));
}

/// `The server's accept() returned it 2 ms after the handshake completed: the
/// connection waited in the accept queue.`
fn accepted(conn: &Connection, s: &mut Vec<Said>) {
    let Some((wait, from)) = conn.accept_wait() else { return };
    let basis = match from {
        AcceptFrom::Kernel => "kernel",
        AcceptFrom::Wire => "wire",
    };
    s.push(said!("explain-call-accepted", ms = ms_num(wait as f64 / 1e6), basis = basis));
}

/// `One recv() returned 10 bytes that arrived in 2 segments: TCP is a byte
/// stream, message boundaries are the program's job.` The first `recv()`
/// whose bytes, counted from the start of the peer's stream (all the
/// side's recv() calls and all the peer's segments seen), span two or more
/// segments.
fn coalesced(conn: &Connection, s: &mut Vec<Said>) {
    // Every call and every segment is needed to count bytes.
    if conn.calls_elided > 0 || conn.elided > 0 {
        return;
    }
    for role in [Role::Server, Role::Client] {
        let peer = role.peer();
        // The peer's data segments as ranges of its stream (relative
        // sequence numbers start at 1 after the SYN).
        let data: Vec<(u64, u64)> = conn
            .records
            .iter()
            .filter(|r| r.dir.sender() == peer && r.payload_len > 0 && !r.retransmission)
            .map(|r| (u64::from(r.rel_seq), u64::from(r.rel_seq) + u64::from(r.payload_len)))
            .collect();
        let mut read = 1u64;
        for c in conn.calls.iter().filter(|c| c.side == role && c.kind == CallKind::Recv) {
            let Some(n) = c.bytes.filter(|&n| n > 0) else { continue };
            let (from, to) = (read, read + n);
            read = to;
            let parts = data.iter().filter(|&&(a, b)| a < to && b > from).count();
            let covered: u64 = data.iter().map(|&(a, b)| b.min(to).saturating_sub(a.max(from))).sum();
            if parts >= 2 && covered == n {
                s.push(said!("explain-call-coalesced", who = role.name(), n = n, parts = parts));
                return;
            }
        }
    }
}

/// The acknowledgment number with which `role` took the peer's `fin`, when
/// every call is known and `role`'s recv() calls returned fewer bytes than
/// the peer sent before it (Linux 6.18 was seen to do this: a byte dropped
/// while the accept queue was full, the connection then made from the
/// peer's FIN, which the server acknowledged past the missing byte).
fn short_read(conn: &Connection, role: Role, fin: &Record, every_call: bool, read: u64, sent: u64) -> Option<u32> {
    if !every_call || read >= sent {
        return None;
    }
    let past = fin.rel_seq.wrapping_add(fin.payload_len).wrapping_add(1);
    conn.records
        .iter()
        .filter(|r| r.dir.sender() == role && r.flags.ack() && r.ts >= fin.ts)
        .map(|r| r.rel_ack)
        .find(|&a| a == past)
}

/// `The server's recv() returned 0, 0.020 ms after the client's FIN
/// arrived, once its recv() calls had returned all 11 bytes the client sent
/// before that FIN: this is how the server's program learns of the client's
/// FIN.`: a `recv()` of `role` that returned 0 after the peer's FIN arrived.
/// recv() returns 0 only when every byte before the FIN has been read: the
/// sentence shows it from the calls when they account for every byte (the
/// side's earlier recv() calls returned as many bytes as the peer sent
/// before its FIN), and otherwise says it as the rule it is.
fn end_of_stream(conn: &Connection, s: &mut Vec<Said>) {
    for role in [Role::Server, Role::Client] {
        let peer = role.peer();
        let Some(fin) = conn.records.iter().find(|r| r.dir.sender() == peer && r.flags.fin()) else { continue };
        let eof = conn.calls.iter().find(|c| c.side == role && c.kind == CallKind::Recv && c.bytes == Some(0));
        let Some(c) = eof.filter(|c| c.ts >= fin.ts) else { continue };
        // The peer's bytes before its FIN: the FIN's sequence number (data
        // starts at 1), plus what the FIN itself carries.
        let sent = u64::from(fin.rel_seq).saturating_sub(1) + u64::from(fin.payload_len);
        let read: u64 = conn
            .calls
            .iter()
            .filter(|r| r.side == role && r.kind == CallKind::Recv && r.ts < c.ts)
            .filter_map(|r| r.bytes)
            .sum();
        // Counted only when every call and segment is kept, the peer's SYN
        // was seen (its bytes are numbered from 1) and no data of the peer
        // lies beyond its FIN.
        let mut peer_segments = conn.records.iter().filter(|r| r.dir.sender() == peer);
        let numbered = peer_segments.clone().any(|r| r.flags.syn())
            && peer_segments.all(|r| r.payload_len == 0 || u64::from(r.rel_seq) + u64::from(r.payload_len) <= sent + 1);
        let every_call = conn.calls_elided == 0 && conn.elided == 0 && numbered;
        let short = short_read(conn, role, fin, every_call, read, sent);
        let rule = if short.is_some() {
            "short"
        } else if every_call && read == sent && sent > 0 {
            "all"
        } else if every_call && sent == 0 {
            "none"
        } else {
            "rule"
        };
        s.push(said!(
            "explain-call-eof",
            who = role.name(),
            peer = peer.name(),
            ms = ms_num(c.ts.millis_since(fin.ts)),
            rule = rule,
            sent = sent,
        ));
        if let Some(ack) = short {
            s.push(said!(
                "explain-call-short-read",
                who = role.name(),
                peer = peer.name(),
                read = read,
                sent = sent,
                missing = sent - read,
                ack = ack,
            ));
        }
    }
}
