//! The listener lane: the watched port's listening socket and its two queues,
//! two lines between the connection list and the ladder, live only.
//!
//! ```text
//!  listener 127.0.0.1:8001  backlog 3  accept queue 4/4 FULL  SYN queue 3
//!  drops  wire: 8 SYNs unanswered, 3 third ACKs not taken · kernel, all ports: ListenOverflows +11 …
//! ```
//!
//! What it says comes from two places. The kernel: sock_diag's figures for
//! the port's LISTEN socket and request sockets ([`crate::os::diag::Queues`]),
//! and the ListenOverflows and ListenDrops counters of /proc/net/netstat as
//! growth since synack started ([`crate::os::netstat`]). The wire: the
//! tracked connections' openings ([`crate::model::explain::opening`]): SYNs
//! the server did not answer, third ACKs it did not take, SYN-ACKs it sent
//! again after such an ACK.
//!
//! Cost: the kernel is asked only while the lane is on screen
//! ([`Shared::lane`](super::Shared)), by a thread of its own, five times a
//! second: one sock_diag dump per address family filtered to the port's
//! LISTEN and request sockets, and one read of /proc/net/netstat. The wire's
//! counts are made when a sample arrives, not per frame. `L` shows or hides
//! the lane; the backlog scenario shows it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::thread;
use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};

use super::layout::Screen;
use crate::model::connection::Connection;
use crate::model::explain::opening;
use crate::os::diag::{Diag, Queues};
use crate::os::netstat::{self, ListenCounters};
use crate::t;

/// Rows the lane takes from the ladder.
pub const HEIGHT: u16 = 2;
/// How often the kernel is asked while the lane shows: the accept queue of
/// the backlog scenario changes every 200 ms as it drains.
pub const PACE: Duration = Duration::from_millis(200);

/// What the kernel said at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The listener's queues, or why they could not be read.
    pub queues: Result<Queues, String>,
    /// ListenOverflows and ListenDrops grown since synack started, or
    /// `None` when /proc/net/netstat could not be read.
    pub counters: Option<ListenCounters>,
}

/// What the wire shows of drops at the listener, over the tracked
/// connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireDrops {
    /// Client SYNs the server did not answer.
    pub syns: usize,
    /// Client segments acknowledging the SYN-ACK that the server did not
    /// take (it stayed SYN-RECEIVED): third ACKs dropped.
    pub acks: usize,
    /// SYN-ACKs the server sent again after a third ACK it did not take.
    pub syn_acks_again: usize,
}

/// The lane's state in the app.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lane {
    /// On screen (when live).
    pub shown: bool,
    /// The kernel's last word; `None` until the first sample.
    pub sample: Option<Sample>,
    /// The wire's counts, made when the last sample came.
    pub wire: WireDrops,
}

impl Lane {
    /// A sample arrived: keep it and count the wire's drops in `conns`.
    pub fn take<'a>(&mut self, sample: Sample, conns: impl Iterator<Item = &'a Connection>) {
        self.sample = Some(sample);
        self.wire = wire_drops(conns);
    }
}

/// The wire's drops at the listener in `conns`.
#[must_use]
pub fn wire_drops<'a>(conns: impl Iterator<Item = &'a Connection>) -> WireDrops {
    let mut w = WireDrops::default();
    for c in conns {
        let o = opening(c);
        w.syns += o.syns_dropped.len();
        w.acks += o.acks_dropped.len();
        if let Some(&first) = o.acks_dropped.first() {
            w.syn_acks_again += o.syn_acks_again.iter().filter(|&&i| i > first).count();
        }
    }
    w
}

/// The first line: the listener and its queues, the longest wording that
/// fits `width`. The accept queue is `n/m`: `m` is what it holds, one more
/// than the backlog (Linux lets one more than the backlog wait: `4/4` with
/// `backlog 3` is full), never a fraction of the backlog (`4/3` would read
/// as over capacity).
#[must_use]
pub fn queues_line(lane: &Lane, port: u16, width: usize) -> String {
    let candidates: Vec<String> = match &lane.sample {
        None => vec![t!("tui-lane-reading", port = port)],
        Some(Sample { queues: Err(e), .. }) => {
            vec![
                t!("tui-lane-unavailable", port = port, error = e.clone()),
                t!("tui-lane-unavailable-short", port = port),
            ]
        }
        Some(Sample { queues: Ok(q), .. }) if q.listeners == 0 => vec![t!("tui-lane-nothing-listens", port = port)],
        Some(Sample { queues: Ok(q), .. }) => {
            let at = q.local.map_or(format!(":{port}"), |a| a.to_string());
            let more = if q.listeners > 1 { t!("tui-lane-more-listening", n = q.listeners - 1) } else { String::new() };
            let (n, m) = (q.accept_queue, q.backlog);
            let holds = u64::from(m) + 1;
            let state = if q.accept_full() { t!("tui-lane-full") } else { String::new() };
            let accept = t!("tui-lane-accept-queue", n = n, holds = holds, full = state);
            let syn = t!("tui-lane-syn-queue", n = q.syn_queue);
            vec![
                t!(
                    "tui-lane-queues-long",
                    at = at.clone(),
                    more = more.clone(),
                    backlog = m,
                    accept = accept.clone(),
                    syn = syn.clone()
                ),
                t!(
                    "tui-lane-queues",
                    at = at.clone(),
                    more = more,
                    backlog = m,
                    accept = accept.clone(),
                    syn = syn.clone()
                ),
                t!("tui-lane-queues-short", at = at.clone(), backlog = m, accept = accept.clone(), syn = syn.clone()),
                t!(
                    "tui-lane-queues-shortest",
                    at = at.clone(),
                    backlog = m,
                    accept = accept.clone(),
                    syn = syn.clone()
                ),
                // Chinese names the queues at length: without the address
                // when even that does not fit (English: the same words).
                t!("tui-lane-queues-bare", at = at, backlog = m, accept = accept, syn = syn),
            ]
        }
    };
    pick(candidates, width)
}

/// The second line: drops and their cause, from the wire and from the
/// kernel, the longest wording that fits `width`. SYN-ACKs sent again are
/// named only when there were some, and the narrowest wording leaves them
/// out (the ladder shows each).
#[must_use]
pub fn drops_line(lane: &Lane, width: usize) -> String {
    let w = lane.wire;
    let (again, again_short) = if w.syn_acks_again == 0 {
        (String::new(), String::new())
    } else {
        (t!("tui-lane-again", n = w.syn_acks_again), t!("tui-lane-again-short", n = w.syn_acks_again))
    };
    let wire_long = t!("tui-lane-wire", syns = w.syns, acks = w.acks, again = again);
    let wire_short = t!("tui-lane-wire-short", syns = w.syns, acks = w.acks);
    let wire_short_again = format!("{wire_short}{again_short}");
    let (kernel_long, kernel_short) = match lane.sample.as_ref().and_then(|s| s.counters) {
        Some(k) => (
            t!("tui-lane-kernel", overflows = k.overflows, drops = k.drops),
            t!("tui-lane-kernel-short", overflows = k.overflows, drops = k.drops),
        ),
        None => (t!("tui-lane-kernel-unavailable"), t!("tui-lane-kernel-unavailable-short")),
    };
    pick(
        vec![
            t!("tui-lane-drops", wire = wire_long.clone(), kernel = kernel_long),
            format!("{wire_long} · {kernel_short}"),
            format!("{wire_short_again} · {kernel_short}"),
            format!("{wire_short} · {kernel_short}"),
        ],
        width,
    )
}

/// Columns `s` takes on a terminal.
fn columns(s: &str) -> usize {
    ratatui::text::Line::from(s).width()
}

/// The first of `candidates` that fits `width` columns, else the last cut.
fn pick(candidates: Vec<String>, width: usize) -> String {
    let fits = |s: &String| columns(s) <= width;
    let last = candidates.last().cloned().unwrap_or_default();
    candidates.into_iter().find(fits).unwrap_or_else(|| super::columns::cut(&last, width).to_owned())
}

/// The screen with the lane's rows taken from the top of the ladder, and
/// where the lane goes; the screen unchanged when the lane is off.
#[must_use]
pub fn carve(mut screen: Screen, on: bool) -> (Screen, Option<Rect>) {
    if !on || screen.ladder.height < HEIGHT + 6 {
        return (screen, None);
    }
    let lane = Rect { height: HEIGHT, ..screen.ladder };
    screen.ladder.y += HEIGHT;
    screen.ladder.height -= HEIGHT;
    (screen, Some(lane))
}

/// Draws the lane in `area`.
pub fn render(lane: &Lane, port: u16, area: Rect, buf: &mut Buffer) {
    let width = usize::from(area.width.saturating_sub(1));
    let first = queues_line(lane, port, width);
    let full = lane.sample.as_ref().is_some_and(|s| s.queues.as_ref().is_ok_and(Queues::accept_full));
    let style = if full { Style::new().add_modifier(Modifier::BOLD) } else { Style::new() };
    buf.set_stringn(area.x + 1, area.y, &first, width, style);
    if area.height > 1 {
        let dim = Style::new().add_modifier(Modifier::DIM);
        buf.set_stringn(area.x + 1, area.y + 1, drops_line(lane, width), width, dim);
    }
}

/// Starts the thread that asks the kernel for `port`'s queues every
/// [`PACE`] while `shared.lane` says the lane is on screen, and sends each
/// [`Sample`]. The counters' start is read when it starts. It ends when
/// `shared.stop` is set or the channel is gone.
///
/// # Errors
/// When the thread cannot be started.
pub fn spawn(
    port: u16,
    tx: SyncSender<super::Msg>,
    shared: Arc<super::Shared>,
) -> std::io::Result<thread::JoinHandle<()>> {
    let start = netstat::read().ok();
    thread::Builder::new().name("listener".into()).spawn(move || {
        let mut diag: Option<Diag> = None;
        while !shared.stop.load(Ordering::Relaxed) {
            // Paced, not a synchronisation: the kernel is asked at most this often.
            thread::sleep(PACE);
            if !shared.lane.load(Ordering::Relaxed) {
                continue;
            }
            let queues = match diag.as_mut() {
                Some(d) => d.queues(port),
                None => Diag::open().and_then(|mut d| {
                    let q = d.queues(port);
                    diag = Some(d);
                    q
                }),
            }
            .map_err(|e| e.to_string());
            if queues.is_err() {
                diag = None;
            }
            let counters = start.zip(netstat::read().ok()).map(|(s, now)| now.since(s));
            match tx.try_send(super::Msg::Listener(Sample { queues, counters })) {
                Ok(()) | Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn lane(accept_queue: u32, backlog: u32) -> Lane {
        let q = Queues {
            local: Some(SocketAddr::from(([127, 0, 0, 1], 8001))),
            accept_queue,
            backlog,
            syn_queue: 3,
            listeners: 1,
        };
        Lane {
            shown: true,
            sample: Some(Sample { queues: Ok(q), counters: Some(ListenCounters { overflows: 11, drops: 11 }) }),
            wire: WireDrops { syns: 8, acks: 3, syn_acks_again: 1 },
        }
    }

    /// In Chinese: the textbook's names of the two queues, and each line
    /// fits its width in columns (a Chinese character takes two), never
    /// cut inside one.
    #[test]
    fn the_queues_in_chinese() {
        let _zh = crate::i18n::scope(crate::i18n::Lang::Zh);
        for width in [200, 120, 80, 79, 60, 40] {
            let q = queues_line(&lane(4, 3), 8001, width);
            let d = drops_line(&lane(4, 3), width);
            for line in [&q, &d] {
                assert!(crate::i18n::width(line) <= width, "{width}: {line}");
            }
            if width >= 60 {
                assert!(q.contains("全连接队列 4/4 已满") && q.contains("半连接队列 3"), "{width}: {q}");
                assert!(!q.contains("accept queue") && !q.contains("SYN queue"), "{q}");
                assert!(d.contains("8 个 SYN") && d.contains("第三次握手"), "{width}: {d}");
            }
        }
        let q = queues_line(&lane(3, 3), 8001, 200);
        assert!(q.contains("全连接队列 3/4") && !q.contains("已满"), "{q}");
        assert!(queues_line(&lane(4, 3), 8001, 200).contains("Linux 允许比 backlog 多排一个"));
        assert!(drops_line(&lane(4, 3), 200).contains("其后又重发了 1 个 SYN-ACK"));
    }

    #[test]
    fn full_is_said_when_more_than_the_backlog_wait_and_only_then() {
        for width in [200, 80] {
            let s = queues_line(&lane(4, 3), 8001, width);
            assert!(s.contains("backlog 3  accept queue 4/4 FULL"), "{s}");
            let s = queues_line(&lane(3, 3), 8001, width);
            assert!(s.contains("backlog 3  accept queue 3/4") && !s.contains("FULL"), "{s}");
        }
        // Never as a fraction: 4/3 read as 4 out of a capacity of 3.
        for (n, width) in [(4, 200), (4, 80), (4, 40), (3, 80)] {
            let s = queues_line(&lane(n, 3), 8001, width);
            assert!(!s.contains(&format!("{n}/3")), "{s}");
        }
        let narrow = queues_line(&lane(4, 3), 8001, 60);
        assert!(narrow.contains("accept queue 4/4 FULL (backlog 3)"), "{narrow}");
        // The rule itself, where there is room.
        assert!(queues_line(&lane(4, 3), 8001, 200).contains("Linux lets one more than the backlog wait"));
    }

    #[test]
    fn every_line_fits_its_width_and_keeps_the_figures() {
        for width in [200, 100, 80, 78] {
            let q = queues_line(&lane(4, 3), 8001, width);
            let d = drops_line(&lane(4, 3), width);
            for line in [&q, &d] {
                assert!(columns(line) <= width, "{width}: {line}");
            }
            assert!(q.contains("accept queue 4/4 FULL") && q.contains("SYN queue 3"), "{width}: {q}");
            assert!(q.contains("backlog 3"), "{width}: {q}");
            assert!(d.contains("8 SYNs unanswered, 3 third ACKs") || d.contains("8 SYN + 3 3rd ACK not taken"), "{d}");
            assert!(d.contains("+11 overflows") || d.contains("ListenOverflows +11"), "{width}: {d}");
        }
    }

    #[test]
    fn syn_acks_sent_again_are_named_only_when_there_were_some() {
        let mut l = lane(4, 3);
        assert!(drops_line(&l, 200).contains("1 SYN-ACK sent again after one"));
        l.wire.syn_acks_again = 0;
        for width in [200, 120, 80] {
            assert!(!drops_line(&l, width).contains("SYN-ACK"), "{}", drops_line(&l, width));
        }
    }

    #[test]
    fn what_cannot_be_read_is_said() {
        let mut l = lane(0, 3);
        l.sample = Some(Sample { queues: Err("Operation not permitted".into()), counters: None });
        let q = queues_line(&l, 8001, 80);
        assert!(q.contains("unavailable"), "{q}");
        assert!(drops_line(&l, 80).contains("no kernel counters"));
        l.sample = Some(Sample { queues: Ok(Queues::default()), counters: None });
        assert!(queues_line(&l, 8001, 80).contains("nothing listens on port 8001"));
        l.sample = None;
        assert!(queues_line(&l, 8001, 80).contains("reading"));
    }

    #[test]
    fn the_lane_takes_its_rows_from_the_ladder_only_when_on() {
        let screen = Screen::of(Rect::new(0, 0, 80, 23), false).unwrap();
        assert_eq!(carve(screen, false), (screen, None));
        let (s, lane) = carve(screen, true);
        let lane = lane.expect("room at 80 x 23");
        assert_eq!((lane.y, lane.height), (screen.ladder.y, HEIGHT));
        assert_eq!((s.ladder.y, s.ladder.height), (screen.ladder.y + HEIGHT, screen.ladder.height - HEIGHT));
        assert_eq!((s.list, s.explain, s.footer), (screen.list, screen.explain, screen.footer));
    }
}
