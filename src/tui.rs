//! The live dashboard: terminal setup and restore, the input and clock threads,
//! and the loop that drains the one channel, applies what came, then draws once.
//!
//! ```text
//!  capture thread ──Segment/Undecodable/Stats──┐
//!  input thread ───Key/Mouse/Resize────────────┼──▶ sync_channel ──▶ main: App::update, draw once
//!  clock thread ───Tick (1 s)──────────────────┤
//!  demo tour ──────Caption─────────────────────┘
//! ```

pub mod app;
pub mod cast;
pub mod columns;
pub mod layout;
pub mod listener;
pub mod runs;
pub mod ui;

use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};

use crate::capture::{FrameSource, Next};
use crate::model::decode;
use crate::model::segment::Timestamp;
pub use app::{Action, App, Msg, Source};

/// The shortest time between two frames: 30 frames a second at most.
pub const FRAME: Duration = Duration::from_millis(33);

/// Messages in flight at most; a capture that outruns the view is counted, not blocked.
pub const CHANNEL_CAPACITY: usize = 65_536;

/// The wall clock as a capture timestamp (the core never reads a clock).
#[must_use]
pub fn wall_clock() -> Timestamp {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp(u64::try_from(now.as_nanos()).unwrap_or(0))
}

/// Shared between the threads and the loop.
#[derive(Debug, Default)]
pub struct Shared {
    /// Set to stop every thread.
    pub stop: AtomicBool,
    /// Messages the capture could not send because the channel was full.
    pub overflow: AtomicU64,
    /// Segments the view holds back (paused, or stepping), as the main loop
    /// last saw them; a file or stdin source waits while there are too many.
    pub held: Mutex<usize>,
    /// Signalled when `held` falls or the threads stop.
    pub room: Condvar,
    /// Whether a TIME-WAIT countdown is on screen, as last drawn: the kernel
    /// thread lists the mini-sockets (which feed the countdowns) only then.
    pub countdown: AtomicBool,
    /// Whether the listener lane is on screen, as last drawn: its thread
    /// asks the kernel for the queues only then ([`listener::spawn`]).
    pub lane: AtomicBool,
}

/// How often the loop looks whether a countdown is on screen ([`Shared::countdown`]).
const COUNTDOWN_CHECK: Duration = Duration::from_millis(250);

/// Held segments past which a file or stdin source waits for the view.
pub const HELD_HIGH: usize = 50_000;

impl Shared {
    /// Publishes how many segments the view holds back, waking a waiting source.
    pub fn set_held(&self, n: usize) {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = n;
        self.room.notify_all();
    }

    /// Stops every thread, waking a waiting source.
    pub fn stop_all(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let _guard = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        self.room.notify_all();
    }

    /// Waits while the view holds back [`HELD_HIGH`] segments or more.
    /// Returns `false` when asked to stop.
    fn wait_for_room(&self) -> bool {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let _held = self
            .room
            .wait_while(held, |n| *n >= HELD_HIGH && !self.stop.load(Ordering::Relaxed))
            .unwrap_or_else(PoisonError::into_inner);
        !self.stop.load(Ordering::Relaxed)
    }
}

/// How a source thread paces a replay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// As frames come (live capture, a stream on stdin).
    AsTheyCome,
    /// At the capture's own pace times this factor (0 = as fast as possible).
    Speed(f64),
}

/// Whether a source may lose frames when the view falls behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// A live capture cannot wait: what does not fit the channel is counted
    /// ("lost (view behind)") and the kernel keeps the rest.
    Counted,
    /// A file or a stream on stdin can: the source waits for room (a full
    /// channel, or too many segments held back by a paused or stepping view),
    /// and nothing read is ever dropped.
    Never,
}

/// What the capture thread sends for one frame: its TCP segment (or why it
/// is none), or, when it is not TCP, its UDP datagram (or the quote of an
/// ICMP error about one) if it is that.
#[must_use]
pub fn frame_message(frame: &decode::Frame<'_>) -> Msg {
    match decode::decode(frame) {
        Ok(None) => decode::datagram(frame).map_or(Msg::Decoded(Ok(None)), Msg::Datagram),
        decoded => Msg::Decoded(decoded),
    }
}

/// Starts the thread that reads `source`, decodes, and sends segments. It
/// never panics; on a full channel it counts ([`Loss::Counted`]) or waits
/// ([`Loss::Never`]). `stats` is polled about once a second for kernel counters.
pub fn spawn_source<S, F>(
    mut source: S,
    pace: Pace,
    loss: Loss,
    tx: SyncSender<Msg>,
    shared: Arc<Shared>,
    mut stats: F,
) -> io::Result<thread::JoinHandle<()>>
where
    S: FrameSource + Send + 'static,
    F: FnMut(&mut S) -> Option<(u64, u64)> + Send + 'static,
{
    thread::Builder::new().name("capture".into()).spawn(move || {
        let send = |msg: Msg| match loss {
            Loss::Never => shared.wait_for_room() && tx.send(msg).is_ok(),
            Loss::Counted => match tx.try_send(msg) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    shared.overflow.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            },
        };
        let started = Instant::now();
        // Live: when the last read found nothing (everything captured until
        // then has been sent), and whether frames were sent since it was said.
        let (mut idle_at, mut news) = (None, false);
        let mut first: Option<Timestamp> = None;
        let mut last_stats = Instant::now();
        while !shared.stop.load(Ordering::Relaxed) {
            if last_stats.elapsed() >= Duration::from_secs(1) {
                last_stats = Instant::now();
                if let Some((packets, drops)) = stats(&mut source) {
                    let _ = send(Msg::Kernel { packets, drops });
                }
                // Said again once a second while nothing comes.
                if let Some(t) = idle_at {
                    let _ = tx.try_send(Msg::CaughtUp(t));
                }
            }
            let msg = match source.next_frame() {
                Ok(Next::Frame(frame)) => {
                    if let Pace::Speed(x) = pace
                        && x > 0.0
                    {
                        let t0 = *first.get_or_insert(frame.ts);
                        #[allow(clippy::cast_precision_loss)]
                        let due = Duration::try_from_secs_f64((frame.ts.0.saturating_sub(t0.0)) as f64 / 1e9 / x)
                            .unwrap_or(Duration::MAX);
                        // Sleep in slices so a stop request is noticed.
                        while let Some(wait) = due.checked_sub(started.elapsed()) {
                            if shared.stop.load(Ordering::Relaxed) {
                                return;
                            }
                            thread::sleep(wait.min(Duration::from_millis(100)));
                        }
                    }
                    frame_message(&frame)
                }
                Ok(Next::Idle) => {
                    // A stream's kernel changes read while waiting for frames.
                    let changes = source.take_kernel();
                    if !changes.is_empty() && !send(Msg::KernelChanges(changes)) {
                        return;
                    }
                    let calls = source.take_calls();
                    if !calls.is_empty() && !send(Msg::Calls(calls)) {
                        return;
                    }
                    // Live: everything captured until now has been sent; said
                    // at once after frames, then with the counters (a full
                    // channel skips it).
                    if loss == Loss::Counted {
                        let now = wall_clock();
                        idle_at = Some(now);
                        if std::mem::take(&mut news) {
                            let _ = tx.try_send(Msg::CaughtUp(now));
                        }
                    }
                    continue;
                }
                Ok(Next::End) => {
                    // A recording's kernel changes after its last frame (a
                    // recorder writes them as it polls the kernel, after
                    // the frames they go with).
                    let changes = source.take_kernel();
                    if !changes.is_empty() {
                        let _ = send(Msg::KernelChanges(changes));
                    }
                    let calls = source.take_calls();
                    if !calls.is_empty() {
                        let _ = send(Msg::Calls(calls));
                    }
                    let _ = tx.send(Msg::SourceEnded(None));
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Msg::SourceEnded(Some(e.to_string())));
                    return;
                }
            };
            if !send(msg) {
                return;
            }
            (idle_at, news) = (None, true);
            // A recording's kernel changes and calls, read with the frames.
            let changes = source.take_kernel();
            if !changes.is_empty() && !send(Msg::KernelChanges(changes)) {
                return;
            }
            let calls = source.take_calls();
            if !calls.is_empty() && !send(Msg::Calls(calls)) {
                return;
            }
        }
    })
}

/// Kernel changes the kernel thread keeps while the channel is full (about
/// a second of the top rate, 12 MB), beyond the kernel's own rings.
const KERNEL_BACKLOG: usize = 131_072;

/// Starts the thread that reads the kernel view's changes (every 10 ms, or
/// when a perf ring reaches its watermark; the mini-sockets only while
/// a countdown is on screen) and sends them to the main loop, until asked
/// to stop. It never waits for room in the channel (the rings must be read
/// meanwhile): changes wait in a backlog, timers are listed again. Changes
/// lost (the kernel's rings or the backlog full) are said in a notice.
pub fn spawn_kernel(
    mut view: crate::capture::kernel::KernelView,
    tx: SyncSender<Msg>,
    shared: Arc<Shared>,
) -> io::Result<thread::JoinHandle<()>> {
    thread::Builder::new().name("kernel".into()).spawn(move || {
        let (mut backlog, mut dropped, mut reported) = (Vec::new(), 0u64, 0u64);
        let mut calls: Vec<crate::model::call::Call> = Vec::new();
        while !shared.stop.load(Ordering::Relaxed) {
            let update = view.wait(shared.countdown.load(Ordering::Relaxed));
            if let Some(timers) = update.timers
                && let Err(TrySendError::Disconnected(_)) = tx.try_send(Msg::KernelTimers(timers))
            {
                return;
            }
            backlog.extend(update.changes);
            let over = backlog.len().saturating_sub(KERNEL_BACKLOG);
            backlog.drain(..over);
            dropped += over as u64;
            if !backlog.is_empty() {
                match tx.try_send(Msg::KernelChanges(std::mem::take(&mut backlog))) {
                    Ok(()) => {}
                    Err(TrySendError::Full(Msg::KernelChanges(back))) => backlog = back,
                    Err(_) => return,
                }
            }
            // Other programs' socket calls: the same backlog discipline.
            calls.extend(update.calls);
            let over = calls.len().saturating_sub(KERNEL_BACKLOG);
            calls.drain(..over);
            dropped += over as u64;
            if !calls.is_empty() {
                match tx.try_send(Msg::KernelCalls(std::mem::take(&mut calls))) {
                    Ok(()) => {}
                    Err(TrySendError::Full(Msg::KernelCalls(back))) => calls = back,
                    Err(_) => return,
                }
            }
            let lost = view.lost() + dropped;
            if lost > reported {
                let notice = crate::t!("tui-notice-kernel-lost", n = lost);
                match tx.try_send(Msg::Notice(notice)) {
                    Ok(()) => reported = lost,
                    Err(TrySendError::Full(_)) => {}
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
        }
    })
}

/// Starts the input thread (keys, mouse, resize) and the one-second clock.
fn spawn_input_and_clock(tx: &SyncSender<Msg>, shared: &Arc<Shared>) -> io::Result<()> {
    let (itx, ishared) = (tx.clone(), shared.clone());
    thread::Builder::new().name("input".into()).spawn(move || {
        while !ishared.stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(250)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => return,
            }
            let msg = match event::read() {
                Ok(Event::Key(k)) => Msg::Key(k),
                Ok(Event::Mouse(m)) => Msg::Mouse(m),
                Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                Ok(_) => continue,
                Err(_) => return,
            };
            if itx.send(msg).is_err() {
                return;
            }
        }
    })?;
    let (ctx, cshared) = (tx.clone(), shared.clone());
    thread::Builder::new().name("clock".into()).spawn(move || {
        while !cshared.stop.load(Ordering::Relaxed) {
            // A quarter of a second: ages and countdowns, and the demo's pace.
            thread::sleep(Duration::from_millis(250));
            if ctx.try_send(Msg::Tick(wall_clock())).is_err() && cshared.stop.load(Ordering::Relaxed) {
                return;
            }
        }
    })?;
    Ok(())
}

/// The dashboard's channel.
#[must_use]
pub fn channel() -> (SyncSender<Msg>, Receiver<Msg>) {
    mpsc::sync_channel(CHANNEL_CAPACITY)
}

/// Fails unless standard output is a terminal.
///
/// # Errors
/// With the message the user sees.
pub fn require_terminal() -> Result<(), String> {
    if io::stdout().is_terminal() { Ok(()) } else { Err(crate::t!("tui-needs-terminal")) }
}

/// Restores the terminal when dropped: on return, on error and on panic
/// (ratatui's panic hook also restores it for panics in any thread). The
/// alternate screen is cleared before it is left: after a resize, tmux
/// otherwise leaves its last frame on the restored screen.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = crossterm::execute!(
            io::stdout(),
            DisableMouseCapture,
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All),
            crossterm::cursor::Show
        );
        ratatui::restore();
    }
}

/// Runs the dashboard until the user quits. `on_action` carries out what the
/// app asks for (start a scenario, pause the server...).
///
/// # Errors
/// When the terminal cannot be set up or drawn.
pub fn run(
    mut app: App,
    channel: (&SyncSender<Msg>, &Receiver<Msg>),
    shared: &Arc<Shared>,
    record: Option<&std::path::Path>,
    mut on_action: impl FnMut(Action, &mut App),
) -> io::Result<()> {
    let (tx, rx) = channel;
    // A stop signal quits through the loop, so the guard restores the terminal.
    let stx = tx.clone();
    crate::signals::on_stop(move |_| {
        let _ = stx.send(Msg::Stop);
    })?;
    // ratatui sets the terminal up (raw mode, alternate screen, a panic hook
    // that restores it); frames go through a Tee that can record them.
    let size = ratatui::try_init()?.size()?;
    let _guard = TerminalGuard;
    let cast = match record {
        Some(path) => Some(
            cast::Cast::create(path, size.width, size.height)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot record to {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(cast::Tee::new(io::stdout(), cast)))?;
    crossterm::execute!(io::stdout(), EnableMouseCapture)?;
    spawn_input_and_clock(tx, shared)?;
    if matches!(app.source, Source::Live { .. }) {
        app.now = wall_clock();
    }
    let size = terminal.size()?;
    app.update(Msg::Resize(size.width, size.height));
    let mut drawn = Instant::now();
    let mut counted: Option<Instant> = None;
    loop {
        app.overflow = shared.overflow.load(Ordering::Relaxed);
        terminal.draw(|frame| ui::render(&app, frame))?;
        // For the kernel thread (see `spawn_kernel`), a few times a second.
        if counted.is_none_or(|t| t.elapsed() >= COUNTDOWN_CHECK) {
            shared.countdown.store(ui::countdown_shown(&app), Ordering::Relaxed);
            shared.lane.store(app.lane_shown(), Ordering::Relaxed);
            counted = Some(Instant::now());
        }
        drawn = drawn.max(Instant::now());
        // Block for the first message, then let the rest of the frame's time
        // pass and take what came meanwhile at once (bounded, so the screen
        // keeps up under load), then draw once; at most 30 frames a second.
        // Under load this thread is woken once a frame, not once a message:
        // in a virtual machine each wakeup costs an interrupt on the CPU that
        // runs the traced programs.
        let Ok(first) = rx.recv() else { break };
        let mut quit = false;
        let left = (drawn + FRAME).saturating_duration_since(Instant::now());
        if !left.is_zero() {
            thread::sleep(left);
        }
        for msg in std::iter::once(first).chain(rx.try_iter().take(100_000)) {
            match app.update(msg) {
                Action::None => {}
                Action::Quit => quit = true,
                other => on_action(other, &mut app),
            }
        }
        shared.set_held(app.held.len());
        if quit {
            break;
        }
    }
    shared.stop_all();
    Ok(())
}
