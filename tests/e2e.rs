//! End to end in a real terminal: tmux runs `synack demo` (live capture, so
//! root), the test reads the screen until the ladder shows a complete handshake
//! and a close, sends `q`, and checks the exit status and that the shell prompt
//! is back (the terminal was restored).

mod support;

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};
use support::capture_allowed;

/// The `EXIT=<status>` line the shell printed after synack, if any (not the
/// command line's own `echo EXIT=$?`, which a narrow pane may wrap).
fn exit_status(screen: &str) -> Option<&str> {
    screen
        .lines()
        .find_map(|l| l.strip_prefix("EXIT=").filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())))
}

struct Tmux {
    socket: String,
}

impl Tmux {
    /// A tmux server of its own running bash with a known prompt, `width` x `height`.
    fn start(socket: String, width: &str, height: &str) -> Tmux {
        let tmux = Tmux { socket };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            width,
            "-y",
            height,
            "env",
            "PS1=e2e-prompt$ ",
            "bash",
            "--norc",
            "--noprofile",
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out =
            Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux (installed by .ci/run)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }
    fn wait_for(&self, what: &dyn Fn(&str) -> bool, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if what(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "timed out; the screen was:\n{s}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(&self.socket).arg("kill-server").status();
    }
}

#[test]
fn demo_in_a_real_terminal() {
    if !capture_allowed() {
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tmux = Tmux::start(format!("synack-e2e-{}", std::process::id()), "120", "40");
    let cmd = format!("{} demo --port {port}; echo EXIT=$?", env!("CARGO_BIN_EXE_synack"));
    tmux.run(&["send-keys", "-t", "e2e", &cmd, "Enter"]);
    // The step's ladder, to its last row (its first rows may have scrolled
    // up: both programs' socket calls have rows of their own).
    let screen = tmux.wait_for(&|s| s.contains("Step 1/") && s.contains("teardown 4/4") && s.contains("close: "), 30);
    assert!(screen.contains("LIVE lo tcp/udp port"), "{screen}");
    assert!(screen.contains("◆ synack[") && screen.contains("close() ◆"), "both programs' calls: {screen}");
    // The caption names the step whose connection is drawn: step 1, connection #1.
    assert!(screen.contains("Step 1/") && screen.contains("#1 "), "{screen}");
    // Space holds the step: the clock goes on (the countdown moves), the
    // caption and the ladder stay.
    tmux.run(&["send-keys", "-t", "e2e", " "]);
    let paused = tmux.wait_for(&|s| s.contains("STEP HELD"), 10);
    let row =
        |s: &str| s.lines().find(|l| l.contains("#1 ") && l.contains("TIME-WAIT")).unwrap_or_default().to_string();
    let before = row(&paused);
    let later = tmux.wait_for(&|s| !row(s).is_empty() && row(s) != before, 10);
    assert!(later.contains("Step 1/") && !later.contains("Step 2/"), "{later}");
    assert!(later.contains("teardown 4/4"), "the ladder stays: {later}");
    // n goes to the next step at once.
    tmux.run(&["send-keys", "-t", "e2e", "n"]);
    tmux.wait_for(&|s| s.contains("Step 2/"), 10);
    tmux.run(&["send-keys", "-t", "e2e", "q"]);
    // The command line itself says "EXIT=$?": wait for the line echo prints.
    let after = tmux.wait_for(&|s| exit_status(s).is_some(), 10);
    assert!(after.lines().any(|l| l == "EXIT=0"), "{after}");
    // The prompt is back on a normal screen: the alternate screen is gone.
    let lines: Vec<&str> = after.lines().filter(|l| !l.trim().is_empty()).collect();
    let exit_at = lines.iter().position(|l| *l == "EXIT=0").unwrap();
    assert!(lines[exit_at + 1..].iter().any(|l| l.starts_with("e2e-prompt$")), "{after}");
    assert!(!after.contains("Connections"), "the dashboard is gone: {after}");
}

/// Replays need no privileges: a capture piped in on stdin shows in the
/// dashboard like a live one (keys still come from the terminal).
#[test]
fn replay_from_stdin_in_a_real_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(std::env::var("SYNACK_REQUIRE_CAPTURE").as_deref() != Ok("1"), "tmux is missing");
        eprintln!("skipping: no tmux");
        return;
    }
    let tmux = Tmux::start(format!("synack-e2e-replay-{}", std::process::id()), "100", "30");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/half-close.pcap");
    let cmd = format!("cat {fixture} | {} --read -; echo EXIT=$?", env!("CARGO_BIN_EXE_synack"));
    tmux.run(&["send-keys", "-t", "e2e", &cmd, "Enter"]);
    let screen = tmux.wait_for(&|s| s.contains("REPLAY") && s.contains("teardown 4/4"), 20);
    assert!(screen.contains("stdin") && screen.contains("four-way"), "{screen}");
    tmux.run(&["send-keys", "-t", "e2e", "q"]);
    let after = tmux.wait_for(&|s| exit_status(s).is_some(), 10);
    assert!(after.lines().any(|l| l == "EXIT=0"), "{after}");
}

/// Live: after `n`, the list counts TIME-WAIT down on the wall clock, then the
/// endpoint is CLOSED (a 3-second TIME-WAIT through `--time-wait`).
#[test]
fn time_wait_counts_down_and_ends_live() {
    if !capture_allowed() {
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tmux = Tmux::start(format!("synack-e2e-tw-{}", std::process::id()), "120", "40");
    // --time-wait is the view's own count, which the kernel's timer replaces
    // when the kernel view is on: off here.
    let cmd = format!("{} --port {port} --time-wait 3 --kernel off; echo EXIT=$?", env!("CARGO_BIN_EXE_synack"));
    tmux.run(&["send-keys", "-t", "e2e", &cmd, "Enter"]);
    tmux.wait_for(&|s| s.contains("waiting for connections"), 15);
    tmux.run(&["send-keys", "-t", "e2e", "n"]);
    let row = |s: &str| s.lines().find(|l| l.contains("#1 ")).unwrap_or_default().to_string();
    let counting = tmux.wait_for(&|s| row(s).contains("TIME-WAIT") && row(s).contains('s'), 15);
    assert!(row(&counting).contains(" TIME-WAIT "), "{counting}");
    // Then, with no other event than the clock, the row shows CLOSED and no countdown.
    // (The seed's close races: three-way, or simultaneous when the FINs cross.)
    let done = tmux.wait_for(&|s| row(s).matches("CLOSED").count() == 2 && !row(s).contains("TIME-WAIT"), 15);
    assert!(row(&done).contains("-way") || row(&done).contains("simultaneous"), "{done}");
    tmux.run(&["send-keys", "-t", "e2e", "q"]);
    let after = tmux.wait_for(&|s| exit_status(s).is_some(), 10);
    assert!(after.lines().any(|l| l == "EXIT=0"), "{after}");
}

/// Each stop signal leaves the terminal as it was: the dashboard (a replay,
/// so no privileges) exits 0, its screen is gone and the prompt is back.
#[test]
fn stop_signals_restore_the_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(std::env::var("SYNACK_REQUIRE_CAPTURE").as_deref() != Ok("1"), "tmux is missing");
        eprintln!("skipping: no tmux");
        return;
    }
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/half-close.pcap");
    let dir = support::tempdir("signals");
    for sig in ["TERM", "HUP", "QUIT", "INT"] {
        let tmux = Tmux::start(format!("synack-e2e-sig-{sig}-{}", std::process::id()), "100", "30");
        let pidfile = dir.join(format!("{sig}.pid"));
        // The shell writes its PID, then becomes synack: the test signals that PID only.
        let cmd = format!(
            "bash -c 'echo $$ > {}; exec {} --read {fixture} --speed 0'; echo EXIT=$?",
            pidfile.display(),
            env!("CARGO_BIN_EXE_synack")
        );
        tmux.run(&["send-keys", "-t", "e2e", &cmd, "Enter"]);
        tmux.wait_for(&|s| s.contains("REPLAY") && s.contains("four-way"), 20);
        let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_string();
        Command::new("kill").args([&format!("-{sig}"), &pid]).status().unwrap();
        // Wait for the exit line and the prompt after it.
        let after =
            tmux.wait_for(&|s| s.split_once("\nEXIT=").is_some_and(|(_, rest)| rest.contains("e2e-prompt$")), 10);
        assert!(after.lines().any(|l| l == "EXIT=0"), "SIG{sig}: {after}");
        assert!(
            !after.contains("Connections") && !after.contains("REPLAY"),
            "SIG{sig}: the dashboard is gone: {after}"
        );
        let lines: Vec<&str> = after.lines().filter(|l| !l.trim().is_empty()).collect();
        let exit_at = lines.iter().position(|l| *l == "EXIT=0").unwrap();
        assert!(lines[exit_at + 1..].iter().any(|l| l.starts_with("e2e-prompt$")), "SIG{sig}: {after}");
        // The terminal is out of raw mode: typed text echoes and runs.
        tmux.run(&["send-keys", "-t", "e2e", "echo typed-$((6*7))", "Enter"]);
        tmux.wait_for(&|s| s.contains("typed-42"), 5);
    }
}

/// `--record FILE.cast` writes what was drawn as an asciicast that asciinema
/// itself reads back: the same screen, the ladder and the verdict.
#[test]
fn record_writes_an_asciicast_asciinema_reads() {
    if Command::new("tmux").arg("-V").output().is_err() || Command::new("asciinema").arg("--version").output().is_err()
    {
        assert!(std::env::var("SYNACK_REQUIRE_CAPTURE").as_deref() != Ok("1"), "tmux or asciinema is missing");
        eprintln!("skipping: no tmux or asciinema");
        return;
    }
    let dir = support::tempdir("cast");
    let cast = dir.join("replay.cast");
    let tmux = Tmux::start(format!("synack-e2e-cast-{}", std::process::id()), "120", "40");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/slow-close.pcap");
    let cmd = format!(
        "{} --read {fixture} --speed 0 --record {}; echo EXIT=$?",
        env!("CARGO_BIN_EXE_synack"),
        cast.display()
    );
    tmux.run(&["send-keys", "-t", "e2e", &cmd, "Enter"]);
    tmux.wait_for(&|s| s.contains("REPLAY") && s.contains("close: four-way"), 20);
    tmux.run(&["send-keys", "-t", "e2e", "q"]);
    let after = tmux.wait_for(&|s| exit_status(s).is_some(), 10);
    assert_eq!(exit_status(&after), Some("0"), "{after}");
    let text = std::fs::read_to_string(&cast).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        (header["version"].as_u64(), header["width"].as_u64(), header["height"].as_u64()),
        (Some(2), Some(120), Some(40))
    );
    let times: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()[0].as_f64().unwrap())
        .collect();
    assert!(times.len() >= 2 && times.windows(2).all(|w| w[0] <= w[1]), "events in time order: {times:?}");
    // asciinema cat wants a terminal: run it in the pane, its output to a file.
    let replayed = dir.join("replayed.txt");
    let cat = format!("asciinema cat {} > {}; echo CAT=$?", cast.display(), replayed.display());
    tmux.run(&["send-keys", "-t", "e2e", &cat, "Enter"]);
    let done = tmux.wait_for(&|s| s.lines().any(|l| l.starts_with("CAT=") && l.len() > 4 && !l.contains('$')), 10);
    assert!(done.lines().any(|l| l == "CAT=0"), "{done}");
    let out = std::fs::read_to_string(&replayed).unwrap();
    assert!(out.contains("REPLAY") && out.contains("close: four-way") && out.contains("SYN-SENT"), "{out}");
    // It never writes over a file.
    let again =
        Command::new(env!("CARGO_BIN_EXE_synack")).args(["--read", fixture, "--record"]).arg(&cast).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to record over"));
}

/// Runs `cmd` (then `echo EXIT=$?`) in a new tmux of `width` x `height`.
fn start(tag: &str, width: &str, height: &str, cmd: &str) -> Tmux {
    let tmux = Tmux::start(format!("synack-e2e-{tag}-{}", std::process::id()), width, height);
    tmux.run(&["send-keys", "-t", "e2e", &format!("{cmd}; echo EXIT=$?"), "Enter"]);
    tmux
}

/// `q`, then the shell's prompt is back, the dashboard gone.
fn quit(tmux: &Tmux) {
    tmux.run(&["send-keys", "-t", "e2e", "q"]);
    let after = tmux.wait_for(&|s| s.split_once("\nEXIT=").is_some_and(|(_, rest)| rest.contains("e2e-prompt$")), 10);
    assert!(after.lines().any(|l| l == "EXIT=0"), "{after}");
    assert!(!after.contains("Connections") && !after.contains("│"), "the dashboard is gone: {after}");
}

fn tmux_missing() -> bool {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(std::env::var("SYNACK_REQUIRE_CAPTURE").as_deref() != Ok("1"), "tmux is missing");
        eprintln!("skipping: no tmux");
        return true;
    }
    false
}

/// After the terminal is resized, `q` still leaves the terminal as it was:
/// no frame of the dashboard on the restored screen.
#[test]
fn a_resize_then_quit_restores_the_terminal() {
    if tmux_missing() {
        return;
    }
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seed.pcap");
    let tmux = start("resize", "100", "30", &format!("{} --read {fixture} --speed 0", env!("CARGO_BIN_EXE_synack")));
    tmux.wait_for(&|s| s.contains("REPLAY") && s.contains("three-way"), 20);
    tmux.run(&["resize-window", "-t", "e2e", "-x", "120", "-y", "40"]);
    // Redrawn at the new size: the time column shows from 118 columns.
    tmux.wait_for(&|s| s.contains("t: ms from the start"), 10);
    quit(&tmux);
}

/// `synack demo --once` reaches its last step within 150 s, and no frame on
/// the way shows a false "✗ kernel" line (the kernel view is on as root).
/// The backlog step is there to show a true one: when the full accept queue
/// drops the handshake's last ACK, the server's kernel reaches ESTABLISHED
/// later than the wire says; a "✗" line may show there, and only there, and
/// it says when the wire showed it.
#[test]
fn the_demo_tour_reaches_its_end_without_false_kernel_lines() {
    if !capture_allowed() {
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tmux = start("tour", "160", "45", &format!("{} demo --port {port} --once", env!("CARGO_BIN_EXE_synack")));
    let started = Instant::now();
    let steps = synack::tui::app::Tour::steps();
    let last = format!("Step {n}/{n}", n = steps.len());
    let backlog = steps.iter().position(|s| s.1 == synack::scenario::Scenario::Backlog).unwrap();
    let backlog = format!("Step {}/{}:", backlog + 1, steps.len());
    let (mut frames, mut last_at) = (0, None);
    loop {
        let s = tmux.screen();
        frames += 1;
        if s.contains('✗') {
            // Only in the backlog step, whose dropped segments make the wire lag
            // the kernel (a known limit: a held-back ladder there may also be
            // compared early; see the stop's note).
            let true_one = s.contains(&backlog);
            assert!(true_one, "a false kernel line after {:?}:\n{s}", started.elapsed());
            eprintln!("a disagreement the backlog shows:\n{s}");
        }
        if last_at.is_none() && s.contains(&last) {
            last_at = Some(started.elapsed());
        }
        if s.contains("The tour is over") {
            assert!(s.contains("kernel view ⚙"), "{s}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(200), "the tour did not end:\n{s}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let last_at = last_at.expect("the last step was on screen");
    eprintln!("last step after {last_at:?}, the tour over after {:?}, {frames} frames", started.elapsed());
    assert!(last_at <= Duration::from_secs(150), "the last step came after {last_at:?}");
    quit(&tmux);
}

/// One key press, one connection: `x` lists the simultaneous close that
/// crossed (its other tries left out), `b` its eight clients, each named by
/// its scenario.
#[test]
fn one_key_press_one_connection_in_a_real_terminal() {
    if !capture_allowed() {
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cmd = format!("{} --port {port} --time-wait 600", env!("CARGO_BIN_EXE_synack"));
    // 45 rows: the list shows eight connections, the backlog's eight clients.
    let tmux = start("onekey", "100", "45", &cmd);
    tmux.wait_for(&|s| s.contains("waiting for connections"), 15);
    let rows =
        |s: &str, what: &str| s.lines().filter(|l| l.starts_with("│ ") && l.contains(" #") && l.contains(what)).count();
    tmux.run(&["send-keys", "-t", "e2e", "x"]);
    // One row for the scenario, closed. Its FINs cross when both threads run
    // at once; on a loaded machine one may close before the other's FIN
    // leaves (a three-way close, said as such): the kind is not asserted here.
    let s = tmux.wait_for(&|s| rows(s, "simultaneous") == 1 && s.contains("close: "), 60);
    assert!(s.contains("1 connection"), "{s}");
    tmux.run(&["send-keys", "-t", "e2e", "b"]);
    let s = tmux.wait_for(&|s| rows(s, " backlog ") == 8 && s.contains("9 connections"), 30);
    // The simultaneous close's one row is above them (the list follows the newest).
    assert_eq!(rows(&s, "simultaneous"), 0, "{s}");
    quit(&tmux);
}

/// At 80 x 24: the ladder shows the tutorial's message whole; `/four` finds
/// the four-way close; Esc clears the filter and the dashboard goes on.
#[test]
fn the_filter_and_the_labels_at_80_columns() {
    if !capture_allowed() {
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cmd = format!("{} --port {port} --kernel off", env!("CARGO_BIN_EXE_synack"));
    let tmux = start("filter", "80", "24", &cmd);
    tmux.wait_for(&|s| s.contains("waiting for connections: press n for one"), 15);
    // The calls' rows hidden (`i`): the seven rows left for the ladder hold
    // the segments from the reply on.
    tmux.run(&["send-keys", "-t", "e2e", "i"]);
    tmux.wait_for(&|s| s.contains("socket calls hidden"), 10);
    tmux.run(&["send-keys", "-t", "e2e", "n"]);
    // The seed's close races (three-way, or simultaneous when both FINs
    // cross): the label is whole unless the crossing's wider state column
    // ("FIN-WAIT-1→CLOSING") leaves it no room at 80 columns.
    let s = tmux.wait_for(&|s| s.contains("close: "), 15);
    if !s.contains("close: simultaneous") {
        assert!(s.contains("len=11 \"HELLOWORLD\\n\""), "the reply's label whole:\n{s}");
    }
    tmux.run(&["send-keys", "-t", "e2e", "s"]);
    tmux.wait_for(&|s| s.contains("2 connections") && s.contains("slow-close") && s.contains("4/4"), 15);
    tmux.run(&["send-keys", "-t", "e2e", "/four", "Enter"]);
    let s = tmux.wait_for(&|s| s.contains("filter: four ── 1 of 2"), 10);
    assert!(s.contains("close: four-way"), "the ladder follows the filter:\n{s}");
    tmux.run(&["send-keys", "-t", "e2e", "Escape"]);
    let s = tmux.wait_for(&|s| s.contains("┌ Connections ─") && !s.contains("filter:"), 10);
    assert!(s.contains("LIVE lo"), "Esc did not quit:\n{s}");
    tmux.run(&["send-keys", "-t", "e2e", "/nothing", "Enter"]);
    tmux.wait_for(&|s| s.contains("no connection matches 'nothing' (Esc clears)"), 10);
    tmux.run(&["send-keys", "-t", "e2e", "Escape"]);
    tmux.wait_for(&|s| !s.contains("no connection matches"), 10);
    quit(&tmux);
}

/// Live at 80 x 24: `u` sends "helloworld" as one datagram; the list shows
/// the UDP flow beside nothing else, its ladder the two datagrams and its
/// verdict. `U` sends to a closed port: the ICMP port unreachable is on the
/// flow's ladder and the client's ECONNREFUSED is said.
#[test]
fn udp_keys_in_a_real_terminal() {
    if !capture_allowed() {
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cmd = format!("{} --port {port} --kernel off", env!("CARGO_BIN_EXE_synack"));
    let tmux = start("udp", "80", "24", &cmd);
    tmux.wait_for(&|s| s.contains("waiting for connections"), 15);
    tmux.run(&["send-keys", "-t", "e2e", "u"]);
    let udp_row = |s: &str| s.lines().any(|l| l.starts_with("│ ") && l.contains("#1 udp "));
    let s = tmux.wait_for(
        &|s| udp_row(s) && s.contains("UDP 10 \"HELLOWORLD\"") && s.contains("2 datagrams (1 to the server, 1 back)"),
        15,
    );
    assert!(s.contains("no handshake, no close"), "{s}");
    assert!(s.contains("UDP flow #1"), "{s}");
    assert!(!s.contains("SYN"), "no TCP segment on a UDP flow:\n{s}");
    tmux.run(&["send-keys", "-t", "e2e", "U"]);
    let s = tmux.wait_for(&|s| s.contains("#2 udp ") && s.contains("ICMP port unreachable (from 127.0.0.2)"), 15);
    assert!(s.contains("ICMP error"), "{s}");
    let s = tmux.wait_for(&|s| s.contains("ECONNREFUSED"), 10);
    assert!(s.contains("UDP flow #2"), "{s}");
    quit(&tmux);
}

/// The locale alone makes the dashboard Chinese (LANG=zh_CN.UTF-8, no
/// --lang), at 80 x 24: its titles, the close kind, the keys; `q` still quits
/// and restores the terminal. `--lang en` overrides the locale.
#[test]
fn the_dashboard_speaks_chinese_from_the_locale() {
    if tmux_missing() {
        return;
    }
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seed.pcap");
    let bin = env!("CARGO_BIN_EXE_synack");
    let env = "env -u LC_ALL -u LC_MESSAGES -u SYNACK_LANG LANG=zh_CN.UTF-8";
    let tmux = start("zh", "80", "24", &format!("{env} {bin} --read {fixture} --speed 0"));
    let s = tmux.wait_for(&|s| s.contains("回放") && s.contains("三次挥手"), 20);
    assert!(s.contains("┌ 连接") && s.contains("┌ 解读") && s.contains("关闭：三次挥手"), "{s}");
    assert!(s.lines().last().is_some_and(|l| l.contains("? 帮助") && l.contains("q 退出")), "{s}");
    assert!(!s.contains("Connections") && !s.contains("What it means"), "{s}");
    quit(&tmux);
    let tmux = start("zh-en", "80", "24", &format!("{env} {bin} --lang en --read {fixture} --speed 0"));
    let s = tmux.wait_for(&|s| s.contains("REPLAY") && s.contains("three-way"), 20);
    assert!(s.contains("┌ Connections") && !s.contains("连接"), "{s}");
    quit(&tmux);
}
