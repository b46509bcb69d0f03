//! The exports in Chinese (`--lang zh`), for every committed capture: the
//! text ladder keeps its lifelines where the English one has them (a
//! Chinese character takes two columns), wrapped lines stay within the
//! width the English wraps at, no row note is left in English, the
//! handshake is 三次握手 and the four-segment close 四次挥手; jsonl is the
//! same bytes in both languages.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use synack::i18n::width;

/// Every committed capture: `tests/fixtures/*.pcap*` and the encapsulations.
fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for dir in [root.clone(), root.join("encap")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_file() && (name.ends_with(".pcap") || name.ends_with(".pcapng")) {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() > 20, "{out:?}");
    out
}

fn trace(lang: &str, path: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["--lang", lang, "trace", "--udp", "--read"])
        .arg(path)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Display columns of each `│` in `line`.
fn lifelines(line: &str) -> Vec<usize> {
    line.char_indices().filter(|(_, c)| *c == '│').map(|(i, _)| width(&line[..i])).collect()
}

/// One connection's ladder: the header's server column and the lifeline
/// columns of each row (rows and socket calls: the lines with `│`).
#[derive(Debug, PartialEq)]
struct Ladder {
    server_label: usize,
    rows: Vec<Vec<usize>>,
}

/// The ladders of a text export: a header starts with `#`, its server
/// label with `server` (`服务器`).
fn ladders(text: &str, server: &str) -> Vec<Ladder> {
    let mut out: Vec<Ladder> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            let at = line.find(&format!("  {server} ")).unwrap_or_else(|| panic!("no {server} in {line:?}")) + 2;
            out.push(Ladder { server_label: width(&line[..at]), rows: Vec::new() });
        } else if line.contains('│') {
            out.last_mut().unwrap_or_else(|| panic!("a row before a header: {line:?}")).rows.push(lifelines(line));
        }
    }
    out
}

#[test]
fn chinese_ladders_keep_their_lifelines_where_the_english_ones_are() {
    for f in fixtures() {
        let (en, zh) = (trace("en", &f, &["--format", "text"]), trace("zh", &f, &["--format", "text"]));
        let (en, zh) = (ladders(&en, "server"), ladders(&zh, "服务器"));
        assert_eq!(en.len(), zh.len(), "{}", f.display());
        for (e, z) in en.iter().zip(&zh) {
            // The same geometry in both languages, and in each every row
            // has its two lifelines where the first row has them, the
            // server's under the header's server label.
            assert_eq!(e, z, "{}", f.display());
            let first = &z.rows[0];
            assert_eq!(first.len(), 2, "{}: {first:?}", f.display());
            assert_eq!(first[1], z.server_label, "{}", f.display());
            assert!(z.rows.iter().all(|r| r == first), "{}: {z:?}", f.display());
        }
    }
}

/// Whether `line` is a ladder's (a row, a call, or a line between rows:
/// kernel changes, ICMP errors) or a UDP flow's arrow, which the English
/// does not wrap either.
fn ladder_line(line: &str) -> bool {
    line.starts_with('#')
        || line.contains('│')
        || line.trim_start().starts_with(['⚙', '✗', '⚠'])
        || line.contains("ms  |")
        || line.starts_with("UDP")
}

#[test]
fn chinese_lines_stay_within_the_english_wrap() {
    for f in fixtures() {
        let zh = trace("zh", &f, &["--format", "text"]);
        // A UDP flow's sentences are one line each in English too.
        let mut udp = false;
        for line in zh.lines() {
            udp = (udp || line.starts_with("UDP")) && !line.is_empty();
            if udp || ladder_line(line) {
                continue;
            }
            // The verdict is wrapped at 96 columns, indented by 2; the kernel's summary is one line.
            if line.starts_with("  内核：") {
                continue;
            }
            assert!(width(line) <= 98, "{}: {} columns: {line}", f.display(), width(line));
        }
    }
}

/// The English words a row note may keep: what Chinese texts print as is.
fn english_words_left(note: &str) -> Vec<String> {
    // Payload previews, program names with their pid, socket calls,
    // addresses and times go first.
    let mut s = String::new();
    let mut quoted = false;
    for c in note.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted {
            s.push(c);
        }
    }
    let allowed = ["ms", "pid", "mtu", "mini", "socket"];
    s.split(|c: char| !(c.is_ascii_alphanumeric() || "-_[]()./:".contains(c)))
        .filter(|w| !w.contains('[') && !w.contains("()"))
        .flat_map(|w| w.split(|c: char| !c.is_ascii_alphabetic()))
        .filter(|w| w.len() >= 3 && w.chars().all(|c| c.is_ascii_lowercase()) && !allowed.contains(w))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_allow_list_lets_through_only_what_chinese_prints_as_is() {
    assert!(english_words_left("四次挥手 2+3/4 ✕ FIN 交叉").is_empty());
    assert!(english_words_left("record-calls[17792] recv() = 11 ◆ │  0.292 ms 时").is_empty());
    assert_eq!(english_words_left("teardown 2+3/4"), ["teardown"]);
    assert_eq!(english_words_left("handshake 1/3 (dropped)"), ["handshake", "dropped"]);
}

/// What a row says besides its arrow: after the server's lifeline (its
/// state and note, a call's time), or the whole of a line between rows.
fn notes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            // The header, addresses and encapsulations (protocol names) aside.
            let head = line.split("封装于").next().unwrap();
            out.push(head.to_owned());
        } else if let Some((_, after)) = line.rsplit_once('│') {
            out.push(after.to_owned());
        } else if line.trim_start().starts_with(['⚙', '✗', '⚠']) || line.starts_with("  内核：") {
            out.push(line.to_owned());
        }
    }
    out
}

#[test]
fn no_row_note_is_left_in_english() {
    let mut seen = 0;
    for f in fixtures() {
        for args in [&["--format", "text"][..], &["--format", "text", "--diagram"][..]] {
            let zh = trace("zh", &f, args);
            for note in notes(&zh) {
                let left = english_words_left(&note);
                assert!(left.is_empty(), "{}: {left:?} in {note:?}", f.display());
                seen += usize::from(!note.trim().is_empty());
            }
        }
    }
    assert!(seen > 500, "{seen} notes");
    // And it would catch one: the English notes fail it.
    let en =
        trace("en", &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed.pcap"), &["--format", "text"]);
    assert!(notes(&en).iter().any(|n| english_words_left(n).contains(&"handshake".to_owned())));
}

#[test]
fn jsonl_is_the_same_bytes_in_both_languages() {
    for f in fixtures() {
        let (en, zh) = (trace("en", &f, &["--format", "jsonl"]), trace("zh", &f, &["--format", "jsonl"]));
        assert!(!en.is_empty(), "{}", f.display());
        assert!(en == zh, "{}: jsonl differs in Chinese", f.display());
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The rows of a text ladder whose note has `note`.
fn rows_with(text: &str, note: &str) -> usize {
    text.lines().filter(|l| l.contains('│') && l.rsplit('│').next().unwrap().contains(note)).count()
}

#[test]
fn the_handshake_is_three_way_and_the_four_segment_close_four_way() {
    // A four-way close (slow-close.pcap: FIN, ACK, FIN, ACK).
    let f = fixture("slow-close.pcap");
    let (en, zh) = (trace("en", &f, &["--format", "text"]), trace("zh", &f, &["--format", "text"]));
    assert_eq!(rows_with(&en, "handshake "), 3, "{en}");
    for step in
        ["三次握手 1/3", "三次握手 2/3", "三次握手 3/3", "四次挥手 1/4", "四次挥手 2/4", "四次挥手 3/4", "四次挥手 4/4"]
    {
        assert_eq!(rows_with(&zh, step), 1, "{step}: {zh}");
    }
    assert!(!zh.contains("handshake") && !zh.contains("teardown"), "{zh}");
    // A three-way close counts the steps of the four-way one it merged.
    let zh = trace("zh", &fixture("seed.pcap"), &["--format", "text"]);
    assert_eq!(rows_with(&zh, "四次挥手 2+3/4"), 1, "{zh}");
    // A simultaneous close is not a four-way wave.
    let zh = trace("zh", &fixture("ipv6.pcap"), &["--format", "text"]);
    assert!(rows_with(&zh, "同时关闭 1/4") == 1 && rows_with(&zh, "四次挥手") == 0, "{zh}");
    // A refusal: its two segments.
    let zh = trace("zh", &fixture("refused.pcap"), &["--format", "text"]);
    assert!(rows_with(&zh, "连接被拒绝 1/2") == 1 && rows_with(&zh, "连接被拒绝 2/2") == 1, "{zh}");
    assert_eq!(rows_with(&zh, "三次握手"), 0, "{zh}");
}

#[test]
fn mermaid_and_svg_speak_chinese_around_their_arrows() {
    let f = fixture("slow-close.pcap");
    let m = trace("zh", &f, &["--format", "mermaid"]);
    assert!(m.contains("participant C as 客户端 ") && m.contains("participant S as 服务器 "), "{m}");
    assert!(m.contains("（关闭方式：四次挥手）") && m.contains("[三次握手 1/3]"), "{m}");
    assert!(!m.contains("(close:") && !m.contains("[handshake"), "{m}");
    let s = trace("zh", &f, &["--format", "svg", "--diagram"]);
    assert!(
        s.contains(">客户端</text>") && s.contains("关闭方式：四次挥手") && s.contains(">三次握手 1/3</text>"),
        "{s}"
    );
    assert!(s.contains("RFC 9293 状态图") && s.contains("Linux 固定为 60 秒"), "{s}");
    assert!(!s.contains("handshake 1/3") && !s.contains("state diagram:"), "{s}");
    // The English says the same in English.
    let m = trace("en", &f, &["--format", "mermaid"]);
    assert!(m.contains("participant C as client ") && m.contains("(close: four-way)") && m.contains("[handshake 1/3]"));
}

#[test]
fn a_udp_flow_in_chinese() {
    let f = fixture("closed-port.pcap");
    let zh = trace("zh", &f, &["--format", "text"]);
    assert!(zh.contains("UDP 流 1") && zh.contains("ICMP 端口不可达（来自 "), "{zh}");
    assert!(zh.contains("UDP 是无连接的：通信前不用建立连接，结束后也不用释放"), "{zh}");
    assert!(!zh.contains("线路上"), "{zh}");
    // The arrows keep their width: each ends at the same column.
    let ends: Vec<usize> = zh.lines().filter(|l| l.contains("ms  |")).map(width).collect();
    assert!(ends.len() >= 2 && ends.iter().all(|&w| w == ends[0]), "{zh}");
}

/// A Chinese verdict as the explanations write it: no spaces between
/// Chinese words, a space around Latin words and numbers.
const CHINESE: &str = "结论：四次挥手。服务器先关闭。客户端在收到服务器的 FIN 之后 0.081 ms 才发出自己的 FIN，\
    而且这个 FIN 同时确认了服务器的 FIN：四次挥手的第 2 步和第 3 步合并在同一个报文段里。客户端的应用程序在延迟确认的时间窗口内就调用了 close()，\
    所以它的 TCP 没有单独发送 ACK（Linux 至少等待 40 ms，看有没有数据或 FIN 可以捎带这个确认），FIN-WAIT-1 → TIME-WAIT，等待 2MSL，Linux 固定为 60 秒。";

#[test]
fn chinese_wraps_between_characters_within_the_width() {
    use synack::export::text::{push_wrapped, push_wrapped_plain, wrap_lines};
    for w in [20, 40, 61, 80, 96, 110] {
        let lines = wrap_lines(CHINESE, w);
        assert!(lines.len() > 1, "{w}");
        for l in &lines {
            // Within the width in columns (a Chinese character is two), never
            // a line that begins with closing punctuation nor ends with opening.
            assert!(width(l) <= w, "{w}: {} columns: {l}", width(l));
            assert!(!l.starts_with(['，', '。', '：', '；', '）', '、']), "{w}: {l}");
            assert!(!l.ends_with(['（', '“']), "{w}: {l}");
        }
        // Nothing lost, nothing split: the lines joined are the text (a
        // break at a space drops that space only).
        let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        assert_eq!(strip(&lines.concat()), strip(CHINESE), "{w}");
        // Latin runs stay whole.
        for word in ["FIN-WAIT-1", "0.081", "close()", "2MSL"] {
            assert!(lines.iter().any(|l| l.contains(word)), "{w}: {word} split: {lines:?}");
        }
        let mut fast = String::new();
        push_wrapped(&mut fast, CHINESE, w, "  ");
        assert_eq!(fast, push_wrapped_plain(CHINESE, w, "  "), "{w}");
    }
    // A line is filled: at 96 columns the first line holds more than 40 characters.
    assert!(wrap_lines(CHINESE, 96)[0].chars().count() > 40);
}

#[test]
fn chinese_mermaid_parses_with_mermaid_itself() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let installed = root.join("tests/mermaid/node_modules/mermaid").is_dir();
    if !support::have(
        "node with tests/mermaid/node_modules",
        installed && Command::new("node").arg("--version").output().is_ok(),
    ) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("synack-zh-mermaid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut outputs = Vec::new();
    for (i, f) in fixtures().iter().enumerate() {
        let out = dir.join(format!("{i}.mmd"));
        std::fs::write(&out, trace("zh", f, &["--format", "mermaid"])).unwrap();
        outputs.push(out);
    }
    let o = Command::new("node").arg(root.join("tests/mermaid/parse.mjs")).args(&outputs).output().unwrap();
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{said}{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(said.lines().filter(|l| l.starts_with("ok ")).count(), outputs.len(), "{said}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn chinese_svg_is_well_formed_and_renders() {
    let rsvg =
        support::have("rsvg-convert (librsvg2-bin)", Command::new("rsvg-convert").arg("--version").output().is_ok());
    for f in fixtures() {
        for args in [&["--format", "svg"][..], &["--format", "svg", "--diagram"]] {
            let svg = trace("zh", &f, args);
            let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert!(doc.descendants().any(|n| n.text().is_some_and(|t| t.contains("客户端"))), "{}", f.display());
            if rsvg {
                let o = Command::new("rsvg-convert")
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .and_then(|mut c| {
                        use std::io::Write;
                        c.stdin.take().unwrap().write_all(svg.as_bytes())?;
                        c.wait_with_output()
                    })
                    .unwrap();
                assert!(o.status.success() && o.stdout.starts_with(b"\x89PNG"), "{}", f.display());
            }
        }
    }
}

/// A row's note (after the server's lifeline and its state), or a call's time.
fn note_of(line: &str) -> String {
    let after = line.rsplit_once('│').map_or("", |(_, a)| a).trim_start();
    let first = after.split(' ').next().unwrap_or("");
    let state = !first.is_empty()
        && first.chars().all(|c| c.is_ascii_uppercase() || c == '-' || c == '→' || c.is_ascii_digit());
    (if state { &after[first.len()..] } else { after }).trim().to_owned()
}

/// What the Chinese export must say where the English says `note`, in a
/// connection whose FINs crossed or not.
fn in_chinese(note: &str, crossed: bool) -> String {
    let mut s = note.to_owned();
    if let Some(rest) = s.strip_prefix("⋯ ") {
        let (n, rest) = rest.split_once(" segments not kept before this one ⋯").unwrap();
        s = format!("⋯ 此前有 {n} 个报文段未保留 ⋯{rest}");
    }
    let teardown = if crossed {
        "同时关闭 "
    } else if note.contains("/3") && note.contains("teardown") {
        "三次挥手 "
    } else {
        "四次挥手 "
    };
    for (en, zh) in [
        ("retransmission, handshake 3/3", "重传，三次握手 3/3"),
        ("handshake ", "三次握手 "),
        ("refused ", "连接被拒绝 "),
        ("teardown (begun before the capture)", "挥手（抓包之前已经开始）"),
        ("teardown ", teardown),
        ("ACK again, from TIME-WAIT", "处于 TIME-WAIT 的一方再次发送 ACK"),
        ("after the close", "连接关闭之后"),
        (" (lost or dropped)", "（丢失或被丢弃）"),
        (" (dropped)", "（被丢弃）"),
        ("lost or dropped", "丢失或被丢弃"),
        ("dropped", "被丢弃"),
        ("retransmission", "重传"),
        ("reset", "复位"),
        ("✕ FINs cross", "✕ FIN 交叉"),
        ("⚠ ICMP errors", "⚠ ICMP 差错报文"),
        ("⚠ ICMP error", "⚠ ICMP 差错报文"),
    ] {
        s = s.replace(en, zh);
    }
    // A call's time: "at 0.292 ms" is "0.292 ms 时".
    if let Some(ms) = s.strip_prefix("at ").and_then(|r| r.strip_suffix(" ms")) {
        s = format!("{ms} ms 时");
    }
    s
}

/// Row by row, the Chinese note says what the English one says: a note
/// where the English has one (each kind of note: its own words), none
/// where it has none.
#[test]
fn every_row_note_is_the_english_one_in_chinese() {
    let mut kinds = std::collections::BTreeSet::new();
    for f in fixtures() {
        let (en, zh) = (trace("en", &f, &["--format", "text"]), trace("zh", &f, &["--format", "text"]));
        let rows = |t: &str| -> Vec<(bool, String)> {
            // (a header, or a row's note)
            t.lines()
                .filter(|l| l.starts_with('#') || l.contains('│'))
                .map(|l| (l.starts_with('#'), note_of(l)))
                .collect()
        };
        let (en, zh) = (rows(&en), rows(&zh));
        assert_eq!(en.len(), zh.len(), "{}", f.display());
        let mut crossed = false;
        for (i, ((header, e), (_, z))) in en.iter().zip(&zh).enumerate() {
            if *header {
                // Whether this connection's FINs crossed: its notes say so.
                crossed = en[i + 1..].iter().take_while(|(h, _)| !h).any(|(_, n)| n.contains("FINs cross"));
                continue;
            }
            assert_eq!(*z, in_chinese(e, crossed), "{}: row note {e:?}", f.display());
            kinds.insert(e.split(|c: char| c.is_ascii_digit()).next().unwrap_or("").to_owned());
        }
    }
    // The fixtures hold every kind of note but the rare ones (segments
    // elided, teardown begun before the capture).
    for kind in [
        "handshake ",
        "teardown ",
        "refused ",
        "reset",
        "retransmission",
        "dropped",
        "ACK again, from TIME-WAIT",
        "⚠ ICMP error",
        "at ",
    ] {
        assert!(kinds.iter().any(|k| k.contains(kind)), "{kind}: {kinds:?}");
    }
}

/// In Chinese too, the text export's fast path writes exactly the laid-out
/// ladder, and a connection whose middle was not kept says how many
/// segments are missing, in each language, where they were.
#[test]
fn chinese_fast_path_and_elided_segments() {
    use synack::capture::{FrameSource, Next, pcap::PcapSource};
    use synack::i18n::{Lang, scope};
    use synack::model::tracker::{Keep, Limits};
    let mut elided = 0;
    for f in fixtures() {
        let bytes = std::fs::read(&f).unwrap();
        let mut src = PcapSource::new(&bytes[..], "fixture").unwrap();
        let mut p = synack::pipeline::Pipeline::new(None, Limits { keep: Keep::segments(8), ..Limits::default() });
        while let Ok(Next::Frame(frame)) = src.next_frame() {
            p.frame(&frame);
        }
        let mut scratch = synack::ladder::TextScratch::default();
        for conn in p.tracker.connections() {
            let [en, zh] = [Lang::En, Lang::Zh].map(|lang| {
                let _l = scope(lang);
                let mut fast = String::new();
                synack::ladder::write_text(conn, &mut scratch, &mut fast);
                assert_eq!(fast, synack::ladder::layout(conn, None, 0).to_text(), "{} #{}", f.display(), conn.id);
                fast
            });
            let n = conn.elided;
            let (said_en, said_zh) =
                (format!("⋯ {n} segments not kept before this one ⋯"), format!("⋯ 此前有 {n} 个报文段未保留 ⋯"));
            assert_eq!(en.contains(&said_en), n > 0, "{}: {en}", f.display());
            assert_eq!(zh.contains(&said_zh), n > 0, "{}: {zh}", f.display());
            // On the same row.
            let row = |t: &str, s: &str| t.lines().position(|l| l.contains(s));
            assert_eq!(row(&en, &said_en), row(&zh, &said_zh), "{}", f.display());
            elided += usize::from(n > 0);
        }
    }
    assert!(elided > 5, "{elided} connections elided");
}
