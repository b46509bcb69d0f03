//! docs/tcp-close.md, its Chinese page docs/tcp-close.zh.md and the README's
//! picture are generated from real captures by docs/generate.sh: they must
//! match what synack prints now (the Chinese page names the command of each
//! ladder, run here again). And every number in the pages' prose comes from
//! the capture it describes: each one carries a `<!-- fact ... -->` saying
//! where from, checked here against that capture (or against the RFC or the
//! constant it names).

use std::fs::File;
use std::path::Path;
use std::process::Command;

use synack::capture::pcap::PcapSource;
use synack::capture::{FrameSource, Next};
use synack::model::explain::ms_words;
use synack::model::tracker::{Connection, Limits};
use synack::pipeline::Pipeline;

#[test]
fn generated_docs_are_up_to_date() {
    let out = Command::new("bash")
        .arg("docs/generate.sh")
        .arg("--check")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SYNACK", env!("CARGO_BIN_EXE_synack"))
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "docs drifted from the tool; run docs/generate.sh\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The connections of a fixture (`NAME` for tests/fixtures/NAME.pcap).
fn connections(name: &str) -> Vec<Connection> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("{name}.pcap"));
    let mut src = PcapSource::new(File::open(&path).unwrap(), name).unwrap();
    let mut p = Pipeline::new(None, Limits::default());
    while let Ok(Next::Frame(f)) = src.next_frame() {
        p.frame(&f);
    }
    p.tracker.connections().cloned().collect()
}

/// Number words the prose may use for a count.
const WORDS: [&str; 12] =
    ["zero", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];

fn word_value(w: &str) -> Option<u64> {
    let w = w.to_ascii_lowercase();
    WORDS.iter().position(|&x| x == w).map(|i| if i == 0 { 0 } else { i as u64 + 1 })
}

/// What a fact says the number is, as the prose writes it.
fn fact(spec: &str) -> Result<Option<String>, String> {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let Some((&source, args)) = words.split_first() else { return Err("empty fact".into()) };
    match source {
        // From the RFC or another document: checked to name the number it gives.
        "rfc" => return Ok(None),
        "const" => {
            return match args {
                ["delack-min"] => Ok(Some(format!("{:.0}", synack::model::explain::DELACK_MIN_MS))),
                ["time-wait"] => Ok(Some(synack::model::tcp::TIME_WAIT.as_secs().to_string())),
                ["slow-close-delay"] => Ok(Some(synack::scenario::SLOW_CLOSE_DELAY_MS.to_string())),
                _ => Err(format!("unknown constant {args:?}")),
            };
        }
        _ => {}
    }
    // FIXTURE or FIXTURE#ID.
    let (name, id) = match source.split_once('#') {
        Some((n, id)) => (n, Some(id.parse::<u64>().map_err(|e| e.to_string())?)),
        None => (source, None),
    };
    let all = connections(name);
    if args == ["connections"] {
        return Ok(Some(all.len().to_string()));
    }
    let c = match id {
        Some(id) => all.iter().find(|c| c.id == id).ok_or(format!("{name} has no #{id}"))?,
        None => all.first().ok_or(format!("{name} has no connection"))?,
    };
    let row = |k: usize| -> Result<&synack::model::tracker::Record, String> {
        let i: usize = args.get(k).ok_or("a row")?.parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
        c.records.get(i - 1).ok_or(format!("{name} has no row {i}"))
    };
    Ok(Some(match args.first().copied() {
        Some("ms") => ms_words(row(2)?.ts.millis_since(row(1)?.ts)).trim_end_matches(" ms").to_string(),
        Some("ack") => row(1)?.rel_ack.to_string(),
        Some("seq") => row(1)?.rel_seq.to_string(),
        Some("len") => row(1)?.payload_len.to_string(),
        Some("handshake-segments") => c.handshake.segments.to_string(),
        Some("close-segments") => c.close_segments().to_string(),
        Some("data-segments-after-fin") => {
            let first = c.close.first_fin.ok_or("no FIN")?;
            let fin = c.records.iter().position(|r| r.flags.fin()).unwrap();
            let n = c.records[fin..].iter().filter(|r| r.dir.sender() == first.peer() && r.payload_len > 0).count();
            n.to_string()
        }
        Some("tw-ended-after") => {
            let t = c.time_wait_taken.ok_or("no TIME-WAIT taken over")?;
            ms_words(t.syn.millis_since(t.since)).trim_end_matches(" ms").to_string()
        }
        other => return Err(format!("unknown fact {other:?}")),
    }))
}

/// Every number of the page's prose (outside ladders, code blocks and
/// inline code), with the fact after it: a number may go without one only
/// where it names something (RFC 9293, §3.6.1, figure 7, step 2, steps 2
/// and 3; in Chinese 图 7, 第 2 步) or numbers a list.
#[test]
fn every_number_in_the_prose_is_checked_against_its_capture() {
    let checked = check_numbers("docs/tcp-close.in.md");
    assert!(checked >= 20, "{checked} numbers checked");
}

/// The same for the Chinese page: its numbers come from the same captures.
#[test]
fn every_number_in_the_chinese_prose_is_checked_against_its_capture() {
    let checked = check_numbers("docs/tcp-close.zh.in.md");
    assert!(checked >= 20, "{checked} numbers checked");
}

/// Each ladder of the Chinese page follows a comment naming the command that
/// printed it (`<!-- synack trace --read tests/fixtures/seed.pcap ... -->`):
/// run again, it prints the same ladder.
#[test]
fn the_chinese_pages_ladders_are_what_their_commands_print() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("docs/tcp-close.zh.md")).unwrap();
    let lines: Vec<&str> = page.lines().collect();
    let mut ran = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(command) = line.strip_prefix("<!-- synack ").and_then(|r| r.strip_suffix(" -->")) else {
            continue;
        };
        let args: Vec<&str> = command.split_whitespace().collect();
        assert!(args.contains(&"--lang") && args.contains(&"zh"), "{line}");
        assert_eq!(lines.get(i + 1), Some(&"```text"), "a ladder follows {line}");
        let end = lines[i + 2..].iter().position(|l| *l == "```").expect("the ladder ends") + i + 2;
        let shown = lines[i + 2..end].join("\n");
        let out = Command::new(env!("CARGO_BIN_EXE_synack")).args(&args).current_dir(root).output().unwrap();
        assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
        let printed = String::from_utf8(out.stdout).unwrap();
        assert_eq!(shown, printed.trim_end_matches('\n'), "{line}: run docs/generate.sh");
        ran += 1;
    }
    assert!(ran >= 10, "{ran} ladders with their command");
}

/// The first `sh` block of a README: its commands, without their comments.
fn setup_commands(readme: &str) -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(readme)).unwrap();
    let block = text.split("```sh\n").nth(1).and_then(|b| b.split("```").next()).unwrap_or_default().to_owned();
    block.lines().map(|l| l.split('#').next().unwrap_or_default().trim().to_owned()).collect()
}

/// README.md links the Chinese README first thing, and both open with the
/// same two set-up commands; the Chinese README links the Chinese answer.
#[test]
fn the_chinese_readme_is_linked_and_starts_the_same_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.lines().next().is_some_and(|l| l.contains("(README.zh.md)")), "the first line links README.zh.md");
    let en = setup_commands("README.md");
    assert_eq!(en, ["cargo run --release", "cargo test"]);
    assert_eq!(setup_commands("README.zh.md"), en);
    let zh = std::fs::read_to_string(root.join("README.zh.md")).unwrap();
    assert!(zh.contains("(docs/tcp-close.zh.md)") && zh.contains("--lang zh") && zh.contains("SYNACK_LANG"));
    assert!(zh.contains("LANG=zh_CN.UTF-8"));
}

/// Checks every number of `page`'s prose against its fact; how many were checked.
fn check_numbers(page: &str) -> usize {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(page)).unwrap();
    let mut in_code = false;
    let mut checked = 0;
    let mut problems = Vec::new();
    for line in page.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code || line.starts_with("<!-- ladder") {
            continue;
        }
        // Tokens: runs of letters, digits and '-'/'_'/'.' between other characters.
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if line[i..].starts_with("<!--") {
                i += line[i..].find("-->").map_or(line.len() - i, |e| e + 3);
                continue;
            }
            // Inline code is not prose; a list's marker is not a number.
            if bytes[i] == b'`' {
                i += 1 + line[i + 1..].find('`').map_or(line.len() - i - 1, |e| e + 1);
                continue;
            }
            if line[..i].trim().is_empty() && line[i..].split_once(". ").is_some_and(|(n, _)| n.parse::<u32>().is_ok())
            {
                i += line[i..].find(". ").unwrap() + 2;
                continue;
            }
            if !(bytes[i].is_ascii_alphanumeric()) {
                i += line[i..].chars().next().map_or(1, char::len_utf8);
                continue;
            }
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'-' | b'_' | b'.')) {
                if bytes[i] == b'.' && !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    break;
                }
                i += 1;
            }
            let token = &line[start..i];
            let number = if token.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                Some(token.to_string())
            } else {
                word_value(token).map(|v| v.to_string())
            };
            let Some(number) = number else { continue };
            let before = line[..start].trim_end();
            let names = ["RFC", "§", "figure", "Note", "step", "Step", "steps", "and", "图", "第"];
            let annotation = line[i..].strip_prefix("<!-- fact ").and_then(|r| r.split_once(" -->")).map(|(f, _)| f);
            match annotation {
                None if names.iter().any(|n| before.ends_with(n)) => {}
                None => problems.push(format!("{number} has no fact: {line}")),
                Some(spec) => match fact(spec) {
                    Ok(Some(want)) if want == number => checked += 1,
                    Ok(Some(want)) => problems.push(format!("{number} but the capture says {want}: {line}")),
                    Ok(None) if spec.contains(&number) => checked += 1,
                    Ok(None) => problems.push(format!("{number} is not what the reference {spec:?} says: {line}")),
                    Err(e) => problems.push(format!("{e}: {line}")),
                },
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    checked
}
