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

/// Types `text` as the list's filter (`/`, the text, Enter).
fn type_in(app: &mut App, text: &str) {
    app.update(key(KeyCode::Char('/')));
    for c in text.chars() {
        app.update(key(KeyCode::Char(c)));
    }
    app.update(key(KeyCode::Enter));
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
    // vi's keys: h left, l right, k up, j down.
    app.update(key(KeyCode::Char('h')));
    assert_eq!(app.current_segment(), Some(7));
    app.update(key(KeyCode::Tab));
    assert_eq!(app.focus, Focus::Ladder);
    app.update(key(KeyCode::Up));
    assert_eq!(app.current_segment(), Some(6));
    app.update(key(KeyCode::Char('k')));
    assert_eq!(app.current_segment(), Some(5));
    app.update(key(KeyCode::Char('j')));
    assert_eq!(app.current_segment(), Some(6));
    app.update(key(KeyCode::Home));
    assert_eq!(app.current_segment(), Some(0));
    app.update(key(KeyCode::Char('l')));
    assert_eq!(app.current_segment(), Some(1));
}

#[test]
fn vi_keys_move_through_the_list() {
    let mut app = app_with(&["seed.pcap", "slow-close.pcap", "abort.pcap"], false);
    assert_eq!(app.focus, Focus::List);
    app.update(key(KeyCode::Char('k')));
    assert_eq!(app.current().unwrap().id, 2);
    app.update(key(KeyCode::Char('k')));
    assert_eq!(app.current().unwrap().id, 1);
    app.update(key(KeyCode::Char('j')));
    assert_eq!(app.current().unwrap().id, 2);
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

/// The panel says a sentence once: the refusal and why both ends of a
/// simultaneous close wait in TIME-WAIT are in the verdict, and the last
/// segment's explanation does not say them again (in either language).
#[test]
fn the_panel_says_the_verdicts_sentence_once() {
    for (file, en, zh) in [
        ("refused.pcap", "firewall rule that rejects", "防火墙规则"),
        ("ipv6.pcap", "not CLOSE-WAIT", "而不是 CLOSE-WAIT"),
    ] {
        for (lang, words) in [(synack::i18n::Lang::En, en), (synack::i18n::Lang::Zh, zh)] {
            let _l = synack::i18n::scope(lang);
            let mut app = app_with(&[file], false);
            let s = screen(&mut app, 200, 60);
            assert_eq!(s.matches(words).count(), 1, "{file} {lang:?}\n{s}");
        }
    }
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
    // A replay runs no scenario, and says so.
    assert_eq!(app.update(key(KeyCode::Char('n'))), Action::None, "no server: scenario keys do nothing");
    assert!(app.notice.as_deref().unwrap().contains("a replay only shows the capture"), "{:?}", app.notice);
    // Esc never quits.
    assert_eq!(app.update(key(KeyCode::Esc)), Action::None);
    assert_eq!(app.update(key(KeyCode::Char('q'))), Action::Quit);
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_c), Action::Quit);
    let mut live = App::new(
        Pipeline::new(Some(8001), synack::model::tracker::Limits::both(10)),
        Source::Live { interface: "lo".into(), port: 8001 },
        true,
    );
    assert!(matches!(live.update(key(KeyCode::Char('s'))), Action::Run(synack::scenario::Scenario::SlowClose, _)));
    let half = Msg::Key(KeyEvent::new(KeyCode::Char('H'), KeyModifiers::SHIFT));
    assert!(matches!(live.update(half), Action::Run(synack::scenario::Scenario::HalfClose, _)));
    // --no-serve: the key says why it does nothing.
    let mut no_serve = App::new(
        Pipeline::new(Some(8001), synack::model::tracker::Limits::both(10)),
        Source::Live { interface: "lo".into(), port: 8001 },
        false,
    );
    assert_eq!(no_serve.update(key(KeyCode::Char('n'))), Action::None);
    let s = screen(&mut no_serve, 80, 24);
    assert!(s.contains("scenario keys need synack's echo server, which --no-serve leaves out"), "{s}");
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
    let screen = app.screen().unwrap();
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
    assert_eq!(app.list_offset(usize::from(rows.height)), 0);
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
    let page = usize::from(app.screen().unwrap().list_rows().height);
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
    // Clock times are wider: 125 columns.
    assert!(!screen(&mut app, 120, 40).contains("t: clock time, UTC"));
    let s = screen(&mut app, 125, 40);
    assert!(s.contains("t: clock time, UTC"), "{s}");
    // Under 118 columns the labels and notes come first: no time column,
    // and the title says nothing of it; `t` says what it needs.
    let s = screen(&mut app, 100, 24);
    assert!(!s.contains("t: ms") && !s.contains("t: clock") && !s.contains("0.531"), "{s}");
    app.update(Msg::Resize(100, 24));
    app.update(key(KeyCode::Char('t')));
    assert_eq!(
        app.notice.as_deref(),
        Some("the time column needs a ladder 118 columns wide (now 100): enlarge the terminal")
    );
    app.update(Msg::Resize(118, 24));
    let s = screen(&mut app, 118, 24);
    assert!(s.contains("t: ms from the start") && s.contains("0.531"), "{s}");
    app.notice = None;
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

/// The run of an action that starts a scenario.
fn run_of(action: Action) -> (synack::scenario::Scenario, synack::tui::app::RunId) {
    match action {
        Action::Run(scenario, run) => (scenario, run),
        other => panic!("expected a scenario to run, got {other:?}"),
    }
}

/// A live dashboard on port 8001 with the echo server (scenario keys work).
fn live_app() -> App {
    App::new(
        Pipeline::new(None, synack::model::tracker::Limits::both(100)),
        Source::Live { interface: "lo".into(), port: 8001 },
        true,
    )
}

/// The client port of a fixture's connection.
fn client_port(segs: &[Segment]) -> u16 {
    segs[0].src.port()
}

/// A scenario run made `segs`' connection: its port told, its segments come.
fn run_connects(app: &mut App, run: synack::tui::app::RunId, segs: &[Segment]) {
    app.update(Msg::ScenarioConnect { run, port: client_port(segs) });
    for s in segs {
        app.update(Msg::Decoded(Ok(Some(*s))));
    }
}

fn ran(connections: u32, port: Option<u16>) -> Msg {
    use synack::echo::{Outcome, Ran};
    Msg::ScenarioDone {
        run: 0,
        result: Ok(Ran { outcome: Outcome::Replied(b"HELLOWORLD\n".to_vec()), connections, port }),
    }
}

/// Run `run` is over, as `ran` says.
fn done(app: &mut App, run: synack::tui::app::RunId, ran: Msg) {
    let Msg::ScenarioDone { result, .. } = ran else { unreachable!() };
    app.update(Msg::ScenarioDone { run, result });
}

#[test]
fn the_tour_reveals_segment_by_segment_and_obeys_the_presenter() {
    use synack::tui::app::{DWELL_NANOS, REVEAL_NANOS, Tour};
    let mut app = live_app();
    app.tour = Some(Tour::new(true));
    let steps = Tour::steps();
    let mut wall = 1_000_000_000_000u64;
    let mut tick = |app: &mut App, nanos: u64| {
        wall += nanos;
        app.update(Msg::Tick(Timestamp(wall)))
    };
    // The first tick starts step 1: its caption, its scenario.
    let (scenario, run) = run_of(tick(&mut app, 0));
    assert_eq!(scenario, steps[0].1);
    assert!(app.caption.as_deref().unwrap().starts_with(&format!("Step 1/{}: ", steps.len())));
    // Its segments come, and are shown one per reveal interval.
    let segs = segments("seed.pcap");
    run_connects(&mut app, run, &segs);
    assert!(app.current().is_none(), "nothing drawn at once");
    for shown in 1..=segs.len() {
        assert_eq!(tick(&mut app, REVEAL_NANOS), Action::None);
        assert_eq!(app.current().unwrap().records.len(), shown);
    }
    // The list names the connection's scenario.
    let s = screen(&mut app, 100, 30);
    let row = s.lines().find(|l| l.contains("#1 ")).unwrap();
    assert!(row.contains(scenario.name()), "{s}");
    // The ladder is whole, but the scenario is not over: the step stays.
    assert_eq!(tick(&mut app, DWELL_NANOS * 2), Action::None);
    assert!(app.caption.as_deref().unwrap().starts_with("Step 1/"));
    done(&mut app, run, ran(1, None));
    // Space holds the step: the clock runs, nothing moves.
    app.update(key(KeyCode::Char(' ')));
    let s = screen(&mut app, 100, 30);
    assert!(s.contains("STEP HELD (space goes on)"), "{s}");
    assert_eq!(tick(&mut app, DWELL_NANOS * 3), Action::None);
    assert!(app.caption.as_deref().unwrap().starts_with("Step 1/"));
    app.update(key(KeyCode::Char(' ')));
    // The whole ladder stands, then step 2 comes.
    assert_eq!(run_of(tick(&mut app, DWELL_NANOS)).0, steps[1].1);
    assert!(app.caption.as_deref().unwrap().starts_with("Step 2/"));
    // n and p: the presenter moves at will; what was held is shown whole.
    app.update(Msg::Decoded(Ok(Some(segs[0]))));
    assert_eq!(run_of(app.update(key(KeyCode::Char('n')))).0, steps[2].1);
    assert!(app.held.is_empty());
    assert_eq!(run_of(app.update(key(KeyCode::Char('p')))).0, steps[1].1);
    assert!(app.caption.as_deref().unwrap().starts_with("Step 2/"));
    // The footer says so.
    assert!(screen(&mut app, 80, 24).contains("n next step  p back  space hold"));
    // --once: after the last step, the tour is over.
    for _ in 2..steps.len() {
        app.update(key(KeyCode::Char('n')));
    }
    assert_eq!(app.update(key(KeyCode::Char('n'))), Action::None);
    assert!(app.caption.as_deref().unwrap().starts_with("The tour is over"));
}

/// The simultaneous close tries again until the FINs cross: the tour shows
/// the try that did it, and its caption says how many it took.
#[test]
fn a_retried_step_shows_only_the_try_that_did_it() {
    use synack::scenario::Scenario;
    use synack::tui::app::{REVEAL_NANOS, Tour};
    let mut app = live_app();
    app.tour = Some(Tour::new(false));
    let at = Tour::steps().iter().position(|s| s.1 == Scenario::Simultaneous).unwrap();
    let mut wall = 1_000_000_000_000u64;
    let (mut scenario, mut run) = run_of(app.update(Msg::Tick(Timestamp(wall))));
    for _ in 0..at {
        (scenario, run) = run_of(app.update(key(KeyCode::Char('n'))));
    }
    assert_eq!(scenario, Scenario::Simultaneous);
    // A try whose FINs did not cross (a three-way close), then the one that
    // crossed (a real simultaneous close, over IPv6).
    let (failed, crossed) = (segments("seed.pcap"), segments("ipv6.pcap"));
    run_connects(&mut app, run, &failed);
    run_connects(&mut app, run, &crossed);
    assert!(app.held.is_empty(), "nothing of the tries is shown before the scenario says which did it");
    done(&mut app, run, ran(2, Some(client_port(&crossed))));
    assert_eq!(app.held.len(), crossed.len());
    for _ in 0..crossed.len() {
        wall += REVEAL_NANOS;
        app.update(Msg::Tick(Timestamp(wall)));
    }
    let conns: Vec<_> = app.pipeline.tracker.connections().collect();
    assert_eq!(conns.len(), 1, "one connection: the try that did it");
    assert_eq!(conns[0].close_kind().name(), "simultaneous");
    let caption = app.caption.clone().unwrap();
    assert!(caption.contains("It took 2 tries: the 1 before closed without the FINs crossing"), "{caption}");
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("1 try left out"), "{s}");
    let row = s.lines().find(|l| l.contains("#1 ")).unwrap();
    assert!(row.contains("simultaneous simultaneous"), "kind and scenario: {row}");
}

/// One key press, one connection: `x` lists the try that crossed, `b` its
/// four clients, each named by its scenario.
#[test]
fn one_key_press_shows_one_connection_named_by_its_scenario() {
    use synack::scenario::Scenario;
    let mut app = live_app();
    let (scenario, run) = run_of(app.update(key(KeyCode::Char('x'))));
    assert_eq!(scenario, Scenario::Simultaneous);
    let tries = [segments("seed.pcap"), segments("slow-close.pcap"), segments("ipv6.pcap")];
    for t in &tries {
        run_connects(&mut app, run, t);
    }
    assert_eq!(app.pipeline.tracker.len(), 0, "the tries wait for the scenario's word");
    done(&mut app, run, ran(3, Some(client_port(&tries[2]))));
    assert_eq!(app.visible().len(), 1);
    assert!(app.notice.as_deref().unwrap().contains("crossed on try 3; the 2 tries before"), "{:?}", app.notice);
    // Four clients at once: four connections, each the backlog's.
    let (scenario, run) = run_of(app.update(key(KeyCode::Char('b'))));
    assert_eq!(scenario, Scenario::Backlog);
    for f in ["seed.pcap", "slow-close.pcap", "abort.pcap", "half-close.pcap"] {
        run_connects(&mut app, run, &segments(f));
    }
    done(&mut app, run, ran(4, None));
    let s = screen(&mut app, 120, 40);
    let rows: Vec<&str> = s.lines().filter(|l| l.starts_with("\"│   #")).collect();
    assert_eq!(rows.iter().filter(|l| l.contains(" backlog ")).count(), 4, "{s}");
    assert_eq!(rows.iter().filter(|l| l.contains("simultaneous")).count(), 1, "{s}");
    assert!(s.contains("5 connections"), "{s}");
    // At 80 columns too.
    let s = screen(&mut app, 80, 24);
    assert!(s.lines().any(|l| l.contains(" backlog ")), "{s}");
}

#[test]
fn the_list_filters_by_kind_port_address_and_state() {
    let mut app = app_with(&["seed.pcap", "slow-close.pcap", "abort.pcap", "refused.pcap", "half-close.pcap"], false);
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

/// Each word is a part of what the list shows (or of a state the connection
/// was in), whatever its case: `/four`, `three`, `fin` all find something.
#[test]
fn the_filter_matches_parts_of_words_and_esc_clears_it_without_quitting() {
    let mut app = app_with(&["seed.pcap", "slow-close.pcap", "abort.pcap", "refused.pcap"], false);
    let ids = |app: &App| app.visible().iter().map(|c| c.id).collect::<Vec<_>>();
    type_in(&mut app, "four");
    assert_eq!(ids(&app), [2], "four-way");
    // The ladder follows the filtered list, even from a selection it hides.
    assert_eq!(app.current().unwrap().id, 2);
    // Esc after Enter clears the filter, and never quits.
    assert_eq!(app.update(key(KeyCode::Esc)), Action::None);
    assert_eq!(ids(&app), [1, 2, 3, 4]);
    assert_eq!(app.update(key(KeyCode::Esc)), Action::None, "Esc with nothing to clear does not quit either");
    type_in(&mut app, "THREE");
    assert_eq!(ids(&app), [1]);
    // States the connection went through: FIN-WAIT-1 on a side of each close with FINs.
    type_in(&mut app, "fin");
    assert_eq!(ids(&app), [1, 2]);
    type_in(&mut app, "127.0.0");
    assert_eq!(ids(&app).len(), 4);
    type_in(&mut app, "reset");
    assert_eq!(ids(&app), [3]);
    // A selection the filter hides gives way to a connection it shows.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('g')));
    assert_eq!(app.current().unwrap().id, 1);
    type_in(&mut app, "refused");
    assert_eq!(app.current().unwrap().id, 4, "the ladder shows what the list shows");
    assert!(screen(&mut app, 80, 24).contains("#4 ── close: refused"));
    // Nothing matches: said, with the way out.
    type_in(&mut app, "nothing-like-this");
    assert!(app.current().is_none());
    for (w, h) in [(80, 24), (120, 40)] {
        let s = screen(&mut app, w, h);
        assert!(s.contains("no connection matches 'nothing-like-this' (Esc clears)"), "{s}");
        assert!(!s.contains("waiting for connections"), "{s}");
    }
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
    assert_eq!(app.notice.as_deref(), Some(synack::tui::layout::DIAGRAM_TOO_SMALL));
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
    assert!(
        s.contains("kernel: 5 transitions shown, 4 agreed; 6 the wire shows have no kernel transition beside them"),
        "{s}"
    );
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

/// Kernel changes that agree with `fixture`'s wire, as the kernel view would
/// report them: each transition the wire shows, 1 µs after its row.
fn wire_changes(fixture: &str) -> Vec<synack::model::kernel::Change> {
    use synack::model::kernel::Change;
    use synack::model::tcp::TcpState;
    use synack::model::tracker::Role;
    let app = app_with(&[fixture], false);
    let conn = app.current().unwrap();
    let mut out = Vec::new();
    for (role, sock, local, remote) in
        [(Role::Client, 1, conn.client.addr, conn.server.addr), (Role::Server, 2, conn.server.addr, conn.client.addr)]
    {
        for t in synack::model::diagram::path(conn, role) {
            let ts = Timestamp(conn.records[t.row].ts.0 + 1_000);
            // A FIN that acknowledges ours: the kernel goes through FIN-WAIT-2.
            if (t.from, t.to) == (TcpState::FinWait1, TcpState::TimeWait) {
                out.push(Change { ts, sock, local, remote, from: t.from, to: TcpState::FinWait2 });
                out.push(Change { ts, sock, local, remote, from: TcpState::FinWait2, to: t.to });
            } else {
                out.push(Change { ts, sock, local, remote, from: t.from, to: t.to });
            }
        }
    }
    out.sort_by_key(|c| c.ts);
    out
}

/// Lets the tour reveal `n` segments from wall time `wall`, then a second
/// more; no frame (200 x 60, with the diagram's footer when it is on) shows a
/// "✗ kernel" line. Returns the last frame.
fn reveal_without_false_alarms(app: &mut App, mut wall: u64, n: usize) -> String {
    use synack::tui::app::REVEAL_NANOS;
    for shown in 0..=n {
        let s = screen(app, 200, 60);
        assert!(!s.contains('✗'), "{shown} segments shown:\n{s}");
        wall += REVEAL_NANOS;
        app.update(Msg::Tick(Timestamp(wall)));
    }
    app.update(Msg::Tick(Timestamp(wall + 1_000_000_000)));
    let s = screen(app, 200, 60);
    assert!(!s.contains('✗'), "{s}");
    s
}

/// While the tour reveals a connection segment by segment, the kernel view
/// is compared with what is on screen only: no "✗ kernel" line, in the panel
/// or under the diagram, on any frame, though the kernel's changes all came
/// at once, before the segments were shown; at the end all agree.
#[test]
fn the_kernel_view_is_compared_with_what_is_on_screen_only() {
    use synack::tui::app::Tour;
    for fixture in ["seed.pcap", "slow-close.pcap", "ipv6.pcap"] {
        let mut app = live_app();
        app.pipeline.tracker.watch_kernel();
        app.kernel = Some(Ok(()));
        app.tour = Some(Tour::new(true));
        app.diagram = true;
        let segs = segments(fixture);
        let wall = segs.last().unwrap().ts.0 + 1_000_000_000;
        let (_, run) = run_of(app.update(Msg::Tick(Timestamp(wall))));
        run_connects(&mut app, run, &segs);
        let changes = wire_changes(fixture);
        let all = changes.len();
        app.update(Msg::KernelChanges(changes));
        done(&mut app, run, ran(1, None));
        // The clock runs far past every change: still nothing ahead of the screen.
        let s = reveal_without_false_alarms(&mut app, wall, segs.len());
        assert!(s.contains(&format!("kernel: {all} of {all} transitions agreed")), "{fixture}:\n{s}");
    }
}

/// Paused, then stepping through a replay: the same.
#[test]
fn a_paused_view_compares_the_kernel_with_what_it_shows() {
    let segs = segments("slow-close.pcap");
    let mut app = app_with(&[], true);
    app.pipeline.tracker.watch_kernel();
    app.kernel = Some(Ok(()));
    for s in &segs {
        app.update(Msg::Decoded(Ok(Some(*s))));
    }
    let changes = wire_changes("slow-close.pcap");
    let all = changes.len();
    app.update(Msg::KernelChanges(changes));
    app.update(Msg::SourceEnded(None));
    while !app.held.is_empty() {
        app.update(key(KeyCode::Char(' ')));
        let s = screen(&mut app, 120, 40);
        assert!(!s.contains('✗'), "{} held:\n{s}", app.held.len());
    }
    let s = screen(&mut app, 120, 40);
    assert!(s.contains(&format!("kernel: {all} of {all} transitions agreed")), "{s}");
}

/// A pcapng recorded with the kernel view (`trace --kernel on --write`)
/// replays in the dashboard with it, as `trace --read` prints it: the
/// recorder writes the kernel's changes after the frames they go with.
#[test]
fn a_recording_with_the_kernel_view_replays_with_it() {
    use synack::capture::record::Recorder;
    use synack::tui::{self, Loss, Pace, Shared};
    let dir = support::tempdir("kernel-replay");
    let path = dir.join("kernel.pcapng");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed.pcap");
    let mut recorder = Recorder::create(&path).unwrap();
    assert!(recorder.keeps_kernel());
    let mut src = PcapSource::new(File::open(&fixture).unwrap(), "seed.pcap").unwrap();
    while let Ok(Next::Frame(f)) = src.next_frame() {
        recorder.write(&f).unwrap();
    }
    let changes = wire_changes("seed.pcap");
    let all = changes.len();
    for c in &changes {
        recorder.write_kernel(c).unwrap();
    }
    recorder.finish().unwrap();
    let source = PcapSource::new(File::open(&path).unwrap(), "kernel.pcapng").unwrap();
    let shared = std::sync::Arc::new(Shared::default());
    let (tx, rx) = tui::channel();
    let handle = tui::spawn_source(source, Pace::Speed(0.0), Loss::Never, tx, shared, |_| None).unwrap();
    let mut app = App::new(
        Pipeline::new(None, synack::model::tracker::Limits::both(10)),
        Source::Replay { name: "kernel.pcapng".into(), step: false },
        false,
    );
    for msg in rx.iter() {
        let ended = matches!(msg, Msg::SourceEnded(_));
        app.update(msg);
        if ended {
            break;
        }
    }
    handle.join().unwrap();
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("kernel view ⚙"), "{s}");
    assert!(s.contains(&format!("kernel: {all} of {all} transitions agreed")) && all >= 8, "{all}:\n{s}");
}

/// At 80 columns the arrow gives way, not the label: the tutorial's data
/// segments show whole, "helloworld" and all.
#[test]
fn labels_show_whole_at_80_columns() {
    for fixture in ["seed.pcap", "slow-close.pcap", "ipv6.pcap"] {
        let mut app = app_with(&[fixture], false);
        let labels = synack::ladder::layout(app.current().unwrap(), None, 0).rows;
        for (row, r) in labels.iter().enumerate() {
            select_row(&mut app, row);
            for (w, h) in [(80, 23), (80, 24), (100, 30)] {
                let s = screen(&mut app, w, h);
                assert!(s.contains(&r.label), "{fixture} row {row} at {w}x{h}: {:?} cut in\n{s}", r.label);
            }
        }
    }
}

/// The ladder's panel keeps its rows while stepping, whatever the text
/// below it says.
#[test]
fn the_ladder_keeps_its_height_while_stepping() {
    for (w, h) in [(80, 23), (80, 24), (100, 30), (160, 45)] {
        let mut app = app_with(&[], true);
        for s in segments("seed.pcap").into_iter().chain(segments("half-close.pcap")) {
            app.update(Msg::Decoded(Ok(Some(s))));
        }
        let mut heights = std::collections::BTreeSet::new();
        while !app.held.is_empty() {
            app.update(key(KeyCode::Char(' ')));
            let s = screen(&mut app, w, h);
            let top = s.lines().position(|l| l.contains("┌ #")).unwrap();
            let bottom = s.lines().position(|l| l.contains("┌ What it means")).unwrap();
            heights.insert((top, bottom));
        }
        assert_eq!(heights.len(), 1, "{w}x{h}: the ladder moved: {heights:?}");
    }
}

/// The status line and the empty list's hint are never cut in the middle of
/// a word, at 80 and 100 columns, with the kernel view on.
#[test]
fn the_header_and_the_hint_fit() {
    let mut app = App::new(
        Pipeline::new(None, synack::model::tracker::Limits::both(100)),
        Source::Live { interface: "lo".into(), port: 18001 },
        true,
    );
    app.kernel = Some(Ok(()));
    app.kernel_drops = 3;
    for w in [80, 100, 120] {
        let s = screen(&mut app, w, 24);
        let status = s.lines().next().unwrap().trim_matches('"').trim_end();
        assert!(status.ends_with('⚙') || status.ends_with("kernel view ⚙"), "{w}: {status}");
        assert!(status.contains("drops 3"), "{w}: {status}");
        assert!(s.contains("waiting for connections: press n for one, s H a x r w b m closes, u U UDP"), "{w}:\n{s}");
    }
    for f in ["seed.pcap", "slow-close.pcap"] {
        for seg in segments(f) {
            app.update(Msg::Decoded(Ok(Some(seg))));
        }
    }
    for w in [80, 100] {
        let s = screen(&mut app, w, 24);
        let status = s.lines().next().unwrap().trim_matches('"').trim_end();
        let parts: Vec<&str> = status.split(" │ ").map(str::trim).collect();
        assert!(parts.contains(&"2 connections") || parts.contains(&"2 conns"), "{w}: {status}");
        assert!(parts.last().unwrap().ends_with('⚙'), "{w}: {status}");
    }
}

/// "1 more line", "2 more lines".
#[test]
fn what_does_not_fit_is_counted_in_good_english() {
    let mut singular = 0;
    for h in 23..40 {
        for fixture in ["seed.pcap", "slow-close.pcap", "half-close.pcap", "ipv6.pcap"] {
            let mut app = app_with(&[fixture], false);
            let s = screen(&mut app, 80, h);
            assert!(!s.contains(" 1 more lines"), "{fixture} 80x{h}:\n{s}");
            singular += usize::from(s.contains(" 1 more line: enlarge the terminal"));
        }
    }
    assert!(singular > 0, "no screen had exactly one line more");
}

/// The diagram's notice says what is true of the terminal now: gone after
/// a resize that makes room, back after one that takes it away. At 160 x 45
/// the list stays beside the diagram and the ladder keeps six rows; the
/// figure's abbreviations are spelled out.
#[test]
fn the_diagram_follows_resizes_and_keeps_the_list() {
    use synack::tui::layout::DIAGRAM_TOO_SMALL;
    let mut app = app_with(&["seed.pcap", "slow-close.pcap"], false);
    app.update(Msg::Resize(80, 24));
    app.update(key(KeyCode::Char('d')));
    assert_eq!(app.notice.as_deref(), Some(DIAGRAM_TOO_SMALL));
    app.update(Msg::Resize(160, 45));
    assert_eq!(app.notice, None);
    let s = screen(&mut app, 160, 45);
    assert!(s.contains("RFC 9293 state diagram") && s.contains(" Connections "), "{s}");
    assert!(s.contains("SYN-RCVD is SYN-RECEIVED, ESTAB is ESTABLISHED"), "{s}");
    let top = s.lines().position(|l| l.contains("┌ #")).unwrap();
    let bottom = s.lines().position(|l| l.contains("┌ What it means")).unwrap();
    assert!(bottom - top - 2 >= 6, "the ladder keeps six rows:\n{s}");
    app.update(Msg::Resize(100, 30));
    assert_eq!(app.notice.as_deref(), Some(DIAGRAM_TOO_SMALL));
    app.update(key(KeyCode::Char('d')));
    assert_eq!(app.notice, None, "the diagram is off: nothing to say");
}

/// A try of the simultaneous close may reuse the port of the try before it
/// (the same tuple, its socket perhaps the same memory): neither the earlier
/// try's segments nor its kernel changes show with the connection that did
/// it, and no "✗ kernel" line comes of them.
#[test]
fn a_retry_on_the_same_port_brings_nothing_of_the_try_before() {
    use synack::model::tcp::TcpState;
    use synack::scenario::Scenario;
    use synack::tui::app::Tour;
    let mut app = live_app();
    app.pipeline.tracker.watch_kernel();
    app.kernel = Some(Ok(()));
    app.tour = Some(Tour::new(false));
    let at = Tour::steps().iter().position(|s| s.1 == Scenario::Simultaneous).unwrap();
    let crossed = segments("ipv6.pcap");
    let wall = crossed.last().unwrap().ts.0 + 1_000_000_000;
    let (mut scenario, mut run) = run_of(app.update(Msg::Tick(Timestamp(wall))));
    for _ in 0..at {
        (scenario, run) = run_of(app.update(key(KeyCode::Char('n'))));
    }
    assert_eq!(scenario, Scenario::Simultaneous);
    // The try before: the same connection, ten seconds earlier, same port.
    let earlier = |ts: Timestamp| Timestamp(ts.0 - 10_000_000_000);
    let failed: Vec<Segment> = crossed.iter().map(|s| Segment { ts: earlier(s.ts), ..*s }).collect();
    // The kernel's changes of each try; the client's first, CLOSED ->
    // SYN-SENT, made before its port was chosen (port 0).
    let before_port = |mut changes: Vec<synack::model::kernel::Change>| {
        for c in &mut changes {
            if (c.from, c.to) == (TcpState::Closed, TcpState::SynSent) {
                c.local = std::net::SocketAddr::new(c.local.ip(), 0);
            }
        }
        changes
    };
    let changes = before_port(wire_changes("ipv6.pcap"));
    let failed_changes: Vec<_> =
        changes.iter().map(|c| synack::model::kernel::Change { ts: earlier(c.ts), ..*c }).collect();
    run_connects(&mut app, run, &failed);
    app.update(Msg::KernelChanges(failed_changes));
    run_connects(&mut app, run, &crossed);
    let all = changes.len();
    app.update(Msg::KernelChanges(changes));
    done(&mut app, run, ran(2, Some(client_port(&crossed))));
    let s = reveal_without_false_alarms(&mut app, wall, crossed.len());
    assert_eq!(app.pipeline.tracker.len(), 1, "{s}");
    let conn = app.current().unwrap();
    assert_eq!(synack::model::kernel::agreement(conn), (all, all), "{s}");
}

/// Scenario runs (`tui::runs`): which connection each one made, a retried
/// scenario's tries and kernel changes held until it says which try did it.
mod runs {
    use synack::model::kernel::Change;
    use synack::model::segment::{Flags, Segment, Timestamp};
    use synack::scenario::Scenario;
    use synack::tui::runs::Runs;

    /// A SYN from `client_port` to the server's port 8001.
    fn seg(client_port: u16) -> Segment {
        let mut s = super::support::template();
        s.src = format!("127.0.0.1:{client_port}").parse().unwrap();
        s.flags = Flags::SYN;
        s.ts = Timestamp(1);
        s
    }

    #[test]
    fn only_the_try_that_did_it_is_shown() {
        let mut runs = Runs::default();
        let x = runs.start(Scenario::Simultaneous);
        for port in [40001, 40002, 40003] {
            runs.connect(x, port);
        }
        assert!(runs.holding());
        for port in [40001, 40002, 40003, 40003] {
            assert_eq!(runs.hold(seg(port)), None, "held until the run says which try did it");
        }
        // Another connection goes through.
        assert!(runs.hold(seg(50000)).is_some());
        let (shown, _) = runs.done(x, Some(40003), 3);
        assert_eq!(shown.iter().map(|s| s.src.port()).collect::<Vec<_>>(), [40003, 40003]);
        assert_eq!(runs.hidden, 2);
        assert!(!runs.holding());
        // After the run, its segments go through (a late one of the kept try).
        assert!(runs.hold(seg(40003)).is_some());
        runs.label(7, &seg(40003));
        assert_eq!(runs.of(7), Some(Scenario::Simultaneous));
        assert_eq!(runs.of(8), None);
    }

    /// A try may connect from the port of a try before it (closed by then):
    /// only the segments after the successful try's own announcement show.
    #[test]
    fn a_try_on_the_port_of_an_earlier_try_is_told_apart() {
        let mut runs = Runs::default();
        let x = runs.start(Scenario::Simultaneous);
        runs.connect(x, 40001);
        let mut first = seg(40001);
        first.seq = synack::model::seq::SeqNum(1);
        assert_eq!(runs.hold(first), None);
        runs.connect(x, 40002);
        assert_eq!(runs.hold(seg(40002)), None);
        runs.connect(x, 40001);
        let mut third = seg(40001);
        third.seq = synack::model::seq::SeqNum(3);
        assert_eq!(runs.hold(third), None);
        let (shown, _) = runs.done(x, Some(40001), 3);
        assert_eq!(shown.iter().map(|s| s.seq.0).collect::<Vec<_>>(), [3], "the third try only");
        assert_eq!(runs.hidden, 2);
    }

    /// The kernel's changes of the tries wait with their segments; only the
    /// successful try's go on, from its first segment (an earlier try on the
    /// same port made its changes before).
    #[test]
    fn only_the_successful_tries_kernel_changes_go_on() {
        use synack::model::tcp::TcpState;
        let change = |port: u16, ts: u64| Change {
            ts: Timestamp(ts),
            sock: 1,
            local: format!("127.0.0.1:{port}").parse().unwrap(),
            remote: "127.0.0.1:8001".parse().unwrap(),
            from: TcpState::SynSent,
            to: TcpState::Established,
        };
        let mut runs = Runs::default();
        let x = runs.start(Scenario::Simultaneous);
        runs.connect(x, 40001);
        let mut early = seg(40001);
        early.ts = Timestamp(1_000_000_000);
        assert_eq!(runs.hold(early), None);
        runs.connect(x, 40001);
        let mut late = seg(40001);
        late.ts = Timestamp(5_000_000_000);
        assert_eq!(runs.hold(late), None);
        // Changes of both tries, of another connection, and one before a port.
        assert_eq!(runs.hold_change(change(40001, 1_000_000_100)), None);
        assert_eq!(runs.hold_change(change(40001, 5_000_000_100)), None);
        assert!(runs.hold_change(change(50000, 2)).is_some());
        assert_eq!(runs.hold_change(change(0, 999_999_990)), None, "before a port, while the run holds");
        assert_eq!(runs.hold_change(change(0, 4_999_999_990)), None);
        let (shown, changes) = runs.done(x, Some(40001), 2);
        assert_eq!(shown.len(), 1);
        assert_eq!(changes.iter().map(|c| c.ts.0).collect::<Vec<_>>(), [5_000_000_100, 4_999_999_990]);
        assert!(runs.hold_change(change(0, 6_000_000_000)).is_some(), "nothing held now");
        // After: the kept port's changes go on; a failed port's are dropped.
        runs.connect(x, 40009);
        assert!(runs.hold_change(change(40001, 6_000_000_000)).is_some());
    }

    #[test]
    fn a_scenario_that_does_not_retry_is_never_held() {
        let mut runs = Runs::default();
        let b = runs.start(Scenario::Backlog);
        for port in [41000, 41001, 41002, 41003] {
            runs.connect(b, port);
        }
        assert!(!runs.holding());
        assert!(runs.hold(seg(41002)).is_some());
        runs.label(3, &seg(41002));
        assert_eq!(runs.of(3), Some(Scenario::Backlog));
        assert!(runs.done(b, None, 4).0.is_empty());
        assert_eq!(runs.hidden, 0);
    }

    #[test]
    fn a_failed_retried_run_shows_nothing_and_memory_is_bounded() {
        let mut runs = Runs::default();
        let x = runs.start(Scenario::Simultaneous);
        runs.connect(x, 40001);
        assert_eq!(runs.hold(seg(40001)), None);
        assert!(runs.done(x, None, 1).0.is_empty());
        assert_eq!(runs.hidden, 1);
        // A run that never says how it went is forgotten once enough newer
        // runs came: what is remembered is bounded.
        let stuck = runs.start(Scenario::Simultaneous);
        runs.connect(stuck, 40002);
        assert_eq!(runs.hold(seg(40002)), None);
        for port in 0..1_000 {
            let r = runs.start(Scenario::Seed);
            runs.connect(r, 41_000 + port);
        }
        assert!(!runs.holding());
        assert!(runs.hold(seg(40002)).is_some());
    }
}

/// A live capture that falls behind (its segments come late, the kernel's
/// changes on time): a change is not compared before the capture has said
/// it sent everything up to it, so no "✗ kernel" line comes of the delay.
#[test]
fn a_capture_behind_brings_no_false_kernel_lines() {
    let segs = segments("seed.pcap");
    let mut app = App::new(
        Pipeline::new(None, synack::model::tracker::Limits::both(100)),
        Source::Live { interface: "lo".into(), port: 8001 },
        true,
    );
    app.pipeline.tracker.watch_kernel();
    app.kernel = Some(Ok(()));
    let changes = wire_changes("seed.pcap");
    let all = changes.len();
    let (early, late) = segs.split_at(segs.len() - 3);
    for s in early {
        app.update(Msg::Decoded(Ok(Some(*s))));
    }
    app.update(Msg::KernelChanges(changes));
    // The capture said it was caught up just after its last segment sent;
    // the clock runs on, seconds past every change.
    let last = early.last().unwrap().ts.0;
    app.update(Msg::CaughtUp(Timestamp(last + 1_000_000)));
    let wall = segs.last().unwrap().ts.0 + 10_000_000_000;
    app.update(Msg::Tick(Timestamp(wall)));
    let s = screen(&mut app, 200, 60);
    assert!(!s.contains('✗'), "{s}");
    // The late segments come, and the capture catches up: all agree.
    for s in late {
        app.update(Msg::Decoded(Ok(Some(*s))));
    }
    app.update(Msg::CaughtUp(Timestamp(wall)));
    app.update(Msg::Tick(Timestamp(wall + 1_000_000_000)));
    let s = screen(&mut app, 200, 60);
    assert!(s.contains(&format!("kernel: {all} of {all} transitions agreed")), "{s}");
}

/// The seed exchange with the calls its two programs made, timed around
/// its segments as the built-in programs report them.
fn seed_with_calls() -> App {
    use synack::model::call::{Call, CallKind, Comm};
    let segs = segments("seed.pcap");
    let (client, server) = (segs[0].src, segs[0].dst);
    let at = |i: usize, micros: i64| Timestamp(segs[i].ts.0.saturating_add_signed(micros * 1_000));
    let mk = |ts, on_client: bool, kind, bytes: Option<u64>| Call {
        ts,
        sock: 0,
        local: if on_client { client } else { server },
        remote: if on_client { server } else { client },
        pid: if on_client { 4242 } else { 4243 },
        comm: Comm::new(if on_client { "python3" } else { "synack" }),
        kind,
        bytes,
        how: None,
        error: None,
    };
    let calls = vec![
        mk(at(0, -5), true, CallKind::Connect, None),
        mk(at(2, 3), false, CallKind::Accept, None),
        mk(at(3, -2), true, CallKind::Send, Some(10)),
        mk(at(3, 4), false, CallKind::Recv, Some(10)),
        mk(at(5, -2), false, CallKind::Send, Some(10)),
        mk(at(7, -2), false, CallKind::Close, None),
        mk(at(5, 3), true, CallKind::Recv, Some(10)),
        mk(at(8, -2), true, CallKind::Close, None),
    ];
    let mut app = App::new(
        Pipeline::new(None, synack::model::tracker::Limits::both(100)),
        Source::Replay { name: "fixtures".into(), step: false },
        false,
    );
    app.update(Msg::Calls(synack::capture::Replayed::of(calls)));
    for s in segs {
        app.update(Msg::Decoded(Ok(Some(s))));
    }
    app.update(Msg::SourceEnded(None));
    app.now = Timestamp(app.now.0 + 5_000_000_000);
    app
}

/// Calls show on their caller's lifeline between the segments, at 80x24
/// without hiding the verdict, and `i` hides them (the ladder is then as
/// without calls).
#[test]
fn calls_on_the_ladder_at_80x24_and_the_key_that_hides_them() {
    let mut app = seed_with_calls();
    assert_eq!(app.current().unwrap().calls.len(), 8);
    let s = screen(&mut app, 80, 24);
    insta::assert_snapshot!("calls_80x24", s);
    assert!(s.contains("close: three-way"), "the verdict shows:\n{s}");
    assert!(s.contains("synack[4243] close() ◆") && s.contains("◆ python3[4242] close()"), "{s}");
    let s = screen(&mut app, 200, 60);
    insta::assert_snapshot!("calls_200x60", s);
    let lines: Vec<&str> = s.lines().collect();
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}:\n{s}"));
    assert!(at("◆ python3[4242] connect()") < at("── SYN seq=0"), "{s}");
    assert!(at("◆ python3[4242] send() = 10") < at("\"helloworld\""), "{s}");
    assert!(at("synack[4243] close() ◆") < at("FIN-ACK seq=11 ack=11"), "{s}");
    assert!(s.contains("The server's accept() returned it"), "{s}");
    app.update(key(KeyCode::Char('i')));
    let hidden = screen(&mut app, 200, 60);
    assert!(!hidden.contains('◆'), "{hidden}");
    let mut plain = app_with(&["seed.pcap"], false);
    plain.update(Msg::SourceEnded(None));
    let ladder =
        |s: &str| -> Vec<String> { s.lines().filter(|l| l.contains(" │ ")).map(str::to_owned).take(12).collect() };
    assert_eq!(ladder(&hidden).len(), ladder(&screen(&mut plain, 200, 60)).len());
}

/// Every frame of a fixture as the capture thread sends it: segments, and
/// UDP datagrams (or ICMP quotes of them) for what is not TCP.
fn messages(fixture: &str) -> Vec<Msg> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(fixture);
    let mut src = PcapSource::new(File::open(&path).unwrap(), fixture).unwrap();
    let mut out = Vec::new();
    while let Ok(Next::Frame(f)) = src.next_frame() {
        out.push(synack::tui::frame_message(&f));
    }
    out
}

/// A replay of `fixture` through a pipeline that watches UDP, as
/// `synack --read` makes it; `end`: the source has ended.
fn udp_replay(fixture: &str, end: bool) -> App {
    let mut pipeline = Pipeline::new(None, synack::model::tracker::Limits::both(100));
    pipeline.watch_udp();
    let mut app = App::new(pipeline, Source::Replay { name: "fixtures".into(), step: false }, false);
    for m in messages(fixture) {
        app.update(m);
    }
    if end {
        app.update(Msg::SourceEnded(None));
    }
    app.now = Timestamp(app.now.0 + 5_000_000_000);
    app
}

/// The screen's text, its lines trimmed of their borders and joined by
/// spaces (a wrapped sentence reads whole).
fn joined(s: &str) -> String {
    s.lines().map(|l| l.trim_matches('"').trim_matches('│').trim()).collect::<Vec<_>>().join(" ")
}

/// The lines of the ladder panel (between its title and the panel below).
fn ladder_panel(s: &str) -> Vec<&str> {
    let lines: Vec<&str> = s.lines().collect();
    let top = lines.iter().position(|l| l.contains("┌ UDP") || l.contains("┌ #")).unwrap();
    let bottom = lines.iter().position(|l| l.contains("┌ What it means")).unwrap();
    lines[top..bottom].to_vec()
}

/// A UDP flow beside a TCP connection: both listed with their protocol; the
/// flow's ladder draws its two datagrams as arrows with no state column,
/// says why, and gives the verdict from the flow's facts.
#[test]
fn a_udp_flow_is_listed_and_drawn_without_states() {
    let mut app = udp_replay("tcp-udp.pcap", true);
    assert_eq!(app.pipeline.counters.datagrams, 2);
    assert_eq!(app.rows().len(), 2);
    // Following: the newest row, the UDP flow (it started after the connection).
    let flow = app.current_flow().expect("the UDP flow is on screen").clone();
    assert_eq!(flow.total(), 2);
    for (w, h) in [(80, 23), (80, 24), (120, 40), (200, 60)] {
        let s = screen(&mut app, w, h);
        insta::assert_snapshot!(format!("udp_flow_{w}x{h}"), &s);
        let rows: Vec<&str> = s.lines().filter(|l| l.starts_with("\"│  #1 ") || l.starts_with("\"│   #1 ")).collect();
        assert_eq!(rows.len(), 2, "{s}");
        assert!(rows[0].contains("#1 tcp ") && rows[1].contains("#1 udp "), "{s}");
        assert!(rows[1].contains("no close"), "{s}");
        let ladder = ladder_panel(&s).join("\n");
        assert!(ladder.contains("── UDP 10 \"helloworld\" ─") && ladder.contains("▶ │"), "{s}");
        assert!(ladder.contains("│ ◀── UDP 10 \"HELLOWORLD\" ─"), "{s}");
        // No state on either side, no handshake, no close.
        for word in ["ESTABLISHED", "CLOSED", "SYN", "FIN", "handshake", "teardown"] {
            assert!(!ladder.contains(word), "{word}:\n{s}");
        }
        assert!(s.contains("no handshake, no close"), "the verdict shows at {w}x{h}:\n{s}");
        assert!(!s.contains("ICMP"), "{s}");
    }
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("UDP keeps no connection state on the wire: nothing to open, nothing to close."), "{s}");
    assert!(joined(&s).contains(&format!("{}.", flow.verdict())), "the model's verdict, whole:\n{s}");
    assert!(!s.contains("So far"), "the flow ended with the capture:\n{s}");
    // Up: the TCP connection, drawn with its states as before.
    app.update(key(KeyCode::Up));
    assert_eq!(app.current().map(|c| c.id), Some(1));
    let s = screen(&mut app, 120, 40);
    assert!(ladder_panel(&s).join("\n").contains("SYN-SENT"), "{s}");
    assert!(!s.contains("UDP keeps no connection state"), "{s}");
    assert!(s.contains("HOLD #1"), "{s}");
    app.update(key(KeyCode::Down));
    assert!(app.current_flow().is_some());
    assert!(screen(&mut app, 120, 40).contains("HOLD udp #1"));
}

/// While a flow may still go on, its verdict says "so far".
#[test]
fn an_open_flows_verdict_is_so_far() {
    let mut app = udp_replay("tcp-udp.pcap", false);
    let verdict = app.current_flow().unwrap().verdict();
    let s = screen(&mut app, 120, 40);
    assert!(s.contains(&format!("So far: {verdict}.")), "{s}");
}

/// A datagram to a closed port: the ICMP port unreachable is on the flow's
/// ladder, coming back to the client, and in its verdict.
#[test]
fn a_closed_ports_icmp_error_is_on_the_udp_ladder() {
    let mut app = udp_replay("closed-port.pcap", true);
    let flow = app.current_flow().expect("the UDP flow").clone();
    assert_eq!((flow.total(), flow.icmp.len()), (1, 1));
    let s = screen(&mut app, 120, 40);
    insta::assert_snapshot!("udp_closed_port_120x40", &s);
    let ladder = ladder_panel(&s).join("\n");
    assert!(ladder.contains("│ ◀── ICMP port unreachable (from 127.0.0.2) ─"), "{s}");
    assert!(s.contains("ICMP error"), "the list's kind:\n{s}");
    assert!(joined(&s).contains("sent ICMP port unreachable about the datagram to 127.0.0.2:"), "{s}");
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("ICMP port unreachable"), "{s}");
}

/// The filter matches the protocol: `udp` shows the flow only, `tcp` the
/// connection only.
#[test]
fn the_filter_matches_tcp_or_udp() {
    let mut app = udp_replay("tcp-udp.pcap", true);
    type_in(&mut app, "udp");
    assert_eq!(app.rows().len(), 1);
    assert!(app.current_flow().is_some() && app.current().is_none());
    assert!(screen(&mut app, 120, 40).contains("1 of 2"));
    type_in(&mut app, "tcp");
    assert_eq!(app.rows().len(), 1);
    assert!(app.current().is_some() && app.current_flow().is_none());
    type_in(&mut app, "18201");
    assert_eq!(app.rows().len(), 2, "both on the port");
}

/// A pipeline that does not watch UDP counts datagrams as not ours and
/// lists no flow; paused, datagrams wait as segments do.
#[test]
fn datagrams_are_held_while_paused_and_ignored_unless_watched() {
    let mut app = app_with(&[], false);
    for m in messages("tcp-udp.pcap") {
        app.update(m);
    }
    assert_eq!((app.pipeline.counters.datagrams, app.rows().len()), (0, 1));
    assert!(!screen(&mut app, 120, 40).contains(" udp "));
    let mut pipeline = Pipeline::new(None, synack::model::tracker::Limits::both(100));
    pipeline.watch_udp();
    let mut app = App::new(pipeline, Source::Replay { name: "f".into(), step: false }, false);
    app.update(key(KeyCode::Char(' ')));
    for m in messages("tcp-udp.pcap") {
        app.update(m);
    }
    assert_eq!((app.held_udp.len(), app.rows().len()), (2, 0));
    assert!(screen(&mut app, 120, 40).contains("12 held"));
    app.update(key(KeyCode::Char(' ')));
    assert_eq!((app.held_len(), app.rows().len()), (0, 2));
}

/// The tour's step after the tutorial's connection sends the same message
/// over UDP; its caption counts what the list holds: the connection's
/// segments and the flow's datagrams.
#[test]
fn the_tours_udp_step_counts_segments_against_datagrams() {
    use synack::scenario::Scenario;
    use synack::tui::app::{DWELL_NANOS, REVEAL_NANOS, Tour};
    let steps = Tour::steps();
    assert_eq!((steps[0].1, steps[1].1), (Scenario::Seed, Scenario::Udp));
    let mut pipeline = Pipeline::new(None, synack::model::tracker::Limits::both(100));
    pipeline.watch_udp();
    let mut app = App::new(pipeline, Source::Live { interface: "lo".into(), port: 18201 }, true);
    app.tour = Some(Tour::new(true));
    let mut wall = 1_000_000_000_000u64;
    let mut tick = |app: &mut App, nanos: u64| {
        wall += nanos;
        app.update(Msg::Tick(Timestamp(wall)))
    };
    let (_, run) = run_of(tick(&mut app, 0));
    let all = messages("tcp-udp.pcap");
    let (tcp, udp): (Vec<&Msg>, Vec<&Msg>) = all.iter().partition(|m| matches!(m, Msg::Decoded(_)));
    let segs: Vec<Segment> =
        tcp.iter().filter_map(|m| if let Msg::Decoded(Ok(Some(s))) = m { Some(*s) } else { None }).collect();
    run_connects(&mut app, run, &segs);
    for _ in 0..segs.len() {
        tick(&mut app, REVEAL_NANOS);
    }
    done(&mut app, run, ran(1, None));
    let (scenario, run) = run_of(tick(&mut app, DWELL_NANOS));
    assert_eq!(scenario, Scenario::Udp);
    assert!(!app.caption.as_deref().unwrap().contains("In the list"), "no flow yet");
    for m in udp {
        let Msg::Datagram(d) = m else { unreachable!() };
        app.update(Msg::Datagram(*d));
    }
    assert!(app.current_flow().is_none(), "revealed one by one");
    tick(&mut app, REVEAL_NANOS);
    tick(&mut app, REVEAL_NANOS);
    let n = segs.len();
    let s = screen(&mut app, 80, 24);
    assert!(app.current_flow().is_some_and(|f| f.total() == 2), "{s}");
    let caption = format!("In the list, TCP connection #1: {n} segments; UDP flow #1: 2 datagrams.");
    assert!(joined(&s).contains(&caption), "{s}");
    assert!(s.contains("no handshake, no close"), "the verdict shows at 80x24:\n{s}");
    done(&mut app, run, ran(0, None));
}

/// The dashboard in Chinese (`--lang zh`), in-process. The verdict and the
/// ladder's rows come from the explanation and the ladder, which speak
/// Chinese on their own branches: these snapshots are re-taken
/// (`INSTA_UPDATE=always cargo test --test dashboard zh_`) once those are
/// merged.
mod zh {
    use super::*;
    use ratatui::buffer::Buffer;
    use synack::i18n::{self, Lang};

    /// The frame's buffer, for what the text of the screen hides.
    fn buffer(app: &mut App, w: u16, h: u16) -> Buffer {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| ui::render(app, f)).unwrap();
        terminal.backend().buffer().clone()
    }

    /// The screen as a terminal shows it, a line per row between quotes
    /// (`TestBackend`'s text, without its notes on the cells a wide
    /// character hides).
    fn screen(app: &mut App, w: u16, h: u16) -> String {
        let buf = buffer(app, w, h);
        let mut out = String::new();
        for y in 0..h {
            out.push('"');
            let mut x = 0;
            while x < w {
                let symbol = buf[(x, y)].symbol();
                out.push_str(symbol);
                x += u16::try_from(i18n::width(symbol).max(1)).unwrap();
            }
            out.push_str("\"\n");
        }
        out
    }

    /// Every wide character has its second column free: it does not stand
    /// in the last column, and the cell after it is the blank ratatui
    /// leaves there (nothing was drawn over its second half).
    fn no_split_wide_character(buf: &Buffer, what: &str) -> usize {
        let area = buf.area;
        let mut wide = 0;
        for y in area.top()..area.bottom() {
            let mut x = area.left();
            while x < area.right() {
                let symbol = buf[(x, y)].symbol();
                if i18n::width(symbol) == 2 {
                    wide += 1;
                    assert!(x + 1 < area.right(), "{what}: {symbol:?} split at the right edge, row {y}");
                    let next = buf[(x + 1, y)].symbol();
                    assert_eq!(next, " ", "{what}: {symbol:?} at ({x}, {y}) has {next:?} over its second half");
                    x += 2;
                } else {
                    x += 1;
                }
            }
        }
        wide
    }

    macro_rules! zh_snapshots {
        ($($name:ident: $file:literal),* $(,)?) => {$(
            #[test]
            fn $name() {
                let _zh = i18n::scope(Lang::Zh);
                let mut app = app_with(&[$file], false);
                for (w, h) in [(80, 24), (120, 40)] {
                    let s = screen(&mut app, w, h);
                    // The dashboard's own words are Chinese.
                    assert!(s.contains("┌ 连接 ") && s.contains("┌ 解读 ") && s.contains("关闭："), "{w}x{h}\n{s}");
                    assert!(!s.contains("Connections") && !s.contains("What it means"), "{w}x{h}\n{s}");
                    let wide = no_split_wide_character(&buffer(&mut app, w, h), &format!("{} {w}x{h}", $file));
                    assert!(wide > 20, "{w}x{h}: {wide} wide characters\n{s}");
                    insta::assert_snapshot!(format!("{}_{w}x{h}", stringify!($name)), s);
                }
            }
        )*};
    }

    zh_snapshots! {
        zh_ladder_four_way: "slow-close.pcap",
        zh_ladder_three_way: "seed.pcap",
        zh_ladder_simultaneous: "ipv6.pcap",
        zh_ladder_half_close: "half-close.pcap",
        zh_ladder_reset: "abort.pcap",
        zh_ladder_refused: "refused.pcap",
    }

    /// At the smallest size the dashboard runs at, 80 x 23, the whole
    /// verdict is on screen, as the panel wraps it, for every close kind.
    #[test]
    fn the_verdict_is_on_screen_at_80x23() {
        let _zh = i18n::scope(Lang::Zh);
        for fixture in ["slow-close.pcap", "seed.pcap", "ipv6.pcap", "half-close.pcap", "abort.pcap", "refused.pcap"] {
            let mut app = app_with(&[fixture], false);
            // The source ended: its notice takes the panel's first line.
            app.update(Msg::SourceEnded(None));
            let s = screen(&mut app, 80, 23);
            let verdict = synack::model::timeline::verdict(app.current().unwrap());
            for line in synack::tui::columns::wrap(&verdict, 78) {
                assert!(s.contains(&line), "{fixture}: {line:?} of the verdict is not on screen\n{s}");
            }
            assert!(s.contains("抓包结束"), "{fixture}\n{s}");
            no_split_wide_character(&buffer(&mut app, 80, 23), fixture);
        }
    }

    /// English words of three or more lowercase letters in `s`, but those
    /// a Chinese screen keeps: socket calls, protocol and program names,
    /// the tutorial's message, file extensions, a flag.
    fn english_words(s: &str) -> Vec<String> {
        const KEPT: &[&str] = &[
            "synack",
            "tcp",
            "udp",
            "connect",
            "send",
            "recv",
            "close",
            "accept",
            "listen",
            "shutdown",
            "helloworld",
            "step",
            "demo",
            "txt",
            "mmd",
            "svg",
        ];
        s.split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 3 && w.chars().all(|c| c.is_ascii_lowercase()) && !KEPT.contains(w))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_english_word_check_can_fail() {
        assert_eq!(english_words("按 q 退出 quits the help"), ["quits", "the", "help"]);
        assert!(english_words("FIN-WAIT-1 ACK recv() 3 ms PgUp Esc Ctrl-C").is_empty());
    }

    /// The help and the status and key lines say nothing in English.
    #[test]
    fn help_status_and_keys_are_chinese() {
        let _zh = i18n::scope(Lang::Zh);
        let mut app = live_app();
        for s in segments("slow-close.pcap") {
            app.update(Msg::Decoded(Ok(Some(s))));
        }
        app.kernel = Some(Ok(()));
        for (w, h) in [(80, 24), (120, 40), (200, 60)] {
            let s = screen(&mut app, w, h);
            let lines: Vec<&str> = s.lines().collect();
            for line in [lines[0], lines[lines.len() - 1]] {
                assert!(english_words(line).is_empty(), "{w}x{h}: {:?} in {line}", english_words(line));
            }
            assert!(lines[0].contains("实时") && lines[0].contains("跟随最新"), "{}", lines[0]);
        }
        // Paused, holding a connection, stepping through a replay.
        app.update(key(KeyCode::Char(' ')));
        app.update(key(KeyCode::Up));
        let s = screen(&mut app, 120, 40);
        let status = s.lines().next().unwrap();
        assert!(status.contains("已暂停") && status.contains("锁定 #1"), "{status}");
        assert!(english_words(status).is_empty(), "{status}");
        let mut replay = app_with(&["seed.pcap"], true);
        let s = screen(&mut replay, 120, 40);
        let status = s.lines().next().unwrap().replace("fixtures", "");
        assert!(status.contains("单步") && english_words(&status).is_empty(), "{status}");
        // The help, whole at 120 x 40.
        app.update(key(KeyCode::Char('?')));
        let s = screen(&mut app, 120, 40);
        assert!(s.contains("┌ 按键 "), "{s}");
        for (k, text) in ui::help_words() {
            assert!(s.contains(&text), "{k}: {text:?} is cut in\n{s}");
        }
        for i in synack::scenario::SCENARIOS.iter().filter(|i| i.key.is_some()) {
            assert!(s.contains(&i.scenario.help_words()), "{:?}\n{s}", i.scenario);
        }
        // Where there is room, the states' names glossed, TIME-WAIT's length told.
        assert!(s.contains("ESTABLISHED 已建立连接") && s.contains("Linux 固定为 60 秒"), "{s}");
        // At 80 x 24 the help takes the whole screen: no English on it.
        let s = screen(&mut app, 80, 24);
        assert!(s.lines().all(|l| l.contains('│') || l.contains('┌') || l.contains('└')), "{s}");
        assert!(english_words(&s).is_empty(), "{:?}\n{s}", english_words(&s));
        // At the smallest size the help's own lines are whole too.
        let s = screen(&mut app, 80, 23);
        for (k, text) in ui::help_words() {
            assert!(s.contains(&text), "{k}: {text:?} is cut in\n{s}");
        }
        no_split_wide_character(&buffer(&mut app, 80, 23), "help 80x23");
    }

    /// The UDP view's own words: its list row, its ladder's title, the
    /// sentence on UDP's lack of state.
    #[test]
    fn a_udp_flow_in_chinese() {
        let _zh = i18n::scope(Lang::Zh);
        let mut app = udp_replay("tcp-udp.pcap", true);
        app.update(key(KeyCode::Char('G')));
        let s = screen(&mut app, 120, 40);
        assert!(s.contains("UDP 流 #") && s.contains("无状态"), "{s}");
        assert!(s.contains("UDP 是无连接的"), "{s}");
        assert!(s.contains("无关闭"), "{s}");
        no_split_wide_character(&buffer(&mut app, 120, 40), "udp 120x40");
        insta::assert_snapshot!("zh_udp_flow_80x24", screen(&mut app, 80, 24));
    }

    /// The filter matches the kind the list shows, in either language.
    #[test]
    fn the_filter_matches_the_chinese_kind() {
        let _zh = i18n::scope(Lang::Zh);
        let mut app = app_with(&["seed.pcap", "slow-close.pcap", "abort.pcap"], false);
        type_in(&mut app, "四次");
        assert_eq!(app.visible().len(), 1);
        assert_eq!(app.visible()[0].close_kind().name(), "four-way");
        app.update(key(KeyCode::Esc));
        type_in(&mut app, "four");
        assert_eq!(app.visible().len(), 1);
        let s = screen(&mut app, 120, 40);
        assert!(s.contains("过滤：four") && s.contains("显示 1/3"), "{s}");
    }

    /// The tour's caption and counts are Chinese.
    #[test]
    fn the_tour_speaks_chinese() {
        use synack::tui::app::Tour;
        let _zh = i18n::scope(Lang::Zh);
        let mut app = live_app();
        app.tour = Some(Tour::new(true));
        app.update(Msg::Tick(Timestamp(1_000_000_000_000)));
        let caption = app.caption.clone().unwrap();
        assert!(caption.starts_with(&format!("第 1/{} 步：", Tour::steps().len())), "{caption}");
        assert!(caption.contains("三次握手"), "{caption}");
        let s = screen(&mut app, 80, 24);
        no_split_wide_character(&buffer(&mut app, 80, 24), "tour 80x24");
        assert!(s.contains("第 1/"), "{s}");
    }
}
