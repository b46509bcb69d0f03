//! What synack says is true of the segments it shows: one test per finding
//! of the "truthful ladders" review, each on a capture (or hand-built
//! exchange) where a sentence must be said and where it must not.

mod support;

use std::fs::File;
use std::path::Path;

use support::*;
use synack::capture::pcap::PcapSource;
use synack::export::{self, Format};
use synack::model::tcp::TcpState;
use synack::model::timeline::{explain, verdict};
use synack::model::tracker::{CloseKind, Connection, Limits, Phase, Role, Tracker};
use synack::pipeline::Pipeline;

/// The first connection of a fixture, tracked.
fn fixture(name: &str) -> Tracker {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let mut src = PcapSource::new(File::open(&path).unwrap(), name).unwrap();
    let mut p = Pipeline::new(None, Limits::default());
    while let Ok(synack::capture::Next::Frame(f)) = synack::capture::FrameSource::next_frame(&mut src) {
        p.frame(&f);
    }
    p.tracker
}

fn first(t: &Tracker) -> &Connection {
    t.connections().next().unwrap()
}

fn text(c: &Connection) -> String {
    let mut out = Vec::new();
    export::exporter(Format::Text).connection(c, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Rows of the text ladder (the header skipped), one per segment.
fn rows(c: &Connection) -> Vec<String> {
    text(c).lines().skip(1).take(c.records.len()).map(str::to_string).collect()
}

#[test]
fn simultaneous_close_is_taught_from_its_segments() {
    let t = fixture("ipv6.pcap");
    let c = first(&t);
    assert_eq!(c.close_kind(), CloseKind::Simultaneous);
    let n = c.records.len();
    let rows = rows(c);
    // The two FINs are marked as crossing, and nothing else is.
    let crossing: Vec<usize> = (0..n).filter(|&i| rows[i].contains("✕ FINs cross")).collect();
    let fins: Vec<usize> = (0..n).filter(|&i| c.records[i].flags.fin()).collect();
    assert_eq!(crossing, fins, "{rows:#?}");
    // Both sides are drawn in FIN-WAIT-1: the server on its FIN's row, the
    // client on its own FIN's row, on its way to CLOSING.
    let (server_fin, client_fin) = (fins[0], fins[1]);
    assert_eq!(c.records[server_fin].server_state, TcpState::FinWait1);
    assert!(rows[client_fin].trim_start().starts_with("FIN-WAIT-1→CLOSING"), "{}", rows[client_fin]);
    // No ACK of the close says a FIN is still to follow: both were sent.
    for i in fins[1] + 1..n {
        let e = explain(c, i);
        assert!(!e.contains("will follow") && !e.contains("comes in a segment of its own"), "row {i}: {e}");
        assert!(!e.contains("closed first"), "both closed at once; row {i}: {e}");
    }
    // The last ACK leaves both ends in TIME-WAIT, and says so.
    assert_eq!((c.client.state, c.server.state), (TcpState::TimeWait, TcpState::TimeWait));
    assert!(explain(c, n - 1).contains("Both ends are now in TIME-WAIT"), "{}", explain(c, n - 1));
    // The verdict's paths are the states on the rows.
    let v = verdict(c);
    for role in [Role::Client, Role::Server] {
        let path: Vec<&str> = synack::model::explain::close_path(c, role).iter().map(|s| s.name()).collect();
        assert_eq!(path, ["ESTABLISHED", "FIN-WAIT-1", "CLOSING", "TIME-WAIT"], "{role:?}");
        assert!(v.contains(&path.join(" -> ")), "{v}");
    }
}

#[test]
fn a_three_way_close_never_claims_two_time_waits() {
    let t = fixture("seed.pcap");
    let c = first(&t);
    assert_eq!(c.close_kind(), CloseKind::ThreeWay);
    let last = explain(c, c.records.len() - 1);
    assert!(last.contains("LAST-ACK -> CLOSED") && last.contains("waits in TIME-WAIT"), "{last}");
    assert!(!last.contains("Both ends"), "{last}");
    assert!(!text(c).contains("FINs cross"));
}

#[test]
fn refused_shows_no_listener_and_no_handshake() {
    let t = fixture("refused.pcap");
    let c = first(&t);
    assert_eq!(c.close_kind(), CloseKind::Refused);
    assert!(c.records.iter().all(|r| r.server_state == TcpState::Closed), "the server was CLOSED on every row");
    let out = text(c);
    assert!(!out.contains("LISTEN") && !out.contains("handshake 1/3"), "{out}");
    assert!(verdict(c).contains("Nothing was listening"));
}

/// Server closes, client acknowledges, still sends 31 bytes, then its FIN;
/// the server answers with RST.
fn reset_after_fins() -> Talk {
    let mut t = established();
    t.s(fin_ack(), 11, 11, b"");
    t.c(ACK, 11, 12, b"");
    t.c(psh_ack(), 11, 12, b"0123456789012345678901234567890");
    t.c(fin_ack(), 42, 12, b"");
    t.s(rst_ack(), 12, 43, b"");
    t
}

#[test]
fn reset_after_a_fin_exchange_says_what_came_before() {
    let t = reset_after_fins();
    let c = t.conn();
    assert_eq!(c.close_kind(), CloseKind::Reset);
    let v = verdict(c);
    assert!(!v.contains("no FIN exchange"), "{v}");
    assert!(v.contains("the server sent a FIN, which the client acknowledged"), "{v}");
    assert!(v.contains("still sent 31 bytes"), "{v}");
    assert!(v.contains("the client sent a FIN"), "{v}");
    assert!(v.contains("whose application had already closed it"), "{v}");
    // And an abort with no FIN before it still says so.
    let abort = first(&fixture("abort.pcap")).clone();
    assert!(verdict(&abort).contains("no FIN exchange"), "{}", verdict(&abort));
}

/// A three-way close, then a late ACK, and the server's FIN again (the
/// client's last ACK was taken as lost) answered from TIME-WAIT.
fn close_then_stragglers() -> Talk {
    let mut t = established();
    t.c(fin_ack(), 11, 11, b"");
    t.s(fin_ack(), 11, 12, b"");
    t.c(ACK, 12, 12, b"");
    assert!(t.last.ended);
    t.c(ACK, 12, 12, b"");
    t.wait_ms(200);
    t.s(fin_ack(), 11, 12, b"");
    t.c(ACK, 12, 12, b"");
    t
}

#[test]
fn segments_after_the_close_stay_with_their_connection() {
    let mut t = close_then_stragglers();
    t.c(rst_ack(), 12, 12, b"");
    assert_eq!(t.tracker.len(), 1, "no new connection for stragglers");
    let c = t.conn();
    assert_eq!(c.records.len(), 13);
    let after: Vec<Phase> = c.records[9..].iter().map(|r| r.phase).collect();
    assert_eq!(after, [Phase::AfterClose; 4]);
    assert_eq!(c.close_kind(), CloseKind::ThreeWay, "an RST after the close does not make it a reset");
    let fin_again = explain(c, 10);
    assert!(fin_again.contains("retransmission") && fin_again.contains("TIME-WAIT"), "{fin_again}");
    assert!(verdict(c).contains("4 segments came after the close"), "{}", verdict(c));
}

#[test]
fn trace_writes_segments_that_come_after_the_close() {
    // The same exchange as frames in a capture: every segment is written once.
    let c = "127.0.0.1:40000";
    let s = "127.0.0.1:8001";
    let f = |src, dst, flags, seq, ack| frame(src, dst, flags, seq, ack, b"");
    let frames = vec![
        f(c, s, SYN, 100, 0),
        f(s, c, syn_ack(), 500, 101),
        f(c, s, ACK, 101, 501),
        f(c, s, fin_ack(), 101, 501),
        f(s, c, fin_ack(), 501, 102),
        f(c, s, ACK, 102, 502),
        f(c, s, ACK, 102, 502),
        f(s, c, rst_ack(), 502, 102),
    ];
    let bytes = pcap(1, &frames);
    let lines = trace_jsonl(&mut PcapSource::new(&bytes[..], "stragglers").unwrap());
    assert_eq!(lines.len(), 1);
    let segs = lines[0]["segments"].as_array().unwrap();
    assert_eq!(segs.len(), frames.len(), "every segment in the one connection");
    assert_eq!(segs[6]["phase"], "after-close");
    assert_eq!(segs[7]["phase"], "after-close");
}

#[test]
fn time_wait_ends_in_closed_after_its_time() {
    let t = close_then_stragglers();
    let c = t.conn();
    let tw = std::time::Duration::from_secs(60);
    let entered = c.records.iter().find(|r| r.client_state == TcpState::TimeWait).unwrap().ts;
    let at =
        |secs: u64| c.state_at(Role::Client, synack::model::segment::Timestamp(entered.0 + secs * 1_000_000_000), tw);
    assert_eq!(at(1), (TcpState::TimeWait, Some(59_000_000_000)));
    assert_eq!(at(60), (TcpState::Closed, None));
    assert_eq!(c.state_at(Role::Server, entered, tw), (TcpState::Closed, None), "only TIME-WAIT times out");
}

#[test]
fn a_retracted_close_wait_is_gone_from_every_row() {
    // The client's FIN; the server sends data (it had not seen the FIN), then
    // its own FIN, which does not acknowledge the client's: the FINs crossed.
    let mut t = established();
    t.c(fin_ack(), 11, 11, b"");
    t.s(psh_ack(), 11, 11, b"more");
    t.s(fin_ack(), 15, 11, b"");
    let c = t.conn();
    assert_eq!(c.close_kind(), CloseKind::Simultaneous);
    let n = c.records.len();
    for r in &c.records[n - 3..n - 1] {
        assert_eq!(r.server_state, TcpState::Established, "the server never was in CLOSE-WAIT");
    }
    assert_eq!(c.records[n - 1].via, Some(TcpState::FinWait1));
    assert_eq!(c.records[n - 1].server_state, TcpState::Closing);
}

#[test]
fn delays_are_measured_not_assumed() {
    // slow-close.pcap: the server's lone ACK came 41 ms after the FIN.
    let t = fixture("slow-close.pcap");
    let v = verdict(first(&t));
    assert!(v.contains("41 ms later") && v.contains("delayed-ACK timer"), "{v}");
    assert!(!v.contains("at once"), "{v}");
    // Built: the ACK 0.01 ms after the FIN, the FIN 5 ms later.
    let mut t = fin_wait_1();
    t.s(ACK, 11, 12, b"");
    t.wait_ms(5);
    t.s(fin_ack(), 11, 12, b"");
    t.c(ACK, 12, 12, b"");
    let v = verdict(t.conn());
    assert!(v.contains("at once (0.010 ms later)"), "{v}");
    assert!(!v.contains("delayed-ACK"), "{v}");
}

/// Walking every fixture segment by segment: each endpoint's transitions are
/// arrows of RFC 9293's figure 5 or are named as off the figure, and they
/// lead to the states the ladder rows show.
#[test]
fn every_transition_is_an_arrow_of_the_figure_or_says_it_is_not() {
    use synack::model::diagram;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut checked = 0;
    let mut off = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".pcap") {
            continue;
        }
        let t = fixture(&name);
        for c in t.connections() {
            for role in [Role::Client, Role::Server] {
                let path = diagram::path(c, role);
                let mut state = c.initial(role);
                for step in &path {
                    assert_eq!(step.from, state, "{name}: a path without gaps");
                    match step.label {
                        Ok(label) => assert_eq!(diagram::arrow(step.from, step.to), Some(label)),
                        Err(why) => {
                            assert!(!why.is_empty());
                            off += 1;
                        }
                    }
                    // The row shows where the transition led (or, within a row, passes through it).
                    let r = &c.records[step.row];
                    assert!(r.state(role) == step.to || r.via == Some(step.to), "{name} row {}", step.row);
                    state = step.to;
                    checked += 1;
                }
                assert_eq!(state, c.side(role).state, "{name}: the path ends where the connection ended");
            }
        }
    }
    assert!(checked > 50 && off > 0, "{checked} transitions, {off} off the figure");
    // An RST is never put on the figure's CLOSE arrow.
    let refused = fixture("refused.pcap");
    let path = diagram::path(first(&refused), Role::Client);
    assert!(path.last().unwrap().label.is_err(), "{path:?}");
}
