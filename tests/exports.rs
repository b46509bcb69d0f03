//! Mermaid and SVG exports: golden files for the four-way, three-way and
//! simultaneous captures, well-formed XML with one arrow per segment, and
//! hostile payloads escaped.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use synack::model::segment::Flags as F;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn trace(path: &Path, args: &[&str]) -> String {
    let out =
        Command::new(env!("CARGO_BIN_EXE_synack")).args(["trace", "--read"]).arg(path).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

macro_rules! golden {
    ($($name:ident: $file:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            let path = fixture($file);
            insta::assert_snapshot!(concat!(stringify!($name), "_mermaid"), trace(&path, &["--format", "mermaid"]));
            insta::assert_snapshot!(concat!(stringify!($name), "_svg"), trace(&path, &["--format", "svg"]));
        }
    )*};
}

golden! {
    four_way: "slow-close.pcap",
    three_way: "seed.pcap",
    simultaneous: "ipv6.pcap",
}

/// A capture whose payloads are hostile to both formats.
fn hostile_capture(payload: &[u8]) -> PathBuf {
    let c = "127.0.0.1:40000";
    let s = "127.0.0.1:8001";
    let frames = vec![
        support::frame(c, s, F::SYN, 100, 0, b""),
        support::frame(s, c, F::SYN | F::ACK, 900, 101, b""),
        support::frame(c, s, F::ACK, 101, 901, b""),
        support::frame(c, s, F::PSH | F::ACK, 101, 901, payload),
        support::frame(s, c, F::FIN | F::ACK, 901, 101 + u32::try_from(payload.len()).unwrap(), b""),
    ];
    let dir = support::tempdir(&format!("{:x}", payload.iter().map(|&b| u32::from(b)).sum::<u32>()));
    let path = dir.join("hostile.pcap");
    std::fs::write(&path, support::pcap(1, &frames)).unwrap();
    path
}

#[test]
fn svg_is_xml_with_one_arrow_per_segment_and_escaped_text() {
    let path = hostile_capture(b"<script>&\"");
    let svg = trace(&path, &["--format", "svg"]);
    assert!(!svg.contains("<script"), "payload must not become markup");
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    let arrows = doc
        .descendants()
        .filter(|n| n.has_tag_name("line") && n.attribute("class").is_some_and(|c| c.starts_with("arrow")))
        .count();
    assert_eq!(arrows, 5, "one arrow per segment");
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(texts.iter().any(|t| t.contains("<script>&")), "the payload reads back as text: {texts:?}");
    assert!(doc.descendants().all(|n| !n.has_tag_name("script")), "no script element");

    // Several connections stack in one document.
    let all = trace(&fixture("seed.pcap"), &["--format", "svg"]);
    let doc = roxmltree::Document::parse(&all).unwrap();
    assert_eq!(doc.descendants().filter(|n| n.attribute("class") == Some("connection")).count(), 1);
}

/// `--format svg --diagram`: figure 5 beside each ladder, every arrow an
/// endpoint took lit in its colour, the rest grey, the final states marked.
#[test]
fn svg_diagram_lights_each_endpoints_path() {
    let svg = trace(&fixture("slow-close.pcap"), &["--format", "svg", "--diagram"]);
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    let diagram = doc.descendants().find(|n| n.attribute("class") == Some("diagram")).expect("a diagram group");
    let spans = |class: &str| -> String {
        diagram.descendants().filter(|n| n.attribute("class") == Some(class)).filter_map(|n| n.text()).collect()
    };
    let (client, server, grey) = (spans("f-client"), spans("f-server"), spans("f-edge"));
    // The client went through FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT; the server
    // through CLOSE-WAIT and LAST-ACK: each label lit in its endpoint's colour.
    for label in ["active OPEN / create TCB, snd SYN", "rcv ACK of FIN / x", "rcv FIN / snd ACK"] {
        assert!(client.contains(label), "client: {client}");
    }
    for label in ["rcv SYN / snd SYN,ACK", "rcv ACK of SYN / x", "CLOSE / snd FIN"] {
        assert!(server.contains(label), "server: {server}");
    }
    // Arrows neither took stay grey: passive OPEN belongs to the listener,
    // not to this connection; nobody went through CLOSING.
    assert!(grey.contains("SEND / snd SYN") && grey.contains("Timeout=2MSL"), "grey: {grey}");
    assert!(!client.contains("SEND / snd SYN") && !server.contains("Timeout=2MSL"));
    // Final states: the client in TIME-WAIT, the server CLOSED.
    let text: String = diagram.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
    assert!(text.contains("[C TIME-WAIT") && text.contains("CLOSED S]"), "{text}");
}

#[test]
fn mermaid_labels_stay_one_valid_line() {
    let path = hostile_capture(b"say \"hi\"; #1\nnext;line");
    let mmd = trace(&path, &["--format", "mermaid"]);
    let messages: Vec<&str> =
        mmd.lines().filter(|l| l.contains("->>") || l.contains("-x") || l.contains("-->>")).collect();
    assert_eq!(messages.len(), 5, "{mmd}");
    let data = messages.iter().find(|l| l.contains("len=")).unwrap();
    // Every ';' and '#' left belongs to an entity code; no raw quote remains.
    let text = data.split_once(": ").unwrap().1;
    assert!(!text.contains('"'), "{text}");
    assert_eq!(text.matches(';').count(), text.matches('#').count(), "{text}");
    assert!(text.contains("#quot;") && text.contains("#59;") && text.contains("#35;"), "{text}");
    assert!(mmd.starts_with("sequenceDiagram\n"));
}

#[test]
fn output_file_and_one_connection() {
    let dir = support::tempdir("output");
    let out = dir.join("two.jsonl");
    let mut bytes = std::fs::read(fixture("seed.pcap")).unwrap();
    // Append the refused capture's records (same link type, no second header).
    bytes.extend_from_slice(&std::fs::read(fixture("refused.pcap")).unwrap()[24..]);
    let both = dir.join("both.pcap");
    std::fs::write(&both, bytes).unwrap();
    let stdout = trace(&both, &["--format", "jsonl", "--output", out.to_str().unwrap()]);
    assert!(stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);
    let one = trace(&both, &["--format", "jsonl", "--connection", "2"]);
    assert_eq!(one.lines().count(), 1);
    assert!(one.contains("\"id\":2") && one.contains("\"kind\":\"refused\""), "{one}");
}

#[test]
fn dashboard_export_writes_three_files_and_never_overwrites() {
    let dir = support::tempdir("e-key");
    let path = fixture("slow-close.pcap");
    let mut src = synack::capture::pcap::PcapSource::new(std::fs::File::open(&path).unwrap(), "x").unwrap();
    let mut p = synack::pipeline::Pipeline::new(None, synack::model::tracker::Limits::both(10));
    use synack::capture::FrameSource;
    while let Ok(synack::capture::Next::Frame(f)) = src.next_frame() {
        p.frame(&f);
    }
    let conn = p.tracker.connections().next().unwrap();
    let paths = synack::export::export_files(conn, &dir).unwrap();
    let names: Vec<_> = paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["synack-1.txt", "synack-1.mmd", "synack-1.svg"]);
    assert!(std::fs::read_to_string(&paths[0]).unwrap().contains("close: four-way"));
    assert!(std::fs::read_to_string(&paths[1]).unwrap().starts_with("sequenceDiagram"));
    roxmltree::Document::parse(&std::fs::read_to_string(&paths[2]).unwrap()).unwrap();
    // Again: nothing is overwritten, the next files get a suffix.
    let again = synack::export::export_files(conn, &dir).unwrap();
    assert_eq!(again[0].file_name().unwrap(), "synack-1-1.txt");
    assert!(std::fs::read_to_string(&paths[0]).unwrap().contains("close: four-way"));
    // A symlink planted under the next name is not followed: its target stays untouched.
    let target = dir.join("precious");
    std::fs::write(&target, "keep me").unwrap();
    std::os::unix::fs::symlink(&target, dir.join("synack-1-2.mmd")).unwrap();
    let third = synack::export::export_files(conn, &dir).unwrap();
    assert_eq!(third[1].file_name().unwrap(), "synack-1-3.mmd");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
}

/// Every fixture, one file each, plus all of them in one capture.
fn every_fixture_and_all_together(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    // (A pcapng file, with socket calls or the kernel view, is not appended:
    // its header differs.)
    let mut all = std::fs::read(&files[0]).unwrap();
    for f in &files[1..] {
        let bytes = std::fs::read(f).unwrap();
        // Same header (little-endian microsecond Ethernet) only: the records append.
        if bytes[..24] == all[..24] {
            all.extend_from_slice(&bytes[24..]);
        }
    }
    let together = dir.join("all.pcap");
    std::fs::write(&together, all).unwrap();
    files.push(together);
    files
}

#[test]
fn mermaid_output_parses_with_mermaid_itself() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mermaid/parse.mjs");
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mermaid/node_modules/mermaid").is_dir();
    if !support::have(
        "node with tests/mermaid/node_modules",
        installed && Command::new("node").arg("--version").output().is_ok(),
    ) {
        return;
    }
    let dir = support::tempdir("mermaid-parse");
    let mut outputs = Vec::new();
    for (i, capture) in every_fixture_and_all_together(&dir).iter().enumerate() {
        let out = dir.join(format!("{i}.mmd"));
        std::fs::write(&out, trace(capture, &["--format", "mermaid"])).unwrap();
        outputs.push(out);
    }
    let all = std::fs::read_to_string(outputs.last().unwrap()).unwrap();
    assert!(all.matches("```mermaid").count() > 5, "several connections: Markdown with a block each");
    let o = Command::new("node").arg(&script).args(&outputs).output().unwrap();
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{said}{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(said.lines().filter(|l| l.starts_with("ok ")).count(), outputs.len(), "{said}");
}

#[test]
fn svg_output_renders_with_rsvg() {
    if !support::have("rsvg-convert (librsvg2-bin)", Command::new("rsvg-convert").arg("--version").output().is_ok()) {
        return;
    }
    let dir = support::tempdir("svg-render");
    for (i, capture) in every_fixture_and_all_together(&dir).iter().enumerate() {
        let svg = dir.join(format!("{i}.svg"));
        let png = dir.join(format!("{i}.png"));
        for (k, args) in [&["--format", "svg"][..], &["--format", "svg", "--diagram"]].iter().enumerate() {
            std::fs::write(&svg, trace(capture, args)).unwrap();
            let o = Command::new("rsvg-convert").arg("-o").arg(&png).arg(&svg).output().unwrap();
            assert!(o.status.success(), "{}: {}", capture.display(), String::from_utf8_lossy(&o.stderr));
            let bytes = std::fs::read(&png).unwrap();
            assert_eq!(&bytes[1..4], b"PNG");
            // The PNG's height (IHDR) grows with the ladders drawn, its
            // width with the diagram beside them.
            let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
            let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
            assert!(height > 100, "{}: {height}", capture.display());
            assert_eq!(width > 1200, k == 1, "{}: {width}", capture.display());
        }
    }
}

/// The text export writes each ladder through a fast path that allocates no
/// row: on every committed capture, whole and with segments elided (8 kept),
/// it writes exactly the laid-out ladder the dashboard and the SVG draw.
#[test]
fn text_fast_path_writes_the_laid_out_ladder() {
    use synack::capture::{FrameSource, Next, pcap::PcapSource};
    use synack::model::tracker::{Keep, Limits};
    let files = support::committed_captures();
    let mut compared = (0, 0);
    for keep in [Keep::default(), Keep::segments(8)] {
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            let mut src = PcapSource::new(&bytes[..], "fixture").unwrap();
            let mut p = synack::pipeline::Pipeline::new(None, Limits { keep, ..Limits::default() });
            while let Ok(Next::Frame(frame)) = src.next_frame() {
                p.frame(&frame);
            }
            let mut scratch = synack::ladder::TextScratch::default();
            for conn in p.tracker.connections() {
                let mut fast = String::new();
                synack::ladder::write_text(conn, &mut scratch, &mut fast);
                assert_eq!(fast, synack::ladder::layout(conn, None, 0).to_text(), "{} #{}", f.display(), conn.id);
                compared.0 += 1;
                compared.1 += usize::from(conn.elided > 0);
            }
        }
    }
    assert!(compared.0 > 60 && compared.1 > 5, "{compared:?} connections compared, elided");
}
