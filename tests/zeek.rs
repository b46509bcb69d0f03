//! jsonl's `zeek` object holds to what Zeek's rules say of each fixture's
//! connections: every close synack tells apart maps to the conn_state Zeek
//! gives it, and the history's letters follow the segments' flags and
//! directions.

mod support;

use std::fs::File;

use serde_json::Value;
use synack::capture::pcap::PcapSource;

fn connections() -> Vec<Value> {
    let mut all = Vec::new();
    for path in support::committed_captures() {
        let mut src = PcapSource::new(File::open(&path).unwrap(), path.display().to_string()).unwrap();
        all.extend(support::trace_jsonl(&mut src));
    }
    all
}

#[test]
fn conn_state_follows_the_close() {
    let conns = connections();
    assert!(conns.len() > 40, "{}", conns.len());
    for c in &conns {
        let kind = c["close"]["kind"].as_str().unwrap();
        let initiator = c["close"]["initiator"].as_str();
        let first_from_client = c["segments"][0]["dir"] == "c2s";
        let state = c["zeek"]["conn_state"].as_str().unwrap();
        let want = match (kind, initiator) {
            ("three-way" | "four-way" | "simultaneous", _) => "SF",
            ("refused", _) => "REJ",
            ("reset", Some("client")) if first_from_client => "RSTO",
            ("reset", Some("server")) if first_from_client => "RSTR",
            _ => continue,
        };
        assert_eq!(state, want, "{kind} by {initiator:?}: {c}");
    }
}

#[test]
fn history_letters_follow_the_segments() {
    for c in connections() {
        let history = c["zeek"]["history"].as_str().unwrap();
        let segments = c["segments"].as_array().unwrap();
        let from_orig = |s: &Value| s["dir"] == segments[0]["dir"];
        let flags = |s: &Value| s["flags"].as_str().unwrap().to_string();
        // A letter per kind of segment seen, in its sender's case.
        for s in segments {
            let f = flags(s);
            let letter = match f.as_str() {
                "SYN" => 'S',
                "SYN-ACK" => 'H',
                _ if f.contains("RST") && !f.contains("FIN") && !f.contains("SYN") => 'R',
                _ if f.contains("FIN") && !f.contains("RST") && !f.contains("SYN") => 'F',
                _ if s["len"].as_u64().unwrap() > 0 => 'D',
                "ACK" => 'A',
                _ => continue,
            };
            let letter = if from_orig(s) { letter } else { letter.to_ascii_lowercase() };
            assert!(history.contains(letter), "{letter} for {f} missing from {history}: {}", c["client"]);
        }
        // No letter without a segment of its kind.
        for (letter, flag) in [('S', "SYN"), ('R', "RST"), ('F', "FIN")] {
            for (case, orig) in [(letter, true), (letter.to_ascii_lowercase(), false)] {
                if history.contains(case) {
                    assert!(
                        segments.iter().any(|s| from_orig(s) == orig && flags(s).contains(flag)),
                        "{case} in {history} with no {flag}: {}",
                        c["client"]
                    );
                }
            }
        }
        // Once per side: A, D.
        for l in ['A', 'D', 'a', 'd'] {
            assert!(history.matches(l).count() <= 1, "{history}");
        }
    }
}
