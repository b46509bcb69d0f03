//! One test per state transition, named `<state>_<event>`, from
//! segment builders: every close kind, RST in every phase, refusal,
//! retransmissions, port reuse and a connection seen mid-stream.

mod support;

use support::*;
use synack::model::tracker::{CloseKind, Initiator, Phase, Role, TeardownSteps};

#[test]
fn closed_syn() {
    // The server takes the SYN as it arrives (RFC 9293 §3.10.7.2): SYN-RECEIVED
    // on the SYN's own row, as Linux creates its request socket then.
    let t = syn_sent();
    assert_eq!(t.states(), ("SYN-SENT", "SYN-RECEIVED"));
    assert_eq!(t.conn().initial(synack::model::tracker::Role::Server), synack::model::tcp::TcpState::Listen);
    assert!(t.last.started);
    let r = &t.conn().records[0];
    assert_eq!((r.phase, r.step, r.rel_seq), (Phase::Handshake, Some(1), 0));
}

#[test]
fn syn_sent_syn_ack() {
    let t = syn_received();
    assert_eq!(t.states(), ("ESTABLISHED", "SYN-RECEIVED"));
    let r = &t.conn().records[1];
    assert_eq!((r.step, r.rel_seq, r.rel_ack), (Some(2), 0, 1));
}

#[test]
fn syn_received_ack() {
    let mut t = syn_received();
    t.c(ACK, 1, 1, b"");
    assert_eq!(t.states(), ("ESTABLISHED", "ESTABLISHED"));
    let c = t.conn();
    assert!(c.handshake.complete());
    assert_eq!(c.handshake.segments, 3);
    assert_eq!(c.records[2].step, Some(3));
    assert_eq!(c.handshake.rtt, Some(20_000));
}

#[test]
fn syn_sent_syn_retransmission() {
    let mut t = syn_sent();
    let push = t.c(SYN, 0, 0, b"");
    assert!(!push.started, "a retransmitted SYN stays in the same connection");
    t.s(syn_ack(), 0, 1, b"");
    t.c(ACK, 1, 1, b"");
    let c = t.conn();
    assert_eq!(t.tracker.len(), 1);
    assert_eq!(c.handshake.syn_retransmits, 1);
    assert!(c.records[1].retransmission);
    assert_eq!(c.records[1].step, None);
    assert_eq!(c.handshake.segments, 4);
    assert!(c.handshake.complete());
}

#[test]
fn listen_syn_not_taken_stays_listen() {
    // The SYN comes again before any SYN-ACK: the server had not taken the
    // first one (it stayed in LISTEN on its row); the second one it took.
    let mut t = syn_sent();
    t.c(SYN, 0, 0, b"");
    let c = t.conn();
    assert_eq!(c.records[0].server_state.name(), "LISTEN");
    assert_eq!(c.records[1].server_state.name(), "SYN-RECEIVED");
    t.s(syn_ack(), 0, 1, b"");
    t.c(SYN, 0, 0, b"");
    let c = t.conn();
    assert_eq!(
        c.records[1].server_state.name(),
        "SYN-RECEIVED",
        "answered: a SYN again after the SYN-ACK revises nothing"
    );
    assert_eq!(c.records[3].server_state.name(), "SYN-RECEIVED");
}

/// SYN, SYN-ACK, the client's ACK and data: the server taken to be
/// ESTABLISHED on the ACK's row.
fn ack_and_data(mut t: Talk) -> Talk {
    t.c(SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(ACK, 1, 1, b"");
    t.c(psh_ack(), 1, 1, b"helloworld");
    assert_eq!(t.conn().records[2].server_state.name(), "ESTABLISHED");
    assert!(t.conn().handshake.complete());
    t
}

#[test]
fn syn_received_syn_ack_again_takes_back_the_third_ack() {
    let mut t = ack_and_data(Talk::between("10.0.0.1:40000", "10.0.0.2:8001"));
    // The server's SYN-ACK again: it was still SYN-RECEIVED after the ACK.
    t.wait_ms(1000);
    t.s(syn_ack(), 0, 1, b"");
    let c = t.conn();
    let server: Vec<&str> = c.records.iter().map(|r| r.server_state.name()).collect();
    assert_eq!(server, ["SYN-RECEIVED", "SYN-RECEIVED", "SYN-RECEIVED", "SYN-RECEIVED", "SYN-RECEIVED"]);
    assert!(!c.handshake.complete() && c.handshake.rtt.is_none());
    assert_eq!((c.records[2].phase, c.records[2].step), (Phase::Handshake, None), "an attempt, not step 3");
    assert_eq!((c.records[3].phase, c.records[3].step), (Phase::Data, None));
    // The client's next ACK completes it (tentatively), and the server's ACK confirms.
    t.c(ACK, 11, 1, b"");
    t.c(psh_ack(), 1, 1, b"helloworld");
    t.s(ACK, 1, 11, b"");
    let c = t.conn();
    assert_eq!((c.records[5].step, c.records[5].server_state.name()), (Some(3), "ESTABLISHED"));
    assert!(c.handshake.complete());
    assert_eq!(c.handshake.rtt, Some(c.records[5].ts.0 - c.records[0].ts.0));
    assert_eq!(c.handshake.segments, 5, "SYN, SYN-ACK, the dropped ACK, the SYN-ACK again, the ACK");
}

#[test]
fn syn_received_data_again_unanswered_on_one_host() {
    // On one host nothing is lost on the way: data sent again with no answer
    // since the ACK shows the server had not taken the ACK or the data.
    let mut t = ack_and_data(Talk::new());
    t.wait_ms(200);
    t.c(psh_ack(), 1, 1, b"helloworld");
    let c = t.conn();
    let server: Vec<&str> = c.records.iter().map(|r| r.server_state.name()).collect();
    assert_eq!(server, ["SYN-RECEIVED", "SYN-RECEIVED", "SYN-RECEIVED", "SYN-RECEIVED", "ESTABLISHED"]);
    assert_eq!((c.records[4].step, c.records[4].phase), (Some(3), Phase::Handshake), "taken again, tentatively");
    assert_eq!(c.handshake.segments, 4, "the data before is data");
    t.s(ACK, 1, 11, b"");
    assert_eq!(t.conn().records[5].server_state.name(), "ESTABLISHED");

    // Across hosts the data may have been lost on the way: nothing is revised.
    let mut t = ack_and_data(Talk::between("10.0.0.1:40000", "10.0.0.2:8001"));
    t.wait_ms(200);
    t.c(psh_ack(), 1, 1, b"helloworld");
    assert_eq!(t.conn().records[2].server_state.name(), "ESTABLISHED");
    assert_eq!(t.conn().records[2].step, Some(3));

    // An answer before the data came again confirms the handshake.
    let mut t = ack_and_data(Talk::new());
    t.s(ACK, 1, 11, b"");
    t.c(psh_ack(), 1, 1, b"helloworld");
    assert_eq!(t.conn().records[2].server_state.name(), "ESTABLISHED");
    assert_eq!(t.conn().records[2].step, Some(3));
}

#[test]
fn the_kernel_says_which_segment_completed_the_handshake() {
    use synack::model::kernel::Change;
    use synack::model::segment::Timestamp;
    use synack::model::tcp::TcpState;
    // The wire takes the pure ACK after the last SYN-ACK as the completion;
    // the kernel's SYN-RECEIVED -> ESTABLISHED came after the data that followed.
    let mut t = ack_and_data(Talk::new());
    t.tracker.watch_kernel();
    t.s(syn_ack(), 0, 1, b"");
    t.c(ACK, 11, 1, b"");
    t.c(psh_ack(), 1, 1, b"helloworld");
    let data = t.conn().records[6].ts;
    assert_eq!(t.conn().records[5].step, Some(3));
    let (client, server) = t.ends;
    t.tracker.kernel(Change {
        ts: Timestamp(data.0 + 5_000),
        sock: 1,
        local: server,
        remote: client,
        from: TcpState::SynReceived,
        to: TcpState::Established,
    });
    t.s(ACK, 1, 11, b"");
    let c = t.conn();
    let server: Vec<&str> = c.records.iter().map(|r| r.server_state.name()).collect();
    assert_eq!(server[5..], ["SYN-RECEIVED", "ESTABLISHED", "ESTABLISHED"]);
    assert_eq!((c.records[5].step, c.records[5].phase), (None, Phase::Handshake));
    assert_eq!((c.records[6].step, c.records[6].phase), (Some(3), Phase::Handshake));
    assert_eq!(c.handshake.rtt, Some(data.0 - c.records[0].ts.0));
    assert!(c.handshake.complete());
}

#[test]
fn syn_sent_rst_ack_is_refused() {
    let mut t = syn_sent();
    // A refusal carries sequence number 0 (absolute): the server has no ISN.
    let push = t.s(rst_ack(), 0u32.wrapping_sub(SISN), 1, b"");
    assert!(push.ended);
    let c = t.conn();
    assert_eq!(c.close_kind(), CloseKind::Refused);
    assert_eq!(t.states(), ("CLOSED", "CLOSED"));
    assert_eq!(c.records[1].rel_seq, 0);
    assert_eq!(c.records[1].rel_ack, 1);
    assert!(!c.handshake.complete());
}

#[test]
fn syn_received_rst_from_client() {
    let mut t = syn_received();
    t.c(RST, 1, 0, b"");
    assert_eq!(t.conn().close_kind(), CloseKind::Reset);
    assert_eq!(t.conn().initiator(), Some(Initiator::Client));
    assert_eq!(t.states(), ("CLOSED", "CLOSED"));
}

#[test]
fn established_rst_from_client() {
    let mut t = established();
    t.c(rst_ack(), 11, 11, b"");
    let c = t.conn();
    assert_eq!((c.close_kind(), c.initiator()), (CloseKind::Reset, Some(Initiator::Client)));
    assert_eq!(c.records.last().unwrap().phase, Phase::Reset);
    assert!(c.ended);
}

#[test]
fn established_rst_from_server() {
    let mut t = established();
    t.s(rst_ack(), 11, 11, b"");
    assert_eq!((t.conn().close_kind(), t.conn().initiator()), (CloseKind::Reset, Some(Initiator::Server)));
    assert_eq!(t.states(), ("CLOSED", "CLOSED"));
}

#[test]
fn established_fin_from_client() {
    let t = fin_wait_1();
    assert_eq!(t.states(), ("FIN-WAIT-1", "CLOSE-WAIT"));
    let r = t.conn().records.last().unwrap();
    assert_eq!((r.phase, r.step), (Phase::Teardown, Some(1)));
}

#[test]
fn established_fin_from_server() {
    let mut t = established();
    t.s(fin_ack(), 11, 11, b"");
    assert_eq!(t.states(), ("CLOSE-WAIT", "FIN-WAIT-1"));
}

#[test]
fn established_data_retransmission() {
    let mut t = established();
    t.c(psh_ack(), 11, 11, b"again");
    t.c(psh_ack(), 11, 11, b"again");
    let c = t.conn();
    assert!(c.records.last().unwrap().retransmission);
    assert!(!c.records[c.records.len() - 2].retransmission);
    assert_eq!(c.client.payload_bytes, 15, "a retransmission is not counted twice");
    assert_eq!(c.retransmissions, 1);
}

#[test]
fn fin_wait_1_ack() {
    let t = fin_wait_2();
    assert_eq!(t.states(), ("FIN-WAIT-2", "CLOSE-WAIT"));
    assert_eq!(t.conn().records.last().unwrap().teardown_steps, TeardownSteps::of(&[2]));
}

#[test]
fn fin_wait_2_fin() {
    let t = last_ack();
    assert_eq!(t.states(), ("TIME-WAIT", "LAST-ACK"));
}

#[test]
fn last_ack_ack_four_way() {
    let mut t = last_ack();
    let push = t.c(ACK, 12, 12, b"");
    assert!(push.ended);
    let c = t.conn();
    assert_eq!(t.states(), ("TIME-WAIT", "CLOSED"));
    assert_eq!(c.close_kind(), CloseKind::FourWay);
    assert_eq!(c.close_segments(), 4);
    assert_eq!(c.initiator(), Some(Initiator::Client));
    let steps: Vec<_> = c.records.iter().filter_map(|r| (r.phase == Phase::Teardown).then_some(r.step)).collect();
    assert_eq!(steps, [Some(1), Some(2), Some(3), Some(4)]);
}

#[test]
fn fin_wait_1_fin_ack_three_way_client_first() {
    let mut t = fin_wait_1();
    t.s(fin_ack(), 11, 12, b"");
    assert_eq!(t.states(), ("TIME-WAIT", "LAST-ACK"));
    t.c(ACK, 12, 12, b"");
    let c = t.conn();
    assert!(c.ended);
    assert_eq!(t.states(), ("TIME-WAIT", "CLOSED"));
    assert_eq!(c.close_kind(), CloseKind::ThreeWay);
    assert_eq!(c.close_segments(), 3);
    assert_eq!(c.records[c.records.len() - 2].teardown_steps, TeardownSteps::of(&[2, 3]));
}

#[test]
fn fin_wait_1_fin_ack_three_way_server_first() {
    let mut t = established();
    t.s(fin_ack(), 11, 11, b"");
    t.c(fin_ack(), 11, 12, b"");
    assert_eq!(t.states(), ("LAST-ACK", "TIME-WAIT"));
    t.s(ACK, 12, 12, b"");
    let c = t.conn();
    assert_eq!(t.states(), ("CLOSED", "TIME-WAIT"));
    assert_eq!((c.close_kind(), c.initiator()), (CloseKind::ThreeWay, Some(Initiator::Server)));
}

#[test]
fn fin_wait_1_fin_simultaneous() {
    let mut t = fin_wait_1();
    // The server's FIN does not acknowledge the client's: they crossed.
    t.s(fin_ack(), 11, 11, b"");
    assert_eq!(t.states(), ("CLOSING", "CLOSING"));
    // The tentative CLOSE-WAIT on the first FIN's row was taken back.
    let c = t.conn();
    assert_eq!(c.records[c.records.len() - 2].server_state.name(), "ESTABLISHED");
    t.c(ACK, 12, 12, b"");
    assert_eq!(t.states(), ("CLOSING", "TIME-WAIT"));
    t.s(ACK, 12, 12, b"");
    let c = t.conn();
    assert!(c.ended);
    assert_eq!(t.states(), ("TIME-WAIT", "TIME-WAIT"));
    assert_eq!((c.close_kind(), c.initiator()), (CloseKind::Simultaneous, Some(Initiator::Both)));
    assert_eq!(c.close_segments(), 4);
}

#[test]
fn close_wait_data_half_close() {
    let mut t = fin_wait_2();
    t.s(psh_ack(), 11, 12, b"more");
    t.s(psh_ack(), 15, 12, b"and more");
    t.c(ACK, 12, 23, b"");
    t.s(fin_ack(), 23, 12, b"");
    t.c(ACK, 12, 24, b"");
    let c = t.conn();
    assert!(c.close.data_after_fin);
    assert_eq!(c.close_kind(), CloseKind::FourWay);
    assert_eq!(t.states(), ("TIME-WAIT", "CLOSED"));
    assert_eq!(c.server.payload_bytes, 22);
}

#[test]
fn close_wait_rst_from_server() {
    let mut t = fin_wait_2();
    t.s(rst_ack(), 11, 12, b"");
    assert_eq!((t.conn().close_kind(), t.conn().initiator()), (CloseKind::Reset, Some(Initiator::Server)));
    assert_eq!(t.states(), ("CLOSED", "CLOSED"));
}

#[test]
fn fin_wait_1_rst_from_client() {
    let mut t = fin_wait_1();
    t.c(RST, 12, 0, b"");
    assert_eq!((t.conn().close_kind(), t.conn().initiator()), (CloseKind::Reset, Some(Initiator::Client)));
}

#[test]
fn last_ack_rst_from_client() {
    let mut t = last_ack();
    t.c(RST, 12, 0, b"");
    assert_eq!(t.conn().close_kind(), CloseKind::Reset);
    assert_eq!(t.states(), ("CLOSED", "CLOSED"));
}

#[test]
fn syn_sent_rst_from_client() {
    let mut t = syn_sent();
    t.c(RST, 1, 0, b"");
    assert_eq!((t.conn().close_kind(), t.conn().initiator()), (CloseKind::Reset, Some(Initiator::Client)));
}

#[test]
fn last_ack_fin_retransmission() {
    let mut t = last_ack();
    t.s(fin_ack(), 11, 12, b"");
    let c = t.conn();
    let r = c.records.last().unwrap();
    assert!(r.retransmission);
    assert_eq!((r.phase, r.step), (Phase::Teardown, None));
    assert_eq!(c.close_segments(), 3, "a retransmitted FIN is not a new step");
    assert_eq!(c.close_kind(), CloseKind::FourWay);
}

#[test]
fn time_wait_syn_port_reuse() {
    let mut t = last_ack();
    t.c(ACK, 12, 12, b"");
    let first = t.last.id;
    let push = t.c(SYN, 100_000, 0, b"");
    assert!(push.started);
    assert_ne!(push.id, first);
    assert_eq!(t.states(), ("SYN-SENT", "SYN-RECEIVED"));
    assert_eq!(t.tracker.len(), 2);
    assert_eq!(t.tracker.get(first).unwrap().close_kind(), CloseKind::FourWay);
}

#[test]
fn established_syn_new_isn_supersedes() {
    let mut t = established();
    let first = t.last.id;
    let push = t.c(SYN, 77_777, 0, b"");
    assert_eq!(push.superseded, Some(first));
    assert!(push.started);
    assert_eq!(t.tracker.get(first).unwrap().close_kind(), CloseKind::Open);
}

#[test]
fn mid_stream_established_data() {
    let mut t = Talk::new();
    // First seen: the server's data; no SYN ever.
    t.s(psh_ack(), 1, 11, b"HELLOWORLD");
    let c = t.conn();
    assert_eq!(c.server.addr.port(), 8001, "the watched port is the server");
    assert_eq!(t.states(), ("ESTABLISHED", "ESTABLISHED"));
    assert_eq!(c.records[0].rel_seq, SISN + 1, "absolute numbers without an ISN");
    t.c(fin_ack(), 11, 11, b"");
    t.s(fin_ack(), 11, 12, b"");
    t.c(ACK, 12, 12, b"");
    assert!(t.conn().ended);
    assert_eq!(t.conn().close_kind(), CloseKind::ThreeWay);
}

#[test]
fn retention_drops_oldest_finished_first() {
    let mut tracker = synack::model::tracker::Tracker::new(Some(8001), synack::model::tracker::Limits::both(2));
    let mut ids = Vec::new();
    for port in 0..4u16 {
        let mut seg = template();
        seg.src = addr(&format!("127.0.0.1:{}", 41000 + port));
        seg.flags = SYN;
        seg.seq = synack::model::seq::SeqNum(1);
        ids.push(tracker.push(&seg).id);
        std::mem::swap(&mut seg.src, &mut seg.dst);
        seg.flags = rst_ack();
        seg.ack = synack::model::seq::SeqNum(2);
        assert!(tracker.push(&seg).ended);
    }
    assert_eq!(tracker.len(), 2);
    assert!(tracker.get(ids[0]).is_none() && tracker.get(ids[1]).is_none());
    assert!(tracker.get(ids[3]).is_some());
}

#[test]
fn open_connections_are_capped() {
    // SYNs that are never answered: the oldest open connection is given up.
    let mut tracker = synack::model::tracker::Tracker::new(Some(8001), synack::model::tracker::Limits::both(3));
    let mut expired = Vec::new();
    for port in 0..6u16 {
        let mut seg = template();
        seg.src = addr(&format!("127.0.0.1:{}", 42000 + port));
        seg.flags = SYN;
        let push = tracker.push(&seg);
        expired.extend(push.expired);
        assert!(tracker.open_connections().count() <= 3);
    }
    assert_eq!(expired, [1, 2, 3]);
    assert_eq!(tracker.get(3).unwrap().close_kind(), CloseKind::Open);
    assert!(tracker.get(3).unwrap().ended);
}

#[test]
fn a_long_connection_keeps_its_first_and_last_segments() {
    use synack::model::tracker::{Keep, Limits, Tracker};
    let mut t = Talk::new();
    t.tracker = Tracker::new(Some(8001), Limits { keep: Keep::segments(16), ..Limits::both(10) });
    t.c(SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(ACK, 1, 1, b"");
    // 1,000 data segments, then a four-way close.
    for i in 0..1_000u32 {
        t.c(psh_ack(), 1 + i * 4, 1, b"data");
    }
    let end = 1 + 4_000;
    t.c(fin_ack(), end, 1, b"");
    t.s(ACK, 1, end + 1, b"");
    t.s(fin_ack(), 1, end + 1, b"");
    t.c(ACK, end + 1, 2, b"");
    let c = t.conn();
    assert_eq!(c.seen, 1_007);
    assert!(c.records.len() <= 16, "{}", c.records.len());
    assert_eq!(c.seen, c.records.len() as u64 + c.elided, "every segment kept or counted");
    // The handshake and the whole close are there, and classified as if nothing was dropped.
    assert_eq!(c.records[0].flags, SYN);
    assert_eq!(c.close_kind(), CloseKind::FourWay);
    assert_eq!(c.close_segments(), 4);
    assert_eq!(c.client.payload_bytes, 4_000);
    assert_eq!(t.states(), ("TIME-WAIT", "CLOSED"));
    let text = synack::ladder::layout(c, None, 0).to_text();
    assert!(text.contains(&format!("⋯ {} segments not kept before this one ⋯", c.elided)), "{text}");
    let json: serde_json::Value = serde_json::from_str(&synack::export::jsonl::to_json(c)).unwrap();
    assert_eq!(json["elided"]["segments"], c.elided);
    assert_eq!(json["segments"].as_array().unwrap().len(), c.records.len());
}

#[test]
fn many_long_open_connections_share_a_bounded_budget() {
    use synack::model::tracker::{Keep, Limits, Tracker};
    let limits = Limits { keep: Keep::segments(1024), records: 2_000, ..Limits::both(10_000) };
    let mut tracker = Tracker::new(Some(8001), limits);
    // 500 connections open at once, 200 data segments each, interleaved.
    let seg = |port: u16, flags, seq: u32, len: u32| {
        let mut s = template();
        s.src = addr(&format!("127.0.0.1:{port}"));
        s.flags = flags;
        s.seq = synack::model::seq::SeqNum(seq);
        s.payload_len = len;
        s
    };
    for p in 0..500u16 {
        tracker.push(&seg(20_000 + p, SYN, 0, 0));
    }
    for i in 0..200u32 {
        for p in 0..500u16 {
            tracker.push(&seg(20_000 + p, psh_ack(), 1 + i * 10, 10));
        }
    }
    let kept: usize = tracker.connections().map(|c| c.records.len()).sum();
    let seen: u64 = tracker.connections().map(|c| c.seen).sum();
    assert_eq!(seen, 500 * 201, "every segment counted");
    assert!(kept <= 2 * 2_000 + 500 * 8, "{kept} segments kept");
    assert!(tracker.connections().all(|c| c.records[0].flags == SYN), "each keeps its start");
}

#[test]
fn a_tuple_is_one_connection_however_its_addresses_are_written() {
    use synack::model::tracker::{Limits, Tracker};
    let mut tracker = Tracker::new(Some(8001), Limits::both(10_000));
    let mut seg = template();
    seg.src = addr("127.0.0.1:41000");
    seg.dst = addr("127.0.0.1:8001");
    seg.flags = SYN;
    let syn = tracker.push(&seg);
    assert!(syn.started);
    // The answer, its addresses written as IPv4-mapped IPv6.
    seg.src = addr("[::ffff:127.0.0.1]:8001");
    seg.dst = addr("[::ffff:127.0.0.1]:41000");
    seg.flags = syn_ack();
    let answer = tracker.push(&seg);
    assert_eq!((answer.id, answer.started), (syn.id, false));
}

#[test]
fn every_tuple_is_found_again_as_the_table_grows_and_shrinks() {
    use synack::model::tracker::{Limits, Tracker};
    let mut tracker = Tracker::new(Some(8001), Limits::both(3_000));
    let client = |port: u16| addr(&format!("127.0.0.{}:{}", 1 + port % 7, 20_000 + port));
    let mut ids = Vec::new();
    for port in 0..3_000u16 {
        let mut seg = template();
        seg.src = client(port);
        seg.flags = SYN;
        ids.push(tracker.push(&seg).id);
    }
    // Each answer finds its connection; every other one is reset, and its
    // tuple then starts a new connection.
    for port in 0..3_000u16 {
        let mut seg = template();
        seg.src = addr(SERVER);
        seg.dst = client(port);
        seg.flags = if port % 2 == 0 { rst_ack() } else { syn_ack() };
        seg.ack = synack::model::seq::SeqNum(1);
        let push = tracker.push(&seg);
        assert_eq!((push.id, push.started), (ids[usize::from(port)], false), "port {port}");
    }
    for port in 0..3_000u16 {
        let mut seg = template();
        seg.src = client(port);
        seg.flags = SYN;
        seg.seq = synack::model::seq::SeqNum(7);
        let push = tracker.push(&seg);
        // Reset ones start anew; the others' new SYN (another ISN) too.
        assert!(push.started, "port {port}");
        assert_ne!(push.id, ids[usize::from(port)]);
        let mut ack = template();
        ack.src = addr(SERVER);
        ack.dst = client(port);
        ack.flags = syn_ack();
        ack.ack = synack::model::seq::SeqNum(8);
        assert_eq!(tracker.push(&ack).id, push.id, "port {port}");
    }
}

/// The server's reply is lost and its FIN comes past the hole: the client's
/// duplicate ACK (ack below the FIN) shows it had not processed the FIN
/// (RFC 9293 §3.10.7.4: a FIN is processed only in sequence).
fn fin_past_a_hole() -> Talk {
    let mut t = established();
    t.s(psh_ack(), 11, 11, b"more"); // lost before the client
    t.s(fin_ack(), 15, 11, b"");
    t
}

#[test]
fn established_fin_past_a_hole_waits_for_the_hole() {
    let mut t = fin_past_a_hole();
    assert_eq!(t.states(), ("CLOSE-WAIT", "FIN-WAIT-1"), "taken tentatively as it comes");
    t.c(ACK, 11, 11, b""); // the duplicate ACK: it still expects byte 11
    let fin = t.conn().records.len() - 2;
    assert_eq!(t.states(), ("ESTABLISHED", "FIN-WAIT-1"));
    assert_eq!(t.conn().records[fin].client_state.name(), "ESTABLISHED", "the FIN's row is revised");
    t.s(psh_ack(), 11, 11, b"more"); // sent again: it fills the hole
    assert!(t.conn().records.last().unwrap().retransmission);
    assert_eq!(t.states(), ("ESTABLISHED", "FIN-WAIT-1"));
    t.c(ACK, 11, 16, b""); // the FIN processed at last: acknowledged
    assert_eq!(t.states(), ("CLOSE-WAIT", "FIN-WAIT-2"));
    assert_eq!(t.conn().records.last().unwrap().teardown_steps, TeardownSteps::NONE.with(2));
    t.c(fin_ack(), 11, 16, b"");
    assert_eq!(t.states(), ("LAST-ACK", "TIME-WAIT"));
    t.s(ACK, 16, 12, b"");
    assert_eq!(t.states(), ("CLOSED", "TIME-WAIT"));
    let c = t.conn();
    assert_eq!(c.close_kind(), CloseKind::FourWay);
    let client: Vec<&str> = c.records.iter().map(|r| r.client_state.name()).collect();
    assert_eq!(client.iter().filter(|s| **s == "CLOSE-WAIT").count(), 1, "{client:?}");

    // Must not: an ACK up to the FIN (the bytes before it came, the FIN not yet)
    // shows no hole, and the FIN stays taken on its own row.
    let mut t = fin_past_a_hole();
    t.c(ACK, 11, 15, b"");
    let fin = t.conn().records.len() - 2;
    assert_eq!(t.conn().records[fin].client_state.name(), "CLOSE-WAIT");
    assert_eq!(t.states(), ("CLOSE-WAIT", "FIN-WAIT-1"));
}

#[test]
fn established_fin_past_a_hole_then_own_fin_is_closing_when_acked() {
    // The client closes before the hole is filled: its FIN leaves from
    // ESTABLISHED, and it reaches CLOSING when it acknowledges the server's FIN.
    let mut t = fin_past_a_hole();
    t.c(ACK, 11, 11, b"");
    t.c(fin_ack(), 11, 11, b"");
    assert_eq!(t.states(), ("FIN-WAIT-1", "CLOSING"));
    t.s(psh_ack(), 11, 11, b"more");
    t.c(ACK, 12, 16, b"");
    assert_eq!(t.states(), ("CLOSING", "TIME-WAIT"));
    t.s(ACK, 16, 12, b"");
    assert_eq!(t.states(), ("TIME-WAIT", "TIME-WAIT"));
    assert_eq!(t.conn().close_kind(), CloseKind::Simultaneous);
}

#[test]
fn lost_fixture_client_enters_close_wait_when_it_acks_the_fin() {
    // tests/fixtures/lost.pcap: the server's reply dropped once (nftables), its
    // FIN came past the hole; the client acknowledged it (ack=13) only after
    // the reply came again.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lost.pcap");
    let file = std::fs::File::open(path).unwrap();
    let mut src = synack::capture::pcap::PcapSource::new(file, "lost.pcap").unwrap();
    let lines = trace_jsonl(&mut src);
    let tcp = lines.iter().find(|l| l["proto"] == "tcp").unwrap();
    let rows: Vec<(String, u64, String)> = tcp["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["flags"].as_str().unwrap().to_owned(),
                s["ack"].as_u64().unwrap(),
                s["client_state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let fin = rows.iter().position(|r| r.0 == "FIN-ACK").unwrap();
    assert_eq!(rows[fin].2, "ESTABLISHED", "{rows:?}");
    assert_eq!((rows[fin + 1].1, rows[fin + 1].2.as_str()), (1, "ESTABLISHED"), "the duplicate ACK: {rows:?}");
    let first_cw = rows.iter().position(|r| r.2 == "CLOSE-WAIT").unwrap();
    assert_eq!((rows[first_cw].0.as_str(), rows[first_cw].1), ("ACK", 13), "{rows:?}");
    assert_eq!(tcp["segments"][first_cw]["step"], 2);
}

/// The close verdict and the rows of tests/fixtures/lost.pcap say why the
/// client's ACK of the FIN came when it came; without a hole they do not.
#[test]
fn a_fin_past_a_hole_is_said_and_only_then() {
    use synack::model::explain::{explain, verdict};
    let conn = |name: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
        let mut src = synack::capture::pcap::PcapSource::new(std::fs::File::open(path).unwrap(), name).unwrap();
        let mut p = synack::pipeline::Pipeline::new(None, synack::model::tracker::Limits::default());
        while let Ok(synack::capture::Next::Frame(f)) = synack::capture::FrameSource::next_frame(&mut src) {
            p.frame(&f);
        }
        p.tracker.connections().next().unwrap().clone()
    };
    let hole = "the FIN had come past a hole (the client's ACK at 3.086 ms still expected byte 1)";
    let c = conn("lost.pcap");
    let v = verdict(&c);
    assert!(v.contains(&format!("in a segment of its own, 1.499 ms later: {hole}")), "{v}");
    let ack = c.records.iter().position(|r| r.rel_ack == 13 && r.dir.sender() == Role::Client).unwrap();
    let e = explain(&c, ack);
    assert!(e.contains(&format!("The client enters CLOSE-WAIT only now: {hole}")), "{e}");
    // The reply's ACK also covers the FIN: not "ack = seq + len".
    let reply = c.records.iter().position(|r| r.dir.sender() == Role::Server && r.payload_len > 0).unwrap();
    let e = explain(&c, reply);
    assert!(e.contains("with ack=13 (row 10), past seq + len = 12: that ACK covers what followed them too"), "{e}");
    assert!(!e.contains("ack = seq + len"), "{e}");
    // No hole: none of it.
    for name in ["seed.pcap", "slow-close.pcap", "fin-data.pcap", "lost-last-ack.pcap"] {
        let c = conn(name);
        let all = (0..c.records.len()).map(|i| explain(&c, i)).chain([verdict(&c)]).collect::<Vec<_>>().join("\n");
        assert!(!all.contains("past a hole") && !all.contains("only now"), "{name}: {all}");
    }
    let c = conn("seed.pcap");
    assert!(explain(&c, 3).contains("ack = seq + len"));
}

/// tests/fixtures/lost-request.pcap: the client's request dropped once on
/// the server's way in (nftables), after the capture saw it. Only the data
/// sent again tells that the server answered nothing, and that does not tell
/// a full accept queue from a filter: no full queue is blamed.
#[test]
fn data_dropped_by_a_filter_is_not_blamed_on_the_accept_queue() {
    use synack::model::explain::{explain, verdict};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lost-request.pcap");
    let mut src = synack::capture::pcap::PcapSource::new(std::fs::File::open(path).unwrap(), "lost-request").unwrap();
    let mut p = synack::pipeline::Pipeline::new(None, synack::model::tracker::Limits::default());
    while let Ok(synack::capture::Next::Frame(f)) = synack::capture::FrameSource::next_frame(&mut src) {
        p.frame(&f);
    }
    let c = p.tracker.connections().next().unwrap();
    let v = verdict(c);
    assert!(!v.contains("accept queue was full") && !v.contains("stayed in SYN-RECEIVED"), "{v}");
    assert!(v.contains("The segments do not say whether the server had taken the client's ACK"), "{v}");
    assert!(v.contains("a filter on the server's way in (a firewall's input rule)"), "{v}");
    let all = (0..c.records.len()).map(|i| explain(c, i)).collect::<Vec<_>>().join("\n");
    assert!(!all.contains("accept queue was full") && !all.contains("stayed in SYN-RECEIVED"), "{all}");
    let bare_ack = c.records.iter().position(|r| r.flags.ack() && !r.flags.syn() && r.payload_len == 0).unwrap();
    let e = explain(c, bare_ack);
    assert!(e.contains("The server answered nothing: the client's data came again"), "{e}");
    assert!(e.contains("The segments do not tell which."), "{e}");
}
