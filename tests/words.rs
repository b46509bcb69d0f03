//! The fixed words synack prints about TCP and UDP outside the verdicts: the
//! demo's captions, the scenarios' help and `--help`. Each claim the review
//! found false or misleading is checked gone, and its true wording there;
//! numbers come from the constants they describe.

use std::process::Command;

use synack::scenario::{SLOW_CLOSE_DELAY_MS, Scenario};

fn caption(s: Scenario) -> &'static str {
    s.info().caption.unwrap_or_else(|| panic!("{s:?} has a caption"))
}

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_synack")).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Every help string in one text: the order they are listed in.
fn all_scenario_help() -> String {
    synack::scenario::SCENARIOS.iter().map(|i| i.help).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_backlog_caption_says_what_is_sent_again_and_which_queues_the_backlog_bounds() {
    let c = caption(Scenario::Backlog);
    // TCP never resends a bare ACK: what comes again is named.
    assert!(!c.contains("third ACKs are dropped and sent again"), "{c}");
    assert!(c.contains("TCP never resends a bare ACK"), "{c}");
    assert!(c.contains("the client's SYN, its data (which carries the ACK) or the server's SYN-ACK"), "{c}");
    // The tutorial is half right: the same backlog bounds the SYN queue on Linux.
    assert!(c.contains("half right"), "{c}");
    assert!(c.contains("the same 3 bounds it too"), "{c}");
    // Not "half-open", which RFC 9293 uses for something else.
    assert!(!c.contains("half-open"), "{c}");
    assert!(c.contains("embryonic"), "{c}");
}

#[test]
fn the_slow_close_caption_gives_the_live_scenarios_delay() {
    let c = caption(Scenario::SlowClose);
    let delay = format!("{SLOW_CLOSE_DELAY_MS} ms");
    assert!(c.contains(&format!("The server waits {delay} after the client's FIN")), "{c}");
    assert!(c.contains(&format!("about {delay} after the client's")), "{c}");
    // No other delay named.
    let others = ["100 ms", "300 ms", "500 ms"].into_iter().filter(|d| *d != delay);
    for d in others {
        assert!(!c.contains(d), "{d}: {c}");
    }
}

#[test]
fn the_scenarios_help_is_plain_and_true() {
    let all = all_scenario_help();
    // "seed" is synack's word, not the reader's.
    assert!(!all.contains("seed connection"), "{all}");
    assert!(Scenario::Seed.info().help.contains("the tutorial's client"));
    // ECONNREFUSED on recv() only on a connected UDP socket.
    let closed = Scenario::UdpClosed.info().help;
    assert!(closed.contains("connected recv: ECONNREFUSED"), "{closed}");
}

#[test]
fn help_names_the_three_way_close_and_linuxs_time_wait_rightly() {
    let top = help(&["--help"]);
    // Every FIN after the handshake carries an ACK: that is not what makes a close three-way.
    assert!(!top.contains("the FIN carried the ACK"), "{top}");
    assert!(top.contains("the second FIN also acknowledged the first"), "{top}");
    // Linux's TIME-WAIT is a fixed 60 s, not 2 x MSL (RFC 9293's MSL is 2 minutes).
    assert!(!top.contains("60 = 2 x MSL"), "{top}");
    assert!(top.contains("TCP_TIMEWAIT_LEN"), "{top}");
    assert!(top.contains(&format!("Linux: a fixed {}", synack::model::tcp::TIME_WAIT.as_secs())), "{top}");
    let client = help(&["client", "--help"]);
    assert!(!client.contains("seed connection"), "{client}");
}
