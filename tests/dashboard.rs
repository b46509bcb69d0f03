//! The dashboard without a terminal: `update` (selection, follow, pause, step,
//! clear) and snapshots of what the user sees on ratatui's TestBackend.

mod support;

use std::fs::File;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use synack::capture::pcap::PcapSource;
use synack::capture::{FrameSource, Next};
use synack::model::decode::decode;
use synack::model::segment::{Segment, Timestamp};
use synack::pipeline::Pipeline;
use synack::tui::app::{Action, App, Focus, Msg, Source};
use synack::tui::ui;

fn segments(fixture: &str) -> Vec<Segment> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(fixture);
    let mut src = PcapSource::new(File::open(&path).unwrap(), fixture).unwrap();
    let mut out = Vec::new();
    while let Ok(Next::Frame(f)) = src.next_frame() {
        if let Ok(Some(s)) = decode(&f) {
            out.push(s);
        }
    }
    out
}

fn app_with(fixtures: &[&str], step: bool) -> App {
    let mut app = App::new(
        Pipeline::new(None, synack::model::tracker::Limits::both(100)),
        Source::Replay { name: "fixtures".into(), step },
        false,
    );
    for f in fixtures {
        for s in segments(f) {
            app.update(Msg::Decoded(Ok(Some(s))));
        }
    }
    // A fixed "now": 5 s after the last segment.
    app.now = Timestamp(app.now.0 + 5_000_000_000);
    app
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent { code, modifiers: KeyModifiers::NONE, kind: KeyEventKind::Press, state: KeyEventState::NONE })
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| ui::render(app, f)).unwrap();
    terminal.backend().to_string()
}

#[test]
fn follows_the_newest_until_a_selection() {
    let mut app = app_with(&["seed.pcap", "slow-close.pcap"], false);
    assert!(app.follow);
    assert_eq!(app.current().unwrap().id, 2);
    app.update(key(KeyCode::Up));
    assert!(!app.follow);
    assert_eq!(app.current().unwrap().id, 1);
    // A new connection arrives: the selection stays.
    for s in segments("abort.pcap") {
        app.update(Msg::Decoded(Ok(Some(s))));
    }
    assert_eq!(app.current().unwrap().id, 1);
    app.update(key(KeyCode::Char('f')));
    assert_eq!(app.current().unwrap().id, 3);
    app.update(key(KeyCode::Down));
    assert_eq!(app.current().unwrap().id, 3, "down at the bottom stays");
}

#[test]
fn segments_move_with_left_right_and_the_ladder_focus() {
    let mut app = app_with(&["seed.pcap"], false);
    assert_eq!(app.current_segment(), Some(9), "follows the latest segment");
    app.update(key(KeyCode::Left));
    app.update(key(KeyCode::Char('k')));
    assert_eq!(app.current_segment(), Some(7));
    app.update(key(KeyCode::Tab));
    assert_eq!(app.focus, Focus::Ladder);
    app.update(key(KeyCode::Up));
    assert_eq!(app.current_segment(), Some(6));
    app.update(key(KeyCode::Home));
    assert_eq!(app.current_segment(), Some(0));
    app.update(key(KeyCode::Char('j')));
    assert_eq!(app.current_segment(), Some(1));
}

#[test]
fn pause_holds_segments_and_resume_applies_them() {
    let mut app = app_with(&["seed.pcap"], false);
    app.update(key(KeyCode::Char(' ')));
    assert!(app.paused);
    for s in segments("abort.pcap") {
        app.update(Msg::Decoded(Ok(Some(s))));
    }
    assert_eq!(app.pipeline.tracker.len(), 1, "the view is frozen");
    assert_eq!(app.held.len(), 8, "capture goes on and is counted");
    app.update(key(KeyCode::Char(' ')));
    assert!(!app.paused);
    assert!(app.held.is_empty());
    assert_eq!(app.pipeline.tracker.len(), 2);
}

#[test]
fn step_mode_releases_one_segment_per_key() {
    let mut app = app_with(&["refused.pcap"], true);
    assert_eq!(app.pipeline.tracker.len(), 0);
    assert_eq!(app.held.len(), 2);
    app.update(key(KeyCode::Char(' ')));
    assert_eq!(app.current().unwrap().records.len(), 1);
    app.update(key(KeyCode::Char(' ')));
    assert_eq!(app.current().unwrap().records.len(), 2);
    assert!(app.current().unwrap().ended);
}

#[test]
fn clear_drops_finished_connections() {
    let mut app = app_with(&["seed.pcap", "abort.pcap"], false);
    // Half a connection: still open.
    let open: Vec<_> = segments("slow-close.pcap").into_iter().take(4).collect();
    for s in open {
        app.update(Msg::Decoded(Ok(Some(s))));
    }
    assert_eq!(app.pipeline.tracker.len(), 3);
    app.update(key(KeyCode::Char('c')));
    assert_eq!(app.pipeline.tracker.len(), 1);
    assert!(!app.current().unwrap().ended);
}

#[test]
fn quit_keys_and_help() {
    let mut app = app_with(&[], false);
    assert_eq!(app.update(key(KeyCode::Char('?'))), Action::None);
    assert!(app.help);
    assert_eq!(app.update(key(KeyCode::Char('x'))), Action::None, "any key closes the help");
    assert!(!app.help);
    assert_eq!(app.update(key(KeyCode::Char('n'))), Action::None, "no server: scenario keys do nothing");
    assert_eq!(app.update(key(KeyCode::Char('q'))), Action::Quit);
    assert_eq!(app.update(key(KeyCode::Esc)), Action::Quit);
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_c), Action::Quit);
    let mut live = App::new(
        Pipeline::new(Some(8001), synack::model::tracker::Limits::both(10)),
        Source::Live { interface: "lo".into(), port: 8001 },
        true,
    );
    assert_eq!(live.update(key(KeyCode::Char('s'))), Action::Run(synack::scenario::Scenario::SlowClose));
}

macro_rules! ladder_snapshots {
    ($($name:ident: $file:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            let mut app = app_with(&[$file], false);
            let verdict = format!("close: {}.", app.current().unwrap().close_kind());
            for (w, h) in [(80, 23), (80, 24), (100, 24), (120, 40), (200, 60)] {
                let s = screen(&mut app, w, h);
                // The verdict is on screen at every size, without scrolling.
                assert!(s.contains(&verdict), "{w}x{h}: no {verdict:?} in\n{s}");
                insta::assert_snapshot!(format!("{}_{w}x{h}", stringify!($name)), s);
            }
        }
    )*};
}

ladder_snapshots! {
    ladder_four_way: "slow-close.pcap",
    ladder_three_way: "seed.pcap",
    ladder_simultaneous: "ipv6.pcap",
    ladder_half_close: "half-close.pcap",
    ladder_reset: "abort.pcap",
    ladder_refused: "refused.pcap",
}

#[test]
fn help_overlay() {
    let mut app = app_with(&["seed.pcap"], false);
    app.update(key(KeyCode::Char('?')));
    insta::assert_snapshot!("help_120x40", screen(&mut app, 120, 40));
    insta::assert_snapshot!("help_80x24", screen(&mut app, 80, 24));
}

#[test]
fn too_small() {
    let mut app = app_with(&["seed.pcap"], false);
    let s = screen(&mut app, 60, 20);
    assert!(s.contains("enlarge it to at least 80 x 23"), "{s}");
    insta::assert_snapshot!("too_small_60x20", s);
}

#[test]
fn selected_segment_is_marked_and_explained() {
    let mut app = app_with(&["slow-close.pcap"], false);
    for _ in 0..2 {
        app.update(key(KeyCode::Left));
    }
    let s = screen(&mut app, 120, 40);
    let marked: Vec<&str> = s.lines().filter(|l| l.contains('▸')).collect();
    assert_eq!(marked.len(), 1, "{s}");
    assert!(marked[0].contains("ACK ack=12") && marked[0].contains("teardown 2/4"), "{s}");
    assert!(s.contains("acknowledges the client's FIN on its own"), "{s}");
    insta::assert_snapshot!("selected_segment_120x40", s);
}

#[test]
fn a_click_selects_the_connection_on_that_row() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = app_with(&["seed.pcap", "slow-close.pcap", "abort.pcap", "refused.pcap"], false);
    app.update(Msg::Resize(120, 40));
    let ids: Vec<u64> = app.pipeline.tracker.connections().map(|c| c.id).collect();
    assert!(ids.len() >= 3, "{ids:?}");
    let screen = ui::Screen::of(app.size, &app).unwrap();
    let rows = screen.list_rows();
    let click = |row: u16| {
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: rows.x + 3,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // The list shows every connection from the top: row 1 is the second one.
    assert_eq!(ui::list_offset(&app, usize::from(rows.height)), 0);
    app.update(click(rows.y + 1));
    assert_eq!((app.current().unwrap().id, app.follow), (ids[1], false));
    // A click outside the list changes nothing.
    app.update(click(rows.y + rows.height + 5));
    assert_eq!(app.current().unwrap().id, ids[1]);
    // The ladder drawn is that connection's.
    let s = screen_text(&app);
    let client = app.current().unwrap().client.addr;
    assert!(s.contains(&format!(" #{} client {client} ── server", ids[1])), "{s}");
}

fn screen_text(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| ui::render(app, f)).unwrap();
    terminal.backend().to_string()
}

#[test]
fn time_wait_counts_down_then_the_state_is_closed() {
    let mut app = app_with(&["seed.pcap"], false);
    // seed.pcap: the server closed first and waits in TIME-WAIT; now is 5 s after the close.
    let s = screen(&mut app, 120, 40);
    let row = s.lines().find(|l| l.contains("#1 ")).unwrap().to_string();
    assert!(row.contains("TIME-WAIT") && row.contains("server TIME-WAIT 55s"), "{row}");
    app.now = Timestamp(app.now.0 + 55_000_000_000);
    let s = screen(&mut app, 120, 40);
    let row = s.lines().find(|l| l.contains("#1 ")).unwrap().to_string();
    assert!(!row.contains("TIME-WAIT"), "60 s after the close TIME-WAIT is over: {row}");
    assert_eq!(row.matches("CLOSED").count(), 2, "both ends CLOSED: {row}");
    // A shorter TIME-WAIT (--time-wait) ends sooner.
    let mut short = app_with(&["seed.pcap"], false);
    short.time_wait = std::time::Duration::from_secs(2);
    let s = screen(&mut short, 120, 40);
    assert!(!s.lines().find(|l| l.contains("#1 ")).unwrap().contains("TIME-WAIT"), "{s}");
}

/// A replay at --speed 0 keeps every segment, even while the view is paused:
/// a file source waits for the view instead of dropping what does not fit.
#[test]
fn replay_keeps_every_segment_of_a_million() {
    use std::sync::Arc;
    use synack::capture::memory::MemorySource;
    use synack::model::decode::LinkType;
    use synack::model::segment::Flags;
    use synack::tui::{self, Loss, Pace, Shared};
    const N: u64 = 1_000_000;
    let (c, s) = ("127.0.0.1:40000", "127.0.0.1:8001");
    let mut frames = vec![
        support::frame(c, s, Flags::SYN, 100, 0, b""),
        support::frame(s, c, Flags::SYN | Flags::ACK, 500, 101, b""),
        support::frame(c, s, Flags::ACK, 101, 501, b""),
    ];
    for i in 0..N - 3 {
        frames.push(support::frame(c, s, Flags::PSH | Flags::ACK, 101 + u32::try_from(i).unwrap(), 501, b"x"));
    }
    let source = MemorySource::new(LinkType::Ethernet, frames.into_iter().map(|f| (Timestamp(1), f)));
    let shared = Arc::new(Shared::default());
    let (tx, rx) = tui::channel();
    let handle = tui::spawn_source(source, Pace::Speed(0.0), Loss::Never, tx, shared.clone(), |_| None).unwrap();
    let mut app = App::new(
        Pipeline::new(None, synack::model::tracker::Limits::both(10)),
        Source::Replay { name: "million".into(), step: false },
        false,
    );
    app.update(key(KeyCode::Char(' ')));
    assert!(app.paused);
    // The loop of tui::run, without the drawing: one message, then what is pending.
    // While paused, the source must come to a stop (nothing arrives for a second)
    // with at most HELD_HIGH segments held and a channel's worth in flight.
    let mut paused_until_held = true;
    'run: loop {
        let first = if paused_until_held {
            match rx.recv_timeout(std::time::Duration::from_secs(1)) {
                Ok(msg) => msg,
                Err(_) => {
                    assert!(app.held.len() <= tui::HELD_HIGH + tui::CHANNEL_CAPACITY, "{}", app.held.len());
                    paused_until_held = false;
                    app.update(key(KeyCode::Char(' ')));
                    shared.set_held(app.held.len());
                    continue;
                }
            }
        } else {
            rx.recv().unwrap()
        };
        for msg in std::iter::once(first).chain(rx.try_iter().take(50_000)) {
            let ended = matches!(msg, Msg::SourceEnded(_));
            assert!(!(ended && paused_until_held), "the source ran to its end past a paused view");
            app.update(msg);
            if ended {
                break 'run;
            }
        }
        shared.set_held(app.held.len());
    }
    handle.join().unwrap();
    assert!(!paused_until_held, "the pause held back segments");
    assert_eq!(app.pipeline.counters.segments, N, "every segment reached the pipeline");
    let seen: u64 = app.pipeline.tracker.connections().map(|c| c.seen).sum();
    assert_eq!(seen, N, "and the tracker");
    assert_eq!((shared.overflow.load(std::sync::atomic::Ordering::Relaxed), app.held_dropped), (0, 0));
}

#[test]
fn big_lists_page_jump_and_scroll() {
    use crossterm::event::{MouseEvent, MouseEventKind};
    // Thirty connections: the refused capture again and again (each a new connection).
    let fixtures = ["refused.pcap"; 30];
    let mut app = app_with(&fixtures, false);
    app.update(Msg::Resize(80, 23));
    let ids: Vec<u64> = app.pipeline.tracker.connections().map(|c| c.id).collect();
    assert_eq!(ids.len(), 30);
    app.update(key(KeyCode::Char('g')));
    assert_eq!(app.current().unwrap().id, ids[0]);
    app.update(key(KeyCode::PageDown));
    let page = usize::from(ui::Screen::of(app.size, &app).unwrap().list_rows().height);
    assert_eq!(app.current().unwrap().id, ids[page]);
    app.update(key(KeyCode::PageUp));
    assert_eq!(app.current().unwrap().id, ids[0]);
    app.update(key(KeyCode::Char('G')));
    assert_eq!(app.current().unwrap().id, ids[29]);
    let wheel = |kind| Msg::Mouse(MouseEvent { kind, column: 1, row: 1, modifiers: KeyModifiers::NONE });
    app.update(wheel(MouseEventKind::ScrollUp));
    assert_eq!(app.current().unwrap().id, ids[28]);
    let s = screen(&mut app, 120, 40);
    assert!(s.contains(&format!("HOLD #{}", ids[28])) && !s.contains("FOLLOW"), "{s}");
    app.update(key(KeyCode::Char('f')));
    assert!(screen(&mut app, 120, 40).contains("FOLLOW"));
}

#[test]
fn time_column_modes_and_notices_that_expire() {
    let mut app = app_with(&["slow-close.pcap"], false);
    assert!(screen(&mut app, 120, 40).contains("t: ms from the start"));
    app.update(key(KeyCode::Char('t')));
    assert!(screen(&mut app, 120, 40).contains("t: ms from the row before"));
    app.update(key(KeyCode::Char('t')));
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("t: clock time, UTC"), "{s}");
    assert!(screen(&mut app, 100, 24).contains("no times under 102 columns"));
    // A notice goes after five seconds of wall clock.
    app.update(Msg::Tick(Timestamp(1_000_000_000_000)));
    app.update(Msg::Notice("exported #1".into()));
    app.update(Msg::Tick(Timestamp(1_004_000_000_000)));
    assert!(screen(&mut app, 120, 40).contains("exported #1"));
    app.update(Msg::Tick(Timestamp(1_005_000_000_000)));
    assert!(!screen(&mut app, 120, 40).contains("exported #1"));
    // In the help, q closes it like any other key.
    app.update(key(KeyCode::Char('?')));
    assert_eq!(app.update(key(KeyCode::Char('q'))), Action::None);
    assert!(!app.help);
}

#[test]
fn the_tour_reveals_segment_by_segment_and_obeys_the_presenter() {
    use synack::tui::app::{DWELL_NANOS, REVEAL_NANOS, Tour};
    let mut app = App::new(
        Pipeline::new(None, synack::model::tracker::Limits::both(100)),
        Source::Live { interface: "lo".into(), port: 8001 },
        true,
    );
    app.tour = Some(Tour::new(true));
    let steps = Tour::steps();
    let mut wall = 1_000_000_000_000u64;
    let mut tick = |app: &mut App, nanos: u64| {
        wall += nanos;
        app.update(Msg::Tick(Timestamp(wall)))
    };
    // The first tick starts step 1: its caption, its scenario.
    assert_eq!(tick(&mut app, 0), Action::Run(steps[0].1));
    assert!(app.caption.as_deref().unwrap().starts_with(&format!("Step 1/{}: ", steps.len())));
    // Its segments come, and are shown one per reveal interval.
    let segs = segments("seed.pcap");
    for s in &segs {
        app.update(Msg::Decoded(Ok(Some(*s))));
    }
    assert!(app.current().is_none(), "nothing drawn at once");
    for shown in 1..=segs.len() {
        assert_eq!(tick(&mut app, REVEAL_NANOS), Action::None);
        assert_eq!(app.current().unwrap().records.len(), shown);
    }
    // Paused: the clock runs, nothing moves.
    app.update(key(KeyCode::Char(' ')));
    assert_eq!(tick(&mut app, DWELL_NANOS * 3), Action::None);
    assert!(app.caption.as_deref().unwrap().starts_with("Step 1/"));
    app.update(key(KeyCode::Char(' ')));
    // The whole ladder stands, then step 2 comes.
    assert_eq!(tick(&mut app, DWELL_NANOS), Action::Run(steps[1].1));
    assert!(app.caption.as_deref().unwrap().starts_with("Step 2/"));
    // n and p: the presenter moves at will; what was held is shown whole.
    app.update(Msg::Decoded(Ok(Some(segs[0]))));
    assert_eq!(app.update(key(KeyCode::Char('n'))), Action::Run(steps[2].1));
    assert!(app.held.is_empty());
    assert_eq!(app.update(key(KeyCode::Char('p'))), Action::Run(steps[1].1));
    assert!(app.caption.as_deref().unwrap().starts_with("Step 2/"));
    // --once: after the last step, the tour is over.
    for _ in 2..steps.len() {
        app.update(key(KeyCode::Char('n')));
    }
    assert_eq!(app.update(key(KeyCode::Char('n'))), Action::None);
    assert!(app.caption.as_deref().unwrap().starts_with("The tour is over"));
}

#[test]
fn the_list_filters_by_kind_port_address_and_state() {
    let mut app = app_with(&["seed.pcap", "slow-close.pcap", "abort.pcap", "refused.pcap", "half-close.pcap"], false);
    let type_in = |app: &mut App, text: &str| {
        app.update(key(KeyCode::Char('/')));
        for c in text.chars() {
            app.update(key(KeyCode::Char(c)));
        }
        app.update(key(KeyCode::Enter));
    };
    type_in(&mut app, "four-way");
    let shown: Vec<String> = app.visible().iter().map(|c| c.close_kind().name().to_string()).collect();
    assert_eq!(shown, ["four-way", "four-way"], "slow-close and half-close");
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("filter: four-way ── 2 of 5"), "{s}");
    // Typing a key while filtering does not run it: `q` is a letter here.
    app.update(key(KeyCode::Char('/')));
    assert_eq!(app.update(key(KeyCode::Char('q'))), Action::None);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.visible().len(), 5, "Esc clears the filter");
    // A port, and a state with a kind: every word must match.
    let port = app.pipeline.tracker.connections().nth(2).unwrap().client.addr.port();
    type_in(&mut app, &port.to_string());
    assert_eq!(app.visible().iter().map(|c| c.id).collect::<Vec<_>>(), [3]);
    app.update(key(KeyCode::Char('/')));
    app.update(key(KeyCode::Esc));
    type_in(&mut app, "time-wait three-way");
    assert!(app.visible().iter().all(|c| c.close_kind().name() == "three-way"));
    assert_eq!(app.visible().len(), 1);
    assert_eq!(app.current().unwrap().close_kind().name(), "three-way", "the view follows the filter");
}

#[test]
fn the_help_fits_at_the_smallest_size() {
    let mut app = app_with(&["seed.pcap"], false);
    app.update(key(KeyCode::Char('?')));
    let s = screen(&mut app, 80, 23);
    for (k, text) in ui::HELP {
        assert!(s.contains(text), "{k}: {text:?} is cut in\n{s}");
    }
}

#[test]
fn lifelines_stay_put_while_segments_arrive_and_between_connections() {
    let mut app = app_with(&[], true);
    for s in segments("seed.pcap").into_iter().chain(segments("half-close.pcap")) {
        app.update(Msg::Decoded(Ok(Some(s))));
    }
    // Where the two lifelines are on the ladder's first row.
    let lifelines = |s: &str| -> Vec<usize> {
        let row = s.lines().find(|l| l.contains("SYN-SENT │")).unwrap();
        row.chars().enumerate().filter(|(_, c)| *c == '│').map(|(i, _)| i).collect()
    };
    let mut seen = std::collections::BTreeSet::new();
    while !app.held.is_empty() {
        app.update(key(KeyCode::Char(' ')));
        let s = screen(&mut app, 120, 40);
        if s.contains("SYN-SENT │") {
            seen.insert(lifelines(&s));
        }
    }
    assert_eq!(seen.len(), 1, "the lifelines moved: {seen:?}");
}

#[test]
fn the_list_sorts_by_kind_and_duration() {
    let mut app = app_with(&["seed.pcap", "slow-close.pcap", "abort.pcap", "refused.pcap"], false);
    let kinds = |app: &App| app.visible().iter().map(|c| c.close_kind().name().to_string()).collect::<Vec<_>>();
    assert_eq!(kinds(&app), ["three-way", "four-way", "reset", "refused"]);
    app.update(key(KeyCode::Char('o')));
    assert_eq!(kinds(&app), ["four-way", "refused", "reset", "three-way"]);
    assert!(screen(&mut app, 120, 40).contains("Connections ── by close kind (o)"));
    app.update(key(KeyCode::Char('o')));
    let durations: Vec<u64> = app.visible().iter().map(|c| c.last().0 - c.start().0).collect();
    assert!(durations.windows(2).all(|w| w[0] >= w[1]), "{durations:?}");
    // Following still shows the newest connection, wherever it sorts.
    assert_eq!(app.current().unwrap().id, 4);
    app.update(key(KeyCode::Char('o')));
    assert_eq!(kinds(&app), ["three-way", "four-way", "reset", "refused"]);
}

/// Selects row `row` of the only connection of `app` (Home, then →).
fn select_row(app: &mut App, row: usize) {
    app.update(key(KeyCode::Home));
    for _ in 0..row {
        app.update(key(KeyCode::Right));
    }
}

/// The first row of the connection carrying a FIN or an RST: where a close
/// starts, the transition the panel's snapshots highlight.
fn first_close_row(app: &App) -> usize {
    let conn = app.current().unwrap();
    conn.records.iter().position(|r| r.flags.fin() || r.flags.rst()).unwrap()
}

#[test]
fn the_state_diagram_panel_lights_the_selected_segments_transitions() {
    for (fixture, name) in [
        ("seed.pcap", "three_way"),
        ("slow-close.pcap", "four_way"),
        ("ipv6.pcap", "simultaneous"),
        ("half-close.pcap", "half_close"),
        ("refused.pcap", "refused"),
    ] {
        let mut app = app_with(&[fixture], false);
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char('d'))));
        assert!(app.diagram);
        let row = first_close_row(&app);
        select_row(&mut app, row);
        for (w, h) in [(120, 40), (200, 60)] {
            let s = screen(&mut app, w, h);
            assert!(s.contains("RFC 9293 state diagram"), "{fixture} {w}x{h}\n{s}");
            // The connection list gives way at 120 columns; at 200 both show.
            assert_eq!(s.contains(" Connections "), w == 200, "{fixture} {w}x{h}\n{s}");
            insta::assert_snapshot!(format!("diagram_{name}_{w}x{h}"), s);
        }
    }
}

#[test]
fn the_diagram_says_when_it_does_not_fit() {
    let mut app = app_with(&["seed.pcap"], false);
    app.size = ratatui::layout::Rect::new(0, 0, 80, 23);
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('d'))));
    assert_eq!(app.notice.as_deref(), Some(ui::DIAGRAM_TOO_SMALL));
    let s = screen(&mut app, 80, 23);
    assert!(!s.contains("RFC 9293 state diagram"), "{s}");
    assert!(s.contains("Connections"), "{s}");
}

/// Every fixture, segment by segment: each lit transition is an arrow of
/// figure 5 between the boxes of its states, or is named off-diagram; the
/// marked boxes hold the states the ladder row shows.
#[test]
fn walking_every_fixture_the_diagram_agrees_with_the_ladder() {
    use synack::figure::{self, EDGES, PLACES};
    use synack::model::diagram::arrow;
    use synack::model::tracker::Role;
    let fixtures =
        ["seed.pcap", "client-first.pcap", "server-first.pcap", "slow-close.pcap", "half-close.pcap", "abort.pcap"];
    let mut walked = 0;
    let mut off = 0;
    for fixture in fixtures.iter().chain(&["ipv6.pcap", "refused.pcap"]) {
        let mut app = app_with(&[fixture], false);
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char('d'))));
        let n = app.current().unwrap().records.len();
        for row in 0..n {
            select_row(&mut app, row);
            let conn = app.current().unwrap();
            let lit = figure::lit(conn, row);
            let r = &conn.records[row];
            assert_eq!(PLACES[lit.client].state, r.state(Role::Client), "{fixture} row {row}");
            assert_eq!(PLACES[lit.server].state, r.state(Role::Server), "{fixture} row {row}");
            let s = screen(&mut app, 120, 40);
            let client = format!("[C {}", PLACES[lit.client].name);
            let server = format!("{} S]", PLACES[lit.server].name);
            let both = format!("[C {} S]", PLACES[lit.client].name);
            if lit.client == lit.server {
                assert!(s.contains(&both), "{fixture} row {row}: {both}\n{s}");
            } else {
                assert!(s.contains(&client) && s.contains(&server), "{fixture} row {row}\n{s}");
            }
            for (role, t, e) in &lit.moves {
                assert_eq!(t.row, row);
                match (t.label, e) {
                    (Ok(label), Some(e)) => {
                        let edge = EDGES[*e];
                        assert_eq!((PLACES[edge.from].state, PLACES[edge.to].state), (t.from, t.to));
                        assert_eq!(arrow(t.from, t.to), Some(label));
                        let lit = format!("»{label}«");
                        assert!(s.contains(&lit), "{fixture} row {row}: {lit}\n{s}");
                    }
                    (Err(why), None) => {
                        off += 1;
                        let line = format!("{} → {}  off the diagram: ", t.from.name(), t.to.name());
                        assert!(s.contains(&line), "{fixture} row {row} {role:?}: {why}\n{s}");
                    }
                    other => panic!("{fixture} row {row}: label and arrow disagree: {other:?}"),
                }
                walked += 1;
            }
        }
    }
    // The fixtures hold both kinds: arrows of the figure and RSTs off it.
    assert!(walked > 40 && off >= 2, "walked {walked}, off-diagram {off}");
}

/// The kernel view in the dashboard: changes that arrive before their
/// segments land on the right rows; the explanation panel and the diagram
/// say which agree with the wire, and the one the wire does not show is
/// flagged.
#[test]
fn the_kernel_view_in_the_explanation_and_the_diagram() {
    use synack::model::kernel::Change;
    use synack::model::tcp::TcpState::*;
    let segs = segments("slow-close.pcap");
    let mut app = App::new(
        Pipeline::new(None, synack::model::tracker::Limits::both(100)),
        Source::Replay { name: "fixtures".into(), step: false },
        false,
    );
    app.pipeline.tracker.watch_kernel();
    app.kernel = Some(Ok(()));
    let (client, server) = (segs[0].src, segs[0].dst);
    let at = |row: usize, micros: u64| Timestamp(segs[row].ts.0 + micros * 1_000);
    let unbound = std::net::SocketAddr::new(client.ip(), 0);
    let change = |ts, sock, local, remote, from, to| Change { ts, sock, local, remote, from, to };
    let changes = vec![
        // Before its port is chosen: port 0, tied to the socket's next change.
        change(Timestamp(segs[0].ts.0 - 1_000), 1, unbound, server, Closed, SynSent),
        change(at(1, 1), 1, client, server, SynSent, Established),
        change(at(2, 1), 2, server, client, Listen, SynReceived),
        change(at(2, 2), 2, server, client, SynReceived, Established),
        // Not what the wire shows: the server going straight to CLOSED.
        change(at(2, 3), 2, server, client, Established, Closed),
    ];
    app.update(Msg::KernelChanges(changes));
    for s in &segs {
        app.update(Msg::Decoded(Ok(Some(*s))));
    }
    app.update(Msg::Tick(Timestamp(segs.last().unwrap().ts.0 + 5_000_000_000)));
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('d'))));
    select_row(&mut app, 2);
    let s = screen(&mut app, 200, 60);
    assert!(s.contains("kernel view ⚙"), "{s}");
    assert!(s.contains("S server row 3: SYN-RECEIVED → ESTABLISHED   kernel: 1 ⚙, ✗ ESTABLISHED→CLOSED"), "{s}");
    assert!(s.contains("kernel: 4 of 5 transitions agreed"), "{s}");
    assert!(s.contains("the wire does not show this transition for the server here"), "{s}");
    select_row(&mut app, 1);
    let s = screen(&mut app, 200, 60);
    assert!(s.contains("C client row 2: SYN-SENT → ESTABLISHED   kernel: 1 ⚙"), "{s}");
    assert!(s.contains("⚙ kernel: client SYN-SENT → ESTABLISHED at"), "{s}");
    // The server's LISTEN -> SYN-RECEIVED goes with the row that shows it (the
    // SYN's), though the kernel made its socket only when the ACK came.
    select_row(&mut app, 0);
    let s = screen(&mut app, 200, 60);
    assert!(s.contains("S server row 1: LISTEN → SYN-RECEIVED   kernel: 1 ⚙"), "{s}");
}
