//! Composition root: wires a source to the pipeline and to an exporter or the
//! dashboard. `anyhow` lives here and only here.

use crate::capture::kernel::{KernelMode, KernelView};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::capture::live::{LiveSource, OpenError};
use crate::capture::pcap::{PcapSource, Stream as PcapStream};
use crate::capture::record::Recorder;
use crate::cli::{Cli, ClientArgs, Command, DashboardArgs, DemoArgs, ServeArgs, TraceArgs};
use crate::echo::{self, Outcome, ServerConfig};
use crate::engine;
use crate::export::{self, Exporter};
use crate::headless::{self, Ended, RunError, Stop};
use crate::model::tracker::{ConnId, Limits};
use crate::os::privileges;
use crate::pipeline::{Counters, Pipeline};
use crate::scenario::Scenario;
use crate::tui;

/// The port watched live when none is given.
pub const DEFAULT_PORT: u16 = 8001;

/// An error that exits with status 2: bad usage or missing privileges.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit status for an error: 2 for [`UsageError`], 1 otherwise.
#[must_use]
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<UsageError>().is_some() { 2 } else { 1 }
}

/// The line `main` prints for an error that ends the run: `error: ` and the
/// chain of causes, each after `: ` (`anyhow`'s `{:#}`), in the language of
/// [`crate::i18n::current`]. English is exactly `error: {err:#}`; in
/// Chinese the OS's words for common errors are said in Chinese too (with
/// their `os error N`).
#[must_use]
pub fn error_line(err: &anyhow::Error) -> String {
    if crate::i18n::current() == crate::i18n::Lang::En {
        return format!("error: {err:#}");
    }
    let parts: Vec<String> = err
        .chain()
        .map(|e| match e.downcast_ref::<io::Error>() {
            Some(io) => io_words(io),
            None => e.to_string(),
        })
        .collect();
    crate::t!("cli-error", message = parts.join(&crate::t!("cli-chain-gap")))
}

/// An OS error's words in the language of [`crate::i18n::current`]:
/// English as Rust prints it (`No such file or directory (os error 2)`);
/// in Chinese, the common ones translated, the rest as Rust prints them.
#[must_use]
pub fn io_words(e: &io::Error) -> String {
    use crate::i18n::Lang;
    let Some(code) = e.raw_os_error().filter(|_| crate::i18n::current() == Lang::Zh) else {
        return e.to_string();
    };
    // glibc's zh_CN words for them (what `strerror` says in a Chinese locale).
    let text = match code {
        libc::ENOENT => crate::t!("cli-io-not-found"),
        libc::EACCES => crate::t!("cli-io-permission"),
        libc::EPERM => crate::t!("cli-io-not-permitted"),
        libc::EADDRINUSE => crate::t!("cli-io-addr-in-use"),
        libc::EISDIR => crate::t!("cli-io-is-a-directory"),
        libc::ENOSPC => crate::t!("cli-io-no-space"),
        libc::ENODEV => crate::t!("cli-io-no-device"),
        _ => return e.to_string(),
    };
    crate::t!("cli-io-os-error", text = text, code = code.to_string())
}

/// Whether `err` is the output's reader having gone away (EPIPE).
#[must_use]
pub fn broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe))
}

/// Runs the command line.
///
/// # Errors
/// Whatever stopped the command, with context for the user.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Trace(args)) => trace(&args),
        Some(Command::Serve(args)) => serve(&args),
        Some(Command::Client(args)) => client(&args),
        Some(Command::Demo(args)) => demo(&args),
        Some(Command::Completions(args)) => {
            use clap::CommandFactory;
            clap_complete::generate(args.shell, &mut Cli::command(), "synack", &mut io::stdout());
            Ok(())
        }
        Some(Command::Manpage) => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut io::stdout())
                .context(crate::t!("cli-cannot-write-manpage"))
        }
        None => dashboard(&cli.dashboard),
    }
}

/// A flag set once a stop signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) arrives.
fn stop_signals() -> Result<Arc<AtomicBool>> {
    crate::signals::flag().context(crate::t!("cli-cannot-handle-signals"))
}

/// Opens a live capture and then, when started through sudo, drops to the
/// invoking user. Missing privileges become a [`UsageError`] that says how to
/// get them.
///
/// # Errors
/// When capture cannot start, or privileges cannot be dropped.
pub fn open_live(interface: &str, port: u16) -> Result<LiveSource> {
    Ok(open_live_with(interface, port, KernelMode::Off)?.0)
}

/// [`open_live`], with the kernel view opened as `kernel` asks, while the
/// privileges it needs are still held. With `Auto`, why it is off goes to
/// stderr (and into the returned reason); with `On`, it is a usage error.
pub fn open_live_with(
    interface: &str,
    port: u16,
    kernel: KernelMode,
) -> Result<(LiveSource, Option<KernelView>, Option<String>)> {
    // Decided before anything is opened: a bad SUDO_UID stops the run here.
    let plan = privileges::plan().map_err(|e| UsageError(crate::t!("cli-refuse-root", error = e.to_string())))?;
    let source = open_packet_socket(interface, port)?;
    let (view, why) = match kernel {
        KernelMode::Off => (None, None),
        mode => match KernelView::open(Some(port)) {
            Ok(v) => (Some(v), None),
            Err(e) if mode == KernelMode::On => {
                return Err(UsageError(crate::t!("cli-kernel-on", error = e.to_string())).into());
            }
            Err(e) => (None, Some(crate::t!("cli-kernel-off", error = e.to_string()))),
        },
    };
    // Both are open: from here on, no privilege is needed.
    privileges::drop_all(plan).context(crate::t!("cli-cannot-drop"))?;
    Ok((source, view, why))
}

/// The packet socket, with the hints a permission error needs.
fn open_packet_socket(interface: &str, port: u16) -> Result<LiveSource> {
    LiveSource::open(interface, port).map_err(|e| match e {
        OpenError::Permission { .. } => {
            // Both hints name the binary that runs, by its absolute path: sudo's
            // PATH may not have it, and setcap needs a file.
            let exe = std::env::current_exe().map_or_else(|_| "synack".to_string(), |p| p.display().to_string());
            let args: Vec<String> = std::env::args().skip(1).collect();
            let root = crate::t!("cli-run-as-root", exe = exe.clone(), args = args.join(" "));
            let once = crate::t!("cli-allow-once", exe = exe);
            anyhow::Error::new(UsageError(format!("{e}\n  {root}\n  {once}")))
        }
        other => anyhow::Error::new(other),
    })
}

/// Opens `path` ('-' is standard input): the reader, its name, its size if known.
fn open_input(path: &Path) -> Result<(Box<dyn Read + Send>, String, Option<u64>)> {
    if path == Path::new("-") {
        let stream = PcapStream::new(io::stdin()).context(crate::t!("cli-cannot-read-stdin"))?;
        return Ok((Box::new(stream), crate::t!("cli-stdin"), None));
    }
    let mut file = File::open(path).with_context(|| crate::t!("cli-cannot-open", path = path.display().to_string()))?;
    let size = file.metadata().ok().map(|m| m.len());
    // A gzip-compressed capture (`.pcap.gz`), as tcpdump -r and tshark read it.
    let mut magic = [0u8; 2];
    let gzip = io::Read::read_exact(&mut file, &mut magic).is_ok() && magic == [0x1f, 0x8b];
    io::Seek::seek(&mut file, io::SeekFrom::Start(0))
        .with_context(|| crate::t!("cli-cannot-read", path = path.display().to_string()))?;
    if gzip {
        let name = format!("{} (gzip)", path.display());
        // The size is the compressed one: no progress fraction for it.
        return Ok((Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(file))), name, None));
    }
    Ok((Box::new(file), path.display().to_string(), size))
}

/// Maps `path` into memory when it is a regular, uncompressed, non-empty
/// file (`trace --read`): its frames are then decoded in place. `None` for
/// standard input, gzip, pipes and devices, which are read.
fn open_mapped(path: &Path) -> Result<Option<(crate::os::map::Mapped, String)>> {
    if path == Path::new("-") {
        return Ok(None);
    }
    let file = File::open(path).with_context(|| crate::t!("cli-cannot-open", path = path.display().to_string()))?;
    let map = crate::os::map::Mapped::new(&file)
        .with_context(|| crate::t!("cli-cannot-read", path = path.display().to_string()))?;
    Ok(map.filter(|m| !m.starts_with(&[0x1f, 0x8b])).map(|m| (m, path.display().to_string())))
}

/// Opens `path` ('-' is standard input) as a capture.
fn open_capture(path: &Path) -> Result<PcapSource<Box<dyn Read + Send>>> {
    let (reader, name, _) = open_input(path)?;
    Ok(PcapSource::new(reader, name)?)
}

/// A reader that counts the bytes read through it.
struct CountingReader {
    inner: Box<dyn Read + Send>,
    bytes: Arc<AtomicU64>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// The progress line of a long read, on standard error (a terminal): shown
/// once the read has taken a second, gone when it ends.
struct ProgressLine {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressLine {
    fn start(size: Option<u64>, bytes: Arc<AtomicU64>, progress: Arc<headless::Progress>) -> ProgressLine {
        use std::sync::atomic::Ordering::Relaxed;
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        let thread = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                let started = Instant::now();
                let bar = match size {
                    Some(total) => indicatif::ProgressBar::new(total),
                    None => indicatif::ProgressBar::no_length(),
                };
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
                let style =
                    indicatif::ProgressStyle::with_template("{bar:30} {binary_bytes}/{binary_total_bytes} {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
                bar.set_style(style);
                while !stop.load(Relaxed) {
                    std::thread::park_timeout(Duration::from_millis(200));
                    let secs = started.elapsed().as_secs_f64();
                    if secs < 1.0 {
                        continue;
                    }
                    if bar.is_hidden() {
                        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    }
                    let frames = progress.frames.load(Relaxed);
                    #[allow(clippy::cast_precision_loss)]
                    let rate = frames as f64 / secs;
                    bar.set_position(bytes.load(Relaxed));
                    let conns = progress.connections.load(Relaxed);
                    bar.set_message(format!(
                        "{frames} packets ({rate:.0}/s), {conns} connection{}",
                        if conns == 1 { "" } else { "s" }
                    ));
                }
                bar.finish_and_clear();
            })
            .ok();
        ProgressLine { done, thread }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// Whether two paths name the same existing file (same device and inode).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Refuses to write `out` when it is one of the files read or written already.
fn check_not_clobbering(out: Option<&Path>, others: &[(&str, Option<&Path>)]) -> Result<()> {
    let Some(out) = out.filter(|p| *p != Path::new("-")) else {
        return Ok(());
    };
    for (what, other) in others {
        if let Some(other) = other.filter(|p| *p != Path::new("-"))
            && (other == out || same_file(other, out))
        {
            return Err(UsageError(crate::t!(
                "cli-refuse-output",
                path = out.display().to_string(),
                what = (*what).to_string()
            ))
            .into());
        }
    }
    Ok(())
}

fn output(path: Option<&Path>) -> Result<Box<dyn Write + Send>> {
    // Standard output unlocked: a sharded read writes it from whichever
    // thread runs the writer (it is written in large pieces, locked each).
    Ok(match path {
        None => Box::new(io::stdout()),
        Some(p) if p == Path::new("-") => Box::new(io::stdout()),
        Some(p) => {
            Box::new(File::create(p).with_context(|| crate::t!("cli-cannot-create", path = p.display().to_string()))?)
        }
    })
}

/// `synack trace`.
fn trace(args: &TraceArgs) -> Result<()> {
    if args.diagram && !matches!(args.format, export::Format::Text | export::Format::Svg) {
        return Err(UsageError(crate::t!("cli-diagram-format")).into());
    }
    if args.source.read.is_some() && args.source.kernel == KernelMode::On {
        return Err(UsageError(crate::t!("cli-kernel-needs-live")).into());
    }
    let mut exporter = export::exporter_with(args.format, args.diagram);
    if let Some(path) = &args.source.read {
        if args.write.is_some() {
            return Err(UsageError(crate::t!("cli-write-with-read")).into());
        }
        check_not_clobbering(args.output.as_deref(), &[("input", Some(path))])?;
        let read_bytes = Arc::new(AtomicU64::new(0));
        let (capture, size) = match open_mapped(path)? {
            Some((map, name)) => {
                let size = Some(map.len() as u64);
                (engine::Capture::mapped(map, name, read_bytes.clone())?, size)
            }
            None => {
                let (reader, name, size) = open_input(path)?;
                let counted = CountingReader { inner: reader, bytes: read_bytes.clone() };
                let stream = path == Path::new("-");
                (engine::Capture::reader(Box::new(counted), name, stream, read_bytes.clone())?, size)
            }
        };
        let progress = Arc::new(headless::Progress::default());
        let shown = (!args.quiet && io::stderr().is_terminal())
            .then(|| ProgressLine::start(size, read_bytes.clone(), progress.clone()));
        // Ctrl-C on a stream (`tcpdump ... | synack trace --read -`) ends with
        // what was read written out, like a live capture.
        let interrupted = stop_signals()?;
        let mut out = BufWriter::with_capacity(1 << 16, output(args.output.as_deref())?);
        let stop = Stop {
            count: args.count,
            only: args.connection,
            flush_each: path == Path::new("-"),
            interrupted: Some(&interrupted),
            progress: Some(&progress),
            ..Stop::default()
        };
        let (port, limits, format, diagram) = (args.source.port, args.source.limits(), args.format, args.diagram);
        let threads = args.threads.map(usize::from);
        let job = engine::Job { port, limits, format, diagram, threads, udp: args.source.udp, stop };
        let read = engine::read(&job, capture, &mut out);
        drop(shown);
        if args.verbose {
            eprintln!("synack: engine: {}", read.ran);
        }
        let done = summarize(read.result, &read.counters, read.started, &job.stop);
        // The process ends next, and its memory with it: freeing the
        // tracker's connections one by one, and the heap trimmed after them,
        // took ~1.5 ms of a 100 ms read (jsonl, the benchmark capture).
        std::mem::forget(read.pipeline);
        return done;
    }
    check_not_clobbering(args.output.as_deref(), &[("recording", args.write.as_deref())])?;
    let port = args.source.port.unwrap_or(DEFAULT_PORT);
    let (mut source, mut kernel_view, kernel_off) = open_live_with(&args.source.interface, port, args.source.kernel)?;
    // Files are created after the privilege drop, so they belong to the user.
    let mut recorder = match &args.write {
        Some(p) => {
            Some(Recorder::create(p).with_context(|| crate::t!("cli-cannot-create", path = p.display().to_string()))?)
        }
        None => None,
    };
    let interrupted = stop_signals()?;
    let deadline = match args.duration {
        Some(s) if !(s.is_finite() && s >= 0.0) => {
            return Err(UsageError(crate::t!("cli-bad-duration", value = s.to_string())).into());
        }
        // Too far ahead to represent: no deadline at all.
        Some(s) => Duration::try_from_secs_f64(s).ok().and_then(|d| Instant::now().checked_add(d)),
        None => None,
    };
    let interface = source.interface().to_string();
    eprintln!("{}", crate::t!("cli-capturing", interface = interface, port = port.to_string()));
    if let Some(why) = kernel_off {
        eprintln!("{}", crate::t!("cli-said", line = why));
    }
    if kernel_view.is_some() && recorder.as_ref().is_some_and(|r| !r.keeps_kernel()) {
        eprintln!("{}", crate::t!("cli-pcap-no-kernel"));
    }
    let stop = Stop {
        count: args.count,
        deadline,
        interrupted: Some(&interrupted),
        only: args.connection,
        flush_each: true,
        progress: None,
    };
    let mut out = BufWriter::with_capacity(1 << 16, output(args.output.as_deref())?);
    let mut pipeline = Pipeline::new(Some(port), args.source.limits());
    pipeline.watch_udp();
    if let Some(view) = kernel_view.as_mut() {
        pipeline.tracker.watch_kernel();
        let (sockets, line) = view.snapshot();
        pipeline.tracker.kernel_snapshot(&sockets);
        if !line.is_empty() {
            eprintln!("{}", crate::t!("cli-said", line = line));
        }
    }
    let kernel = kernel_view.as_mut().map(|k| k as &mut dyn headless::KernelFeed);
    // The summary counts the connections written, during the run and after
    // it (those still open), not those the tracker still holds.
    let mut counted = Counted { inner: exporter.as_mut(), written: 0, flows: 0 };
    let result = headless::run(&mut source, &mut pipeline, &mut counted, &mut out, recorder.as_mut(), kernel, &stop);
    let k = source.kernel_stats();
    // The recording is finished whatever happened, and its own error (with
    // its cause) is reported after what the run printed.
    let recorded = recorder.take().map(|r| {
        let frames = r.frames;
        r.finish().map(|()| frames)
    });
    let printed = finish(result, &pipeline, &mut counted, &mut out, &stop);
    let (written, flows) = (counted.written, counted.flows);
    let flows = match flows {
        0 => String::new(),
        n => crate::t!("cli-udp-flows", n = n),
    };
    let frames = pipeline.counters.frames.to_string();
    eprintln!(
        "{}",
        crate::t!("cli-captured", frames = frames, drops = k.drops.to_string(), written = written, flows = flows)
    );
    if let Some(view) = &kernel_view {
        let (waiting, given_up) = pipeline.tracker.kernel_pending();
        let unmatched = (waiting as u64 + given_up).to_string();
        let (changes, lost) = (view.changes.to_string(), view.lost().to_string());
        eprintln!("{}", crate::t!("cli-kernel-summary", changes = changes, lost = lost, unmatched = unmatched));
    }
    if let (Some(p), Some(recorded)) = (&args.write, recorded) {
        let path = p.display().to_string();
        let frames = recorded.with_context(|| crate::t!("cli-cannot-finish-recording", path = path.clone()))?;
        eprintln!("{}", crate::t!("cli-recorded", frames = frames.to_string(), path = path));
    }
    printed
}

/// An exporter that counts the connections it writes (the live trace's
/// summary says how many).
struct Counted<'a> {
    inner: &'a mut dyn Exporter,
    written: u64,
    /// UDP flows written.
    flows: u64,
}

impl Exporter for Counted<'_> {
    fn append_udp(&mut self, flow: &crate::model::udp::Flow, out: &mut String) {
        self.flows += 1;
        self.inner.append_udp(flow, out);
    }

    fn append(&mut self, conn: &crate::model::tracker::Connection, out: &mut String) {
        self.written += 1;
        self.inner.append(conn, out);
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.inner.finish(out)
    }
}

/// After a headless run: open connections, the format's ending, the decode
/// summary, then the run's own error if it had one.
fn finish(
    result: Result<Ended, RunError>,
    pipeline: &Pipeline,
    exporter: &mut dyn Exporter,
    out: &mut dyn Write,
    stop: &Stop<'_>,
) -> Result<()> {
    let ended = result.as_ref().map_or(Ended::Input, |e| *e);
    headless::finish(ended, pipeline, exporter, out, stop)?;
    summarize(result, &pipeline.counters, pipeline.tracker.started(), stop)
}

/// After a run: the decode summary, then the run's own error if it had one
/// (or that the connection asked for was not there).
fn summarize(result: Result<Ended, RunError>, counters: &Counters, started: u64, stop: &Stop<'_>) -> Result<()> {
    if let Some(summary) = counters.error_summary() {
        eprintln!("{summary}");
    }
    if let Some(id) = stop.only
        && result.is_ok()
        && id > started
    {
        let held = match started {
            0 => crate::t!("cli-holds-none"),
            1 => crate::t!("cli-holds-one"),
            n => crate::t!("cli-holds-range", n = n.to_string()),
        };
        bail!(crate::t!("cli-no-connection", id = id.to_string(), held = held));
    }
    result.map(|_| ()).map_err(Into::into)
}

/// `synack serve`.
fn serve(args: &ServeArgs) -> Result<()> {
    if !args.addr.ip().is_loopback() {
        eprintln!("{}", crate::t!("cli-serve-exposed", addr = args.addr.to_string()));
    }
    // One descriptor per client: idle or slow ones must not starve the others.
    let _ = crate::os::sock::raise_fd_limit();
    let listener = echo::bind(args.addr)?;
    let addr = listener.local_addr().unwrap_or(args.addr);
    let stop = stop_signals()?;
    let server = echo::Server::start(listener, ServerConfig::default());
    // Printed so that scripts (and tests) binding port 0 learn the port.
    println!("{}", crate::t!("cli-serve-listening", addr = addr.to_string()));
    io::stdout().flush()?;
    match server.udp_addr() {
        Some(udp) => eprintln!(
            "{}",
            crate::t!("cli-serve-udp", addr = udp.to_string(), rate = crate::udp_echo::REPLIES_PER_SECOND.to_string())
        ),
        None => eprintln!("{}", crate::t!("cli-serve-udp-taken", addr = addr.to_string())),
    }
    server.wait(&stop);
    eprintln!("{}", crate::t!("cli-serve-stopped"));
    Ok(())
}

/// `synack client`.
fn client(args: &ClientArgs) -> Result<()> {
    if args.concurrency == 0 || args.repeat == 0 {
        return Err(UsageError(crate::t!("cli-bad-repeat")).into());
    }
    let report = echo::run_clients(args.scenario, args.addr, &args.message, args.repeat, args.concurrency);
    let name = args.scenario.name();
    let secs = report.elapsed.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rate = if secs > 0.0 { report.ok as f64 / secs } else { 0.0 };
    let retries = match (report.retries, args.scenario) {
        (0, _) => String::new(),
        (n, Scenario::Backlog) => crate::t!("cli-client-at-once", n = n),
        (n, _) => crate::t!("cli-client-retried", n = n),
    };
    match (&report.sample, args.repeat) {
        (Some(Outcome::Replied(r)), 1) => {
            let reply = format!("{:?}", String::from_utf8_lossy(r));
            println!("{}", crate::t!("cli-client-reply", name = name, reply = reply, retries = retries));
        }
        (Some(Outcome::Refused), 1) => println!("{}", crate::t!("cli-client-refused", name = name)),
        (Some(Outcome::PortUnreachable { to, sent }), 1) => println!(
            "{}",
            crate::t!("cli-client-unreachable", name = name, sent = sent.to_string(), to = to.to_string())
        ),
        _ => println!(
            "{}",
            crate::t!(
                "cli-client-load",
                name = name,
                ok = report.ok.to_string(),
                addr = args.addr.to_string(),
                secs = format!("{secs:.2}"),
                rate = format!("{rate:.0}"),
                failed = report.failed.to_string(),
                retries = retries
            )
        ),
    }
    if let Some(e) = report.first_error {
        let hint = if matches!(args.scenario, Scenario::Refused | Scenario::UdpClosed) {
            String::new()
        } else {
            crate::t!("cli-client-hint")
        };
        let failed = crate::t!(
            "cli-client-failed",
            failed = report.failed.to_string(),
            repeat = args.repeat.to_string(),
            addr = args.addr.to_string(),
            error = e.to_string()
        );
        bail!("{failed}{hint}");
    }
    Ok(())
}

/// Refuses a `--record` file that exists (before the terminal is touched).
fn check_record(path: Option<&Path>) -> Result<()> {
    match path {
        Some(p) if std::fs::symlink_metadata(p).is_ok() => {
            Err(UsageError(crate::t!("cli-refuse-record", path = p.display().to_string())).into())
        }
        _ => Ok(()),
    }
}

/// Fails with exit status 2 unless standard output is a terminal.
fn require_terminal() -> Result<()> {
    tui::require_terminal().map_err(|m| UsageError(m).into())
}

/// The built-in echo server on `addr`, if that port is free (`Ok(None)` when
/// something else already listens there).
fn maybe_serve(addr: SocketAddr, calls: echo::calls::CallSink) -> Result<Option<Arc<echo::Server>>> {
    match echo::bind(addr) {
        Ok(listener) => {
            let config = ServerConfig { calls: Some(calls), ..ServerConfig::default() };
            Ok(Some(Arc::new(echo::Server::start(listener, config))))
        }
        Err(echo::ServeError::Busy(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Where the built-in programs run by the dashboard report their own socket
/// calls: to the dashboard, in-process (no privilege needed; `--kernel off`
/// shows them too).
fn own_calls(tx: &std::sync::mpsc::SyncSender<tui::Msg>) -> echo::calls::CallSink {
    let tx = tx.clone();
    echo::calls::CallSink::new(move |c| {
        let _ = tx.send(tui::Msg::Calls(crate::capture::Replayed::of(vec![c])));
    })
}

/// Runs one scenario on a thread of its own: each connection's client port
/// goes to the dashboard before it connects, and how it went when it is over;
/// its calls go to the dashboard as it makes them.
fn run_scenario_in_background(
    scenario: Scenario,
    run: tui::app::RunId,
    addr: SocketAddr,
    tx: std::sync::mpsc::SyncSender<tui::Msg>,
) {
    let calls = own_calls(&tx);
    let failed = tx.clone();
    let spawned = std::thread::Builder::new().name("scenario".into()).spawn(move || {
        // Sent (waiting for room) before the connection's SYN can be captured:
        // the dashboard knows the connection's scenario from its first segment.
        let watch = |port| {
            let _ = tx.send(tui::Msg::ScenarioConnect { run, port });
        };
        // The scenario steers the server through its control channel (the
        // refused one pauses it there too).
        let result = echo::calls::with(Some(calls), || {
            echo::run_scenario_watched(scenario, addr, "helloworld", Some(&watch)).map_err(|e| e.to_string())
        });
        let _ = tx.send(tui::Msg::ScenarioDone { run, result });
    });
    // The dashboard (the tour) waits for every run to say how it went.
    if let Err(e) = spawned {
        let _ = failed.try_send(tui::Msg::ScenarioDone {
            run,
            result: Err(crate::t!("tui-notice-cannot-start", error = e.to_string())),
        });
    }
}

/// The dashboard's `e`: export the connection here and say where.
fn export_here(app: &mut tui::App, id: ConnId) {
    let Some(conn) = app.pipeline.tracker.get(id) else {
        return;
    };
    let dir = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let notice = match export::export_files(conn, &dir) {
        Ok(paths) => {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            crate::t!("tui-notice-exported", id = id.to_string(), files = names.join(", "))
        }
        Err(e) => crate::t!("tui-notice-export-failed", error = e.to_string()),
    };
    app.set_notice(notice);
}

/// `synack` without a subcommand: the live dashboard, or a replay with --read.
fn dashboard(args: &DashboardArgs) -> Result<()> {
    let time_wait = args.view.time_wait().map_err(UsageError)?;
    check_record(args.view.record.as_deref())?;
    require_terminal()?;
    let shared = Arc::new(tui::Shared::default());
    let (tx, rx) = tui::channel();
    if let Some(path) = &args.source.read {
        let source = open_capture(path)?;
        let pace =
            if path == Path::new("-") || args.step { tui::Pace::AsTheyCome } else { tui::Pace::Speed(args.speed) };
        if !(args.speed.is_finite() && args.speed >= 0.0) {
            return Err(UsageError(crate::t!("cli-bad-speed", value = args.speed.to_string())).into());
        }
        let name = if path == Path::new("-") { "stdin".to_string() } else { path.display().to_string() };
        tui::spawn_source(source, pace, tui::Loss::Never, tx.clone(), shared.clone(), |_| None)?;
        let mut pipeline = Pipeline::new(args.source.port, args.source.limits());
        // A file's UDP flows are listed too.
        pipeline.watch_udp();
        let mut app = tui::App::new(pipeline, tui::Source::Replay { name, step: args.step }, false);
        app.time_wait = time_wait;
        tui::run(app, (&tx, &rx), &shared, args.view.record.as_deref(), |action, app| {
            if let tui::Action::Export(id) = action {
                export_here(app, id);
            }
        })?;
        return Ok(());
    }
    let port = args.source.port.unwrap_or(DEFAULT_PORT);
    let (source, kernel, kernel_off) = open_live_with(&args.source.interface, port, args.source.kernel)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let server = if args.no_serve { None } else { maybe_serve(addr, own_calls(&tx))? };
    let pipeline = Pipeline::new(Some(port), args.source.limits());
    let live = Live { source, addr, server, scenarios: !args.no_serve, tour: None, kernel, kernel_off };
    run_live(live, (time_wait, args.view.record.as_deref()), pipeline, &shared, &tx, &rx)
}

/// What a live dashboard runs on.
struct Live {
    source: LiveSource,
    /// Where scenarios connect.
    addr: SocketAddr,
    /// The built-in server, when synack runs it (kept for as long as the dashboard runs).
    server: Option<Arc<echo::Server>>,
    /// Scenario keys work.
    scenarios: bool,
    /// The demo's tour.
    tour: Option<tui::app::Tour>,
    /// The kernel view, or why it is off.
    kernel: Option<KernelView>,
    kernel_off: Option<String>,
}

/// Starts the capture thread and runs the dashboard on it until the user quits.
fn run_live(
    live: Live,
    (time_wait, record): (Duration, Option<&Path>),
    pipeline: Pipeline,
    shared: &Arc<tui::Shared>,
    tx: &std::sync::mpsc::SyncSender<tui::Msg>,
    rx: &std::sync::mpsc::Receiver<tui::Msg>,
) -> Result<()> {
    let Live { mut source, addr, server: _server, scenarios, tour, kernel, kernel_off } = live;
    // The capture's filter takes UDP on the port too: its flows are listed.
    let mut pipeline = pipeline;
    pipeline.watch_udp();
    let interface = source.interface().to_string();
    // The first read resets the kernel's counters.
    let _ = source.kernel_stats();
    tui::spawn_source(source, tui::Pace::AsTheyCome, tui::Loss::Counted, tx.clone(), shared.clone(), |s| {
        let k = s.kernel_stats();
        Some((k.packets, k.drops))
    })?;
    let mut app = tui::App::new(pipeline, tui::Source::Live { interface, port: addr.port() }, scenarios);
    app.time_wait = time_wait;
    // The built-in programs (server and scenarios) report their own calls.
    app.own_pid = Some(std::process::id());
    app.tour = tour;
    match (kernel, kernel_off) {
        (Some(mut view), _) => {
            app.pipeline.tracker.watch_kernel();
            let (sockets, line) = view.snapshot();
            app.pipeline.tracker.kernel_snapshot(&sockets);
            if !line.is_empty() {
                app.set_notice(line);
            }
            app.kernel = Some(Ok(()));
            tui::spawn_kernel(view, tx.clone(), shared.clone())?;
        }
        (None, Some(why)) => {
            app.set_notice(why.clone());
            app.kernel = Some(Err(why));
        }
        (None, None) => {}
    }
    tui::listener::spawn(addr.port(), tx.clone(), shared.clone())?;
    let action_tx = tx.clone();
    tui::run(app, (tx, rx), shared, record, |action, app| match action {
        tui::Action::Run(s, run) => run_scenario_in_background(s, run, addr, action_tx.clone()),
        tui::Action::Export(id) => export_here(app, id),
        tui::Action::None | tui::Action::Quit => {}
    })?;
    Ok(())
}

/// `synack demo`.
fn demo(args: &DemoArgs) -> Result<()> {
    let time_wait = args.view.time_wait().map_err(UsageError)?;
    check_record(args.view.record.as_deref())?;
    require_terminal()?;
    let (source, kernel, kernel_off) = open_live_with("lo", args.port, KernelMode::Auto)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let listener = echo::bind(addr).map_err(|e| match e {
        echo::ServeError::Busy(a) => {
            anyhow!(crate::t!("cli-demo-port-busy", addr = a.to_string()))
        }
        other => other.into(),
    })?;
    let addr = listener.local_addr().unwrap_or(addr);
    let shared = Arc::new(tui::Shared::default());
    let (tx, rx) = tui::channel();
    let config = ServerConfig { calls: Some(own_calls(&tx)), ..ServerConfig::default() };
    let server = Arc::new(echo::Server::start(listener, config));
    let pipeline = Pipeline::new(Some(addr.port()), Limits::both(1_000));
    let tour = Some(tui::app::Tour::new(args.once));
    let live = Live { source, addr, server: Some(server), scenarios: true, tour, kernel, kernel_off };
    run_live(live, (time_wait, args.view.record.as_deref()), pipeline, &shared, &tx, &rx)
}
