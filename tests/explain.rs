//! What synack says is true of the segments it shows: one test per finding
//! of the "truthful ladders" review, each on a capture (or hand-built
//! exchange) where a sentence must be said and where it must not.

mod support;

use std::fs::File;
use std::path::Path;

use support::*;
use synack::capture::pcap::PcapSource;
use synack::export::{self, Format};
use synack::model::explain::ms_words;
use synack::model::tcp::TcpState;
use synack::model::timeline::{explain, verdict};
use synack::model::tracker::{CloseKind, Connection, Limits, Phase, Role, Tracker};
use synack::pipeline::Pipeline;

/// The first connection of a fixture, tracked.
fn fixture(name: &str) -> Tracker {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let mut src = PcapSource::new(File::open(&path).unwrap(), name).unwrap();
    let mut p = Pipeline::new(None, Limits::default());
    loop {
        // A recording's kernel changes, read with the frames before them.
        for c in synack::capture::FrameSource::take_kernel(&mut src) {
            p.tracker.watch_kernel();
            p.tracker.kernel(c);
        }
        match synack::capture::FrameSource::next_frame(&mut src) {
            Ok(synack::capture::Next::Frame(f)) => {
                p.frame(&f);
            }
            _ => break,
        }
    }
    for c in synack::capture::FrameSource::take_kernel(&mut src) {
        p.tracker.watch_kernel();
        p.tracker.kernel(c);
    }
    p.tracker.kernel_flush(synack::model::segment::Timestamp(u64::MAX));
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
    let v = verdict(c);
    said(
        &v,
        "Most likely nothing listened on the server's port (a firewall rule that rejects with RST sends the same).",
    );
    said(&explain(c, 0), "The answer will be an RST: most likely nothing listens on the server's port.");
    unsaid(&v, "Nothing was listening");
    // A connection that was not refused says none of it.
    let seed = everything(first(&fixture("seed.pcap")));
    unsaid(&seed, "nothing listen");
    unsaid(&seed, "firewall");
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
    assert!(!v.contains("not a FIN"), "{v}");
    assert!(v.contains("the server sent a FIN, which the client acknowledged"), "{v}");
    assert!(v.contains("still sent 31 bytes"), "{v}");
    assert!(v.contains("the client sent a FIN"), "{v}");
    // Nothing acknowledged the 31 bytes: they came after the server's
    // application had closed, and the RST answers them.
    assert!(v.contains("reached the server after its application had closed its side"), "{v}");
    assert!(!v.contains("unread"), "{v}");
    // And an abort with no FIN before it still says so.
    let abort = first(&fixture("abort.pcap")).clone();
    assert!(verdict(&abort).contains("sent an RST, not a FIN"), "{}", verdict(&abort));
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
    assert!(fin_again.contains("sends its FIN again") && fin_again.contains("TIME-WAIT"), "{fin_again}");
    // The FIN again and its answer from TIME-WAIT are told as such; the late
    // ACK and the RST are what else came after the close.
    let v = verdict(c);
    assert!(
        v.contains(&format!(
            "answered it with the ACK again (at {})",
            ms_words(c.records[11].ts.millis_since(c.start()))
        )) && v.contains("2 segments came after the close"),
        "{v}"
    );
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
    // The server's FIN came again, and TIME-WAIT took it: its 2 x MSL started again then.
    let entered = c.records.iter().rfind(|r| r.flags.fin() && r.retransmission).unwrap().ts;
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
    assert!(v.contains("at once, in a segment of its own (0.010 ms later)"), "{v}");
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

// ---------------------------------------------------------------------------
// Issue 28: each sentence held to what the wire proves. Every template has a
// capture (or exchange) where it must be said and one where it must not.

/// Every connection of a fixture, tracked (with the kernel view when the
/// file holds one).
fn connections(name: &str) -> Vec<Connection> {
    fixture(name).connections().cloned().collect()
}

/// The text of every row's explanation and the verdict, for "never said" checks.
fn everything(c: &Connection) -> String {
    let mut all = verdict(c);
    for i in 0..c.records.len() {
        all.push('\n');
        all.push_str(&explain(c, i));
    }
    all
}

fn said(text: &str, needle: &str) {
    assert!(text.contains(needle), "must say {needle:?}:\n{text}");
}

fn unsaid(text: &str, needle: &str) {
    assert!(!text.contains(needle), "must not say {needle:?}:\n{text}");
}

/// The backlog capture's connections that show a kind of drop.
fn backlog_with(pred: impl Fn(&Connection) -> bool) -> Connection {
    connections("backlog.pcap").into_iter().find(|c| pred(c)).expect("such a connection in backlog.pcap")
}

fn syn_acks_again(c: &Connection) -> usize {
    c.records.iter().filter(|r| r.flags.syn() && r.flags.ack() && r.retransmission).count()
}

#[test]
fn finding_1_the_server_stays_syn_received_until_the_segment_that_completes_the_handshake() {
    use synack::model::explain::opening;
    // A SYN-ACK sent again after the client's ACK: the server was still SYN-RECEIVED.
    let c = backlog_with(|c| syn_acks_again(c) > 0);
    let o = opening(&c);
    let done = o.completed.expect("completed");
    let first_ack = o.acks_dropped[0];
    for (i, r) in c.records.iter().enumerate() {
        let want = if i < o.answered.unwrap() {
            if r.server_state == TcpState::Listen { TcpState::Listen } else { TcpState::SynReceived }
        } else if i < done {
            TcpState::SynReceived
        } else {
            r.server_state
        };
        assert_eq!(r.server_state, want, "row {}", i + 1);
    }
    assert!(o.syn_acks_again.iter().all(|&k| c.records[k].server_state == TcpState::SynReceived));
    assert_eq!(c.records[done].server_state, TcpState::Established);
    assert!(c.handshake.complete());
    let rtt = c.handshake.rtt.unwrap();
    let last_syn = c.records.iter().rposition(|r| r.flags.syn() && !r.flags.ack()).unwrap();
    assert_eq!(rtt, c.records[done].ts.0 - c.records[last_syn].ts.0, "rtt runs to the segment that completed it");
    assert!(rtt > 1_000_000_000, "the server stayed SYN-RECEIVED for seconds: {rtt}");
    let v = verdict(&c);
    said(&v, "it stayed in SYN-RECEIVED (it sent its SYN-ACK");
    // The verdict cites the row by its time: the text ladder numbers no rows.
    said(&v, &format!("after the client's first ACK, at {}.", ms_words(c.records[done].ts.millis_since(c.start()))));
    unsaid(&v, "row");
    said(&v, "so the third ACK was dropped on the host. Most likely, on Linux, the accept queue was full");
    said(&v, "A capture does not show the queue");
    unsaid(&v, "nothing is lost");
    said(&explain(&c, first_ack), "The server did not take this segment: it was still SYN-RECEIVED, as");
    let before_syn_ack = o.acks_dropped.iter().rfind(|&&d| d < o.syn_acks_again[0]).copied().unwrap();
    said(&explain(&c, before_syn_ack), "as its SYN-ACK sent again");
    said(&explain(&c, o.syn_acks_again[0]), "Only an endpoint in SYN-RECEIVED sends its SYN-ACK again");
    said(&rows(&c)[first_ack], "dropped");
    said(&explain(&c, done), "Handshake step 3");
    // The JSON says so too.
    let json = jsonl(&c);
    assert_eq!(json["handshake"]["complete"], true);
    assert_eq!(json["segments"][first_ack]["server_state"], "SYN-RECEIVED");
    assert_eq!(json["segments"][done]["step"], 3);
    assert!(json["segments"][first_ack].get("step").is_none());

    // Client data sent again with no answer (no SYN-ACK again: a SYN cookie).
    let c = backlog_with(|c| syn_acks_again(c) == 0 && !opening(c).acks_dropped.is_empty());
    let v = verdict(&c);
    said(&v, "(the client sent its data again, as nothing had acknowledged it)");
    // The data alone does not tell a full accept queue from a filter.
    said(&v, "a filter on the server's way in (a firewall's input rule) drops segments after a capture on lo");
    unsaid(&v, "The third ACK was dropped: the accept queue was full");
    said(&explain(&c, opening(&c).acks_dropped[0]), "The segments do not tell which.");
    let done = opening(&c).completed.unwrap();
    assert!(c.records[done].retransmission && c.records[done].payload_len > 0, "data sent again completed it");
    said(&rows(&c)[done], "retransmission, handshake 3/3");
    said(&explain(&c, done), "this time the server takes them");

    // Seconds without the SYN-ACK again: the server kept no state (a SYN cookie).
    let quiet = backlog_with(|c| {
        let o = opening(c);
        syn_acks_again(c) == 0
            && o.completed.zip(o.answered).is_some_and(|(d, a)| c.records[d].ts.millis_since(c.records[a].ts) > 1000.0)
    });
    said(&verdict(&quiet), "as a server does when its SYN-ACK carries a SYN cookie (RFC 4987)");
    let soon = backlog_with(|c| {
        let o = opening(c);
        !o.acks_dropped.is_empty()
            && o.completed.zip(o.answered).is_some_and(|(d, a)| c.records[d].ts.millis_since(c.records[a].ts) < 1000.0)
    });
    unsaid(&verdict(&soon), "SYN cookie");
    unsaid(&verdict(&backlog_with(|c| syn_acks_again(c) > 0)), "SYN cookie");

    // A connection that went through at once says none of it.
    let seed = first(&fixture("seed.pcap")).clone();
    let all = everything(&seed);
    for needle in ["SYN-RECEIVED (it sent", "third ACK", "did not take", "dropped"] {
        unsaid(&all, needle);
    }
}

#[test]
fn finding_1_with_the_kernel_view_the_kernels_time_decides() {
    use synack::model::explain::opening;
    let all = connections("backlog-kernel.pcapng");
    let mut checked = 0;
    for c in &all {
        let Some(t) = opening(c).kernel else { continue };
        let done = opening(c).completed.expect("completed");
        // The completing row is the client's last segment at or before the kernel's change.
        let last = c.records.iter().rposition(|r| r.ts <= t && r.dir == synack::model::tracker::Dir::C2S).unwrap();
        assert_eq!(done, last, "#{}", c.id);
        assert!(c.records[..done].iter().all(|r| r.server_state != TcpState::Established));
        if !opening(c).acks_dropped.is_empty() {
            said(&verdict(c), "The kernel moved the server's socket to ESTABLISHED at");
            checked += 1;
        }
        let agreed = synack::model::kernel::agreement(c);
        assert_eq!(agreed.0, agreed.1, "#{}: every kernel change agrees with the rows", c.id);
    }
    assert!(checked > 0, "a connection whose ACKs were dropped");
    // Without the kernel view it is never claimed.
    for c in connections("backlog.pcap") {
        unsaid(&everything(&c), "kernel");
    }
}

/// Across hosts, 10.0.0.1 to 10.0.0.2: a SYN sent again after 1 s, then
/// the handshake.
fn syn_again_across_hosts() -> Talk {
    let mut t = Talk::between("10.0.0.1:40000", "10.0.0.2:8001");
    t.c(SYN, 0, 0, b"");
    t.wait_ms(1000);
    t.c(SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(ACK, 1, 1, b"");
    t
}

#[test]
fn finding_1_dropped_syns_stay_in_listen() {
    use synack::model::explain::opening;
    let c = backlog_with(|c| !opening(c).syns_dropped.is_empty());
    let o = opening(&c);
    for &i in &o.syns_dropped {
        assert_eq!(c.records[i].server_state, TcpState::Listen);
        said(&explain(&c, i), "The server did not take this SYN");
        said(&rows(&c)[i], "(dropped)");
    }
    said(&verdict(&c), "Both ends are on one host, so no link lost");
    said(&verdict(&c), "most likely the listener");
    // Across hosts it is not claimed: built, 10.0.0.1 to 10.0.0.2.
    let t = syn_again_across_hosts();
    let v = verdict(t.conn());
    said(&v, "It was lost on the way, or dropped by a listener whose queue was full");
    unsaid(&v, "On one host");
    said(&rows(t.conn())[0], "(lost or dropped)");
    // A SYN sent again with no answer at all: no claim that the server dropped it.
    let mut t = Talk::new();
    t.c(SYN, 0, 0, b"");
    t.wait_ms(1000);
    t.c(SYN, 0, 0, b"");
    let v = verdict(t.conn());
    said(&v, "The client sent its SYN 1 more time: no answer had come.");
    unsaid(&v, "did not take");
}

#[test]
fn finding_1_across_hosts_the_ack_may_have_been_lost() {
    let mut t = Talk::between("10.0.0.1:40000", "10.0.0.2:8001");
    t.c(SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(ACK, 1, 1, b"");
    t.wait_ms(1000);
    t.s(syn_ack(), 0, 1, b"");
    let v = verdict(t.conn());
    said(&v, "The third ACK was lost on the way, or dropped by a server whose accept queue was full.");
    said(&v, "The handshake had not completed when the capture ended.");
    unsaid(&v, "Most likely, on Linux");
    unsaid(&v, "A capture does not show the queue");
    // The client gives up: the connection ended without a handshake.
    t.c(rst_ack(), 1, 1, b"");
    let v = verdict(t.conn());
    said(&v, "The handshake never completed.");
    unsaid(&v, "when the capture ended");
}

#[test]
fn finding_2_an_ack_that_rides_on_data_is_no_segment_of_its_own_and_no_timer() {
    let c = first(&fixture("half-close-data.pcap")).clone();
    let v = verdict(&c);
    said(&v, "The server acknowledged that FIN 25 ms later in the segment that carried its next 9 bytes");
    unsaid(&v, "segment of its own");
    unsaid(&v, "timer");
    let ack = c.records.iter().position(|r| r.teardown_steps.contains(2)).unwrap();
    let e = explain(&c, ack);
    said(&e, "the ACK rides on the data");
    unsaid(&e, "on its own");
    // The older half-close capture: its ACK rode on data 0.223 ms after the FIN.
    let v = verdict(first(&fixture("half-close.pcap")));
    said(&v, "in the segment that carried its next 13 bytes");
    unsaid(&v, "at once");
    // An empty ACK after the timer's minimum: the timer is named.
    let v = verdict(first(&fixture("slow-close.pcap")));
    said(&v, "in a segment of its own, 41 ms later: its delayed-ACK timer fired");
    // An empty ACK sooner than the minimum, or later than any delayed ACK: not.
    for wait in [25, 600] {
        let mut t = fin_wait_1();
        t.wait_ms(wait);
        t.s(ACK, 11, 12, b"");
        t.wait_ms(5);
        t.s(fin_ack(), 11, 12, b"");
        t.c(ACK, 12, 12, b"");
        let v = verdict(t.conn());
        said(&v, &format!("in a segment of its own, {wait} ms later."));
        unsaid(&v, "timer");
    }
}

#[test]
fn finding_3_an_rst_after_acknowledged_data_is_a_close_with_data_unread() {
    let c = first(&fixture("unread-rst.pcap")).clone();
    assert_eq!(c.close_kind(), CloseKind::Reset);
    let v = verdict(&c);
    let ack =
        c.records.iter().rposition(|r| r.dir.sender() == Role::Server && r.flags.ack() && !r.flags.rst()).unwrap();
    said(
        &v,
        &format!(
            "The server's TCP acknowledged the client's 13 bytes (at {}) after its own FIN, so its FIN was a \
             half-close (shutdown() for writing)",
            ms_words(c.records[ack].ts.millis_since(c.start()))
        ),
    );
    said(&v, "after a full close(), Linux would have answered them with RST at once");
    said(&v, "closed the socket 247 ms after they arrived");
    said(&v, "RFC 9293 §3.6.1");
    unsaid(&v, "already closed");
    let rst = c.records.len() - 1;
    said(&explain(&c, rst), "received data still unread");
    let path = synack::model::diagram::path(&c, Role::Server);
    assert_eq!(path.last().unwrap().label, Err(synack::model::explain::RST_UNREAD));
    // Unacknowledged data after a close: the other cause, and not this one.
    let v = verdict(reset_after_fins().conn());
    said(&v, "nothing acknowledged them");
    unsaid(&v, "reached an open socket");
    // An RST with no FIN before it: neither is claimed (both are possible).
    let v = verdict(first(&fixture("abort.pcap")));
    unsaid(&v, "a socket closed with received data still unread sends RST");
    unsaid(&v, "reached an open socket");
}

#[test]
fn finding_4_a_three_way_close_says_why_from_its_timing_and_its_data() {
    let c = first(&fixture("client-first.pcap")).clone();
    let fins: Vec<usize> = (0..c.records.len()).filter(|&i| c.records[i].flags.fin()).collect();
    let gap = c.records[fins[1]].ts.millis_since(c.records[fins[0]].ts);
    let v = verdict(&c);
    said(&v, &format!("The server's FIN, {}", synack::model::explain::ms_words(gap)));
    said(&v, "closed within the delayed-ACK window");
    // Data, FIN and ACK in one segment.
    let v = verdict(first(&fixture("fin-data.pcap")));
    said(&v, "carried its last 10 bytes, its FIN and the ACK of the client's FIN: data, FIN and ACK in one segment");
    // Never "nothing left to send", anywhere.
    for name in ["client-first.pcap", "server-first.pcap", "seed.pcap", "fin-data.pcap", "backlog.pcap"] {
        for c in connections(name) {
            unsaid(&everything(&c), "nothing left to send");
        }
    }
    // A second FIN later than the shortest delayed ACK: no window claim.
    let mut t = fin_wait_1();
    t.wait_ms(60);
    t.s(fin_ack(), 11, 12, b"");
    t.c(ACK, 12, 12, b"");
    let v = verdict(t.conn());
    assert_eq!(t.conn().close_kind(), CloseKind::ThreeWay);
    said(&v, "The server's FIN, 60 ms after the client's, also acknowledged it");
    unsaid(&v, "delayed-ACK window");
    unsaid(&v, "data, FIN and ACK");
}

#[test]
fn finding_5_rsts_cite_the_rule_that_applies() {
    use synack::model::diagram::path;
    use synack::model::explain::{RST_ABORT, RST_IN_SYN_SENT, RST_RECEIVED, RST_UNREAD};
    let refused = first(&fixture("refused.pcap")).clone();
    assert_eq!(path(&refused, Role::Client).last().unwrap().label, Err(RST_IN_SYN_SENT));
    assert!(RST_IN_SYN_SENT.contains("§3.10.7.3") && RST_IN_SYN_SENT.contains("Note 3"));
    let abort = first(&fixture("abort.pcap")).clone();
    // The client had received data before its RST: ABORT or a close with it unread.
    assert_eq!(path(&abort, Role::Client).last().unwrap().label, Err(RST_UNREAD));
    assert_eq!(path(&abort, Role::Server).last().unwrap().label, Err(RST_RECEIVED));
    assert!(RST_ABORT.contains("§3.10.5") && RST_UNREAD.contains("§3.10.5") && RST_RECEIVED.contains("§3.10.7.4"));
    let out = text(&abort);
    unsaid(&out, "§3.10.7.4, not drawn");
}

#[test]
fn finding_6_the_syn_row_shows_the_server_in_syn_received() {
    for name in ["seed.pcap", "slow-close.pcap", "ipv6.pcap", "abort.pcap"] {
        let c = first(&fixture(name)).clone();
        assert_eq!(c.records[0].server_state, TcpState::SynReceived, "{name}");
        assert_eq!(c.initial(Role::Server), TcpState::Listen, "{name}");
        said(&rows(&c)[0], "SYN-RECEIVED");
        assert_eq!(jsonl(&c)["segments"][0]["server_state"], "SYN-RECEIVED");
        let p = synack::model::diagram::path(&c, Role::Server);
        assert_eq!((p[0].row, p[0].from, p[0].to), (0, TcpState::Listen, TcpState::SynReceived), "{name}");
    }
    // Refused: nothing listened.
    let c = first(&fixture("refused.pcap")).clone();
    assert_eq!(c.records[0].server_state, TcpState::Closed);
}

#[test]
fn finding_8_a_fin_sent_again_is_answered_from_time_wait() {
    let c = first(&fixture("lost-last-ack.pcap")).clone();
    let n = c.records.len();
    let (lost, again, answer) = (n - 3, n - 2, n - 1);
    // The server never got the ACK: it stayed in LAST-ACK until the answer.
    assert_eq!(c.records[lost].server_state, TcpState::LastAck);
    assert_eq!(c.records[again].server_state, TcpState::LastAck);
    assert_eq!(c.records[answer].server_state, TcpState::Closed);
    assert_eq!(c.records[answer].client_state, TcpState::TimeWait);
    said(&rows(&c)[lost], "teardown 4/4 (dropped)");
    said(&rows(&c)[answer], "from TIME-WAIT");
    said(&explain(&c, again), "That is what TIME-WAIT is for");
    said(&explain(&c, answer), "This is what TIME-WAIT is for");
    let v = verdict(&c);
    said(&v, "did not reach the server: the server sent its FIN again 208 ms later.");
    unsaid(&v, "row");
    said(&v, "this is one reason the side that closes first waits in TIME-WAIT");
    said(&v, "(the other: old duplicate segments die out before the port pair is used again)");
    unsaid(&v, "came after the close had finished");
    // The FIN taken in TIME-WAIT starts its 2 x MSL again (RFC 9293 §3.10.7.4):
    // 59.9 s after it the client is still in TIME-WAIT, though more than 60 s
    // have passed since it entered it.
    let tw = std::time::Duration::from_secs(60);
    let later = synack::model::segment::Timestamp(c.records[again].ts.0 + 59_900_000_000);
    let entered = c.records.iter().find(|r| r.client_state == TcpState::TimeWait).unwrap().ts;
    assert!(later.0 - entered.0 > 60_000_000_000);
    assert_eq!(c.state_at(Role::Client, later, tw).0, TcpState::TimeWait);
    said(&explain(&c, answer), "starts its 2 x MSL wait again");
    // A close whose last ACK arrived says none of it.
    let all = everything(first(&fixture("slow-close.pcap")));
    unsaid(&all, "FIN again");
    unsaid(&all, "from TIME-WAIT");
}

#[test]
fn finding_8_a_syn_that_takes_over_time_wait_names_the_rule() {
    // The server closed first (TIME-WAIT); the client connects again from its port.
    let cs = connections("time-wait-reuse.pcap");
    assert_eq!(cs.len(), 2);
    let v = verdict(&cs[0]);
    said(&v, "The server's TIME-WAIT ended early, 50 ms after it began");
    said(&v, "RFC 9293 §3.6.1 (MAY-2) lets an endpoint in TIME-WAIT accept a new SYN if its own new initial sequence");
    said(
        &v,
        "Linux checks the incoming SYN instead: its sequence number must be beyond the last one the server received",
    );
    said(&v, "This SYN's sequence number is beyond it.");
    unsaid(&v, "not beyond");
    unsaid(&v, "tcp_tw_reuse");
    said(&verdict(&cs[1]), "whose server was still in TIME-WAIT (50 ms after it entered it)");
    said(&explain(&cs[1], 0), "reused the port pair");
    unsaid(&verdict(&cs[1]), "ended early");
    // The client closed first and connects again 1.5 s later from its own port.
    let cs = connections("time-wait-reuse-client.pcap");
    let v = verdict(&cs[0]);
    said(&v, "The client's TIME-WAIT ended early, 1500 ms after it began");
    said(&v, "net.ipv4.tcp_tw_reuse, which applies only to the side that connects");
    said(&v, "(1 s; net.ipv4.tcp_tw_reuse_delay from Linux 6.14 on)");
    said(&v, "A program that chose this port with bind() also needed SO_REUSEADDR");
    unsaid(&v, "MAY-2");
    // A TIME-WAIT that ran its course is not mentioned.
    let all = everything(first(&fixture("seed.pcap")));
    unsaid(&all, "TIME-WAIT ended early");
    unsaid(&all, "reused the port pair");
}

#[test]
fn finding_8_data_rows_teach_ack_is_seq_plus_len() {
    let c = first(&fixture("seed.pcap")).clone();
    let data = c.records.iter().position(|r| r.payload_len > 0).unwrap();
    let e = explain(&c, data);
    said(&e, "The client sends 10 bytes, bytes 1 to 10 of its stream (seq=1, len=10).");
    said(&e, "acknowledges them with ack=11 (row 5): ack = seq + len");
    let ack = data + 1;
    let e = explain(&c, ack);
    said(&e, "ack=11 = 1 + 10");
    unsaid(&explain(&c, 0), "ack = seq + len");
    unsaid(&explain(&c, data), "= 1 + 10");
}

/// The JSON object of one connection.
fn jsonl(c: &Connection) -> serde_json::Value {
    let mut out = Vec::new();
    export::exporter(Format::Jsonl).connection(c, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

/// Every number a sentence gives is one of the connection's facts: a time
/// between two of its rows (or since its start), a count of its bytes or
/// segments, a row, a sequence or acknowledgment number it shows, or one of
/// the named constants (RFC numbers, Linux's 40 ms, 60 s, 2 x MSL).
#[test]
fn every_number_in_a_sentence_is_a_fact_of_the_connection() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    names.sort();
    let mut checked = 0;
    for name in names {
        for c in connections(&name) {
            let facts = Facts::of(&c);
            let mut sentences = vec![verdict(&c)];
            sentences.extend((0..c.records.len()).map(|i| explain(&c, i)));
            for s in &sentences {
                for (number, unit) in numbers(s) {
                    assert!(facts.holds(&number, &unit), "{name} #{}: {number} {unit:?} is no fact of it:\n{s}", c.id);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "{checked} numbers checked");
}

/// The numbers of a sentence with the word after each (`41` `ms`), and
/// `seq=1` as (`1`, `seq=`).
fn numbers(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.' || b[i - 1] == b'-'))
        {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_digit() || (b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
            {
                i += 1;
            }
            let number = s[start..i].to_string();
            let before = s[..start].trim_end();
            let prev = before.rsplit([' ', '(']).next().unwrap_or("");
            let unit = if before.ends_with('=') {
                before.rsplit(' ').next().unwrap_or("").to_string()
            } else if ["row", "§", "§3.10.7.4,", "RFC", "step", "steps", "and", "Note", "to", "bytes", "Linux"]
                .contains(&prev)
            {
                prev.to_string()
            } else {
                s[i..].split_whitespace().next().unwrap_or("").trim_matches(|c: char| !c.is_alphanumeric()).to_string()
            };
            out.push((number, unit));
        } else {
            i += 1;
        }
    }
    out
}

/// What a connection's numbers may be.
struct Facts {
    ms: std::collections::HashSet<String>,
    counts: std::collections::HashSet<u64>,
    seq: std::collections::HashSet<u64>,
    rows: usize,
}

impl Facts {
    fn of(c: &Connection) -> Facts {
        use synack::model::explain::ms_words;
        let mut ms = std::collections::HashSet::new();
        let start = c.start();
        let mut times: Vec<_> = c.records.iter().map(|r| r.ts).collect();
        times.extend(c.kernel.iter().map(|k| k.ts));
        times.extend(c.calls.iter().map(|k| k.ts));
        for a in &times {
            ms.insert(ms_words(a.millis_since(start)));
            for b in &times {
                if b >= a {
                    ms.insert(ms_words(b.millis_since(*a)));
                }
            }
        }
        for t in [c.time_wait_taken, c.after_time_wait].into_iter().flatten() {
            ms.insert(ms_words(t.syn.millis_since(t.since)));
        }
        // Payload bytes: one row's, or a run of one side's rows.
        let mut counts = std::collections::HashSet::new();
        for role in [Role::Client, Role::Server] {
            let lens: Vec<u64> = c
                .records
                .iter()
                .filter(|r| r.dir.sender() == role && !r.retransmission)
                .map(|r| u64::from(r.payload_len))
                .collect();
            for i in 0..lens.len() {
                let mut sum = 0;
                for l in &lens[i..] {
                    sum += l;
                    counts.insert(sum);
                }
            }
        }
        // Segments of each kind a sentence counts.
        let n = |f: &dyn Fn(&synack::model::tracker::Record) -> bool| c.records.iter().filter(|r| f(r)).count() as u64;
        counts.insert(u64::from(c.handshake.syn_retransmits));
        counts.insert(n(&|r| r.phase == Phase::AfterClose));
        counts.insert(n(&|r| r.phase == Phase::AfterClose).saturating_sub(2));
        counts.insert(n(&|r| r.flags.syn() && r.flags.ack() && r.retransmission));
        let o = synack::model::explain::opening(c);
        counts.insert(o.syns_dropped.len() as u64);
        counts.insert(o.acks_dropped.len() as u64);
        counts.extend((0..=o.acks_dropped.len() as u64).collect::<Vec<_>>());
        counts.insert(c.icmp.len() as u64);
        // What the calls returned, and how many segments one of them spans.
        counts.extend(c.calls.iter().filter_map(|k| k.bytes));
        if !c.calls.is_empty() {
            let data = n(&|r| r.payload_len > 0 && !r.retransmission);
            counts.extend(2..=data);
        }
        let mut seq = std::collections::HashSet::new();
        for r in &c.records {
            seq.insert(u64::from(r.rel_seq));
            seq.insert(u64::from(r.rel_ack));
            let end = u64::from(r.rel_seq) + u64::from(r.payload_len);
            seq.insert(end);
            seq.insert(end + 1);
            seq.insert(end.saturating_sub(1));
            seq.insert(u64::from(r.rel_ack).saturating_sub(1));
            seq.insert(u64::from(r.payload_len));
        }
        Facts { ms, counts, seq, rows: c.records.len() }
    }

    fn holds(&self, number: &str, unit: &str) -> bool {
        let int = number.parse::<u64>().ok();
        match unit {
            "ms" => self.ms.contains(&format!("{number} ms")) || number == "40",
            "row" => int.is_some_and(|r| r >= 1 && r as usize <= self.rows),
            "step" | "steps" | "and" => int.is_some_and(|n| (1..=4).contains(&n)),
            "Note" => number == "2" || number == "3",
            "seq=" | "ack=" | "len=" | "bytes" | "to" => {
                int.is_some_and(|n| self.seq.contains(&n) || self.counts.contains(&n))
            }
            "segment" | "segments" | "time" | "times" | "more" | "SYN" | "SYNs" | "ICMP" => {
                int.is_some_and(|n| self.counts.contains(&n))
            }
            // RFC and section numbers, and the named constants.
            "RFC" | "§" => true,
            // A Linux version that a sysctl needs.
            "Linux" => number == "6.14",
            "x" | "s" | "SHLD-3" | "MAY-2" | "second" => true,
            _ => self.seq.contains(&int.unwrap_or(u64::MAX)) || number.contains('.') && unit.is_empty(),
        }
    }
}

/// The review of every fixture's text: an RST with no FIN before it says
/// "aborted" only when the sender had received no data; with data received,
/// a close with that data unread looks the same on the wire.
#[test]
fn review_an_rst_with_no_fin_names_a_cause_only_when_the_segments_show_it() {
    use synack::model::diagram::path;
    use synack::model::explain::{RST_ABORT, RST_UNREAD};
    // abort.pcap: the client had received "HELLOWORLD" before its RST.
    let abort = first(&fixture("abort.pcap")).clone();
    let v = verdict(&abort);
    said(&v, "The client sent an RST, not a FIN: no TIME-WAIT; both ends went straight to CLOSED.");
    said(&v, "the client had received 10 bytes, so both are possible.");
    unsaid(&v, "its application aborted");
    assert_eq!(path(&abort, Role::Client).last().unwrap().label, Err(RST_UNREAD));
    // Built: the client sends data, receives none, and resets: only ABORT fits.
    let mut t = syn_received();
    t.c(ACK, 1, 1, b"");
    t.c(psh_ack(), 1, 1, b"helloworld");
    t.s(ACK, 1, 11, b"");
    t.c(rst_ack(), 11, 1, b"");
    let c = t.conn();
    assert_eq!(c.close_kind(), CloseKind::Reset);
    let v = verdict(c);
    said(&v, "The client had received no data, so none was left unread: its application aborted (RFC 9293 §3.10.5");
    unsaid(&v, "both are possible");
    assert_eq!(path(c, Role::Client).last().unwrap().label, Err(RST_ABORT));
}

/// Figure 5's Note 3 gives an RST's sender a move to TIME-WAIT; the rows (as
/// §3.10.5 and Linux) go to CLOSED, and a sent RST's label says so. A
/// received RST's move to CLOSED is the one Note 3 names: no such remark.
#[test]
fn review_a_sent_rst_is_not_said_to_follow_note_3() {
    use synack::model::diagram::path;
    use synack::model::explain::{RST_ABORT, RST_DATA_AFTER_CLOSE, RST_IN_SYN_SENT, RST_RECEIVED, RST_UNREAD};
    for sent in [RST_ABORT, RST_UNREAD, RST_DATA_AFTER_CLOSE] {
        said(sent, "Its Note 3 moves the RST's sender to TIME-WAIT; §3.10.5 and Linux move it to CLOSED");
    }
    for got in [RST_RECEIVED, RST_IN_SYN_SENT] {
        said(got, "RSTs are left out of figure 5: its Note 3");
        unsaid(got, "TIME-WAIT");
    }
    let abort = first(&fixture("abort.pcap")).clone();
    let label = |role| path(&abort, role).last().unwrap().label.unwrap_err();
    said(label(Role::Client), "moves the RST's sender to TIME-WAIT");
    unsaid(label(Role::Server), "TIME-WAIT");
    assert_eq!(path(&abort, Role::Server).last().unwrap().label, Err(RST_RECEIVED));
}

/// A server that never sent its SYN-ACK again in more than 1 s kept no
/// state (a SYN cookie): it is not said to have "stayed in SYN-RECEIVED".
#[test]
fn review_a_syn_cookie_server_is_not_said_to_stay_in_syn_received() {
    use synack::model::explain::opening;
    let cookie = backlog_with(|c| {
        let o = opening(c);
        !o.acks_dropped.is_empty() && o.syn_acks_again.is_empty() && verdict(c).contains("SYN cookie")
    });
    let v = verdict(&cookie);
    said(&v, "So it kept no state for this connection, as a server does when its SYN-ACK carries a SYN cookie");
    said(&v, "The rows still show SYN-RECEIVED");
    unsaid(&v, "it stayed in SYN-RECEIVED");
    // The handshake completed 208 ms after the first ACK: within the first
    // retransmission timeout, so SYN-RECEIVED is not ruled out.
    let kept = backlog_with(|c| {
        let o = opening(c);
        !o.acks_dropped.is_empty() && o.syn_acks_again.is_empty() && !verdict(c).contains("SYN cookie")
    });
    let v = verdict(&kept);
    // Only the data sent again tells, on one host: a full accept queue is
    // one cause, a filter on the server's way in another; both are said.
    said(&v, "answered none of the client's first");
    said(&v, "(the client sent its data again, as nothing had acknowledged it)");
    said(&v, "The segments do not say whether the server had taken the client's ACK");
    unsaid(&v, "it stayed in SYN-RECEIVED");
    unsaid(&v, "the accept queue was full");
    unsaid(&v, "kept no state");
    // A SYN-ACK sent again: that, not the data, is the evidence given.
    let v = verdict(&backlog_with(|c| syn_acks_again(c) > 0));
    said(&v, "only a SYN-RECEIVED endpoint does that");
    unsaid(&v, "sent its data again");
}

/// A SYN dropped on one host: both queues that make Linux drop it are
/// named, and neither is claimed alone.
#[test]
fn review_a_dropped_syn_names_both_queues() {
    use synack::model::explain::opening;
    let c = backlog_with(|c| !opening(c).syns_dropped.is_empty());
    let v = verdict(&c);
    said(&v, "Linux drops a SYN while the listener's accept queue is full, and also while its SYN queue is full");
    unsaid(&v, "as it does while its accept queue is full");
    said(&explain(&c, opening(&c).syns_dropped[0]), "also while its SYN queue is full");
    // Across hosts the SYN may have been lost: no Linux queue is named.
    let t = syn_again_across_hosts();
    unsaid(&verdict(t.conn()), "Linux drops a SYN");
}

// ---------------------------------------------------------------------------
// Round 3 of the TCP review: each reworded sentence said where the facts hold
// and not where they do not.

#[test]
fn review3_both_in_time_wait_because_each_closed_first() {
    let c = first(&fixture("ipv6.pcap")).clone();
    let v = verdict(&c);
    said(&v, "Both ended in TIME-WAIT: each sent its FIN before it received the other's (FIN-WAIT-1, not CLOSE-WAIT)");
    unsaid(&v, "that the other acknowledged");
    let rows_said: Vec<usize> = (0..c.records.len())
        .filter(|&i| explain(&c, i).contains("Both ends are now in TIME-WAIT: each sent its FIN"))
        .collect();
    assert_eq!(rows_said.len(), 1, "the row that puts the second end in TIME-WAIT");
    let i = rows_said[0];
    assert_eq!((c.records[i].client_state, c.records[i].server_state), (TcpState::TimeWait, TcpState::TimeWait));
    // A close with one active closer (LAST-ACK -> CLOSED) says none of it.
    let all = everything(first(&fixture("seed.pcap")));
    unsaid(&all, "Both ended in TIME-WAIT");
    unsaid(&all, "Both ends are now in TIME-WAIT");
    // Crossed FINs, the capture ending before the last ACK: not both in TIME-WAIT.
    let mut t = established();
    t.c(fin_ack(), 11, 11, b"");
    t.s(fin_ack(), 11, 11, b"");
    t.c(ACK, 12, 12, b"");
    assert_eq!(t.conn().close_kind(), CloseKind::Simultaneous);
    unsaid(&everything(t.conn()), "TIME-WAIT: each sent its FIN");
}

#[test]
fn review3_a_dropped_ack_of_a_fin_on_one_host_was_dropped_on_the_host() {
    let c = first(&fixture("lost-last-ack.pcap")).clone();
    let lost = c.records.len() - 3;
    let e = explain(&c, lost);
    said(&e, "Both ends are on one host, so it was dropped on the host, not lost on a link: by a firewall rule");
    unsaid(&e, "nothing is lost");
    unsaid(&e, "the server dropped it");
    // Across hosts: lost or dropped, no host named.
    let mut t = Talk::between("10.0.0.1:40000", "10.0.0.2:8001");
    t.c(SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(ACK, 1, 1, b"");
    t.c(fin_ack(), 1, 1, b"");
    t.s(ACK, 1, 2, b"");
    t.s(fin_ack(), 1, 2, b"");
    t.c(ACK, 2, 2, b"");
    t.wait_ms(200);
    t.s(fin_ack(), 1, 2, b"");
    t.c(ACK, 2, 2, b"");
    let c = t.conn();
    let lost = c.records.len() - 3;
    assert!(synack::model::explain::not_taken(c, lost), "the ACK the FIN again shows was not taken");
    unsaid(&explain(c, lost), "on one host");
}

#[test]
fn review3_kernel_view_names_the_new_socket_and_what_it_did_not_report() {
    use synack::model::diagram::path;
    use synack::model::kernel;
    let mut full = 0;
    let mut partial = 0;
    // The recording's connections, and each with only its first 2 kernel
    // transitions (a kernel view started late, or changes not attached).
    let all = connections("backlog-kernel.pcapng");
    let cut = all.iter().map(|c| {
        let mut c = c.clone();
        c.kernel.truncate(2);
        c
    });
    for c in all.clone().into_iter().chain(cut) {
        let out = text(&c);
        for line in out.lines().filter(|l| l.contains("⚙ kernel")) {
            let born = line.contains("kernel server LISTEN → SYN-RECEIVED");
            assert_eq!(line.contains("(the server's new socket, made when the handshake completed"), born, "{line}");
        }
        let v = kernel::compare(&c);
        let agreed = v.iter().filter(|v| v.agrees()).count();
        let wire: usize = [Role::Client, Role::Server]
            .into_iter()
            .flat_map(|r| path(&c, r))
            .map(|t| if (t.from, t.to) == (TcpState::FinWait1, TcpState::TimeWait) { 2 } else { 1 })
            .sum();
        let missing = kernel::unreported(&c, &v);
        assert_eq!(missing + agreed, wire, "#{}: every wire transition is reported or counted missing", c.id);
        if missing == 0 {
            said(&out, &format!("kernel: {agreed} of {} transitions agreed", v.len()));
            unsaid(&out, "not reported");
            full += 1;
        } else {
            assert_eq!(agreed, v.len());
            let n = if agreed == 2 { "both".to_string() } else { "all".to_string() };
            said(
                &out,
                &format!(
                    "kernel: {} transitions shown, {n} agreed; {missing} the wire shows have no kernel transition beside them",
                    v.len()
                ),
            );
            unsaid(&out, "transitions agreed");
            partial += 1;
        }
    }
    assert!(full > 0 && partial > 0, "{full} complete, {partial} partial");
    // Without the kernel view: no kernel line at all.
    unsaid(&text(first(&fixture("seed.pcap"))), "kernel");
}

#[test]
fn review3_times_under_ten_ms_keep_three_decimals() {
    assert_eq!(ms_words(0.04), "0.040 ms");
    assert_eq!(ms_words(1.499), "1.499 ms");
    assert_eq!(ms_words(1.561), "1.561 ms");
    assert_eq!(ms_words(41.2), "41 ms");
    assert_eq!(ms_words(208.4), "208 ms");
}

#[test]
fn review3_the_diagram_says_where_the_ack_of_a_fin_left() {
    use synack::export::text::diagram_path;
    // Three-way: the client's ACK of the server's FIN rode on its own FIN.
    let seed = first(&fixture("seed.pcap")).clone();
    let fin = seed.records.iter().position(|r| r.flags.fin() && r.dir.sender() == Role::Client).unwrap();
    let d = diagram_path(&seed);
    said(
        &d,
        &format!(
            "ESTABLISHED -> CLOSE-WAIT    row {:<4} rcv FIN / snd ACK (the ACK: row {}, with its FIN)",
            fin,
            fin + 1
        ),
    );
    for line in d.lines().filter(|l| !l.contains("rcv FIN")) {
        unsaid(line, "(the ACK:");
    }
    // Four-way: the ACK left alone.
    let lost = first(&fixture("lost-last-ack.pcap")).clone();
    let d = diagram_path(&lost);
    let ack = lost.records.iter().position(|r| r.teardown_steps.contains(2)).unwrap();
    said(&d, &format!("rcv FIN / snd ACK (the ACK: row {})", ack + 1));
    unsaid(&d, "with its FIN)");
    // A FIN past a hole: taken on the row of its ACK, which is the arrow's
    // own row: nothing to add (not the client's FIN, a row later).
    let hole = first(&fixture("lost.pcap")).clone();
    let d = diagram_path(&hole);
    let ack = hole.records.iter().position(|r| r.dir.sender() == Role::Client && r.rel_ack == 13).unwrap();
    said(&d, &format!("ESTABLISHED -> CLOSE-WAIT    row {:<4} rcv FIN / snd ACK\n", ack + 1));
    unsaid(&d, "CLOSE-WAIT    row 10   rcv FIN / snd ACK (the ACK:");
}

#[test]
fn review3_refused_rst_says_most_likely() {
    let c = first(&fixture("refused.pcap")).clone();
    let rst = c.records.iter().position(|r| r.flags.rst()).unwrap();
    said(
        &explain(&c, rst),
        "Most likely nothing listens on that port (a firewall rule that rejects with RST sends the same).",
    );
    unsaid(&explain(&c, rst), "nothing listens on that port, so");
    unsaid(&everything(first(&fixture("abort.pcap"))), "firewall");
}
