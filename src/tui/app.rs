//! The dashboard's state and its `update`: keys become messages, `update`
//! changes state, rendering only reads. No IO, no clock: time
//! arrives in messages, so `update` is tested without a terminal.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use crate::model::decode::DecodeError;
use crate::model::segment::{Segment, Timestamp};
use crate::model::tracker::{ConnId, Connection};
use crate::pipeline::Pipeline;
use crate::scenario::Scenario;

/// How long a kernel change waits for the segments around it before the
/// dashboard attaches it anyway.
pub const KERNEL_LAG_NANOS: u64 = 200_000_000;

/// Everything that reaches the main loop, over one channel.
#[derive(Debug)]
pub enum Msg {
    /// What decoding one frame gave (the capture thread decodes; the
    /// pipeline counts and tracks).
    Decoded(Result<Option<Segment>, DecodeError>),
    /// Kernel counters (summed).
    Kernel {
        packets: u64,
        drops: u64,
    },
    /// State changes the kernel made (the kernel view, live).
    KernelChanges(Vec<crate::model::kernel::Change>),
    /// The kernel's mini-sockets on the port and the end of their timers.
    KernelTimers(Vec<crate::model::kernel::Timer>),
    /// The source ended (with an error, or at the end of a file).
    SourceEnded(Option<String>),
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// The one-second clock: the wall time.
    Tick(Timestamp),
    /// The demo's caption for what comes next.
    Caption(String),
    /// A one-line notice (a scenario failed, a file was written).
    Notice(String),
    /// A stop signal arrived (SIGTERM, SIGHUP, SIGQUIT, SIGINT): quit.
    Stop,
}

/// What the runner should do after an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    /// Start a client scenario against the built-in server.
    Run(Scenario),
    /// Export this connection to files in the current folder.
    Export(ConnId),
}

/// Where segments come from, for the status line.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Live { interface: String, port: u16 },
    Replay { name: String, step: bool },
}

/// How the ladder's time column reads (`t` cycles through them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeMode {
    /// Milliseconds since the connection's first segment.
    Relative,
    /// Milliseconds since the segment before.
    Delta,
    /// Clock time of the capture (UTC).
    Absolute,
}

impl TimeMode {
    /// The next mode, for `t`.
    #[must_use]
    pub fn next(self) -> TimeMode {
        match self {
            TimeMode::Relative => TimeMode::Delta,
            TimeMode::Delta => TimeMode::Absolute,
            TimeMode::Absolute => TimeMode::Relative,
        }
    }
}

/// The list's order (`o` cycles through them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// As they started (the ids).
    Started,
    /// By close kind, then as they started.
    Kind,
    /// Longest first.
    Duration,
}

impl Sort {
    /// The next order, for `o`.
    #[must_use]
    pub fn next(self) -> Sort {
        match self {
            Sort::Started => Sort::Kind,
            Sort::Kind => Sort::Duration,
            Sort::Duration => Sort::Started,
        }
    }

    /// What the list's title says.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Sort::Started => "as they started",
            Sort::Kind => "by close kind",
            Sort::Duration => "longest first",
        }
    }
}

/// How long a notice stays on screen.
pub const NOTICE_SECS: u64 = 5;

/// The demo's tour, driven by the clock and by the presenter: each step runs
/// one scenario; its segments appear one by one; the next step comes once the
/// ladder is whole and has stood for a while. Space pauses the tour, `n` and
/// `p` go to the next and previous step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tour {
    /// The step on screen (an index into the scenarios that have a caption).
    pub step: Option<usize>,
    pub paused: bool,
    /// Stop after the last step instead of starting over.
    pub once: bool,
    /// The tour is over (`once`).
    pub done: bool,
    /// When the last segment was revealed (wall clock).
    last_reveal: Timestamp,
}

/// Time between two segments revealed by the tour.
pub const REVEAL_NANOS: u64 = 400_000_000;
/// How long a whole ladder stands before the next step.
pub const DWELL_NANOS: u64 = 4_000_000_000;

impl Tour {
    /// A tour from its first step.
    #[must_use]
    pub fn new(once: bool) -> Tour {
        Tour { step: None, paused: false, once, done: false, last_reveal: Timestamp(0) }
    }

    /// The steps: scenarios with a caption, in table order.
    #[must_use]
    pub fn steps() -> Vec<(&'static str, Scenario)> {
        crate::scenario::SCENARIOS.iter().filter_map(|i| Some((i.caption?, i.scenario))).collect()
    }
}

/// Which pane the arrow keys move in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    List,
    Ladder,
}

/// Segments held back while paused (or in step mode) are bounded: past this
/// many, new ones are counted and dropped.
pub const HELD_MAX: usize = 1_000_000;

/// The dashboard's state.
#[derive(Debug)]
pub struct App {
    pub pipeline: Pipeline,
    pub source: Source,
    /// The selected connection; `None` with `follow` shows the newest.
    pub selected: Option<ConnId>,
    /// The list follows the newest connection.
    pub follow: bool,
    /// The selected segment of the selected connection; `None` follows its latest.
    pub segment: Option<usize>,
    pub focus: Focus,
    /// The view is frozen; capture goes on and segments wait in `held`.
    pub paused: bool,
    pub held: VecDeque<Segment>,
    /// Segments dropped because `held` was full.
    pub held_dropped: u64,
    pub help: bool,
    /// Scenario keys work (a server is there to talk to).
    pub scenarios: bool,
    /// The current time: wall clock live, the capture's clock in a replay.
    pub now: Timestamp,
    /// How long TIME-WAIT lasts before the view shows CLOSED (Linux: 60 s).
    pub time_wait: std::time::Duration,
    pub kernel_packets: u64,
    pub kernel_drops: u64,
    /// Messages lost because the channel was full.
    pub overflow: u64,
    /// A one-line notice (export written, source ended...), and the wall
    /// time it was given: it goes after [`NOTICE_SECS`].
    pub notice: Option<String>,
    pub notice_at: Timestamp,
    /// The wall clock, as the clock thread last told it.
    pub wall: Timestamp,
    /// How the time column reads.
    pub time_mode: TimeMode,
    /// The demo's tour, when this is the demo.
    pub tour: Option<Tour>,
    /// The list's filter (`/`): words that a shown connection matches, all of
    /// them; and whether it is being typed.
    pub filter: String,
    pub typing: bool,
    /// The list's order.
    pub sort: Sort,
    /// The state-diagram panel is on (`d`).
    pub diagram: bool,
    /// The kernel view: on, or why it is off (`None`: not asked for).
    pub kernel: Option<Result<(), String>>,
    /// The demo's caption.
    pub caption: Option<String>,
    /// The source has ended.
    pub ended: bool,
    /// The terminal's size, for mouse clicks (rendering gets its own area).
    pub size: ratatui::layout::Rect,
}

impl App {
    /// A dashboard for `source`.
    #[must_use]
    pub fn new(pipeline: Pipeline, source: Source, scenarios: bool) -> App {
        App {
            pipeline,
            source,
            selected: None,
            follow: true,
            segment: None,
            focus: Focus::List,
            paused: false,
            held: VecDeque::new(),
            held_dropped: 0,
            help: false,
            scenarios,
            now: Timestamp(0),
            time_wait: crate::model::tcp::TIME_WAIT,
            kernel_packets: 0,
            kernel_drops: 0,
            overflow: 0,
            notice: None,
            notice_at: Timestamp(0),
            wall: Timestamp(0),
            time_mode: TimeMode::Relative,
            tour: None,
            filter: String::new(),
            typing: false,
            sort: Sort::Started,
            diagram: false,
            kernel: None,
            caption: None,
            ended: false,
            size: ratatui::layout::Rect::default(),
        }
    }

    /// In step mode each key press releases one segment.
    #[must_use]
    pub fn stepping(&self) -> bool {
        matches!(self.source, Source::Replay { step: true, .. })
    }

    /// Whether `conn` matches the filter: each word is a port, part of an
    /// address, a close kind or a state (either endpoint's, now).
    #[must_use]
    pub fn matches(&self, conn: &Connection) -> bool {
        self.filter.split_whitespace().all(|word| {
            let word = word.to_ascii_lowercase();
            let addrs = [conn.client.addr, conn.server.addr];
            word.parse::<u16>().is_ok_and(|p| addrs.iter().any(|a| a.port() == p))
                || addrs.iter().any(|a| a.to_string().contains(&word))
                || conn.close_kind().name() == word
                || [conn.client.state, conn.server.state].iter().any(|s| s.name().eq_ignore_ascii_case(&word))
        })
    }

    /// The connections the list shows, in its order.
    #[must_use]
    pub fn visible(&self) -> Vec<&Connection> {
        let mut shown: Vec<&Connection> = self.pipeline.tracker.connections().filter(|c| self.matches(c)).collect();
        match self.sort {
            Sort::Started => {}
            Sort::Kind => shown.sort_by_key(|c| (c.close_kind().name(), c.id)),
            Sort::Duration => shown.sort_by_key(|c| (std::cmp::Reverse(c.last().0.saturating_sub(c.start().0)), c.id)),
        }
        shown
    }

    /// The newest connection the list shows.
    fn newest(&self) -> Option<&Connection> {
        self.pipeline.tracker.connections().rev().find(|c| self.matches(c))
    }

    /// The connection on screen.
    #[must_use]
    pub fn current(&self) -> Option<&Connection> {
        let tracker = &self.pipeline.tracker;
        match self.selected {
            Some(id) if !self.follow => tracker.get(id).or_else(|| self.newest()),
            _ => self.newest(),
        }
    }

    /// The segment index on screen in the current connection.
    #[must_use]
    pub fn current_segment(&self) -> Option<usize> {
        let n = self.current()?.records.len();
        if n == 0 {
            return None;
        }
        Some(self.segment.map_or(n - 1, |i| i.min(n - 1)))
    }

    fn apply(&mut self, seg: &Segment) {
        self.now = self.now.max(seg.ts);
        self.pipeline.track(seg);
    }

    /// Handles one message.
    pub fn update(&mut self, msg: Msg) -> Action {
        match msg {
            Msg::Decoded(decoded) => {
                let Some(seg) = self.pipeline.count(decoded) else {
                    return Action::None;
                };
                if self.paused || self.stepping() || self.tour.is_some() {
                    if self.held.len() < HELD_MAX {
                        self.held.push_back(seg);
                    } else {
                        self.held_dropped += 1;
                    }
                } else {
                    self.apply(&seg);
                }
            }
            Msg::Kernel { packets, drops } => {
                self.kernel_packets = packets;
                self.kernel_drops = drops;
            }
            Msg::KernelTimers(timers) => self.pipeline.tracker.kernel_timers(&timers),
            Msg::KernelChanges(changes) => {
                if !self.pipeline.tracker.kernel_on() {
                    // A replay of a recording that holds the kernel view.
                    self.pipeline.tracker.watch_kernel();
                    self.kernel = Some(Ok(()));
                }
                for c in changes {
                    self.pipeline.tracker.kernel(c);
                }
            }
            Msg::SourceEnded(err) => {
                self.ended = true;
                self.pipeline.tracker.kernel_flush(Timestamp(u64::MAX));
                let read = self.pipeline.counters.segments;
                self.set_notice(match err {
                    Some(e) => format!("capture stopped: {e}"),
                    None if read == 0 => "the capture holds no TCP segment on the watched port".to_string(),
                    // Stepping: everything was read, and is yet to be shown.
                    None if !self.held.is_empty() => {
                        format!("capture read: {} segments to step through (space)", self.held.len())
                    }
                    None => "end of capture".to_string(),
                });
            }
            Msg::Tick(t) => {
                self.wall = t;
                if let Some(action) = self.tour_tick() {
                    if matches!(self.source, Source::Live { .. }) {
                        self.now = self.now.max(t);
                    }
                    return action;
                }
                if self.notice.is_some() && t.0.saturating_sub(self.notice_at.0) >= NOTICE_SECS * 1_000_000_000 {
                    self.notice = None;
                }
                if matches!(self.source, Source::Live { .. }) {
                    self.now = self.now.max(t);
                    // Kernel changes older than the capture's lag: their
                    // segments are in.
                    self.pipeline.tracker.kernel_flush(Timestamp(t.0.saturating_sub(KERNEL_LAG_NANOS)));
                }
            }
            Msg::Caption(c) => self.caption = Some(c),
            Msg::Notice(n) => self.set_notice(n),
            Msg::Stop => return Action::Quit,
            Msg::Resize(width, height) => self.size = ratatui::layout::Rect::new(0, 0, width, height),
            Msg::Mouse(m) => self.mouse(m),
            Msg::Key(k) => return self.key(k),
        }
        Action::None
    }

    /// The tour's clock: reveals the next held segment, or starts the next
    /// step once the ladder is whole and has stood for [`DWELL_NANOS`].
    fn tour_tick(&mut self) -> Option<Action> {
        let wall = self.wall;
        let tour = self.tour.as_mut()?;
        if tour.paused || tour.done {
            return None;
        }
        if !self.held.is_empty() {
            if wall.0.saturating_sub(tour.last_reveal.0) >= REVEAL_NANOS {
                tour.last_reveal = wall;
                if let Some(seg) = self.held.pop_front() {
                    self.apply(&seg);
                    self.segment = None;
                }
            }
            return None;
        }
        let first = tour.step.is_none();
        if !first && wall.0.saturating_sub(tour.last_reveal.0) < DWELL_NANOS {
            return None;
        }
        Some(self.tour_go(1))
    }

    /// Moves the tour by `delta` steps (from before the first step, to it)
    /// and runs that step's scenario.
    fn tour_go(&mut self, delta: isize) -> Action {
        let steps = Tour::steps();
        let Some(tour) = self.tour.as_mut() else { return Action::None };
        // What is held belongs to the step being left: show it whole.
        while let Some(seg) = self.held.pop_front() {
            self.pipeline.track(&seg);
        }
        let next = match tour.step {
            None => 0,
            Some(at) => {
                let to = at.saturating_add_signed(delta);
                if to >= steps.len() {
                    if tour.once {
                        tour.done = true;
                        self.caption =
                            Some(format!("The tour is over: {} steps. p shows a step again; q quits.", steps.len()));
                        return Action::None;
                    }
                    0
                } else {
                    to
                }
            }
        };
        tour.step = Some(next);
        tour.done = false;
        tour.last_reveal = self.wall;
        let (caption, scenario) = steps[next];
        self.caption = Some(format!("Step {}/{}: {caption}", next + 1, steps.len()));
        self.follow = true;
        self.selected = None;
        self.segment = None;
        Action::Run(scenario)
    }

    /// Shows a notice for [`NOTICE_SECS`].
    pub fn set_notice(&mut self, text: String) {
        self.notice = Some(text);
        self.notice_at = self.wall;
    }

    /// Rows of the connection list on screen (for PageUp / PageDown).
    fn list_page(&self) -> isize {
        super::ui::Screen::of(self.size, self).map_or(5, |s| isize::try_from(s.list_rows().height).unwrap_or(5).max(1))
    }

    fn mouse(&mut self, m: MouseEvent) {
        // The wheel moves through connections (or, with the ladder focused, segments).
        let wheel = match m.kind {
            MouseEventKind::ScrollUp => Some(-1),
            MouseEventKind::ScrollDown => Some(1),
            _ => None,
        };
        if let Some(delta) = wheel {
            match self.focus {
                Focus::List => self.select_connection(delta),
                Focus::Ladder => self.select_segment(delta),
            }
            return;
        }
        if m.kind != MouseEventKind::Down(MouseButton::Left) {
            return;
        }
        let Some(screen) = super::ui::Screen::of(self.size, self) else {
            return;
        };
        let a = screen.list_rows();
        if !a.contains(ratatui::layout::Position::new(m.column, m.row)) {
            return;
        }
        let index = super::ui::list_offset(self, usize::from(a.height)) + usize::from(m.row - a.y);
        let picked = self.visible().get(index).map(|c| c.id);
        if let Some(id) = picked {
            self.selected = Some(id);
            self.follow = false;
            self.segment = None;
            self.focus = Focus::List;
        }
    }

    /// Moves the connection selection by `delta` (negative: up).
    pub fn select_connection(&mut self, delta: isize) {
        let ids: Vec<ConnId> = self.visible().iter().map(|c| c.id).collect();
        if ids.is_empty() {
            return;
        }
        let current = self.current().map(|c| c.id);
        let pos = current.and_then(|id| ids.iter().position(|&i| i == id)).unwrap_or(ids.len() - 1);
        let next = pos.saturating_add_signed(delta).min(ids.len() - 1);
        self.selected = Some(ids[next]);
        // Following resumes only with `f`; moving to the newest keeps it selected.
        self.follow = false;
        self.segment = None;
    }

    /// Moves the segment selection by `delta`.
    pub fn select_segment(&mut self, delta: isize) {
        let Some(cur) = self.current_segment() else {
            return;
        };
        let n = self.current().map_or(0, |c| c.records.len());
        let next = cur.saturating_add_signed(delta).min(n.saturating_sub(1));
        if self.follow {
            // Pin the connection on screen so it does not move under the cursor.
            self.selected = self.current().map(|c| c.id);
            self.follow = false;
        }
        self.segment = Some(next);
    }

    /// Releases one held segment (step mode).
    pub fn step(&mut self) {
        if let Some(seg) = self.held.pop_front() {
            self.apply(&seg);
            self.segment = None;
        }
    }

    /// Pauses or resumes the view; resuming applies what was held.
    pub fn toggle_pause(&mut self) {
        self.paused = !self.paused;
        if !self.paused && !self.stepping() {
            while let Some(seg) = self.held.pop_front() {
                self.apply(&seg);
            }
        }
    }

    fn key(&mut self, k: KeyEvent) -> Action {
        if k.kind != KeyEventKind::Press {
            return Action::None;
        }
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        if self.typing {
            // Typing the filter: Enter keeps it, Esc drops it.
            match k.code {
                KeyCode::Enter => self.typing = false,
                KeyCode::Esc => {
                    self.typing = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char('c') if ctrl => return Action::Quit,
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            self.segment = None;
            return Action::None;
        }
        if self.help {
            // Any key closes the help, as it says; Ctrl-C still quits.
            self.help = false;
            return if ctrl && k.code == KeyCode::Char('c') { Action::Quit } else { Action::None };
        }
        let scenario = |s| {
            if self.scenarios { Action::Run(s) } else { Action::None }
        };
        match k.code {
            KeyCode::Char('c') if ctrl => return Action::Quit,
            KeyCode::Char('q') | KeyCode::Esc => return Action::Quit,
            KeyCode::Char('?') => self.help = true,
            KeyCode::Up => match self.focus {
                Focus::List => self.select_connection(-1),
                Focus::Ladder => self.select_segment(-1),
            },
            KeyCode::Down => match self.focus {
                Focus::List => self.select_connection(1),
                Focus::Ladder => self.select_segment(1),
            },
            KeyCode::Left | KeyCode::Char('k') => self.select_segment(-1),
            KeyCode::Right | KeyCode::Char('j') => self.select_segment(1),
            KeyCode::Home => {
                self.segment = Some(0);
                self.selected = self.current().map(|c| c.id);
                self.follow = false;
            }
            KeyCode::End => self.segment = None,
            KeyCode::PageUp => self.select_connection(-self.list_page()),
            KeyCode::PageDown => self.select_connection(self.list_page()),
            KeyCode::Char('g') => self.select_connection(isize::MIN / 2),
            KeyCode::Char('G') => self.select_connection(isize::MAX / 2),
            KeyCode::Char('t') => self.time_mode = self.time_mode.next(),
            KeyCode::Char('o') => self.sort = self.sort.next(),
            KeyCode::Char('d') => {
                self.diagram = !self.diagram;
                if self.diagram && super::ui::Screen::of(self.size, self).is_some_and(|s| s.diagram.is_none()) {
                    self.set_notice(super::ui::DIAGRAM_TOO_SMALL.to_string());
                }
            }
            KeyCode::Char('/') => {
                self.typing = true;
                self.filter.clear();
            }
            KeyCode::Enter | KeyCode::Tab => {
                self.focus = if self.focus == Focus::List { Focus::Ladder } else { Focus::List };
            }
            KeyCode::Char(' ') if self.tour.is_some() => {
                if let Some(t) = self.tour.as_mut() {
                    t.paused = !t.paused;
                }
            }
            KeyCode::Char('n') if self.tour.is_some() => return self.tour_go(1),
            KeyCode::Char('p') if self.tour.is_some() => return self.tour_go(-1),
            KeyCode::Char(' ') => {
                if self.stepping() {
                    self.step();
                } else {
                    self.toggle_pause();
                }
            }
            KeyCode::Char('f') => {
                self.follow = true;
                self.selected = None;
                self.segment = None;
            }
            KeyCode::Char('c') => {
                self.pipeline.tracker.clear_finished();
                self.segment = None;
                if self.selected.is_some_and(|id| self.pipeline.tracker.get(id).is_none()) {
                    self.selected = None;
                    self.follow = true;
                }
            }
            KeyCode::Char('e') => {
                if let Some(c) = self.current() {
                    return Action::Export(c.id);
                }
            }
            KeyCode::Char(c) if Scenario::from_key(c).is_some() => {
                return Scenario::from_key(c).map_or(Action::None, scenario);
            }
            _ => {}
        }
        Action::None
    }
}
