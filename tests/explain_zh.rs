//! The verdicts in Chinese: built from the same facts as the English ones
//! (the same parts, rendered in each language's grammar), so no English is
//! left in them and no number is lost or invented in translation; the six
//! close kinds said in whole Chinese sentences; and `LANG=zh_CN.UTF-8`
//! choosing them on the command line.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use synack::capture::FrameSource;
use synack::capture::pcap::PcapSource;
use synack::i18n::{self, Lang};
use synack::model::explain::{explain_in, verdict, verdict_in, verdict_parts};
use synack::model::tracker::{Connection, Limits};
use synack::model::udp::Flow;
use synack::pipeline::Pipeline;

/// Every capture under tests/fixtures (the encapsulations' too).
fn fixtures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"), &mut out);
    out.sort();
    assert!(out.len() > 20, "the fixtures: {out:?}");
    out
}

/// A capture read as `trace --read F --udp` reads it: its frames, the
/// kernel changes and socket calls recorded with them, its UDP flows.
fn read(path: &Path) -> Pipeline {
    let name = path.display().to_string();
    let mut src = PcapSource::new(File::open(path).unwrap(), &name).unwrap();
    let mut p = Pipeline::new(None, Limits::default());
    p.watch_udp();
    let replay = |src: &mut PcapSource<File>, p: &mut Pipeline| {
        p.replay_calls(FrameSource::take_calls(src));
        for c in FrameSource::take_kernel(src) {
            p.tracker.watch_kernel();
            p.tracker.kernel(c);
        }
    };
    loop {
        replay(&mut src, &mut p);
        match FrameSource::next_frame(&mut src) {
            Ok(synack::capture::Next::Frame(f)) => {
                p.frame(&f);
            }
            _ => break,
        }
    }
    replay(&mut src, &mut p);
    p.tracker.kernel_flush(synack::model::segment::Timestamp(u64::MAX));
    p.udp.end_all();
    p
}

/// Every verdict of a capture in both languages, with the addresses they
/// may name: (what, English, Chinese, addresses).
fn verdicts(path: &Path) -> Vec<(String, String, String, Vec<String>)> {
    let p = read(path);
    let mut out = Vec::new();
    for c in p.tracker.connections() {
        let mut addrs = vec![c.client.addr.to_string(), c.server.addr.to_string()];
        addrs.extend([c.client.addr.ip().to_string(), c.server.addr.ip().to_string()]);
        addrs.extend(c.icmp.iter().map(|n| n.icmp.from.to_string()));
        let what = format!("{} {}", path.display(), c.client.addr);
        out.push((what, verdict_in(c, Lang::En), verdict_in(c, Lang::Zh), addrs));
    }
    let flows: Vec<&Flow> = p.udp.ended().iter().chain(p.udp.open()).collect();
    for f in flows {
        let mut addrs = vec![f.client.to_string(), f.server.to_string(), f.client.ip().to_string()];
        addrs.push(f.server.ip().to_string());
        addrs.extend(f.icmp.iter().map(|n| n.icmp.from.to_string()));
        let what = format!("{} UDP {}", path.display(), f.client);
        out.push((what, f.verdict_sentence(Lang::En), f.verdict_sentence(Lang::Zh), addrs));
    }
    out
}

/// Names that stay as they are in a Chinese sentence: socket calls, the
/// kernel's settings, the ladder's field names, tools. (State names,
/// flags and counters are upper case and not counted anyway.)
const KEPT: &[&str] = &[
    "close()",
    "recv()",
    "accept()",
    "connect()",
    "send()",
    "bind()",
    "shutdown(SHUT_WR)",
    "shutdown(SHUT_RDWR)",
    "shutdown()",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_tw_reuse_delay",
    "net.ipv4.tcp_tw_reuse",
    "tcp_abort_on_overflow",
    "seq",
    "ack",
    "len",
    "nstat",
    "synack",
    "traceroute",
];

/// The English words (three or more lower-case letters) left in `text`
/// once its addresses and [`KEPT`] names are taken out.
fn english_words(text: &str, addrs: &[String]) -> Vec<String> {
    let mut t = text.to_owned();
    let mut longest_first: Vec<&str> = addrs.iter().map(String::as_str).chain(KEPT.iter().copied()).collect();
    longest_first.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for k in longest_first {
        t = t.replace(k, " ");
    }
    t.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 3 && w.chars().all(|c| c.is_ascii_lowercase()))
        .map(str::to_owned)
        .collect()
}

/// The numbers in `text`, in order: runs of digits, with the dots between
/// digits (`0.040`, `3.10.5`, `127.0.0.1`).
fn numbers(text: &str) -> Vec<String> {
    // The digits of a state's name are not a number the sentence gives.
    let text = &text.replace("FIN-WAIT-1", "FIN-WAIT-").replace("FIN-WAIT-2", "FIN-WAIT-");
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || (b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))) {
            i += 1;
        }
        out.push(text[start..i].to_owned());
    }
    out
}

#[test]
fn the_helpers_find_what_they_look_for() {
    let addrs = vec!["127.0.0.1:8001".to_owned()];
    assert_eq!(english_words("客户端先关闭。The server closed", &addrs), ["server", "closed"]);
    assert!(english_words("客户端调用了 close()，在 net.ipv4.tcp_syncookies 为 0 时 seq=1", &addrs).is_empty());
    assert!(english_words("来自 127.0.0.1:8001 的 ESTABLISHED、ListenOverflows", &addrs).is_empty());
    assert_eq!(
        numbers("在 0.040 ms 后（RFC 9293 §3.10.5）；127.0.0.1:8001。"),
        ["0.040", "9293", "3.10.5", "127.0.0.1", "8001"]
    );
}

/// No Chinese verdict of any fixture leaves an English word in it, and
/// each gives the same numbers as the English one (the same facts: none
/// lost, none made up), in whatever order its grammar puts them.
#[test]
fn every_chinese_verdict_is_chinese_and_gives_the_english_ones_numbers() {
    let mut seen = 0;
    for path in fixtures() {
        for (what, en, zh, addrs) in verdicts(&path) {
            seen += 1;
            assert_ne!(en, zh, "{what}: not translated");
            let left = english_words(&zh, &addrs);
            assert!(left.is_empty(), "{what}: English words {left:?} in\n{zh}");
            // The English does have English words: the check can fail.
            assert!(!english_words(&en, &addrs).is_empty(), "{what}: {en}");
            let (mut a, mut b) = (numbers(&en), numbers(&zh));
            a.sort();
            b.sort();
            assert_eq!(a, b, "{what}: the numbers differ\n{en}\n{zh}");
        }
    }
    assert!(seen > 60, "{seen} verdicts");
}

/// The explanation of every segment of every fixture, in Chinese, leaves
/// no English word in it either.
#[test]
fn every_chinese_explanation_is_chinese() {
    let mut seen = 0;
    for path in fixtures() {
        let p = read(&path);
        for c in p.tracker.connections() {
            let mut addrs = vec![c.client.addr.to_string(), c.server.addr.to_string()];
            addrs.extend(c.icmp.iter().map(|n| n.icmp.from.to_string()));
            for i in 0..c.records.len() {
                let (en, zh) = (explain_in(c, i, Lang::En), explain_in(c, i, Lang::Zh));
                assert!(!english_words(&en, &addrs).is_empty(), "{en}");
                let left = english_words(&zh, &addrs);
                assert!(left.is_empty(), "{} row {}: English words {left:?} in\n{zh}", path.display(), i + 1);
                seen += 1;
            }
        }
    }
    assert!(seen > 500, "{seen} rows");
}

/// The verdict in the thread's language is the one `verdict_in` gives, and
/// both languages render the same parts.
#[test]
fn the_verdict_speaks_the_threads_language() {
    let p = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slow-close.pcap"));
    let c = p.tracker.connections().next().unwrap();
    {
        let _zh = i18n::scope(Lang::Zh);
        assert_eq!(verdict(c), verdict_in(c, Lang::Zh));
        assert!(verdict(c).starts_with("关闭方式：四次挥手。"), "{}", verdict(c));
        // The text export's verdict, through its cache, in both languages.
        let mut s = String::new();
        synack::model::explain::verdict_into(c, &mut s);
        assert_eq!(s, verdict_in(c, Lang::Zh));
    }
    let _en = i18n::scope(Lang::En);
    assert!(verdict(c).starts_with("close: four-way. "), "{}", verdict(c));
    let mut s = String::new();
    synack::model::explain::verdict_into(c, &mut s);
    assert_eq!(s, verdict_in(c, Lang::En));
    let parts = verdict_parts(c);
    assert_eq!(i18n::sentences(Lang::Zh, &parts), verdict_in(c, Lang::Zh));
    assert_eq!(i18n::sentences(Lang::En, &parts), verdict_in(c, Lang::En));
}

/// The text export's verdict (`verdict_into`, which renders a verdict
/// again only when its parts differ from the one before) is the plain
/// verdict, for every connection of every fixture, in both languages one
/// after the other.
#[test]
fn the_exports_verdict_is_the_plain_one() {
    for path in fixtures() {
        let p = read(&path);
        for c in p.tracker.connections() {
            for lang in [Lang::Zh, Lang::Zh, Lang::En, Lang::En, Lang::Zh] {
                let _in = i18n::scope(lang);
                let mut s = String::from("before: ");
                synack::model::explain::verdict_into(c, &mut s);
                assert_eq!(s, format!("before: {}", verdict_in(c, lang)), "{}", path.display());
            }
        }
    }
}

/// The one connection of a fixture, its verdict in Chinese.
fn zh(name: &str) -> String {
    let p = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name));
    let mut conns = p.tracker.connections();
    let c: &Connection = conns.next().unwrap();
    assert!(conns.next().is_none(), "{name}: one connection");
    verdict_in(c, Lang::Zh)
}

#[test]
fn a_four_way_close_in_chinese() {
    assert_eq!(
        zh("slow-close.pcap"),
        "关闭方式：四次挥手。客户端先关闭（主动关闭）。服务器在 41 ms 后才用一个单独的报文段确认客户端的 FIN：一直没有数据\
         可以捎带这个 ACK，直到它的延迟确认计时器到期（Linux 至少等待 40 ms）。服务器自己的 FIN 在第一个 FIN 之\
         后 300 ms 才发出：两个方向分别关闭，依次是 FIN、ACK、FIN、ACK。"
    );
}

#[test]
fn a_three_way_close_in_chinese() {
    assert_eq!(
        zh("seed.pcap"),
        "关闭方式：三次挥手。服务器先关闭（主动关闭）。客户端的 FIN 在服务器的 FIN 之后 0.053 ms 发出，同时确认了\
         服务器的 FIN：四次挥手的第 2、3 步合并成了一个报文段。客户端的 TCP 收到 FIN 后没有马上确认，而是推迟确认（\
         Linux 至少等待 40 ms，看有没有数据或 FIN 可以捎带这个 ACK）；客户端的应用程序在这段时间内就关闭了，于是\
         它的 FIN 赶在单独的 ACK 之前发出了。"
    );
}

#[test]
fn a_simultaneous_close_in_chinese() {
    assert_eq!(
        zh("ipv6.pcap"),
        "关闭方式：同时关闭。双方都在收到对方的 FIN 之前就发出了自己的 FIN：两个 FIN 在网络中交叉而过。双方的状态都依次\
         为 ESTABLISHED -> FIN-WAIT-1 -> CLOSING -> TIME-WAIT。双方最后都进入了 T\
         IME-WAIT：双方都在收到对方的 FIN 之前发出了自己的 FIN（经过 FIN-WAIT-1，而不是 CLOSE-WA\
         IT），凡这样的一方都要在 TIME-WAIT 等待。"
    );
}

#[test]
fn a_reset_in_chinese() {
    assert_eq!(
        zh("abort.pcap"),
        "关闭方式：复位 RST。客户端发送的是 RST 而不是 FIN，因此没有 TIME-WAIT，两端都直接进入 CLOSED。\
         异常终止连接会发送 RST（RFC 9293 §3.10.5；在 Linux 上，例如开启 SO_LINGER 且超时设为 0 后\
         调用 close()）；关闭时接收缓冲区里还有未读的数据，也会发送 RST（§3.6.1）。客户端此前收到过 10 字节，所\
         以两种情况都有可能。"
    );
}

#[test]
fn a_refused_connection_in_chinese() {
    assert_eq!(
        zh("refused.pcap"),
        "结果：连接被拒绝。SYN 得到的应答是 RST-ACK（seq=0，ack=1：它确认了这个 SYN），所以没有握手，也没有\
         建立连接：服务器一方始终是 CLOSED。最可能的原因是服务器的这个端口上没有进程在监听（防火墙规则用 RST 拒绝连接时，\
         发出的也是同样的报文段）。"
    );
}

#[test]
fn a_half_close_in_chinese() {
    assert_eq!(
        zh("half-close.pcap"),
        "关闭方式：四次挥手。客户端先关闭（主动关闭）。服务器在 0.223 ms 后确认了客户端的 FIN，这个 ACK 捎带在它接\
         下来发送的 13 字节数据上。服务器还有数据要发（在第一个 FIN 之后又发了 39 字节，即半关闭），所以它自己的 FIN 到\
         第一个 FIN 之后 181 ms 才发出。两个方向各自关闭，一共四个报文段（FIN、ACK、FIN、ACK）。"
    );
}

/// `LANG=zh_CN.UTF-8` (no --lang, no SYNACK_LANG) explains a four-way close
/// in Chinese on the command line; `LANG=C` in English.
#[test]
fn the_locale_chooses_chinese_on_the_command_line() {
    let run = |lang: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_synack"))
            .args(["trace", "--read", "tests/fixtures/slow-close.pcap", "--format", "text"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("SYNACK_LANG")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", lang)
            .output()
            .unwrap();
        assert!(out.status.success(), "{lang}: {}", String::from_utf8_lossy(&out.stderr));
        // The verdict wrapped: its lines joined again.
        String::from_utf8(out.stdout).unwrap().replace("\n  ", " ")
    };
    // Chinese wraps between characters, with no space: compared without spaces.
    let zh = run("zh_CN.UTF-8");
    let bare = zh.replace(' ', "");
    assert!(bare.contains("关闭方式：四次挥手。"), "{zh}");
    assert!(bare.contains("两个方向分别关闭，依次是FIN、ACK、FIN、ACK。"), "{zh}");
    assert!(!zh.contains("close: four-way"), "{zh}");
    let en = run("C");
    assert!(en.contains("close: four-way."), "{en}");
    assert!(!en.contains("四次挥手"), "{en}");
}

/// A connection's verdict and its ladder name an ICMP message the same way:
/// explain.ftl and rows.ftl hold one name per type, and each known type has
/// its own (none falls back to the plain 差错).
#[test]
fn the_verdict_and_the_ladder_name_icmp_alike() {
    let keys = [
        "network-unreachable",
        "no-route-to-destination",
        "host-unreachable",
        "protocol-unreachable",
        "port-unreachable",
        "fragmentation-needed",
        "communication-administratively-prohibited",
        "destination-unreachable",
        "packet-too-big",
        "fragment-reassembly-time-exceeded",
        "time-to-live-exceeded-in-transit",
        "parameter-problem",
        "source-quench",
    ];
    let _zh = i18n::scope(Lang::Zh);
    let fallback = synack::t!("rows-icmp-name", key = "error", name = "error");
    assert_eq!(fallback, "差错");
    let mut seen = std::collections::BTreeSet::new();
    for key in keys {
        let ladder = synack::t!("rows-icmp-name", key = key, name = key.replace('-', " "));
        let verdict = synack::t!("explain-icmp-name", icmp = key);
        assert_eq!(ladder, verdict, "{key}");
        assert_ne!(ladder, fallback, "{key}");
        assert!(seen.insert(ladder), "{key}: two types share a name");
    }
}

/// The last segment of a close: the side that closed first has been in
/// TIME-WAIT since the peer's FIN reached it, on an earlier row, so the
/// Chinese says it is already there (已进入), never that it enters now. Said
/// on one row of each four- or three-way close; never in a simultaneous one.
#[test]
fn the_first_closer_is_already_in_time_wait_at_the_last_segment() {
    use synack::model::classify::Role;
    use synack::model::tcp::TcpState;
    let (mut said, mut unsaid) = (0, 0);
    for path in fixtures() {
        let p = read(&path);
        for c in p.tracker.connections() {
            for i in 0..c.records.len() {
                let zh = explain_in(c, i, Lang::Zh);
                assert!(!zh.contains("现在进入 TIME-WAIT"), "{} row {}: {zh}", path.display(), i + 1);
                if !zh.contains("这是关闭过程的最后一个报文段") {
                    continue;
                }
                if c.close.simultaneous {
                    unsaid += 1;
                    continue;
                }
                assert!(zh.contains("收到对方的 FIN 时已进入 TIME-WAIT"), "{zh}");
                let first = c.close.first_fin.unwrap();
                let state = |j: usize| match first {
                    Role::Client => c.records[j].client_state,
                    Role::Server => c.records[j].server_state,
                };
                assert!(
                    (0..i).any(|j| state(j) == TcpState::TimeWait),
                    "{} row {}: the first closer was not yet in TIME-WAIT",
                    path.display(),
                    i + 1
                );
                said += 1;
            }
            if c.close.simultaneous {
                let v = verdict_in(c, Lang::Zh);
                assert!(!v.contains("先发出 FIN 的一方"), "{v}");
                for i in 0..c.records.len() {
                    assert!(!explain_in(c, i, Lang::Zh).contains("先发出 FIN 的一方"));
                }
                if v.contains("双方最后都进入了 TIME-WAIT") {
                    assert!(v.contains("双方都在收到对方的 FIN 之前发出了自己的 FIN"), "{v}");
                    unsaid += 1;
                }
            }
        }
    }
    assert!(said >= 5 && unsaid >= 1, "said {said}, unsaid {unsaid}");
}
