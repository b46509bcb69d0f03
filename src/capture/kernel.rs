//! The kernel view, live: the tracepoint's changes handed to the pipeline's
//! tracker (see [`crate::model::kernel`] for what they mean and how they are
//! compared with the wire).

use crate::headless::KernelFeed;
use crate::model::kernel::{self, Change};
use crate::model::segment::Timestamp;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::os::diag::{Diag, MiniSocket};
use crate::os::tracepoint::{self, RawChange, Tracepoint, Unavailable};
use crate::pipeline::Pipeline;

/// `--kernel`: whether to show the kernel's own view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KernelMode {
    /// On when the machine allows it; otherwise say why and go on.
    #[default]
    Auto,
    /// On, or fail (exit 2) saying why not.
    On,
    Off,
}

/// The open tracepoint and a buffer for its changes; sock_diag for the
/// mini-sockets the tracepoint cannot see.
pub struct KernelView {
    tracepoint: Tracepoint,
    buf: Vec<RawChange>,
    /// Changes handed to the tracker.
    pub changes: u64,
    diag: Option<(Diag, u16)>,
    /// The mini-sockets listed last time, and when that was.
    listed: Vec<MiniSocket>,
    last_listing: Option<Instant>,
}

pub use crate::model::kernel::Timer;

/// How often sock_diag is asked for the mini-sockets.
const LISTING_EVERY: Duration = Duration::from_millis(500);

fn wall_now() -> Timestamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl KernelView {
    /// Opens the tracepoint for `port` (needs root or CAP_PERFMON: call it
    /// before privileges are dropped).
    ///
    /// # Errors
    /// [`Unavailable`], saying why.
    pub fn open(port: Option<u16>) -> Result<KernelView, Unavailable> {
        let tracepoint = tracepoint::open(port)?;
        // sock_diag needs no privilege; without it the countdowns are synack's own.
        let diag = port.and_then(|p| Diag::open().ok().map(|d| (d, p)));
        Ok(KernelView {
            tracepoint,
            buf: Vec::with_capacity(256),
            changes: 0,
            diag,
            listed: Vec::new(),
            last_listing: None,
        })
    }

    /// Changes the kernel could not hand over (its rings were full).
    #[must_use]
    pub fn lost(&self) -> u64 {
        self.tracepoint.lost
    }
}

impl KernelView {
    /// The changes the rings hold, in time order, as the model's values.
    pub fn read_changes(&mut self, out: &mut Vec<Change>) {
        self.buf.clear();
        self.tracepoint.read(&mut self.buf);
        // Rings are per CPU: merge by time.
        self.buf.sort_by_key(|c| c.ts);
        for c in &self.buf {
            let (Some(from), Some(to)) = (kernel::state(c.oldstate), kernel::state(c.newstate)) else {
                continue;
            };
            self.changes += 1;
            out.push(Change { ts: Timestamp(c.ts), sock: c.sock, local: c.local, remote: c.remote, from, to });
        }
    }
}

impl KernelView {
    /// The port's sockets now, as sock_diag lists them (endpoint, peer,
    /// state), and a line that sums them up: what was there before the
    /// capture began.
    pub fn snapshot(
        &mut self,
    ) -> (Vec<(std::net::SocketAddr, std::net::SocketAddr, crate::model::tcp::TcpState)>, String) {
        let Some((diag, port)) = self.diag.as_mut() else {
            return (Vec::new(), String::new());
        };
        let port = *port;
        let Ok(all) = diag.all_sockets(port) else {
            return (Vec::new(), String::new());
        };
        let sockets: Vec<_> =
            all.iter().filter_map(|m| Some((m.local, m.remote, kernel::state(i32::from(m.state))?))).collect();
        let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for (_, _, s) in &sockets {
            *counts.entry(s.name()).or_default() += 1;
        }
        let parts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let line = if parts.is_empty() {
            format!("kernel view: no socket on port {port} before the capture")
        } else {
            format!("kernel view: on port {port} before the capture: {}", parts.join(", "))
        };
        (sockets, line)
    }

    /// Every [`LISTING_EVERY`]: the mini-sockets on the port with their
    /// timers, and a change to CLOSED (`sock` 0) for each listed last time
    /// and gone now (its timer ran out). `None` when it is not time yet, or
    /// sock_diag is not there.
    pub fn list_mini_sockets(&mut self) -> Option<(Vec<Timer>, Vec<Change>)> {
        if self.last_listing.is_some_and(|t| t.elapsed() < LISTING_EVERY) {
            return None;
        }
        self.last_listing = Some(Instant::now());
        let (diag, port) = self.diag.as_mut()?;
        let now = wall_now();
        let listed = diag.mini_sockets(*port).ok()?;
        let state = |n: u8| kernel::state(i32::from(n)).unwrap_or(crate::model::tcp::TcpState::TimeWait);
        let timers = listed
            .iter()
            .map(|m| {
                (m.local, m.remote, state(m.state), Timestamp(now.0 + u64::try_from(m.left.as_nanos()).unwrap_or(0)))
            })
            .collect();
        let gone = crate::os::diag::gone(&self.listed, &listed)
            .into_iter()
            .map(|old| Change {
                ts: now,
                sock: 0,
                local: old.local,
                remote: old.remote,
                from: state(old.state),
                to: crate::model::tcp::TcpState::Closed,
            })
            .collect();
        self.listed = listed;
        Some((timers, gone))
    }
}

impl KernelFeed for KernelView {
    fn poll(&mut self, pipeline: &mut Pipeline, idle: bool) -> Vec<Change> {
        let mut changes = Vec::new();
        self.read_changes(&mut changes);
        // The mini-sockets' timers are for the dashboard's countdown: a
        // sock_diag dump walks every TCP socket of the host, too dear for
        // `trace` under load (it was a sixth of its time at 40,000 conn/s).
        for c in &changes {
            pipeline.tracker.kernel(*c);
        }
        if idle {
            pipeline.tracker.kernel_flush(Timestamp(u64::MAX));
        }
        changes
    }
}
