//! Records one run of a built-in scenario with its socket calls: synack's
//! echo server (on a port of its own) and the scenario's client run in this
//! process and report their calls; the loopback capture's frames and the
//! calls go to a pcapng file (the calls as synack's custom blocks, as
//! `--write` keeps them). Needs root (the capture). Makes the fixtures with
//! calls (tests/fixtures/*-calls.pcapng, see scripts/record-fixtures.sh).
//!
//! `cargo run --example record-calls -- OUT.pcapng SCENARIO [PORT]`

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use synack::capture::record::Recorder;
use synack::capture::{FrameSource, Next};
use synack::echo::{self, calls};
use synack::model::call::CallKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: record-calls OUT.pcapng SCENARIO [PORT]";
    let out = args.next().ok_or(usage)?;
    let scenario = args.next().and_then(|s| synack::scenario::Scenario::from_name(&s)).ok_or(usage)?;
    let port: u16 = args.next().map_or(Ok(0), |p| p.parse())?;
    let (tx, rx) = mpsc::channel();
    let to = tx.clone();
    let sink = calls::CallSink::new(move |c| {
        let _ = to.send(c);
    });
    let listener = echo::bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    let server = echo::Server::start(listener, echo::ServerConfig { calls: Some(sink.clone()), ..Default::default() });
    let addr = server.addr();
    let mut source = synack::capture::live::LiveSource::open("lo", addr.port())?;
    let mut recorder = Recorder::create(std::path::Path::new(&out))?;
    let done = Arc::new(AtomicBool::new(false));
    let finished = done.clone();
    let client = std::thread::spawn(move || {
        let ran = calls::with(Some(sink), || echo::run_scenario_watched(scenario, addr, "helloworld", None));
        finished.store(true, Ordering::Relaxed);
        ran
    });
    // Until the scenario is over, the server has closed its socket, and the
    // capture has been quiet for 300 ms; 20 s at most.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut server_closed, mut quiet_since) = (false, Instant::now());
    let (mut frames, mut calls) = (0u64, 0u64);
    while Instant::now() < deadline {
        for c in rx.try_iter() {
            server_closed |= c.local.port() == addr.port() && c.kind == CallKind::Close;
            recorder.write_call(&c)?;
            calls += 1;
        }
        match source.next_frame()? {
            Next::Frame(f) => {
                recorder.write(&f)?;
                frames += 1;
                quiet_since = Instant::now();
            }
            Next::Idle | Next::End => {
                if done.load(Ordering::Relaxed) && server_closed && quiet_since.elapsed() > Duration::from_millis(300) {
                    break;
                }
            }
        }
    }
    let ran = client.join().map_err(|_| "the scenario panicked")??;
    server.stop();
    recorder.finish()?;
    let ok = matches!(ran.outcome, echo::Outcome::Replied(_));
    eprintln!(
        "{out}: {frames} frames, {calls} calls, scenario {} on port {} (replied: {ok})",
        scenario.name(),
        addr.port()
    );
    Ok(())
}
