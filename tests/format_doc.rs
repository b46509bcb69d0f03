//! docs/format.md cannot drift from the output: its examples are what synack
//! prints for the fixtures they name, and every field any fixture's jsonl
//! carries is documented there, as is every close kind and state.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};

mod support;

use serde_json::Value;
use synack::capture::pcap::PcapSource;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn doc() -> String {
    std::fs::read_to_string(root().join("docs/format.md")).unwrap()
}

/// The jsonl lines of a capture, as `synack trace --format jsonl --read` prints them.
fn jsonl(path: &Path) -> Vec<Value> {
    support::trace_jsonl(&mut PcapSource::new(File::open(path).unwrap(), path.display().to_string()).unwrap())
}

#[test]
fn every_example_is_what_synack_prints() {
    let doc = doc();
    let mut checked = 0;
    for (i, _) in doc.match_indices("<!-- example: ") {
        let rest = &doc[i + "<!-- example: ".len()..];
        let fixture = &rest[..rest.find(" -->").unwrap()];
        let body = &rest[rest.find("```json\n").unwrap() + 8..];
        let example: Value = serde_json::from_str(&body[..body.find("```").unwrap()]).unwrap();
        let printed = jsonl(&root().join(fixture));
        assert_eq!(printed.first(), Some(&example), "the example of {fixture} no longer matches");
        checked += 1;
    }
    assert!(checked >= 1, "docs/format.md has no example");
}

fn keys(v: &Value, into: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                into.insert(k.clone());
                keys(v, into);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| keys(v, into)),
        _ => {}
    }
}

#[test]
fn every_field_kind_and_state_of_the_fixtures_is_documented() {
    let doc = doc();
    let mut fields = BTreeSet::new();
    let mut words = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("tests/fixtures")).unwrap() {
        let path = entry.unwrap().path();
        if !path.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
            continue;
        }
        for conn in jsonl(&path) {
            keys(&conn, &mut fields);
            words.insert(conn["close"]["kind"].as_str().unwrap().to_string());
            for seg in conn["segments"].as_array().unwrap() {
                for k in ["phase", "client_state", "server_state", "dir"] {
                    words.insert(seg[k].as_str().unwrap().to_string());
                }
            }
        }
    }
    assert!(fields.len() > 20 && words.contains("simultaneous") && words.contains("TIME-WAIT"));
    for f in fields.iter().chain(&words) {
        assert!(doc.contains(&format!("`{f}`")), "docs/format.md does not document `{f}`");
    }
}
