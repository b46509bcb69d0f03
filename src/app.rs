//! Composition root: wires a source to the pipeline and to an exporter or the
//! dashboard. `anyhow` lives here and only here.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use crate::capture::pcap::PcapSource;
use crate::capture::{FrameSource, Next};
use crate::cli::{Cli, Command, TraceArgs};
use crate::export::{self, Exporter};
use crate::pipeline::Pipeline;

/// An error that exits with status 2: bad usage or missing privileges.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit status for an error: 2 for [`UsageError`], 1 otherwise.
#[must_use]
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<UsageError>().is_some() {
        2
    } else {
        1
    }
}

/// Runs the command line.
///
/// # Errors
/// Whatever stopped the command, with context for the user.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Trace(args)) => trace(&args),
        Some(Command::Demo(_)) => bail!("'synack demo' is not yet available in this build"),
        Some(Command::Serve(_)) => bail!("'synack serve' is not yet available in this build"),
        Some(Command::Client(_)) => bail!("'synack client' is not yet available in this build"),
        None => bail!(
            "the live dashboard is not yet available in this build; use 'synack trace --read FILE'"
        ),
    }
}

/// Opens `path` ('-' is standard input) as a capture.
fn open_capture(path: &Path) -> Result<PcapSource<Box<dyn Read>>> {
    let (reader, name): (Box<dyn Read>, String) = if path == Path::new("-") {
        (Box::new(io::stdin()), "standard input".to_string())
    } else {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        (Box::new(file), path.display().to_string())
    };
    Ok(PcapSource::new(reader, name)?)
}

fn output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        None => Box::new(io::stdout().lock()),
        Some(p) if p == Path::new("-") => Box::new(io::stdout().lock()),
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
    })
}

/// `synack trace`.
fn trace(args: &TraceArgs) -> Result<()> {
    let Some(path) = &args.source.read else {
        bail!("live capture ('synack trace' without --read) is not yet available in this build");
    };
    if args.write.is_some() {
        return Err(UsageError(
            "--write records a live capture; it cannot be used with --read".into(),
        )
        .into());
    }
    let mut exporter = export::exporter(args.format).ok_or_else(|| {
        anyhow!(
            "--format {:?} is not yet available in this build",
            args.format
        )
    })?;
    let mut source = open_capture(path)?;
    let streaming = path == Path::new("-");
    let mut out = BufWriter::with_capacity(1 << 16, output(args.output.as_deref())?);
    let mut pipeline = Pipeline::new(args.source.port, args.source.max_connections);
    let result = replay(
        &mut source,
        &mut pipeline,
        exporter.as_mut(),
        &mut out,
        args.count,
        streaming,
    );
    // Whatever happened, what was read so far is printed: then open connections.
    if result.as_ref().is_ok_and(|done| !done) || result.is_err() {
        for conn in pipeline.tracker.open_connections() {
            exporter.connection(conn, &mut out)?;
        }
    }
    out.flush().context("cannot write the output")?;
    if let Some(summary) = pipeline.counters.error_summary() {
        eprintln!("{summary}");
    }
    result.map(|_| ())
}

/// Feeds `source` through `pipeline`, writing each connection as it ends.
/// Returns `true` when `count` connections were written (stopped early).
fn replay<R: Read>(
    source: &mut PcapSource<R>,
    pipeline: &mut Pipeline,
    exporter: &mut dyn Exporter,
    out: &mut dyn Write,
    count: Option<u64>,
    streaming: bool,
) -> Result<bool> {
    let mut written = 0u64;
    loop {
        let push = match source.next_frame()? {
            Next::Frame(frame) => pipeline.frame(&frame),
            Next::Idle => continue,
            Next::End => return Ok(false),
        };
        let Some(push) = push else { continue };
        for id in push
            .superseded
            .into_iter()
            .chain(push.ended.then_some(push.id))
        {
            if let Some(conn) = pipeline.tracker.get(id) {
                exporter.connection(conn, out)?;
                written += 1;
                if streaming {
                    out.flush()?;
                }
                if count.is_some_and(|c| written >= c) {
                    return Ok(true);
                }
            }
        }
    }
}
