//! The command line's errors in Chinese (`--lang zh`, or a Chinese locale):
//! the same facts as in English (the file, the packet, the byte offset, the
//! value), the same exit code, and no English left in the words around them.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// synack with `args`, in a neutral environment (no locale, no SYNACK_LANG)
/// plus `env`.
fn synack_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_synack"));
    for v in ["SYNACK_LANG", "LC_ALL", "LC_MESSAGES", "LANG"] {
        c.env_remove(v);
    }
    c.args(args).envs(env.iter().copied()).output().expect("run synack")
}

/// English (no --lang) and Chinese (`--lang zh`) runs of the same command.
fn both(args: &[&str]) -> (Output, Output) {
    let mut zh = args.to_vec();
    zh.extend(["--lang", "zh"]);
    (synack_env(args, &[]), synack_env(&zh, &[]))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Words of three or more lowercase ASCII letters: English left in a
/// Chinese message (flags, states, options and paths are not words here).
fn english_words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_alphabetic() && c != '-' && c != '/' && c != '.' && c != '\'')
        .filter(|w| w.len() >= 3 && w.chars().all(|c| c.is_ascii_lowercase()))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_missing_file_is_said_in_chinese_with_its_name_and_the_same_exit_code() {
    let (en, zh) = both(&["trace", "--read", "/nonexistent/x.pcap"]);
    assert_eq!(en.status.code(), Some(1));
    assert_eq!(zh.status.code(), en.status.code());
    assert_eq!(stderr(&en).trim(), "error: cannot open /nonexistent/x.pcap: No such file or directory (os error 2)");
    assert_eq!(stderr(&zh).trim(), "错误：无法打开 /nonexistent/x.pcap：没有那个文件或目录（os error 2）");
}

#[test]
fn a_truncated_capture_says_where_it_broke_in_both_languages() {
    let whole = std::fs::read(fixture("abort.pcap")).unwrap();
    let p = support::tempdir("cli_zh").join("cut.pcap");
    std::fs::write(&p, &whole[..whole.len() - 10]).unwrap();
    let (en, zh) = both(&["trace", "--read", p.to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(en.status.code(), Some(1));
    assert_eq!(zh.status.code(), en.status.code());
    // What was read before the cut is written, the same in both languages.
    assert!(!en.stdout.is_empty());
    assert_eq!(en.stdout, zh.stdout, "jsonl does not change with the language");
    let e = stderr(&en);
    let (packets, offset) = e
        .trim()
        .strip_prefix(&format!("error: {} is truncated after packet ", p.display()))
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|r| r.split_once(" (byte offset "))
        .unwrap_or_else(|| panic!("{e}"));
    let z = stderr(&zh);
    assert_eq!(
        z.trim(),
        format!("错误：{} 在第 {packets} 个分组之后被截断（字节偏移 {offset}）", p.display()),
        "the same packet and byte offset"
    );
    assert!(english_words(&z.replace(&p.display().to_string(), "")).is_empty(), "{z}");
}

#[test]
fn a_bad_port_is_said_in_chinese_with_the_value_and_the_same_exit_code() {
    let seed = fixture("seed.pcap");
    for (value, cause) in [("abc", "含有非数字的字符"), ("70000", "70000 不在 0..=65535 范围内")] {
        let (en, zh) = both(&["trace", "--read", seed.to_str().unwrap(), "--port", value]);
        assert_eq!(en.status.code(), Some(2));
        assert_eq!(zh.status.code(), en.status.code());
        assert!(
            stderr(&en).starts_with(&format!("error: invalid value '{value}' for '--port <PORT>'")),
            "{}",
            stderr(&en)
        );
        let z = stderr(&zh);
        assert!(z.starts_with(&format!("错误：参数 '--port <PORT>' 的值 '{value}' 无效：{cause}\n")), "{z}");
        assert!(!z.contains("error"), "{z}");
    }
}

#[test]
fn the_locale_chooses_chinese_and_synack_lang_or_lang_overrides_it() {
    let args = ["trace", "--read", "/nonexistent/x.pcap"];
    let zh = synack_env(&args, &[("LANG", "zh_CN.UTF-8")]);
    assert!(stderr(&zh).starts_with("错误：无法打开 /nonexistent/x.pcap："), "{}", stderr(&zh));
    let en = synack_env(&args, &[("LANG", "zh_CN.UTF-8"), ("SYNACK_LANG", "en")]);
    assert!(stderr(&en).starts_with("error: cannot open /nonexistent/x.pcap: "), "{}", stderr(&en));
    let mut flag = args.to_vec();
    flag.extend(["--lang", "en"]);
    let en = synack_env(&flag, &[("LANG", "zh_CN.UTF-8")]);
    assert!(stderr(&en).starts_with("error: cannot open "), "{}", stderr(&en));
    // Before the subcommand too, and as --lang=zh.
    let zh = synack_env(&["--lang=zh", "trace", "--read", "/nonexistent/x.pcap"], &[]);
    assert!(stderr(&zh).starts_with("错误：无法打开 "), "{}", stderr(&zh));
}

#[test]
fn usage_errors_keep_their_exit_code_and_their_facts() {
    let seed = fixture("seed.pcap");
    let seed = seed.to_str().unwrap();
    let (en, zh) = both(&["trace", "--read", seed, "--diagram", "--format", "jsonl"]);
    assert_eq!((en.status.code(), zh.status.code()), (Some(2), Some(2)));
    assert_eq!(stderr(&zh).trim(), "错误：--diagram 只能与 --format text 或 svg 一起用");
    // The connection asked for is not there: how many there are, in Chinese.
    let (en, zh) = both(&["trace", "--read", seed, "--connection", "9"]);
    assert_eq!((en.status.code(), zh.status.code()), (Some(1), Some(1)));
    assert_eq!(stderr(&en).trim(), "error: there is no connection #9: it holds #1 only");
    assert_eq!(stderr(&zh).trim(), "错误：没有编号为 #9 的连接：这里只有 #1");
    // And a connection that is there is no error in either language.
    let (en, zh) = both(&["trace", "--read", seed, "--connection", "1", "--format", "jsonl"]);
    assert_eq!((en.status.code(), zh.status.code()), (Some(0), Some(0)));
    assert!(stderr(&zh).is_empty(), "{}", stderr(&zh));
    assert_eq!(en.stdout, zh.stdout);
}

#[test]
fn help_says_how_to_switch_language() {
    let o = synack_env(&["--help"], &[]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("--lang zh"), "{help}");
    assert!(help.contains("SYNACK_LANG=zh"), "{help}");
    assert!(help.contains("LANG=zh_CN.UTF-8"), "{help}");
    // The short help (-h) names the flag at least.
    let o = synack_env(&["-h"], &[]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("--lang"));
}

#[test]
fn what_did_not_decode_is_counted_in_chinese_with_the_same_counts() {
    let frames = support::undecodable_frames();
    let p = support::tempdir("cli_zh").join("bad-frames.pcap");
    std::fs::write(&p, support::pcap(1, &frames)).unwrap();
    let (en, zh) = both(&["trace", "--read", p.to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!((en.status.code(), zh.status.code()), (Some(0), Some(0)));
    assert_eq!(en.stdout, zh.stdout);
    assert_eq!(stderr(&en).trim(), "3 frames could not be decoded: 2 truncated TCP header, 1 bad IPv4 header length");
    assert_eq!(stderr(&zh).trim(), "3 帧无法解码：TCP 首部不完整（2 帧），IPv4 首部长度不对（1 帧）");
}

#[test]
fn without_privileges_it_says_how_to_get_them_in_chinese() {
    if !support::capture_allowed() {
        return;
    }
    let run = |lang: &str| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_synack")])
            .args(["trace", "--port", "1", "--lang", lang])
            .output()
            .expect("setpriv")
    };
    let (en, zh) = (run("en"), run("zh"));
    assert_eq!((en.status.code(), zh.status.code()), (Some(2), Some(2)), "{zh:?}");
    assert!(zh.stdout.is_empty());
    let (e, z) = (stderr(&en), stderr(&zh));
    assert!(e.starts_with("error: capturing on lo needs the CAP_NET_RAW capability"), "{e}");
    let lines: Vec<&str> = z.lines().collect();
    assert!(lines[0].starts_with("错误：在 lo 上抓包需要 CAP_NET_RAW 权限（"), "{z}");
    // The same two commands, for the same binary, each after its label, aligned.
    let command = |l: &str| l.split_once("  sudo ").map(|(label, c)| (synack::i18n::width(label), c.to_owned()));
    let (root, once) = (command(lines[1]).expect(&z), command(lines[2]).expect(&z));
    assert_eq!(root.0, once.0, "the commands start in one column: {z}");
    let english: Vec<String> = e.lines().skip(1).filter_map(|l| command(l).map(|c| c.1)).collect();
    assert_eq!(once.1, english[1], "{z}");
    assert_eq!(root.1.replace("--lang zh", "--lang en"), english[0], "{z}");
}

#[test]
fn counts_are_printed_as_plain_numbers_in_both_languages() {
    use synack::i18n::{Arg, Lang, text};
    let args = [("total", Arg::Int(1_234_567)), ("kinds", Arg::from("x"))];
    assert_eq!(text(Lang::En, "cli-undecoded", &args), "1234567 frames could not be decoded: x");
    assert_eq!(text(Lang::Zh, "cli-undecoded", &args), "1234567 帧无法解码：x");
    let one = [("total", Arg::Int(1)), ("kinds", Arg::from("x"))];
    assert_eq!(text(Lang::En, "cli-undecoded", &one), "1 frame could not be decoded: x");
}
