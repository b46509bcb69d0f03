//! The command line (clap derive): the only module that knows clap, with app.rs and main.rs.

use crate::capture::kernel::KernelMode;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::export::Format;
use crate::i18n::Lang;
use crate::model::tracker::Limits;
use crate::scenario::{SCENARIOS, Scenario};

const ABOUT: &str = "See TCP's connection life cycle, segment by segment, as a ladder diagram";

const LONG_ABOUT: &str = "\
See TCP's connection life cycle, segment by segment, as a ladder diagram.

synack captures the segments of one TCP port on loopback (SYN, SYN-ACK, ACK, data,
FIN, RST) and draws each connection as a ladder: client lifeline on the left, server on
the right, each endpoint's RFC 9293 state beside its lifeline, the three-way handshake
and the close numbered step by step, and a verdict that explains the close it saw:
four-way, three-way (the second FIN also acknowledged the first), simultaneous, reset or
refused.

Live capture needs CAP_NET_RAW: run with sudo, or once
    sudo setcap cap_net_raw+ep \"$(command -v synack)\"
Replaying a capture file (--read) needs no privileges.

Language: synack speaks English or Chinese (中文). --lang zh, or SYNACK_LANG=zh, or a
Chinese locale (LANG=zh_CN.UTF-8) gives Chinese; --lang en gives English. This help
stays in English; jsonl and exit codes are the same in both languages.";

const AFTER_HELP: &str = "\
Examples:
  synack                                 live dashboard on lo, tcp port 8001 (starts the echo server)
  synack demo                            the dashboard plus a scripted tour of every kind of close
  synack --read capture.pcap             replay a capture in the dashboard (no privileges)
  synack trace --read capture.pcap       print every connection of a capture as a ladder
  synack trace --format jsonl --count 5  capture live, print 5 connections as JSON lines
  ssh host \"tcpdump -U -w - 'tcp port 8001'\" | synack trace --read -

Output formats (jsonl field by field), state names and exit codes: docs/format.md";

const TRACE_EXAMPLES: &str = "\
Examples:
  synack trace --read tests/fixtures/seed.pcap              the ladder of each connection, and a verdict
  synack trace --read capture.pcap --format jsonl -o out.jsonl
  sudo synack trace --count 3 --write three.pcapng          capture 3 connections live, and record them

The jsonl format, field by field, and the exit codes: docs/format.md";

const CLIENT_EXAMPLES: &str = "\
Examples:
  synack serve &                                       the echo server on 127.0.0.1:8001
  synack client --scenario slow-close                  a textbook four-segment close
  synack client --scenario simultaneous --repeat 20    20 closes whose FINs cross (tries again, up to 400 times)";

/// synack: TCP's connection life cycle, packet by packet.
#[derive(Debug, Parser)]
#[command(name = "synack", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Language of everything synack says: en or zh (中文) [default: SYNACK_LANG, else
    /// LC_ALL, LC_MESSAGES, LANG: zh_* gives Chinese]. jsonl and exit codes never change.
    #[arg(long, global = true, value_name = "LANG", value_parser = parse_lang)]
    pub lang: Option<Lang>,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
}

/// Where segments come from.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Network interface to capture on.
    #[arg(short, long, default_value = "lo", value_name = "NAME")]
    pub interface: String,
    /// Port to watch, TCP (and UDP live, or with --udp) [default: 8001 live; every port with --read].
    #[arg(short, long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Read a pcap or pcapng file instead of capturing ('-' follows a stream on stdin).
    #[arg(short, long, value_name = "FILE")]
    pub read: Option<PathBuf>,
    /// Finished connections kept in memory (oldest dropped first).
    #[arg(long, default_value_t = Limits::DEFAULT, value_name = "N")]
    pub max_connections: usize,
    /// Connections open at once; past it the oldest open one is given up and reported.
    #[arg(long, default_value_t = Limits::DEFAULT, value_name = "N")]
    pub max_open: usize,
    /// Segments kept per connection: the first half and the last half; those between are
    /// counted, not kept (at least 8).
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_segments: usize,
    /// The kernel's own view beside the wire's (live): each endpoint's state changes as the
    /// kernel made them (tracepoint sock:inet_sock_set_state), checked against the ladder.
    /// Needs root or CAP_PERFMON; as root (CAP_BPF) a small eBPF program reads them, which
    /// costs the watched programs less than a perf sample per change.
    #[arg(long, value_enum, default_value_t = KernelMode::Auto, value_name = "WHEN")]
    pub kernel: KernelMode,
    /// With --read: UDP flows on the port too, read by one thread (a live capture always
    /// shows them).
    #[arg(long)]
    pub udp: bool,
}

impl SourceArgs {
    /// The tracker's limits.
    #[must_use]
    pub fn limits(&self) -> Limits {
        Limits {
            finished: self.max_connections,
            open: self.max_open,
            keep: crate::model::tracker::Keep::segments(self.max_segments),
            records: crate::model::tracker::RECORDS,
        }
    }
}

/// The live dashboard (no subcommand).
#[derive(Debug, Clone, Args)]
pub struct DashboardArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Replay speed with --read: 1 is real time, 2 twice as fast, 0 as fast as possible.
    #[arg(long, value_name = "X", conflicts_with = "step", default_value_t = 1.0)]
    pub speed: f64,
    /// Replay with --read one segment per key press.
    #[arg(long)]
    pub step: bool,
    /// Do not start the built-in echo server when nothing listens on the port.
    #[arg(long)]
    pub no_serve: bool,
    #[command(flatten)]
    pub view: ViewArgs,
}

/// How the dashboard shows time.
#[derive(Debug, Clone, Args)]
pub struct ViewArgs {
    /// Seconds a closed connection stays in TIME-WAIT in the view before it shows CLOSED
    /// (Linux: a fixed 60, TCP_TIMEWAIT_LEN; RFC 9293's 2 x MSL is 240; on the capture's
    /// clock in a replay). With the kernel view on,
    /// the kernel's own timer is shown instead.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub time_wait: f64,
    /// Record what is drawn to FILE as an asciicast (asciinema play FILE replays it).
    #[arg(long, value_name = "FILE.cast")]
    pub record: Option<std::path::PathBuf>,
}

impl ViewArgs {
    /// `--time-wait` as a duration.
    ///
    /// # Errors
    /// When it is negative or not a number.
    pub fn time_wait(&self) -> Result<std::time::Duration, String> {
        std::time::Duration::try_from_secs_f64(self.time_wait)
            .map_err(|_| format!("--time-wait must be a number of seconds, 0 or more, not {}", self.time_wait))
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The dashboard, the echo server and a scripted, repeating tour of every kind of close
    /// (n next step, p previous, space holds the step).
    Demo(DemoArgs),
    /// No terminal UI: print each connection when it ends (and open ones at the end).
    #[command(after_help = TRACE_EXAMPLES)]
    Trace(TraceArgs),
    /// The echo server alone: sends back upper-cased what one read returns, at once (as the
    /// tutorial's recv(1024) server does), then closes.
    Serve(ServeArgs),
    /// Connect to the echo server and make a chosen kind of close happen.
    #[command(after_help = CLIENT_EXAMPLES)]
    Client(ClientArgs),
    /// Print a shell completion script: `synack completions bash > /etc/bash_completion.d/synack`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `synack manpage > synack.1; man ./synack.1`.
    Manpage,
}

/// `synack completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `synack demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// TCP port for the demo's echo server.
    #[arg(short, long, default_value_t = 8001)]
    pub port: u16,
    /// Stop after the last step instead of starting the tour over.
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub view: ViewArgs,
}

/// `synack trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Record the captured frames to FILE (pcapng if it ends in .pcapng, pcap otherwise). Only
    /// pcapng also keeps the kernel view's changes and socket calls; a pcap file holds frames only.
    #[arg(short, long, value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Each endpoint's path through RFC 9293's state diagram (figure 5). With
    /// --format text: transition by transition, with the RFC's labels; with
    /// --format svg: the figure drawn beside each ladder, each endpoint's arrows lit.
    #[arg(long)]
    pub diagram: bool,
    /// No progress line (shown on a terminal when reading a file takes over a second).
    #[arg(short, long)]
    pub quiet: bool,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Export only the connection with this id (the `#N` of the text output).
    #[arg(long, value_name = "ID")]
    pub connection: Option<u64>,
    /// Stop after N finished connections (1 or more).
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop after S seconds of live capture.
    #[arg(short, long, value_name = "S")]
    pub duration: Option<f64>,
    /// Threads for reading a file (1 to 64; default: the cores available, at
    /// most 64). With jsonl and text, the connections are split between N
    /// threads by tuple; where a capture needs one tracker (IP fragments, a
    /// recording's kernel view, more open connections than a thread's share
    /// of --max-open), one thread goes on from there. The output is the same
    /// for any N, in the same order; 1 does it all on one thread.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Option<u16>,
    /// Say on standard error which engine read the file (one thread,
    /// pipelined or sharded) and why.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `synack serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(short, long, default_value = "127.0.0.1:8001")]
    pub addr: SocketAddr,
}

/// `synack client`.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Server address.
    #[arg(short, long, default_value = "127.0.0.1:8001")]
    pub addr: SocketAddr,
    /// Which close to make happen.
    #[arg(short, long, value_enum, default_value_t = Scenario::Seed)]
    pub scenario: Scenario,
    /// What to send.
    #[arg(short, long, default_value = "helloworld")]
    pub message: String,
    /// Connections to make (each with the close asked for).
    #[arg(short = 'n', long, default_value_t = 1)]
    pub repeat: u64,
    /// Connections in flight at once.
    #[arg(short = 'j', long, default_value_t = 1)]
    pub concurrency: usize,
}

// The library's enums know nothing of clap: their command-line names come
// from here (formats) and from the scenario table (scenarios).

impl clap::ValueEnum for Scenario {
    fn value_variants<'a>() -> &'a [Self] {
        const ALL: [Scenario; SCENARIOS.len()] = {
            let mut all = [Scenario::Seed; SCENARIOS.len()];
            let mut i = 0;
            while i < SCENARIOS.len() {
                all[i] = SCENARIOS[i].scenario;
                i += 1;
            }
            all
        };
        &ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let info = self.info();
        Some(clap::builder::PossibleValue::new(info.name).help(info.help))
    }
}

impl clap::ValueEnum for KernelMode {
    fn value_variants<'a>() -> &'a [Self] {
        &[KernelMode::Auto, KernelMode::On, KernelMode::Off]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let (name, help) = match self {
            KernelMode::Auto => ("auto", "On when this machine allows it; otherwise say why and go on"),
            KernelMode::On => ("on", "On, or stop with exit status 2 saying why it cannot be"),
            KernelMode::Off => ("off", "Only the wire"),
        };
        Some(clap::builder::PossibleValue::new(name).help(help))
    }
}

impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[Format::Text, Format::Jsonl, Format::Mermaid, Format::Svg]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let (name, help) = match self {
            Format::Text => ("text", "The ladder diagram with a verdict per connection"),
            Format::Jsonl => ("jsonl", "One JSON object per connection, one per line (docs/format.md)"),
            Format::Mermaid => ("mermaid", "A Mermaid sequenceDiagram per connection"),
            Format::Svg => ("svg", "An SVG ladder per connection"),
        };
        Some(clap::builder::PossibleValue::new(name).help(help))
    }
}

/// `--lang`: `en` or `zh` (and their regional forms, `zh_CN`, `en-US`).
fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| crate::t!("cli-bad-lang", value = s.to_owned()))
}

impl Cli {
    /// The language to speak: `--lang`, else [`Lang::detect`] from the
    /// environment.
    #[must_use]
    pub fn language(&self) -> Lang {
        self.lang.unwrap_or_else(|| Lang::detect(|v| std::env::var(v).ok()))
    }
}

/// The language the command line asks for before it is parsed (`--lang zh`,
/// `--lang=zh`; the last one counts), else [`Lang::detect`] from the
/// environment: what clap's own errors are said in.
#[must_use]
pub fn language_of(args: impl IntoIterator<Item = std::ffi::OsString>) -> Lang {
    let mut found = None;
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let a = a.to_string_lossy().into_owned();
        if a == "--" {
            break;
        }
        let value = match a.strip_prefix("--lang") {
            Some("") => args.next().map(|v| v.to_string_lossy().into_owned()),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => None,
        };
        if let Some(l) = value.as_deref().and_then(Lang::parse) {
            found = Some(l);
        }
    }
    found.unwrap_or_else(|| Lang::detect(|v| std::env::var(v).ok()))
}

/// Prints why the command line was not understood and gives the exit
/// status: clap's own words in English (and for `--help`, `--version`);
/// in Chinese, a bad value and an unknown argument are said in Chinese,
/// with the same facts (the argument, the value), the rest in clap's words.
#[must_use]
pub fn parse_failed(e: &clap::Error) -> std::process::ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let code = std::process::ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    let text = |k| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let zh = crate::i18n::current() == Lang::Zh;
    let said = match e.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation if zh => {
            // Without a cause (a missing value), clap's own words.
            let cause = std::error::Error::source(e).map(|c| parse_cause(&c.to_string()));
            text(ContextKind::InvalidArg).zip(text(ContextKind::InvalidValue)).zip(cause).map(
                |((arg, value), cause)| crate::t!("cli-clap-invalid-value", arg = arg, value = value, cause = cause),
            )
        }
        ErrorKind::UnknownArgument if zh => {
            text(ContextKind::InvalidArg).map(|arg| crate::t!("cli-clap-unknown", arg = arg))
        }
        _ => None,
    };
    match said {
        Some(message) => {
            eprintln!(
                "{}

{}",
                crate::t!("cli-error", message = message),
                crate::t!("cli-clap-more")
            );
        }
        None => {
            let _ = e.print();
        }
    }
    code
}

/// Why a value did not parse, as Rust says it (`invalid digit found in
/// string`, `70000 is not in 0..=65535`), in the current language.
fn parse_cause(cause: &str) -> String {
    match cause {
        "invalid digit found in string" => crate::t!("cli-clap-invalid-digit"),
        "cannot parse integer from empty string" => crate::t!("cli-clap-empty"),
        "number too large to fit in target type" => crate::t!("cli-clap-too-large"),
        _ => match cause.split_once(" is not in ") {
            Some((value, range)) => crate::t!("cli-clap-range", value = value.to_owned(), range = range.to_owned()),
            None => cause.to_owned(),
        },
    }
}
