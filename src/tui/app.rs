//! The dashboard's state and its `update`: keys become messages, `update`
//! changes state, rendering only reads. No IO, no clock: time
//! arrives in messages, so `update` is tested without a terminal.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::layout::{self, Screen};
pub use super::runs::RunId;
use super::runs::Runs;
use crate::model::decode::DecodeError;
use crate::model::segment::{Segment, Timestamp};
use crate::model::tcp::TcpState;
use crate::model::tracker::{CloseKind, ConnId, Connection, Role};
use crate::model::udp::{Datagram, Flow};
use crate::pipeline::Pipeline;
use crate::scenario::Scenario;
use crate::t;

/// How long a kernel change waits for the segments around it before the
/// dashboard attaches it anyway.
pub const KERNEL_LAG_NANOS: u64 = 200_000_000;
/// What a live capture may still hold when it says it is caught up: a ring
/// block is handed over 10 ms after its first frame at the latest.
pub const CAUGHT_UP_MARGIN_NANOS: u64 = 20_000_000;

/// Everything that reaches the main loop, over one channel.
#[derive(Debug)]
pub enum Msg {
    /// What decoding one frame gave (the capture thread decodes; the
    /// pipeline counts and tracks).
    Decoded(Result<Option<Segment>, DecodeError>),
    /// A UDP datagram, or an ICMP error quoting one (the capture thread
    /// decodes; the pipeline counts it and puts it on its flow).
    Datagram(crate::model::udp::Datagram),
    /// Kernel counters (summed).
    Kernel {
        packets: u64,
        drops: u64,
    },
    /// State changes the kernel made (the kernel view, live).
    KernelChanges(Vec<crate::model::kernel::Change>),
    /// Socket calls: a recording's (replayed, with its malformed call
    /// records counted), or the built-in programs' own.
    Calls(crate::capture::Replayed),
    /// Socket calls of any program seen through kernel tracepoints (live):
    /// those of this process (`App::own_pid`) are dropped, as its built-in
    /// programs report their own exactly ([`Msg::Calls`]).
    KernelCalls(Vec<crate::model::call::Call>),
    /// The kernel's mini-sockets on the port and the end of their timers.
    KernelTimers(Vec<crate::model::kernel::Timer>),
    /// The source ended (with an error, or at the end of a file).
    SourceEnded(Option<String>),
    /// A live capture had nothing more to read at this wall time: every
    /// segment it captured until then (less its ring's [`CAUGHT_UP_MARGIN_NANOS`])
    /// has been sent.
    CaughtUp(Timestamp),
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
    /// A scenario run is about to connect from this client port.
    ScenarioConnect {
        run: RunId,
        port: u16,
    },
    /// A scenario run is over: what it did, or why it failed.
    ScenarioDone {
        run: RunId,
        result: Result<crate::echo::Ran, String>,
    },
    /// A stop signal arrived (SIGTERM, SIGHUP, SIGQUIT, SIGINT): quit.
    Stop,
    /// The listener's queues, as the kernel said them (the listener lane).
    Listener(super::listener::Sample),
}

/// What the runner should do after an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    /// Start a client scenario against the built-in server; the run's id
    /// goes with its [`Msg::ScenarioConnect`] and [`Msg::ScenarioDone`].
    Run(Scenario, RunId),
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
    /// Columns of the ladder's time column, its marker column included.
    #[must_use]
    pub fn width(self) -> usize {
        if self == TimeMode::Absolute { 17 } else { 10 }
    }

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

    /// [`Sort::name`] in the current language.
    #[must_use]
    pub fn words(self) -> String {
        match self {
            Sort::Started => t!("tui-sort-started"),
            Sort::Kind => t!("tui-sort-kind"),
            Sort::Duration => t!("tui-sort-duration"),
        }
    }
}

/// A close kind as the dashboard shows it, in the current language
/// ([`CloseKind::name`] stays what the filter and the formats use).
#[must_use]
pub fn kind_words(kind: CloseKind) -> String {
    match kind {
        CloseKind::FourWay => t!("tui-kind-four-way"),
        CloseKind::ThreeWay => t!("tui-kind-three-way"),
        CloseKind::Simultaneous => t!("tui-kind-simultaneous"),
        CloseKind::Reset => t!("tui-kind-reset"),
        CloseKind::Refused => t!("tui-kind-refused"),
        CloseKind::Open => t!("tui-kind-open"),
        CloseKind::BeforeCapture => t!("tui-kind-before-capture"),
    }
}

/// How long a notice stays on screen.
pub const NOTICE_SECS: u64 = 5;

/// The demo's tour, driven by the clock and by the presenter: each step runs
/// one scenario; its segments appear one by one; the next step comes once the
/// scenario is over and its ladder whole and has stood for a while. Space
/// holds the step (nothing moves until space again), `n` and `p` go to the
/// next and previous step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tour {
    /// The step on screen (an index into the scenarios that have a caption).
    pub step: Option<usize>,
    /// The presenter holds the step.
    pub paused: bool,
    /// Stop after the last step instead of starting over.
    pub once: bool,
    /// The tour is over (`once`).
    pub done: bool,
    /// The step's scenario run, while it has not said how it went.
    pub running: Option<RunId>,
    /// When the last segment was revealed, or the step's scenario ended (wall clock).
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
        Tour { step: None, paused: false, once, done: false, running: None, last_reveal: Timestamp(0) }
    }

    /// The steps: scenarios with a caption, in table order.
    #[must_use]
    pub fn steps() -> Vec<(&'static str, Scenario)> {
        crate::scenario::SCENARIOS.iter().filter_map(|i| Some((i.caption?, i.scenario))).collect()
    }
}

/// A row of the connection list: a TCP connection or a UDP flow.
#[derive(Clone, Copy, Debug)]
pub enum Row<'a> {
    Tcp(&'a Connection),
    Udp(&'a Flow),
}

/// What a row of the list is, by its id (TCP connections and UDP flows are
/// numbered apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    Tcp(ConnId),
    Udp(u64),
}

impl Row<'_> {
    /// Its first packet's time.
    #[must_use]
    pub fn start(&self) -> Timestamp {
        match self {
            Row::Tcp(c) => c.start(),
            Row::Udp(f) => f.first,
        }
    }

    /// Its latest packet's time.
    #[must_use]
    pub fn last(&self) -> Timestamp {
        match self {
            Row::Tcp(c) => c.last(),
            Row::Udp(f) => f.last,
        }
    }

    /// Which row it is.
    #[must_use]
    pub fn pick(&self) -> Pick {
        match self {
            Row::Tcp(c) => Pick::Tcp(c.id),
            Row::Udp(f) => Pick::Udp(f.id),
        }
    }
}

/// UDP flows the dashboard keeps after they ended (the oldest go first).
pub const UDP_KEPT: usize = 4_096;

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
    /// The selected UDP flow, when the selection is one (then it goes
    /// before `selected`).
    pub selected_udp: Option<u64>,
    /// The list follows the newest connection.
    pub follow: bool,
    /// The selected segment of the selected connection; `None` follows its latest.
    pub segment: Option<usize>,
    pub focus: Focus,
    /// The view is frozen; capture goes on and segments wait in `held`.
    pub paused: bool,
    pub held: VecDeque<Segment>,
    /// UDP datagrams held back as segments are (see `held`).
    pub held_udp: VecDeque<Datagram>,
    /// UDP flows that ended, at most [`UDP_KEPT`] (the open ones are the
    /// pipeline's).
    pub udp_ended: VecDeque<Flow>,
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
    /// them (see [`App::matches`]); and whether it is being typed.
    pub filter: String,
    pub typing: bool,
    /// The list's order.
    pub sort: Sort,
    /// The state-diagram panel is on (`d`).
    pub diagram: bool,
    /// The ladder shows the programs' socket calls (`i`; on by default).
    pub show_calls: bool,
    /// This process's id when its built-in programs report their own calls:
    /// kernel-sourced calls of it are dropped (they would be shown twice).
    pub own_pid: Option<u32>,
    /// The kernel view: on, or why it is off (`None`: not asked for).
    pub kernel: Option<Result<(), String>>,
    /// The demo's caption.
    pub caption: Option<String>,
    /// The source has ended.
    pub ended: bool,
    /// The terminal's size, for mouse clicks (rendering gets its own area).
    pub size: ratatui::layout::Rect,
    /// The scenarios started from here, and the connections they made.
    pub runs: Runs,
    /// When a live capture last said it had sent all it captured
    /// ([`Msg::CaughtUp`]); `None` from a source that never says.
    pub caught_up: Option<Timestamp>,
    /// The listener lane (`L`; live only).
    pub lane: super::listener::Lane,
}

impl App {
    /// A dashboard for `source`.
    #[must_use]
    pub fn new(pipeline: Pipeline, source: Source, scenarios: bool) -> App {
        App {
            pipeline,
            source,
            selected: None,
            selected_udp: None,
            follow: true,
            segment: None,
            focus: Focus::List,
            paused: false,
            held: VecDeque::new(),
            held_udp: VecDeque::new(),
            udp_ended: VecDeque::new(),
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
            show_calls: true,
            own_pid: None,
            diagram: false,
            kernel: None,
            caption: None,
            ended: false,
            size: ratatui::layout::Rect::default(),
            runs: Runs::default(),
            caught_up: None,
            lane: super::listener::Lane::default(),
        }
    }

    /// In step mode each key press releases one segment.
    #[must_use]
    pub fn stepping(&self) -> bool {
        matches!(self.source, Source::Replay { step: true, .. })
    }

    /// Whether `conn` matches the filter: each word, ignoring case, is part
    /// of `tcp`, its close kind, the scenario that made it, either endpoint's state
    /// (now or at any row), an address or a port.
    #[must_use]
    pub fn matches(&self, conn: &Connection) -> bool {
        let words: Vec<String> = self.filter.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return true;
        }
        let mut fields = vec![
            "tcp".to_string(),
            self.kind_name(conn).to_string(),
            // What the list shows, in the language it speaks.
            self.kind_words(conn).to_lowercase(),
            conn.client.addr.to_string(),
            conn.server.addr.to_string(),
            self.runs.of(conn.id).map_or("", Scenario::name).to_string(),
        ];
        let (client, server) = self.states_now(conn);
        let mut states = vec![client, server, conn.initial(Role::Client), conn.initial(Role::Server)];
        for r in &conn.records {
            for s in [r.state(Role::Client), r.state(Role::Server)] {
                if !states.contains(&s) {
                    states.push(s);
                }
            }
        }
        fields.extend(states.iter().map(|s| s.name().to_lowercase()));
        words.iter().all(|w| fields.iter().any(|f| f.contains(w.as_str())))
    }

    /// Whether a UDP flow matches the filter: each word, ignoring case, is
    /// part of `udp`, its kind ([`App::flow_kind`]) or an address or port.
    #[must_use]
    pub fn matches_flow(&self, flow: &Flow) -> bool {
        let fields = [
            "udp".to_string(),
            Self::flow_kind(flow).to_lowercase(),
            Self::flow_kind_words(flow).to_lowercase(),
            flow.client.to_string(),
            flow.server.to_string(),
        ];
        self.filter.split_whitespace().map(str::to_lowercase).all(|w| fields.iter().any(|f| f.contains(w.as_str())))
    }

    /// The kind the list shows for a UDP flow: `ICMP error` when one came
    /// back about it, else `no close` (UDP has none).
    #[must_use]
    pub fn flow_kind(flow: &Flow) -> &'static str {
        if flow.icmp.is_empty() { "no close" } else { "ICMP error" }
    }

    /// [`App::flow_kind`] in the current language.
    #[must_use]
    pub fn flow_kind_words(flow: &Flow) -> String {
        if flow.icmp.is_empty() { t!("tui-kind-udp-no-close") } else { t!("tui-kind-udp-icmp") }
    }

    /// Every UDP flow the dashboard holds (ended or open), by id.
    #[must_use]
    pub fn flows(&self) -> Vec<&Flow> {
        let udp = &self.pipeline.udp;
        let mut all: Vec<&Flow> = self.udp_ended.iter().chain(udp.ended()).chain(udp.open()).collect();
        all.sort_by_key(|f| f.id);
        all
    }

    /// Whether a UDP flow has ended (idle for [`crate::model::udp::IDLE`],
    /// or the capture ended).
    #[must_use]
    pub fn flow_ended(&self, id: u64) -> bool {
        !self.pipeline.udp.open().any(|f| f.id == id)
    }

    /// The close kind the list shows: `open` while a connection is.
    #[must_use]
    pub fn kind_name(&self, c: &Connection) -> &'static str {
        let kind = c.close_kind();
        if kind == CloseKind::Open && !c.ended { "open" } else { kind.name() }
    }

    /// [`App::kind_name`] in the current language: what the list shows.
    #[must_use]
    pub fn kind_words(&self, c: &Connection) -> String {
        let kind = c.close_kind();
        if kind == CloseKind::Open && !c.ended { t!("tui-kind-open") } else { kind_words(kind) }
    }

    /// Both endpoints' states now (TIME-WAIT ends in CLOSED after its time).
    #[must_use]
    pub fn states_now(&self, c: &Connection) -> (TcpState, TcpState) {
        (c.state_at(Role::Client, self.now, self.time_wait).0, c.state_at(Role::Server, self.now, self.time_wait).0)
    }

    /// The rows the list shows, in its order: the connections and the UDP
    /// flows that match the filter. As they started, a flow goes before the
    /// first connection that started after it (the connections keep their
    /// order); the other orders sort both alike.
    #[must_use]
    pub fn rows(&self) -> Vec<Row<'_>> {
        let conns = self.pipeline.tracker.connections().filter(|c| self.matches(c));
        let mut flows: Vec<&Flow> = self.flows().into_iter().filter(|f| self.matches_flow(f)).collect();
        flows.sort_by_key(|f| (f.first, f.id));
        let mut flows = flows.into_iter().peekable();
        let mut rows = Vec::new();
        for c in conns {
            while let Some(f) = flows.next_if(|f| f.first < c.start()) {
                rows.push(Row::Udp(f));
            }
            rows.push(Row::Tcp(c));
        }
        rows.extend(flows.map(Row::Udp));
        let kind = |r: &Row<'_>| match r {
            Row::Tcp(c) => c.close_kind().name(),
            Row::Udp(f) => Self::flow_kind(f),
        };
        match self.sort {
            Sort::Started => {}
            Sort::Kind => rows.sort_by_key(|r| kind(r)),
            Sort::Duration => rows.sort_by_key(|r| std::cmp::Reverse(r.last().0.saturating_sub(r.start().0))),
        }
        rows
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

    /// The newest row the list shows (the last as they started).
    fn newest(&self) -> Option<Row<'_>> {
        let conn = self.pipeline.tracker.connections().rev().find(|c| self.matches(c));
        let flow = self.flows().into_iter().filter(|f| self.matches_flow(f)).max_by_key(|f| (f.first, f.id));
        match (conn, flow) {
            (Some(c), Some(f)) if f.first < c.start() => Some(Row::Tcp(c)),
            (_, Some(f)) => Some(Row::Udp(f)),
            (c, None) => c.map(Row::Tcp),
        }
    }

    /// The row on screen: the one selected while the list shows it, else
    /// the newest the list shows.
    #[must_use]
    pub fn current_row(&self) -> Option<Row<'_>> {
        if !self.follow {
            if let Some(id) = self.selected_udp {
                if let Some(f) = self.flows().into_iter().find(|f| f.id == id && self.matches_flow(f)) {
                    return Some(Row::Udp(f));
                }
            } else if let Some(c) = self.selected.and_then(|id| self.pipeline.tracker.get(id))
                && self.matches(c)
            {
                return Some(Row::Tcp(c));
            }
        }
        self.newest()
    }

    /// The connection on screen, when a TCP connection is.
    #[must_use]
    pub fn current(&self) -> Option<&Connection> {
        match self.current_row()? {
            Row::Tcp(c) => Some(c),
            Row::Udp(_) => None,
        }
    }

    /// The UDP flow on screen, when one is.
    #[must_use]
    pub fn current_flow(&self) -> Option<&Flow> {
        match self.current_row()? {
            Row::Udp(f) => Some(f),
            Row::Tcp(_) => None,
        }
    }

    /// Holds `pick` on screen (following stops).
    fn pin(&mut self, pick: Pick) {
        match pick {
            Pick::Tcp(id) => (self.selected, self.selected_udp) = (Some(id), None),
            Pick::Udp(id) => (self.selected, self.selected_udp) = (None, Some(id)),
        }
        self.follow = false;
        self.segment = None;
    }

    /// The layout of the terminal as `update` last heard its size.
    #[must_use]
    pub fn screen(&self) -> Option<Screen> {
        Screen::of(self.size, self.diagram).map(|s| super::listener::carve(s, self.lane_shown()).0)
    }

    /// Whether the listener lane is on (it shows for a live capture only).
    #[must_use]
    pub fn lane_shown(&self) -> bool {
        self.lane.shown && matches!(self.source, Source::Live { .. })
    }

    /// Index of the first connection the list shows in `rows` rows: the
    /// newest page when following, else a page that holds the selection.
    #[must_use]
    pub fn list_offset(&self, rows: usize) -> usize {
        self.list_offset_in(&self.rows(), rows)
    }

    /// As [`App::list_offset`], with the list's rows already made.
    #[must_use]
    pub fn list_offset_in(&self, shown: &[Row<'_>], rows: usize) -> usize {
        let current = self.current_row().map(|r| r.pick());
        let pos = current.and_then(|p| shown.iter().position(|r| r.pick() == p)).unwrap_or(0);
        layout::list_offset(self.follow, pos, shown.len(), rows)
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

    /// Puts a segment on screen: tracked, its connection named by the
    /// scenario that made it.
    fn apply(&mut self, seg: &Segment) {
        self.now = self.now.max(seg.ts);
        let push = self.pipeline.track(seg);
        if push.started {
            self.runs.label(push.id, seg);
        }
    }

    /// Puts a UDP datagram on screen: on its flow; flows that ended are kept.
    fn apply_datagram(&mut self, d: &Datagram) {
        self.now = self.now.max(d.ts);
        self.pipeline.put_datagram(d);
        self.keep_ended_flows();
    }

    /// Takes the flows that ended from the pipeline (at most [`UDP_KEPT`]
    /// kept); at the end of the source, once nothing is held, every flow ends.
    fn keep_ended_flows(&mut self) {
        if self.ended && self.held_udp.is_empty() {
            self.pipeline.udp.end_all();
        }
        for f in self.pipeline.udp.take_ended() {
            if self.udp_ended.len() >= UDP_KEPT {
                self.udp_ended.pop_front();
            }
            self.udp_ended.push_back(f);
        }
    }

    /// A datagram that came: held back as segments are, or put on screen.
    fn arrive_datagram(&mut self, d: Datagram) {
        match self.room() {
            None => self.apply_datagram(&d),
            Some(true) => self.held_udp.push_back(d),
            Some(false) => {}
        }
    }

    /// Whether what comes is held back (paused, stepping, the tour reveals
    /// it): `None` when it is not; else whether there is room ([`HELD_MAX`];
    /// without room, it is counted as dropped).
    fn room(&mut self) -> Option<bool> {
        if !(self.paused || self.stepping() || self.tour.is_some()) {
            return None;
        }
        let room = self.held_len() < HELD_MAX;
        self.held_dropped += u64::from(!room);
        Some(room)
    }

    /// Segments and datagrams held back.
    #[must_use]
    pub fn held_len(&self) -> usize {
        self.held.len() + self.held_udp.len()
    }

    /// Puts the earliest held segment or datagram on screen; `false` when
    /// none was held.
    fn reveal(&mut self) -> bool {
        let udp_first = match (self.held.front(), self.held_udp.front()) {
            (None, None) => return false,
            (Some(s), Some(d)) => d.ts < s.ts,
            (None, Some(_)) => true,
            (Some(_), None) => false,
        };
        if udp_first {
            if let Some(d) = self.held_udp.pop_front() {
                self.apply_datagram(&d);
            }
        } else if let Some(seg) = self.held.pop_front() {
            self.apply(&seg);
        }
        true
    }

    /// A segment that came: held back (paused, stepping, the tour reveals it)
    /// or put on screen.
    fn arrive(&mut self, seg: Segment) {
        match self.room() {
            None => self.apply(&seg),
            Some(true) => self.held.push_back(seg),
            Some(false) => {}
        }
    }

    /// Attaches the kernel's changes that go with what is on screen. While
    /// segments are held back (paused, stepping, the tour revealing them, a
    /// retried scenario's tries), only a segment put on screen brings them
    /// (up to its time, see [`crate::model::tracker::Tracker::push`]): the
    /// kernel view is compared with the segments shown, never ahead of them.
    fn settle_kernel(&mut self) {
        if !self.held.is_empty() || self.runs.holding() {
            return;
        }
        if self.ended {
            self.pipeline.tracker.kernel_flush(Timestamp(u64::MAX));
        } else if matches!(self.source, Source::Live { .. }) {
            // Kernel changes older than the capture's lag: their segments are
            // in, unless the capture is behind (it says when it is not).
            let mut upto = self.wall.0.saturating_sub(KERNEL_LAG_NANOS);
            if let Some(t) = self.caught_up {
                upto = upto.min(t.0.saturating_sub(CAUGHT_UP_MARGIN_NANOS));
            }
            self.pipeline.tracker.kernel_flush(Timestamp(upto));
        }
    }

    /// Handles one message.
    pub fn update(&mut self, msg: Msg) -> Action {
        match msg {
            Msg::Decoded(decoded) => {
                let Some(seg) = self.pipeline.count(decoded) else {
                    return Action::None;
                };
                if let Some(seg) = self.runs.hold(seg) {
                    self.arrive(seg);
                }
            }
            Msg::Datagram(d) => {
                if self.pipeline.count_datagram(&d) {
                    self.arrive_datagram(d);
                }
            }
            Msg::Kernel { packets, drops } => {
                self.kernel_packets = packets;
                self.kernel_drops = drops;
            }
            Msg::KernelTimers(timers) => self.pipeline.tracker.kernel_timers(&timers),
            Msg::Listener(sample) => self.lane.take(sample, self.pipeline.tracker.connections()),
            Msg::Calls(calls) => self.pipeline.replay_calls(calls),
            Msg::KernelCalls(calls) => {
                for c in calls.into_iter().filter(|c| Some(c.pid) != self.own_pid) {
                    self.pipeline.tracker.call(c);
                }
            }
            Msg::KernelChanges(changes) => {
                if !self.pipeline.tracker.kernel_on() {
                    // A replay of a recording that holds the kernel view.
                    self.pipeline.tracker.watch_kernel();
                    self.kernel = Some(Ok(()));
                }
                for c in changes {
                    if let Some(c) = self.runs.hold_change(c) {
                        self.pipeline.tracker.kernel(c);
                    }
                }
            }
            Msg::SourceEnded(err) => {
                self.ended = true;
                self.settle_kernel();
                self.keep_ended_flows();
                let read = self.pipeline.counters.segments + self.pipeline.counters.datagrams;
                self.set_notice(match err {
                    Some(e) => t!("tui-notice-capture-stopped", error = e),
                    None if read == 0 => t!("tui-notice-capture-empty"),
                    // Stepping: everything was read, and is yet to be shown.
                    None if self.held_len() > 0 => t!("tui-notice-capture-read", n = self.held_len()),
                    None => t!("tui-notice-capture-end"),
                });
            }
            Msg::Tick(t) => {
                self.wall = t;
                if matches!(self.source, Source::Live { .. }) {
                    self.now = self.now.max(t);
                    // Idle UDP flows end (not while datagrams are held).
                    if self.held_udp.is_empty() {
                        self.pipeline.udp.expire(self.now);
                        self.keep_ended_flows();
                    }
                }
                let action = self.tour_tick();
                if self.notice.is_some() && t.0.saturating_sub(self.notice_at.0) >= NOTICE_SECS * 1_000_000_000 {
                    self.notice = None;
                }
                self.settle_kernel();
                return action;
            }
            Msg::CaughtUp(t) => self.caught_up = Some(t),
            Msg::Caption(c) => self.caption = Some(c),
            Msg::Notice(n) => self.set_notice(n),
            Msg::ScenarioConnect { run, port } => self.runs.connect(run, port),
            Msg::ScenarioDone { run, result } => self.scenario_done(run, result),
            Msg::Stop => return Action::Quit,
            Msg::Resize(width, height) => {
                self.size = ratatui::layout::Rect::new(0, 0, width, height);
                // The diagram's notice says what is true of the new size.
                let too_small = self.diagram && Screen::diagram_too_small(self.size);
                if too_small {
                    self.set_notice(layout::diagram_too_small());
                } else if self.notice.as_deref() == Some(layout::diagram_too_small().as_str()) {
                    self.notice = None;
                }
            }
            Msg::Mouse(m) => self.mouse(m),
            Msg::Key(k) => return self.key(k),
        }
        Action::None
    }

    /// The tour's clock: reveals the next held segment, or starts the next
    /// step once the step's scenario is over and its ladder whole and has
    /// stood for [`DWELL_NANOS`].
    fn tour_tick(&mut self) -> Action {
        let (wall, held) = (self.wall, self.held_len());
        let Some(tour) = self.tour.as_mut() else { return Action::None };
        if tour.paused || tour.done {
            return Action::None;
        }
        if held > 0 {
            if wall.0.saturating_sub(tour.last_reveal.0) >= REVEAL_NANOS {
                tour.last_reveal = wall;
                self.reveal();
                self.segment = None;
            }
            return Action::None;
        }
        let first = tour.step.is_none();
        if !first && (tour.running.is_some() || wall.0.saturating_sub(tour.last_reveal.0) < DWELL_NANOS) {
            return Action::None;
        }
        self.tour_go(1)
    }

    /// Moves the tour by `delta` steps (from before the first step, to it)
    /// and runs that step's scenario.
    fn tour_go(&mut self, delta: isize) -> Action {
        let steps = Tour::steps();
        if self.tour.is_none() {
            return Action::None;
        }
        // What is held belongs to the step being left: show it whole.
        while self.reveal() {}
        let Some(tour) = self.tour.as_mut() else { return Action::None };
        let next = match tour.step {
            None => 0,
            Some(at) => {
                let to = at.saturating_add_signed(delta);
                if to >= steps.len() {
                    if tour.once {
                        tour.done = true;
                        self.caption = Some(t!("tui-tour-over", n = steps.len()));
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
        let scenario = steps[next].1;
        let caption = scenario.caption_words().unwrap_or_default();
        // The listener lane shows with the backlog's step only.
        self.lane.shown = scenario == Scenario::Backlog;
        let run = self.runs.start(scenario);
        if let Some(tour) = self.tour.as_mut() {
            tour.running = Some(run);
        }
        self.caption = Some(t!("tui-tour-step", i = next + 1, n = steps.len(), caption = caption));
        self.follow = true;
        (self.selected, self.selected_udp) = (None, None);
        self.segment = None;
        Action::Run(scenario, run)
    }

    /// A scenario run is over: the try that did it is shown (the others
    /// left out), a failure said; the tour's step may go on.
    fn scenario_done(&mut self, run: RunId, result: Result<crate::echo::Ran, String>) {
        let scenario = self.runs.scenario(run);
        let (port, connections) = match &result {
            Ok(ran) => (ran.port, ran.connections),
            Err(_) => (None, 0),
        };
        let (shown, changes) = self.runs.done(run, port, connections);
        for c in changes {
            self.pipeline.tracker.kernel(c);
        }
        for seg in shown {
            self.arrive(seg);
        }
        let name = scenario.map_or_else(|| t!("tui-scenario-unnamed"), |s| s.name().to_owned());
        if let Err(e) = &result {
            self.set_notice(t!("tui-notice-scenario-failed", name = name.clone(), error = e.clone()));
        }
        // The client's side of a closed UDP port (the ICMP error is on the ladder).
        if let Ok(crate::echo::Ran { outcome: crate::echo::Outcome::PortUnreachable { to, sent }, .. }) = &result {
            self.set_notice(t!("tui-notice-udp-refused", name = name.clone(), sent = *sent, to = to.to_string()));
        }
        let step = self.tour.as_ref().filter(|t| t.running == Some(run)).is_some();
        if !step {
            if let (Ok(ran), Some(_)) = (&result, port) {
                let left = ran.connections.saturating_sub(1);
                if left > 0 {
                    self.set_notice(t!(
                        "tui-notice-retried",
                        name = name.clone(),
                        try_n = ran.connections,
                        left = left
                    ));
                }
            }
            return;
        }
        if let Some(tour) = self.tour.as_mut() {
            tour.running = None;
            tour.last_reveal = tour.last_reveal.max(self.wall);
        }
        if let (Ok(ran), Some(_)) = (&result, port)
            && ran.connections > 1
            && let Some(caption) = self.caption.as_mut()
        {
            let left = ran.connections - 1;
            caption.push_str(crate::i18n::current().sentence_gap());
            caption.push_str(&t!("tui-tour-tries", n = ran.connections, left = left));
        }
    }

    /// Shows a notice for [`NOTICE_SECS`].
    pub fn set_notice(&mut self, text: String) {
        self.notice = Some(text);
        self.notice_at = self.wall;
    }

    /// Rows of the connection list on screen (for PageUp / PageDown).
    fn list_page(&self) -> isize {
        self.screen().map_or(5, |s| isize::try_from(s.list_rows().height).unwrap_or(5).max(1))
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
        let Some(screen) = self.screen() else {
            return;
        };
        let a = screen.list_rows();
        if !a.contains(ratatui::layout::Position::new(m.column, m.row)) {
            return;
        }
        let index = self.list_offset(usize::from(a.height)) + usize::from(m.row - a.y);
        let picked = self.rows().get(index).map(Row::pick);
        if let Some(pick) = picked {
            self.pin(pick);
            self.focus = Focus::List;
        }
    }

    /// Moves the connection selection by `delta` (negative: up).
    pub fn select_connection(&mut self, delta: isize) {
        let picks: Vec<Pick> = self.rows().iter().map(Row::pick).collect();
        if picks.is_empty() {
            return;
        }
        let current = self.current_row().map(|r| r.pick());
        let pos = current.and_then(|p| picks.iter().position(|&i| i == p)).unwrap_or(picks.len() - 1);
        let next = pos.saturating_add_signed(delta).min(picks.len() - 1);
        // Following resumes only with `f`; moving to the newest keeps it selected.
        self.pin(picks[next]);
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
            (self.selected, self.selected_udp) = (self.current().map(|c| c.id), None);
            self.follow = false;
        }
        self.segment = Some(next);
    }

    /// Releases one held segment (step mode).
    pub fn step(&mut self) {
        if self.reveal() {
            self.segment = None;
        }
        self.settle_kernel();
    }

    /// Pauses or resumes the view; resuming applies what was held.
    pub fn toggle_pause(&mut self) {
        self.paused = !self.paused;
        if !self.paused && !self.stepping() {
            while self.reveal() {}
            self.settle_kernel();
        }
    }

    /// What a scenario key says when there is no server to run it against.
    fn no_scenarios(&self) -> String {
        match self.source {
            Source::Replay { .. } => t!("tui-notice-no-scenarios-replay"),
            Source::Live { .. } => t!("tui-notice-no-scenarios-live"),
        }
    }

    /// Moves up (`delta` -1) or down in the focused pane.
    fn up_down(&mut self, delta: isize) {
        match self.focus {
            Focus::List => self.select_connection(delta),
            Focus::Ladder => self.select_segment(delta),
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
        match k.code {
            KeyCode::Char('c') if ctrl => return Action::Quit,
            KeyCode::Char('q') => return Action::Quit,
            // Esc never quits: it clears the filter.
            KeyCode::Esc => {
                self.filter.clear();
                self.segment = None;
            }
            KeyCode::Char('?') => self.help = true,
            KeyCode::Up | KeyCode::Char('k') => self.up_down(-1),
            KeyCode::Down | KeyCode::Char('j') => self.up_down(1),
            KeyCode::Left | KeyCode::Char('h') => self.select_segment(-1),
            KeyCode::Right | KeyCode::Char('l') => self.select_segment(1),
            KeyCode::Home => {
                if let Some(pick) = self.current_row().map(|r| r.pick()) {
                    self.pin(pick);
                }
                self.segment = Some(0);
            }
            KeyCode::End => self.segment = None,
            KeyCode::PageUp => self.select_connection(-self.list_page()),
            KeyCode::PageDown => self.select_connection(self.list_page()),
            KeyCode::Char('g') => self.select_connection(isize::MIN / 2),
            KeyCode::Char('G') => self.select_connection(isize::MAX / 2),
            KeyCode::Char('t') => {
                self.time_mode = self.time_mode.next();
                let (width, need) =
                    (self.screen().map_or(0, |s| s.ladder.width), layout::times_need(self.time_mode.width()));
                if width > 0 && width < need {
                    self.set_notice(t!("tui-notice-time-column", need = need, width = width));
                }
            }
            KeyCode::Char('o') => self.sort = self.sort.next(),
            KeyCode::Char('i') => {
                self.show_calls = !self.show_calls;
                self.set_notice(if self.show_calls {
                    t!("tui-notice-calls-shown")
                } else {
                    t!("tui-notice-calls-hidden")
                });
            }
            KeyCode::Char('d') => {
                self.diagram = !self.diagram;
                if self.diagram && Screen::diagram_too_small(self.size) {
                    self.set_notice(layout::diagram_too_small());
                } else if self.notice.as_deref() == Some(layout::diagram_too_small().as_str()) {
                    self.notice = None;
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
                (self.selected, self.selected_udp) = (None, None);
                self.segment = None;
            }
            KeyCode::Char('c') => {
                self.pipeline.tracker.clear_finished();
                // Ended UDP flows are finished too.
                self.udp_ended.clear();
                self.segment = None;
                let udp_gone = self.selected_udp.is_some_and(|id| self.flow_ended(id));
                if udp_gone || self.selected.is_some_and(|id| self.pipeline.tracker.get(id).is_none()) {
                    (self.selected, self.selected_udp) = (None, None);
                    self.follow = true;
                }
            }
            KeyCode::Char('L') => {
                self.lane.shown = !self.lane.shown;
                if self.lane.shown && !self.lane_shown() {
                    self.set_notice(t!("tui-notice-lane-live-only"));
                }
            }
            KeyCode::Char('e') => {
                if let Some(c) = self.current() {
                    return Action::Export(c.id);
                }
                if self.current_flow().is_some() {
                    self.set_notice(t!("tui-notice-export-udp"));
                }
            }
            KeyCode::Char(c) => {
                if let Some(scenario) = Scenario::from_key(c) {
                    if !self.scenarios {
                        self.set_notice(self.no_scenarios());
                        return Action::None;
                    }
                    // The backlog scenario is about the listener's queues: show them.
                    self.lane.shown |= scenario == Scenario::Backlog;
                    let run = self.runs.start(scenario);
                    return Action::Run(scenario, run);
                }
            }
            _ => {}
        }
        Action::None
    }
}
