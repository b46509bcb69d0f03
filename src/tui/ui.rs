//! Rendering: reads the [`App`], draws the frame. The ladder is drawn from the
//! same pure layout as the text export ([`crate::ladder`]).

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use super::app::{App, Focus, Row, Source, TimeMode};
use super::columns;
use super::layout::{self, MIN_HEIGHT, MIN_WIDTH, Screen};
use crate::figure;
use crate::ladder;
use crate::model::explain;
use crate::model::tcp::TcpState;
use crate::model::tracker::{CloseKind, Connection, Phase, Role};
use crate::scenario::{self, SCENARIOS};
use crate::t;

/// Colours by meaning; plain when `NO_COLOR` is set. Chosen to read on dark
/// and light backgrounds alike (no white or black foregrounds).
#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// From the environment (`NO_COLOR`, see no-color.org).
    #[must_use]
    pub fn from_env() -> Theme {
        Theme { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }

    fn fg(self, c: Color) -> Style {
        if self.color { Style::new().fg(c) } else { Style::new() }
    }

    /// The style of a segment of `phase`.
    #[must_use]
    pub fn phase(self, phase: Phase) -> Style {
        match phase {
            Phase::Handshake => self.fg(Color::Cyan),
            Phase::Data => self.fg(Color::Green),
            Phase::Teardown => self.fg(Color::Magenta),
            Phase::Reset => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Phase::Other => Style::new(),
            Phase::AfterClose => Style::new().add_modifier(Modifier::DIM),
        }
    }

    fn state(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// A socket call's row: its own colour; without colour, its `◆` and the
    /// absence of an arrow tell it from a segment.
    fn call(self) -> Style {
        self.fg(Color::LightBlue).add_modifier(Modifier::ITALIC)
    }

    fn bar(self) -> Style {
        if self.color {
            Style::new().fg(Color::Black).bg(Color::Cyan)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
}

/// Draws the whole screen:
///
/// ```text
/// ┌───────────────────────────────────────────────────────────────────────────┐
/// │ synack  LIVE lo tcp/8001 │ 1234 packets │ kernel drops 0 │ 12 connections  │ status
/// ├ Connections ──────────────────────────────────────────────────────────────┤
/// │  #12 46648  TIME-WAIT  CLOSED  3/3  3/3  three-way  seed  TW 58s          │ list
/// ├ #12 client 127.0.0.1:46648 ── server 127.0.0.1:8001 ── seed ── close: three-way ┤
/// │    SYN-SENT │ ── SYN seq=0 mss=65495 ────▶ │ SYN-RECEIVED  handshake 1/3  │ ladder
/// │ ESTABLISHED │ ◀── SYN-ACK seq=0 ack=1 ──── │               handshake 2/3  │
/// ├ What it means ────────────────────────────────────────────────────────────┤
/// │ Handshake step 2: the server acknowledges the SYN ...                     │ explanation
/// └───────────────────────────────────────────────────────────────────────────┘
///  ↑↓ connection  ←→ segment  space pause  f follow  c clear  ? help  q quit    footer
/// ```
///
/// Where each panel goes is [`Screen`]'s (the terminal's size only).
pub fn render(app: &App, frame: &mut Frame<'_>) {
    frame.render_widget(app, frame.area());
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = Theme::from_env();
        let Some(screen) = Screen::of(area, self.diagram) else {
            render_too_small(area, buf);
            return;
        };
        let (screen, lane) = super::listener::carve(screen, self.lane_shown());
        if let (Some(lane), Source::Live { port, .. }) = (lane, &self.source) {
            super::listener::render(&self.lane, *port, lane, buf);
        }
        render_status(self, theme, screen.status, buf);
        render_list(self, theme, screen.list, buf);
        render_ladder(self, theme, screen.ladder, buf);
        render_explanation(self, theme, screen.explain, buf);
        render_footer(self, theme, screen.footer, buf);
        if let Some(area) = screen.diagram {
            render_diagram(self, theme, area, buf);
        }
        if self.help {
            render_help(area, buf);
        }
    }
}

/// The list's title: with a filter, what it is and how many it shows.
fn list_title(app: &App) -> String {
    if app.typing {
        t!("tui-list-title-typing", filter = app.filter.clone())
    } else if app.filter.trim().is_empty() {
        match app.sort {
            super::app::Sort::Started => t!("tui-list-title"),
            s => t!("tui-list-title-sorted", order = s.words()),
        }
    } else {
        t!(
            "tui-list-title-filtered",
            filter = app.filter.trim().to_owned(),
            shown = app.rows().len(),
            total = app.pipeline.tracker.len() + app.flows().len()
        )
    }
}

fn render_too_small(area: Rect, buf: &mut Buffer) {
    let text = vec![
        Line::from(t!("tui-too-small")),
        Line::from(t!("tui-too-small-enlarge", w = MIN_WIDTH, h = MIN_HEIGHT)),
        Line::from(t!("tui-too-small-now", w = area.width, h = area.height)),
        Line::from(t!("tui-too-small-quit")),
    ];
    let h = u16::try_from(text.len()).unwrap_or(0).min(area.height);
    let y = area.y + area.height.saturating_sub(h) / 2;
    ratatui::widgets::Widget::render(
        Paragraph::new(text).centered().wrap(Wrap { trim: true }),
        Rect { x: area.x, y, width: area.width, height: h },
        buf,
    );
}

/// One part of the status line: its words, a shorter form, and how much it
/// matters (0 always shows; higher numbers give way first when the line is
/// too narrow).
struct Part {
    long: String,
    short: String,
    rank: u8,
}

impl Part {
    fn new(long: String, short: impl Into<String>, rank: u8) -> Part {
        Part { long, short: short.into(), rank }
    }
}

/// The status line in `width` columns: every part in full if it fits, else
/// without the parts that matter least (ranks 3 and up), one rank after the
/// other, then in short forms, again giving up parts rank by rank; never a
/// part cut in the middle.
fn fit_status(parts: &[Part], width: usize) -> String {
    let join = |short: bool, cut: u8| -> String {
        let shown: Vec<&str> = parts
            .iter()
            .filter(|p| p.rank < cut)
            .map(|p| if short { &p.short } else { &p.long })
            .map(String::as_str)
            .collect();
        shown.join(" │ ")
    };
    let fits = |s: &String| crate::i18n::width(s) <= width;
    let worst = parts.iter().map(|p| p.rank).max().unwrap_or(0);
    let long = (3..=worst + 1).rev().map(|cut| (false, cut));
    let short = (1..=worst + 1).rev().map(|cut| (true, cut));
    long.chain(short).map(|(short, cut)| join(short, cut)).find(fits).unwrap_or_else(|| join(true, 1))
}

fn render_status(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    let (mode, short_mode) = match &app.source {
        Source::Live { interface, port } => {
            let state = if app.paused { t!("tui-status-paused") } else { t!("tui-status-live") };
            (
                t!("tui-status-live-mode", state = state.clone(), interface = interface.clone(), port = *port),
                format!("{state} {interface}:{port}"),
            )
        }
        Source::Replay { name, step } => {
            let state = if app.paused {
                t!("tui-status-paused")
            } else if *step {
                t!("tui-status-step")
            } else if app.ended {
                t!("tui-status-replay-end")
            } else {
                t!("tui-status-replay")
            };
            // A long path keeps its end: the file's name.
            let keep = |n: usize| -> String {
                if crate::i18n::width(name) > n {
                    let mut tail: Vec<char> = Vec::new();
                    let mut used = 0;
                    for c in name.chars().rev() {
                        used += crate::i18n::width(c.encode_utf8(&mut [0; 4]));
                        if used > n - 1 {
                            break;
                        }
                        tail.push(c);
                    }
                    std::iter::once('…').chain(tail.into_iter().rev()).collect()
                } else {
                    name.clone()
                }
            };
            (format!("{state} {}", keep(28)), format!("{state} {}", keep(16)))
        }
    };
    let view = match (app.current_row(), &app.tour) {
        (_, Some(t)) if t.paused => t!("tui-status-step-held"),
        (Some(Row::Tcp(c)), _) if !app.follow => t!("tui-status-hold", id = c.id),
        (Some(Row::Udp(f)), _) if !app.follow => t!("tui-status-hold-udp", id = f.id),
        _ => t!("tui-status-follow"),
    };
    let short_view = if app.tour.as_ref().is_some_and(|t| t.paused) { t!("tui-status-held") } else { view.clone() };
    let retained = app.pipeline.tracker.len() as u64;
    let gone = app.pipeline.tracker.started().saturating_sub(retained);
    let packets = app.pipeline.counters.frames;
    let mut parts = vec![
        Part::new(format!(" synack  {mode}"), format!(" {short_mode}"), 0),
        Part::new(view, short_view, 0),
        Part::new(t!("tui-status-connections", n = retained), t!("tui-status-connections-short", n = retained), 1),
    ];
    let flows = app.flows().len() as u64;
    if flows > 0 {
        parts.push(Part::new(t!("tui-status-flows", n = flows), t!("tui-status-flows-short", n = flows), 2));
    }
    parts.push(Part::new(t!("tui-status-packets", n = packets), t!("tui-status-packets-short", n = packets), 3));
    if matches!(app.source, Source::Live { .. }) {
        let drops = app.kernel_drops;
        parts.push(Part::new(
            t!("tui-status-drops", n = drops),
            t!("tui-status-drops-short", n = drops),
            if drops > 0 { 1 } else { 4 },
        ));
    }
    match &app.kernel {
        Some(Ok(())) => parts.push(Part::new(t!("tui-status-kernel"), "⚙", 2)),
        Some(Err(_)) => parts.push(Part::new(t!("tui-status-kernel-off"), t!("tui-status-kernel-off-short"), 4)),
        None => {}
    }
    if gone > 0 {
        parts.push(Part::new(t!("tui-status-gone", n = gone), t!("tui-status-gone-short", n = gone), 3));
    }
    if app.runs.hidden > 0 {
        let n = app.runs.hidden;
        parts.push(Part::new(t!("tui-status-left-out", n = n), t!("tui-status-left-out-short", n = n), 3));
    }
    if app.overflow > 0 {
        let n = app.overflow;
        parts.push(Part::new(t!("tui-status-lost", n = n), t!("tui-status-lost-short", n = n), 1));
    }
    if app.held_len() > 0 {
        let n = app.held_len();
        parts.push(Part::new(t!("tui-status-held-count", n = n), t!("tui-status-held-count", n = n), 1));
    }
    let undecodable = app.pipeline.counters.undecodable();
    if undecodable > 0 {
        parts.push(Part::new(
            t!("tui-status-undecodable", n = undecodable),
            t!("tui-status-undecodable-short", n = undecodable),
            2,
        ));
    }
    buf.set_style(area, theme.bar());
    buf.set_stringn(area.x, area.y, fit_status(&parts, usize::from(area.width)), usize::from(area.width), theme.bar());
}

/// `3/3`: how much of the handshake was seen.
fn handshake_progress(c: &Connection) -> String {
    let h = &c.handshake;
    format!("{}/3", u8::from(h.syn) + u8::from(h.syn_ack) + u8::from(h.ack))
}

/// `4/4`, `2/3`, `RST`, or `-` before any FIN.
fn close_progress(c: &Connection) -> String {
    match c.close_kind() {
        CloseKind::Reset | CloseKind::Refused => "RST".into(),
        CloseKind::ThreeWay => format!("{}/3", c.close_segments()),
        CloseKind::Open if c.close.first_fin.is_none() => "-".into(),
        _ => format!("{}/4", c.close_segments()),
    }
}

fn seconds(d: u64) -> String {
    match d {
        0..60 => format!("{d}s"),
        60..3600 => format!("{}m", d / 60),
        _ => format!("{}h", d / 3600),
    }
}

/// `client TIME-WAIT 57s` while a side waits in TIME-WAIT (rounded up, so
/// it never reads 0s while it runs), else the age since the last segment;
/// `short`, `TW 57s` (the state columns say which side).
fn age_or_countdown(app: &App, c: &Connection, short: bool) -> String {
    for role in [Role::Client, Role::Server] {
        if let (_, Some(left)) = c.state_at(role, app.now, app.time_wait) {
            let secs = left.div_ceil(1_000_000_000);
            return if short {
                format!("TW {secs}s")
            } else {
                t!("tui-list-time-wait", role = role.name(), secs = format!("{secs}s"))
            };
        }
    }
    seconds(app.now.0.saturating_sub(c.last().0) / 1_000_000_000)
}

/// How the list lays out its columns at a width.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ListColumns {
    /// The client's address, states, handshake, close, kind, scenario, age.
    Wide,
    /// The client's port instead of its address, both states and the kind;
    /// the other columns as they fit, the scenario first, then the close,
    /// the age, the handshake.
    Narrow { scenario: bool, close: bool, age: bool, open: bool },
}

impl ListColumns {
    /// The columns for a list `width` wide (ids `id` wide); `scenarios`:
    /// with the scenario column.
    fn of(width: u16, id: usize, scenarios: bool) -> ListColumns {
        let extra = if scenarios { 13 } else { 0 };
        let width = usize::from(width);
        if width >= 99 + id.max(5) + extra {
            return ListColumns::Wide;
        }
        // id, protocol, port, both states, kind; then each optional column in turn.
        let mut used = id.max(4) + 6 + 6 + 13 + 13 + 13;
        let mut fits = |w: usize| {
            let ok = used + w <= width;
            used += if ok { w } else { 0 };
            ok
        };
        let scenario = scenarios && fits(13);
        let (close, age, open) = (fits(6), fits(7), fits(5));
        ListColumns::Narrow { scenario, close, age, open }
    }

    /// Whether the scenario column shows.
    fn scenario(self, scenarios: bool) -> bool {
        match self {
            ListColumns::Wide => scenarios,
            ListColumns::Narrow { scenario, .. } => scenario,
        }
    }

    /// One row from its cells: id, protocol, client, client state, server
    /// state, open, close, kind, scenario, age. `id` is as wide as the largest id.
    fn row(self, id: usize, cells: [&str; 10], scenarios: bool) -> String {
        let [n, proto, client, cs, ss, open, close, kind, scenario, age] = cells;
        // Padded by columns: a Chinese word takes two a character.
        let (l, r) = (columns::pad_end, columns::pad_start);
        let scenario = if self.scenario(scenarios) { format!(" {}", l(scenario, 12)) } else { String::new() };
        match self {
            ListColumns::Wide => format!(
                "{} {} {} {} {} {} {} {}{scenario} {age}",
                r(n, id.max(5)),
                l(proto, 5),
                l(client, 21),
                r(cs, 12),
                r(ss, 12),
                r(open, 4),
                r(close, 5),
                l(kind, 12),
            ),
            ListColumns::Narrow { close: with_close, age: with_age, open: with_open, .. } => {
                let open = if with_open { format!(" {}", r(open, 4)) } else { String::new() };
                let close = if with_close { format!(" {}", r(close, 5)) } else { String::new() };
                let age = if with_age { format!(" {age}") } else { String::new() };
                format!(
                    "{} {} {} {} {}{open}{close} {}{scenario}{age}",
                    r(n, id.max(4)),
                    l(proto, 5),
                    l(client, 5),
                    r(cs, 12),
                    r(ss, 12),
                    l(kind, 12),
                )
            }
        }
    }
}

/// What the list says when it shows no connection.
fn empty_list_hint(app: &App) -> String {
    if !app.filter.trim().is_empty() && !app.typing && !app.pipeline.tracker.is_empty() {
        return t!("tui-list-no-match", filter = app.filter.trim().to_owned());
    }
    if app.tour.is_some() {
        return t!("tui-list-waiting-step");
    }
    if !app.scenarios {
        return t!("tui-list-waiting");
    }
    // TCP's closes, then UDP's datagrams.
    let keys = |udp: bool| -> Vec<String> {
        SCENARIOS
            .iter()
            .filter(|i| crate::udp_echo::is_udp(i.scenario) == udp)
            .filter_map(|i| i.key)
            .map(|k| k.to_string())
            .collect()
    };
    let (tcp, udp) = (keys(false), keys(true));
    t!(
        "tui-list-waiting-keys",
        one = tcp.first().map_or("n", String::as_str).to_owned(),
        closes = tcp.get(1..).unwrap_or_default().join(" "),
        udp = udp.join(" ")
    )
}

/// Whether a TIME-WAIT countdown is on screen: a row of the list, or the
/// connection shown, has an endpoint in TIME-WAIT now. The kernel view
/// lists the mini-sockets, whose timers the countdowns follow, only then.
#[must_use]
pub fn countdown_shown(app: &App) -> bool {
    let Some(screen) = app.screen() else { return false };
    let counting = |c: &Connection| {
        [Role::Client, Role::Server].iter().any(|&r| c.state_at(r, app.now, app.time_wait).1.is_some())
    };
    // The list's rows: its borders and header row aside.
    let rows = usize::from(screen.list.height.saturating_sub(3));
    let shown = app.rows();
    let offset = app.list_offset_in(&shown, rows);
    app.current().is_some_and(counting)
        || shown.into_iter().skip(offset).take(rows).any(|r| matches!(r, Row::Tcp(c) if counting(c)))
}

fn render_list(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let focused = app.focus == Focus::List;
    let block =
        Block::bordered().title(list_title(app)).border_style(if focused { theme.state() } else { Style::new() });
    let inner = block.inner(area);
    ratatui::widgets::Widget::render(block, area, buf);
    // The scenario column when scenarios run here.
    let with_scenario = app.scenarios;
    // Ids line up whatever their length: the column is as wide as the largest.
    let id = app.pipeline.tracker.started().max(app.pipeline.udp.started()).max(1).ilog10() as usize + 2;
    let columns = ListColumns::of(inner.width, id, with_scenario);
    let header = match columns {
        ListColumns::Wide => columns.row(
            id,
            [
                "#",
                &t!("tui-col-proto"),
                &t!("tui-col-client"),
                &t!("tui-col-client-state"),
                &t!("tui-col-server-state"),
                &t!("tui-col-open"),
                &t!("tui-col-close"),
                &t!("tui-col-kind"),
                &t!("tui-col-scenario"),
                &t!("tui-col-age-countdown"),
            ],
            with_scenario,
        ),
        ListColumns::Narrow { .. } => columns.row(
            id,
            [
                "#",
                &t!("tui-col-proto"),
                &t!("tui-col-port"),
                &t!("tui-col-client-short"),
                &t!("tui-col-server-short"),
                &t!("tui-col-open"),
                &t!("tui-col-close"),
                &t!("tui-col-kind"),
                &t!("tui-col-scenario"),
                &t!("tui-col-age"),
            ],
            with_scenario,
        ),
    };
    buf.set_stringn(inner.x, inner.y, header, usize::from(inner.width), Style::new().add_modifier(Modifier::BOLD));
    let inner = Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner };
    let current = app.current_row().map(|r| r.pick());
    let shown = app.rows();
    let rows = usize::from(inner.height);
    let offset = app.list_offset_in(&shown, rows);
    if shown.is_empty() {
        let hint = empty_list_hint(app);
        buf.set_stringn(inner.x + 1, inner.y, hint, usize::from(inner.width.saturating_sub(1)), Style::new());
        return;
    }
    let wide = columns == ListColumns::Wide;
    for (row, r) in shown.iter().skip(offset).take(rows).enumerate() {
        let y = inner.y + u16::try_from(row).unwrap_or(0);
        let selected = Some(r.pick()) == current;
        let c = match *r {
            Row::Tcp(c) => c,
            Row::Udp(f) => {
                let client = if wide { f.client.to_string() } else { f.client.port().to_string() };
                let age = seconds(app.now.0.saturating_sub(f.last.0) / 1_000_000_000);
                // UDP has no state, no handshake and no close to show.
                let line = columns.row(
                    id,
                    [&format!("#{}", f.id), "udp", &client, "-", "-", "-", "-", &App::flow_kind_words(f), "", &age],
                    with_scenario,
                );
                let mut style = theme.phase(if f.icmp.is_empty() { Phase::Data } else { Phase::Reset });
                if selected {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                buf.set_stringn(inner.x, y, line, usize::from(inner.width), style);
                continue;
            }
        };
        let kind = c.close_kind();
        let now = app.states_now(c);
        let client = if wide { c.client.addr.to_string() } else { c.client.addr.port().to_string() };
        let line = columns.row(
            id,
            [
                &format!("#{}", c.id),
                "tcp",
                &client,
                now.0.name(),
                now.1.name(),
                &handshake_progress(c),
                &close_progress(c),
                &app.kind_words(c),
                app.runs.of(c.id).map_or("", |s| s.name()),
                &age_or_countdown(app, c, !wide),
            ],
            with_scenario,
        );
        let phase = match kind {
            CloseKind::Reset | CloseKind::Refused => Phase::Reset,
            CloseKind::Open if c.close.first_fin.is_none() => Phase::Data,
            _ => Phase::Teardown,
        };
        let mut style = theme.phase(phase);
        if selected {
            style = style.add_modifier(Modifier::REVERSED);
        }
        buf.set_stringn(inner.x, y, line, usize::from(inner.width), style);
    }
}

fn render_ladder(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    let focused = app.focus == Focus::Ladder;
    if let Some(flow) = app.current_flow() {
        render_udp_ladder(app, theme, flow, area, buf);
        return;
    }
    let Some(conn) = app.current() else {
        let block = Block::bordered().title(t!("tui-ladder-title"));
        ratatui::widgets::Widget::render(block, area, buf);
        return;
    };
    // Columns: [time] state │ arrow │ state  note.
    let (mut lead, mut client_width, mut server_width) = (0, 0, 0);
    let lad = ladder::layout_columns(conn, |client, server| {
        let (arrow, time) =
            layout::ladder_columns(usize::from(area.width.saturating_sub(2)), client, server, app.time_mode.width());
        (lead, client_width, server_width) = (time, client, server);
        ladder::Geometry { lead, state_width: client.max(server), arrow_width: arrow }
    });
    let show_time = lead > 0;
    let times = match app.time_mode {
        _ if !show_time => String::new(),
        TimeMode::Relative => t!("tui-ladder-times-relative"),
        TimeMode::Delta => t!("tui-ladder-times-delta"),
        TimeMode::Absolute => t!("tui-ladder-times-absolute"),
    };
    // The title says as much as fits beside the scroll marker: the id and the
    // close always, the scenario, the endpoints and the time column when they fit.
    let kind = if conn.ended || conn.close_kind() != CloseKind::Open {
        super::app::kind_words(conn.close_kind())
    } else {
        t!("tui-ladder-not-yet")
    };
    let room = usize::from(area.width).saturating_sub(4 + 14);
    let scenario = app.runs.of(conn.id).map_or(String::new(), |s| format!(" ── {}", s.name()));
    let carried = if conn.encap.is_empty() {
        String::new()
    } else {
        t!("tui-ladder-carried", encap = conn.encap.names().join(" › "))
    };
    let (client, server) = (conn.client.addr.to_string(), conn.server.addr.to_string());
    let close = t!("tui-ladder-close", kind = kind);
    let ends = t!("tui-ladder-ends", client = client, server = server);
    let title = fitted_title(
        [
            format!(" #{} ── {close} ", conn.id),
            format!(" #{}{scenario} ── {close} ", conn.id),
            format!(" #{}{scenario} ── {close}{times} ", conn.id),
            format!(" #{} {ends}{scenario} ── {close}{times} ", conn.id),
            format!(" #{} {ends}{carried}{scenario} ── {close}{times} ", conn.id),
        ],
        room,
    );
    let mut block = Block::bordered().title(title).border_style(if focused { theme.state() } else { Style::new() });
    let inner = block.inner(area);
    let arrow_width = lad.geometry.arrow_width;
    let selected = app.current_segment();
    // The ladder's lines: each segment's row, and each socket call's (when
    // shown) before the first segment captured after it.
    let lines = ladder_lines(conn, app.show_calls);
    let at_line = |seg: usize| lines.iter().position(|l| *l == LadderLine::Segment(seg)).unwrap_or(seg);
    let rows = usize::from(inner.height);
    let sel = selected.map_or(0, at_line);
    let offset = (sel + 1).saturating_sub(rows);
    // Rows out of sight are announced on the border.
    let below = lines.len().saturating_sub(offset + rows);
    if offset > 0 {
        block = block.title(Line::from(t!("tui-ladder-above", n = offset)).right_aligned());
    }
    if below > 0 {
        block = block.title_bottom(Line::from(t!("tui-ladder-below", n = below)).right_aligned());
    }
    ratatui::widgets::Widget::render(block, area, buf);
    let time_text = |ts: crate::model::segment::Timestamp, before: crate::model::segment::Timestamp| match app.time_mode
    {
        TimeMode::Relative => {
            let ms = (i128::from(ts.0) - i128::from(conn.start().0)) as f64 / 1e6;
            format!("{ms:>8.3} ")
        }
        TimeMode::Delta => format!("{:>8.3} ", ts.millis_since(before)),
        TimeMode::Absolute => clock_time(ts),
    };
    for (k, item) in lines.iter().enumerate().skip(offset).take(rows) {
        let y = inner.y + u16::try_from(k - offset).unwrap_or(0);
        let i = match *item {
            LadderLine::Segment(i) => i,
            LadderLine::Call(j) => {
                let c = &conn.calls[j];
                let mut spans = Vec::new();
                if show_time {
                    let before = conn.records.iter().rev().find(|r| r.ts < c.ts).map_or(c.ts, |r| r.ts);
                    spans.push(Span::styled(time_text(c.ts, before), Style::new().add_modifier(Modifier::DIM)));
                    spans.push(Span::raw(" "));
                }
                spans.push(Span::raw(format!("{:>client_width$}", "")));
                spans.push(Span::raw(" │ "));
                spans.push(Span::styled(ladder::call_text(c, arrow_width), theme.call()));
                spans.push(Span::raw(" │"));
                buf.set_line(inner.x, y, &Line::from(spans), inner.width);
                continue;
            }
        };
        let row = &lad.rows[i];
        let r = &conn.records[i];
        let mut arrow_style = theme.phase(row.phase);
        if row.retransmission {
            arrow_style = arrow_style.add_modifier(Modifier::DIM | Modifier::ITALIC);
        }
        let mut spans = Vec::new();
        if show_time {
            let before = i.checked_sub(1).map_or(r.ts, |j| conn.records[j].ts);
            spans.push(Span::styled(time_text(r.ts, before), Style::new().add_modifier(Modifier::DIM)));
            // A marker that survives without colour (and in text captures).
            spans.push(Span::raw(if Some(i) == selected && app.segment.is_some() { "▸" } else { " " }));
        }
        // Padded by columns, so the lifelines stay put whatever the words.
        spans.push(Span::styled(columns::pad_start(&row.left, client_width), theme.state()));
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(row.arrow.clone(), arrow_style));
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(columns::pad_end(&row.right, server_width), theme.state()));
        spans.push(Span::raw("  "));
        spans.push(Span::styled(row.note.clone(), theme.phase(row.phase)));
        let mut line = Line::from(spans);
        if Some(i) == selected {
            line = line.patch_style(Style::new().add_modifier(Modifier::REVERSED));
        }
        buf.set_line(inner.x, y, &line, inner.width);
    }
    if lines.len() < rows {
        // Lifelines continue below the last row.
        for y in inner.y + u16::try_from(lines.len()).unwrap_or(0)..inner.y + inner.height {
            let column = |c: usize| inner.x.saturating_add(u16::try_from(c).unwrap_or(u16::MAX));
            let client_lifeline = lead + client_width + 1;
            for x in [column(client_lifeline), column(client_lifeline + 3 + arrow_width)] {
                if x < inner.x + inner.width {
                    buf[(x, y)].set_symbol("│").set_style(Style::new().add_modifier(Modifier::DIM));
                }
            }
        }
    }
}

/// A ladder's title: the last of `forms` (shortest first) that fits in
/// `room` columns, else the first.
fn fitted_title<const N: usize>(forms: [String; N], room: usize) -> String {
    let mut forms = forms.into_iter();
    let first = forms.next().unwrap_or_default();
    forms.rev().find(|f| crate::i18n::width(f) <= room).unwrap_or(first)
}

/// The time column's clock time (UTC) of `ts`: `12:04:05.123456 `.
fn clock_time(ts: crate::model::segment::Timestamp) -> String {
    let secs = ts.0 / 1_000_000_000;
    let micros = (ts.0 % 1_000_000_000) / 1_000;
    format!("{:02}:{:02}:{:02}.{micros:06} ", secs / 3600 % 24, secs / 60 % 60, secs % 60)
}

/// One line of the dashboard's ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LadderLine {
    /// The row of the segment with this index in `records`.
    Segment(usize),
    /// The row of the call with this index in `calls`.
    Call(usize),
}

/// The ladder's lines in time order: every segment's row, and with `calls`
/// every socket call's row before the first segment captured after it
/// ([`ladder::call_after`]).
fn ladder_lines(conn: &Connection, calls: bool) -> Vec<LadderLine> {
    let mut out = Vec::with_capacity(conn.records.len() + if calls { conn.calls.len() } else { 0 });
    let mut next = 0;
    for i in 0..conn.records.len() {
        // Records and calls are both in time order: a call goes before the
        // first record not earlier than it.
        while calls && next < conn.calls.len() && conn.calls[next].ts <= conn.records[i].ts {
            out.push(LadderLine::Call(next));
            next += 1;
        }
        out.push(LadderLine::Segment(i));
    }
    if calls {
        out.extend((next..conn.calls.len()).map(LadderLine::Call));
    }
    out
}

/// What the explanation panel says, wrapped at `width`: a notice (it goes
/// after a few seconds), the demo's caption, the verdict (so it shows
/// whenever the connection has one), the selected segment's explanation and
/// the kernel's word on it. Each line with its kind.
fn panel_lines(app: &App, width: usize) -> Vec<(String, Kind)> {
    let mut parts: Vec<(String, Kind)> = Vec::new();
    if let Some(n) = &app.notice {
        parts.push((n.clone(), Kind::Notice));
    }
    if let Some(c) = &app.caption {
        let mut c = c.clone();
        if let Some(counts) = tour_counts(app) {
            c.push_str(crate::i18n::current().sentence_gap());
            c.push_str(&counts);
        }
        parts.push((c, Kind::Caption));
    }
    if let Some(flow) = app.current_flow() {
        // The verdict from the flow's facts; while it may still go on, so far.
        let verdict = flow.verdict();
        // A sentence of its own, ended by the language's full stop.
        let verdict = verdict.trim_end_matches('。').to_owned();
        let verdict = if app.flow_ended(flow.id) {
            t!("tui-udp-verdict", verdict = verdict)
        } else {
            t!("tui-udp-so-far", verdict = verdict)
        };
        parts.push((verdict, Kind::Verdict));
        parts.push((t!("tui-udp-no-state"), Kind::Plain));
    }
    if let Some(conn) = app.current() {
        let verdict = if conn.ended { explain::verdict_parts(conn) } else { Vec::new() };
        if !verdict.is_empty() {
            parts.push((crate::i18n::sentences(crate::i18n::current(), &verdict), Kind::Verdict));
        }
        if let Some(i) = app.current_segment() {
            let mut said = explain::explain_parts(conn, i);
            said.retain(|s| !restated(s, &verdict));
            if !said.is_empty() {
                parts.push((crate::i18n::sentences(crate::i18n::current(), &said), Kind::Plain));
            }
            for line in kernel_lines(conn, i) {
                parts.push((line, Kind::Plain));
            }
        }
    }
    parts
        .into_iter()
        .flat_map(|(text, kind)| columns::wrap(&text, width.max(20)).into_iter().map(move |l| (l, kind)))
        .collect()
}

/// A segment's sentence that says again what a sentence of the verdict
/// shown above it says (the refusal; why both ends of a simultaneous close
/// wait in TIME-WAIT): the panel says it once, in the verdict.
const RESTATES: [(&str, &str); 3] = [
    ("explain-seg-rst-refused", "explain-refused-rst"),
    ("explain-seg-rst-refused", "explain-refused"),
    ("explain-seg-both-time-wait", "explain-both-time-wait"),
];

/// Whether `said` (of a segment's explanation) restates a sentence of `verdict`.
fn restated(said: &crate::i18n::Said, verdict: &[crate::i18n::Said]) -> bool {
    RESTATES.iter().any(|&(seg, whole)| said.id == seg && verdict.iter().any(|v| v.id == whole))
}

/// In the tour's UDP step, what the list holds, counted: the tutorial's
/// connection (the newest the seed scenario made) and the newest UDP flow.
fn tour_counts(app: &App) -> Option<String> {
    let step = app.tour.as_ref()?.step?;
    if super::app::Tour::steps().get(step)?.1 != scenario::Scenario::Udp {
        return None;
    }
    let tcp = app
        .pipeline
        .tracker
        .connections()
        .rev()
        .find(|c| app.runs.of(c.id) == Some(scenario::Scenario::Seed))
        .map(|c| t!("tui-tour-count-tcp", id = c.id, n = c.records.len()));
    let udp = app.flows().last().map(|f| t!("tui-tour-count-udp", id = f.id, n = f.total()));
    let counts: Vec<String> = [tcp, udp].into_iter().flatten().collect();
    (!counts.is_empty()).then(|| t!("tui-tour-counts", counts = counts.join(&t!("tui-tour-count-gap"))))
}

/// A UDP flow's ladder: its datagrams (and ICMP errors) as arrows between
/// the two lifelines, no state column (UDP keeps none), the latest rows when
/// they do not all fit.
fn render_udp_ladder(app: &App, theme: Theme, flow: &crate::model::udp::Flow, area: Rect, buf: &mut Buffer) {
    use crate::model::udp::Dir;
    let focused = app.focus == Focus::Ladder;
    let rows = crate::export::udp::rows(flow);
    let width = usize::from(area.width.saturating_sub(2));
    // The time column when an arrow 40 wide fits beside it.
    let lead = if width >= app.time_mode.width() + 45 { app.time_mode.width() } else { 0 };
    let arrow_width = width.saturating_sub(lead + 8).min(64);
    let (client, server) = (flow.client, flow.server);
    let room = width.saturating_sub(16);
    let title = fitted_title(
        [
            t!("tui-udp-title-short", id = flow.id),
            t!("tui-udp-title", id = flow.id),
            t!("tui-udp-title-long", id = flow.id, client = client.to_string(), server = server.to_string()),
        ],
        room,
    );
    let mut block = Block::bordered().title(title).border_style(if focused { theme.state() } else { Style::new() });
    let inner = block.inner(area);
    let shown = usize::from(inner.height);
    let offset = rows.len().saturating_sub(shown);
    if offset > 0 {
        block = block.title(Line::from(t!("tui-ladder-above", n = offset)).right_aligned());
    }
    ratatui::widgets::Widget::render(block, area, buf);
    for (k, (ts, dir, label)) in rows.iter().enumerate().skip(offset) {
        let y = inner.y + u16::try_from(k - offset).unwrap_or(0);
        let mut spans = Vec::new();
        if lead > 0 {
            let before = k.checked_sub(1).map_or(*ts, |j| rows[j].0);
            let text = match app.time_mode {
                TimeMode::Relative => format!("{:>8.3} ", ts.millis_since(flow.first)),
                TimeMode::Delta => format!("{:>8.3} ", ts.millis_since(before)),
                TimeMode::Absolute => clock_time(*ts),
            };
            spans.push(Span::styled(text, Style::new().add_modifier(Modifier::DIM)));
            spans.push(Span::raw(" "));
        }
        let label = columns::cut(label, arrow_width.saturating_sub(6));
        let fill = "─".repeat(arrow_width.saturating_sub(crate::i18n::width(label) + 5));
        let arrow = match dir {
            Dir::ToServer => format!("── {label} {fill}▶"),
            Dir::ToClient => format!("◀── {label} {fill}"),
        };
        let phase = if label.starts_with("ICMP") {
            Phase::Reset
        } else if label.starts_with("...") {
            Phase::Other
        } else {
            Phase::Data
        };
        spans.push(Span::raw("│ "));
        spans.push(Span::styled(arrow, theme.phase(phase)));
        spans.push(Span::raw(" │"));
        buf.set_line(inner.x, y, &Line::from(spans), inner.width);
    }
    // The lifelines go on below the last row.
    let first_free = inner.y + u16::try_from(rows.len().min(shown)).unwrap_or(0);
    for y in first_free..inner.y + inner.height {
        for c in [lead, lead + arrow_width + 3] {
            let x = inner.x.saturating_add(u16::try_from(c).unwrap_or(u16::MAX));
            if x < inner.x + inner.width {
                buf[(x, y)].set_symbol("│").set_style(Style::new().add_modifier(Modifier::DIM));
            }
        }
    }
}

/// The kernel's verdicts (`compare`'s) whose change falls in row `i`'s time
/// slot: a change the wire agrees with goes with the row that shows it (an
/// application's close() comes microseconds before its FIN is captured);
/// another with the row before it in time.
fn kernel_slot(
    conn: &Connection,
    verdicts: &[crate::model::kernel::Verdict],
    i: usize,
) -> Vec<crate::model::kernel::Verdict> {
    let slot = |ts: crate::model::segment::Timestamp| conn.records.iter().rposition(|r| r.ts <= ts).unwrap_or(0);
    verdicts.iter().filter(|v| v.row.unwrap_or_else(|| slot(v.transition.ts)) == i).cloned().collect()
}

/// The kernel's verdicts on a connection: none when the view was off.
fn kernel_verdicts(conn: &Connection) -> Vec<crate::model::kernel::Verdict> {
    if conn.kernel_watched { crate::model::kernel::compare(conn) } else { Vec::new() }
}

/// The kernel's changes in row `i`'s slot, each with whether the wire
/// agrees; then the connection's agreement.
fn kernel_lines(conn: &Connection, i: usize) -> Vec<String> {
    use crate::model::kernel;
    if !conn.kernel_watched {
        return Vec::new();
    }
    let verdicts = kernel::compare(conn);
    let mut out: Vec<String> = kernel_slot(conn, &verdicts, i)
        .iter()
        .map(|v| format!("{} {}", if v.agrees() { '⚙' } else { '✗' }, kernel::describe(conn, v)))
        .collect();
    out.push(kernel::summary(conn, &verdicts));
    out
}

/// What a line of the explanation panel is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Caption,
    Verdict,
    Plain,
    Notice,
}

fn render_explanation(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    let mut block = Block::bordered().title(t!("tui-panel-title"));
    let inner = block.inner(area);
    let lines = panel_lines(app, usize::from(inner.width));
    let shown = usize::from(inner.height);
    if lines.len() > shown {
        // Nothing is cut without saying so.
        let more = lines.len() - shown;
        block = block.title_bottom(Line::from(t!("tui-panel-more", n = more)).right_aligned());
    }
    ratatui::widgets::Widget::render(block, area, buf);
    for (row, (text, kind)) in lines.iter().take(shown).enumerate() {
        let style = match kind {
            Kind::Caption => theme.state(),
            Kind::Verdict => Style::new().add_modifier(Modifier::BOLD),
            Kind::Plain => Style::new(),
            Kind::Notice => Style::new().add_modifier(Modifier::ITALIC),
        };
        let y = inner.y + u16::try_from(row).unwrap_or(0);
        buf.set_stringn(inner.x, y, text, usize::from(inner.width), style);
    }
}

fn render_footer(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    // Narrow screens keep the essentials; `?` lists everything.
    let wide = area.width >= 110;
    // In the tour, `n` is its next step.
    let letters: Vec<String> =
        scenario::keys().iter().filter(|&&k| app.tour.is_none() || k != 'n').map(char::to_string).collect();
    let mut keys = if wide {
        vec![t!("tui-key-connection"), t!("tui-key-segment"), t!("tui-key-focus")]
    } else {
        vec![t!("tui-key-connection-short"), t!("tui-key-segment-short")]
    };
    if app.tour.is_some() {
        keys.extend([t!("tui-key-next-step"), t!("tui-key-back"), t!("tui-key-hold")]);
    } else {
        keys.push(if app.stepping() { t!("tui-key-next") } else { t!("tui-key-pause") });
    }
    if wide || (!app.scenarios && app.tour.is_none()) {
        keys.extend([t!("tui-key-follow"), t!("tui-key-clear")]);
    }
    keys.push(t!("tui-key-export"));
    if app.scenarios && (wide || app.tour.is_none()) {
        let letters = letters.join(" ");
        keys.push(if wide { t!("tui-key-scenarios", keys = letters) } else { t!("tui-key-run", keys = letters) });
    }
    keys.extend([t!("tui-key-help"), t!("tui-key-quit")]);
    buf.set_stringn(
        area.x + 1,
        area.y,
        keys.join("  "),
        usize::from(area.width.saturating_sub(1)),
        theme.fg(Color::Cyan),
    );
}

/// The keys, for the help overlay; the scenario keys come from
/// [`crate::scenario::SCENARIOS`] and go after `e`.
pub const HELP: &[(&str, &str)] = &[
    ("↑ ↓ or k j, mouse", "a connection (in the ladder: a segment); click, scroll"),
    ("← → or h l", "move through the selected connection's segments"),
    ("Tab / Home End", "focus list or ladder (also Enter) / first, latest segment"),
    ("space / n p", "pause (--step: next; demo: hold) / demo's next, back step"),
    ("e", "export to synack-<id>.txt, .mmd, .svg (never overwrites)"),
    ("PgUp PgDn g G", "a page up / down; the first / the last connection"),
    ("f c / t o", "follow newest / clear finished; times / list order"),
    ("/ , Esc", "filter: tcp/udp, kind, scenario, state, addr, port / clear"),
    ("d / L / i", "RFC 9293 state diagram / listener queues / socket calls ◆"),
    ("? / q, Ctrl-C", "this help (any key closes it) / quit"),
];

/// [`HELP`] in the current language.
#[must_use]
pub fn help_words() -> Vec<(String, String)> {
    vec![
        (t!("tui-help-select-keys"), t!("tui-help-select")),
        (t!("tui-help-move-keys"), t!("tui-help-move")),
        (t!("tui-help-focus-keys"), t!("tui-help-focus")),
        (t!("tui-help-pause-keys"), t!("tui-help-pause")),
        ("e".to_string(), t!("tui-help-export")),
        (t!("tui-help-page-keys"), t!("tui-help-page")),
        (t!("tui-help-follow-keys"), t!("tui-help-follow")),
        (t!("tui-help-filter-keys"), t!("tui-help-filter")),
        (t!("tui-help-views-keys"), t!("tui-help-views")),
        (t!("tui-help-quit-keys"), t!("tui-help-quit")),
    ]
}

fn render_help(area: Rect, buf: &mut Buffer) {
    let w = 80.min(area.width);
    let scenario_keys: Vec<(String, String)> =
        SCENARIOS.iter().filter_map(|i| Some((i.key?.to_string(), i.scenario.help_words()))).collect();
    let help = help_words();
    let at = HELP.iter().position(|(k, _)| *k == "e").map_or(help.len(), |i| i + 1);
    let mut keys = help;
    let after = keys.split_off(at.min(keys.len()));
    keys.extend(scenario_keys);
    keys.extend(after);
    // The states' names glossed, in a language that needs it (English: none).
    let gloss = t!("tui-help-states");
    let gloss: Vec<&str> = gloss.lines().filter(|l| !l.trim().is_empty()).collect();
    let with_gloss = gloss.len() + 1;
    let h = (u16::try_from(keys.len() + with_gloss * usize::from(!gloss.is_empty())).unwrap_or(0) + 4).min(area.height);
    let r = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    ratatui::widgets::Widget::render(Clear, r, buf);
    let mut lines: Vec<Line<'_>> = keys
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{}  ", columns::pad_start(k, 18)), Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(v.as_str()),
            ])
        })
        .collect();
    // The note about scenario keys when there is room for it.
    if usize::from(h) >= lines.len() + 4 {
        lines.push(Line::from(""));
        lines.push(Line::from(t!("tui-help-scenario-note")));
    }
    if !gloss.is_empty() && usize::from(h) >= lines.len() + with_gloss + 2 {
        lines.push(Line::from(""));
        lines.extend(gloss.iter().map(|l| Line::from(format!("  {l}"))));
    }
    let p = Paragraph::new(lines).block(Block::bordered().title(t!("tui-help-title")));
    ratatui::widgets::Widget::render(p, r, buf);
}

/// RFC 9293's figure 5 with both endpoints marked (C and S inside their
/// boxes) and the selected segment's transitions reversed; below it, the
/// transitions in words, off-diagram ones named as such.
fn render_diagram(app: &App, theme: Theme, area: Rect, buf: &mut Buffer) {
    let title = if app.current().is_some_and(|c| c.kernel_watched) {
        t!("tui-diagram-title-kernel")
    } else {
        t!("tui-diagram-title")
    };
    // The figure abbreviates two states the ladder spells out.
    let block = Block::bordered().title(title).title_bottom(Line::from(t!("tui-diagram-abbreviations")).centered());
    let inner = block.inner(area);
    ratatui::widgets::Widget::render(block, area, buf);
    let conn = app.current();
    let row = app.current_segment();
    let lit = conn.zip(row).map(|(c, r)| {
        let mut lit = figure::lit(c, r);
        if app.segment.is_none() {
            // Following: the states now (TIME-WAIT ends by its timer).
            let (cs, ss) = app.states_now(c);
            for (state, place) in [(cs, &mut lit.client), (ss, &mut lit.server)] {
                if state == TcpState::Closed && figure::PLACES[*place].state != TcpState::Closed {
                    *place = figure::CLOSED_AFTER;
                }
            }
        }
        lit
    });
    let lit_edges: Vec<usize> = lit.iter().flat_map(|l| l.moves.iter().filter_map(|m| m.2)).collect();
    // The kernel's changes in the same slot, computed once: their arrows
    // underlined, and counted under the figure.
    let slot = conn.zip(row).map(|(c, r)| kernel_slot(c, &kernel_verdicts(c), r)).unwrap_or_default();
    let kernel_edges: Vec<usize> = slot
        .iter()
        .filter_map(|v| {
            let (from, to) = v.as_wire.unwrap_or((v.transition.from, v.transition.to));
            figure::edge(from, to)
        })
        .collect();
    let grid = figure::cells();
    // The figure centred in the panel.
    let inner = Rect { x: inner.x + inner.width.saturating_sub(figure::WIDTH) / 2, ..inner };
    for (y, cells) in grid.iter().enumerate().take(usize::from(inner.height)) {
        for (x, cell) in cells.iter().enumerate().take(usize::from(inner.width)) {
            let mut style = Style::new();
            let mut ch = cell.ch;
            match cell.owner {
                figure::Owner::Edge(e) if lit_edges.contains(&e) => {
                    style = style.add_modifier(Modifier::REVERSED | Modifier::BOLD);
                    // Brackets round the label: visible without colour or
                    // reverse video, and in a text capture of the screen.
                    let edge = &figure::EDGES[e];
                    let (lx, ly) = (usize::from(edge.label.0), usize::from(edge.label.1));
                    if y == ly && x == lx {
                        ch = '»';
                    } else if y == ly && x == lx + figure::label(e).chars().count() + 1 {
                        ch = '«';
                    }
                }
                figure::Owner::Edge(e) if kernel_edges.contains(&e) => {
                    style = style.add_modifier(Modifier::UNDERLINED);
                }
                figure::Owner::Edge(_) => style = style.add_modifier(Modifier::DIM),
                figure::Owner::Place(p) => {
                    if let Some(l) = &lit {
                        let place = &figure::PLACES[p];
                        let x16 = u16::try_from(x).unwrap_or(0);
                        if l.client == p || l.server == p {
                            style = theme.state();
                        }
                        if l.client == p && x16 == place.client_mark() {
                            ch = 'C';
                            style = theme.fg(Color::Cyan).add_modifier(Modifier::BOLD | Modifier::REVERSED);
                        }
                        if l.server == p && x16 == place.server_mark() {
                            ch = 'S';
                            style = theme.fg(Color::Magenta).add_modifier(Modifier::BOLD | Modifier::REVERSED);
                        }
                    }
                }
                figure::Owner::None => {}
            }
            let (cx, cy) = (inner.x + u16::try_from(x).unwrap_or(0), inner.y + u16::try_from(y).unwrap_or(0));
            buf[(cx, cy)].set_char(ch).set_style(style);
        }
    }
    let width = usize::from(inner.width);
    let y = inner.y + figure::HEIGHT;
    for (k, line) in diagram_moves(conn, lit.as_ref(), row, &slot).into_iter().enumerate().take(2) {
        let y = y + u16::try_from(k).unwrap_or(0);
        if y < inner.y + inner.height {
            buf.set_stringn(inner.x, y, line, width, Style::new());
        }
    }
}

/// The two lines under the figure: what the segment did to each endpoint,
/// and how many of the kernel's changes in its slot (`slot`) agree.
fn diagram_moves(
    conn: Option<&Connection>,
    lit: Option<&figure::Lit>,
    row: Option<usize>,
    slot: &[crate::model::kernel::Verdict],
) -> Vec<String> {
    let (Some(conn), Some(lit), Some(row)) = (conn, lit, row) else {
        return vec![t!("tui-diagram-no-connection")];
    };
    [(Role::Client, 'C'), (Role::Server, 'S')]
        .into_iter()
        .map(|(role, mark)| {
            // The kernel's changes of this endpoint: how many agree, and
            // each that does not.
            let mine: Vec<_> = slot.iter().filter(|v| v.transition.side == role).collect();
            let agreed = mine.iter().filter(|v| v.agrees()).count();
            let mut kernel: Vec<String> = Vec::new();
            if agreed > 0 {
                kernel.push(format!("{agreed} ⚙"));
            }
            kernel.extend(
                mine.iter().filter(|v| !v.agrees()).map(|v| format!("✗ {}→{}", v.transition.from, v.transition.to)),
            );
            let kernel =
                if kernel.is_empty() { String::new() } else { t!("tui-diagram-kernel", changes = kernel.join(", ")) };
            // With the kernel's word, the RFC's label (lit on the figure) gives way.
            let moves: Vec<String> = lit
                .moves
                .iter()
                .filter(|m| m.0 == role)
                .map(|(_, t, _)| match t.label {
                    Ok(_) if !kernel.is_empty() => format!("{} → {}", t.from.name(), t.to.name()),
                    Ok(label) => t!("tui-diagram-move", from = t.from.name(), to = t.to.name(), label = label),
                    Err(why) => t!("tui-diagram-off", from = t.from.name(), to = t.to.name(), why = why),
                })
                .collect();
            let what = if moves.is_empty() {
                t!("tui-diagram-stays", state = conn.records[row].state(role).name(), row = row + 1)
            } else {
                t!("tui-diagram-row", row = row + 1, moves = moves.join(&t!("tui-diagram-then")))
            };
            format!("{mark} {} {what}{kernel}", columns::pad_end(&t!("tui-role", role = role.name()), 6))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{self, Lang};

    /// The English messages are the constants the tests and other views
    /// read, byte for byte; the Chinese ones are other words.
    /// A segment's sentence is left out only when the verdict shown above
    /// says it: the refusal once, and said again with no verdict.
    #[test]
    fn a_sentence_the_verdict_says_is_said_once() {
        let seg = crate::i18n::Said::new("explain-seg-rst-refused");
        assert!(restated(&seg, &[crate::i18n::Said::new("explain-refused")]));
        assert!(!restated(&seg, &[]));
        assert!(!restated(&seg, &[crate::i18n::Said::new("explain-both-time-wait")]));
        let both = crate::i18n::Said::new("explain-seg-both-time-wait");
        assert!(restated(
            &both,
            &[crate::i18n::Said::new("explain-fins-crossed"), crate::i18n::Said::new("explain-both-time-wait")]
        ));
        assert!(!restated(
            &crate::i18n::Said::new("explain-seg-last-segment"),
            &[crate::i18n::Said::new("explain-both-time-wait")]
        ));
    }

    #[test]
    fn the_english_words_are_the_constants() {
        let _en = i18n::scope(Lang::En);
        let words = help_words();
        assert_eq!(words.len(), HELP.len());
        for ((k, v), (ek, ev)) in words.iter().zip(HELP) {
            assert_eq!((k.as_str(), v.as_str()), (*ek, *ev));
        }
        assert_eq!(layout::diagram_too_small(), layout::DIAGRAM_TOO_SMALL);
        assert_eq!(t!("tui-udp-no-state"), format!("{}.", crate::export::udp::NO_STATE));
        let _zh = i18n::scope(Lang::Zh);
        for ((_, v), (_, ev)) in help_words().iter().zip(HELP) {
            assert_ne!(v, ev);
        }
        assert_ne!(layout::diagram_too_small(), layout::DIAGRAM_TOO_SMALL);
    }

    #[test]
    fn the_status_line_fits_by_columns() {
        let parts = [Part::new("连接状态很长很长".to_string(), "短", 0), Part::new("四次挥手".to_string(), "四", 3)];
        // 16 + 3 + 8 columns in full, then without the part of rank 3,
        // then the short forms.
        assert_eq!(fit_status(&parts, 27), "连接状态很长很长 │ 四次挥手");
        assert_eq!(fit_status(&parts, 26), "连接状态很长很长");
        assert_eq!(fit_status(&parts, 15), "短 │ 四");
        assert_eq!(fit_status(&parts, 3), "短");
    }
}
