//! The scenarios the dashboard started: which connection each one made (so
//! the list names every connection's scenario), and, for a scenario that
//! tries again ([`Scenario::retries`]), the segments of its tries, held until
//! it says which try made the close asked for: only that one is shown, so
//! that one key press shows one connection.
//!
//! A scenario tells each connection's client port before it connects
//! ([`crate::echo::Watch`]), so its segments are known from the first SYN.
//! The kernel view's changes of the tries are held too, and only the
//! successful try's are given to the tracker: a try may reuse the port (so
//! the tuple) of a try before it, whose changes would otherwise be taken for
//! the shown connection's. Pure: no IO, no clock; bounded whatever comes.

use std::collections::{BTreeMap, HashMap};

use crate::model::kernel::Change;
use crate::model::segment::Segment;
use crate::model::tracker::ConnId;
use crate::scenario::Scenario;

/// A scenario run, as the dashboard numbers them.
pub type RunId = u64;

/// Runs remembered at most (the oldest go first).
const RUNS_KEPT: usize = 256;
/// Segments held for the tries of one run at most; more are dropped and counted.
pub const PENDING_MAX: usize = 100_000;
/// Connections whose scenario is remembered at most (the oldest go first).
const LABELS_KEPT: usize = 65_536;

#[derive(Debug)]
struct Run {
    scenario: Scenario,
    /// The run has said how it went.
    done: bool,
    /// Each connection's client port, in the order they connected (a try
    /// may get the port of a try before it, closed by then).
    ports: Vec<u16>,
    /// Segments of its tries, with the try each belongs to (the last one
    /// told with its port before it came), while the run has not said
    /// which try did it.
    pending: Vec<(usize, Segment)>,
    /// The kernel's changes of its tries' sockets, while it has not said.
    changes: Vec<Change>,
    /// Once it has: the client port of the try that did it.
    kept: Option<u16>,
}

/// The runs and the connections they made.
#[derive(Debug, Default)]
pub struct Runs {
    /// By id: ids grow, so the first is the oldest.
    runs: BTreeMap<RunId, Run>,
    by_port: HashMap<u16, RunId>,
    /// Each connection a run made, by id (ids grow: the first is the oldest).
    labels: BTreeMap<ConnId, Scenario>,
    next: RunId,
    /// Changes made before a socket had its port, held while a retried run
    /// has not said which try did it: a try's socket may be the memory of an
    /// earlier try's, and the tracker ties such a change to its socket's next
    /// change.
    unported: Vec<Change>,
    /// Tries of retried scenarios left out: connections that did not make
    /// the close asked for.
    pub hidden: u64,
    /// Segments of tries dropped past [`PENDING_MAX`].
    pub dropped: u64,
}

impl Runs {
    /// A new run of `scenario`; its id.
    pub fn start(&mut self, scenario: Scenario) -> RunId {
        self.next += 1;
        if self.runs.len() >= RUNS_KEPT
            && let Some((old_id, old)) = self.runs.pop_first()
        {
            for p in old.ports {
                if self.by_port.get(&p) == Some(&old_id) {
                    self.by_port.remove(&p);
                }
            }
        }
        let run =
            Run { scenario, done: false, ports: Vec::new(), pending: Vec::new(), changes: Vec::new(), kept: None };
        self.runs.insert(self.next, run);
        self.next
    }

    /// Run `run` is about to connect from client port `port`.
    pub fn connect(&mut self, run: RunId, port: u16) {
        if let Some(r) = self.runs.get_mut(&run) {
            r.ports.push(port);
            self.by_port.insert(port, run);
        }
    }

    /// The run `seg` belongs to, by either port, and that port.
    fn run_of(&self, seg: &Segment) -> Option<(RunId, u16)> {
        [seg.src.port(), seg.dst.port()].into_iter().find_map(|p| Some((*self.by_port.get(&p)?, p)))
    }

    /// Keeps `seg` when it belongs to a try of a retried scenario that has
    /// not said which try did it (`None`); otherwise gives it back.
    pub fn hold(&mut self, seg: Segment) -> Option<Segment> {
        let Some((run, port)) = self.run_of(&seg).and_then(|(id, p)| Some((self.runs.get_mut(&id)?, p))) else {
            return Some(seg);
        };
        if run.done || !run.scenario.retries() {
            return Some(seg);
        }
        let tried = run.ports.iter().rposition(|&p| p == port).unwrap_or(0);
        if run.pending.len() < PENDING_MAX {
            run.pending.push((tried, seg));
        } else {
            self.dropped += 1;
        }
        None
    }

    /// Keeps a kernel change of a try's socket while its run has not said
    /// which try did it (`None`), and any change made before its socket had
    /// its port meanwhile; drops one of a try that did not, once it has;
    /// otherwise gives it back.
    pub fn hold_change(&mut self, c: Change) -> Option<Change> {
        if c.local.port() == 0 && self.holding() {
            if self.unported.len() < PENDING_MAX {
                self.unported.push(c);
            }
            return None;
        }
        let found = [c.local.port(), c.remote.port()]
            .into_iter()
            .filter(|&p| p != 0)
            .find_map(|p| Some((*self.by_port.get(&p)?, p)));
        let Some((run, port)) = found.and_then(|(id, p)| Some((self.runs.get_mut(&id)?, p))) else { return Some(c) };
        if !run.scenario.retries() {
            return Some(c);
        }
        if !run.done {
            if run.changes.len() < PENDING_MAX {
                run.changes.push(c);
            }
            return None;
        }
        (run.kept == Some(port)).then_some(c)
    }

    /// Run `run` is over; `port` is the try that did it when it retried (the
    /// last try made from that port), `connections` how many it made.
    /// Returns the held segments to show, the successful try's in the order
    /// they came (none when it failed), and its kernel changes (those of its
    /// port from its first segment on: an earlier try on the same port was
    /// over by then).
    pub fn done(&mut self, run: RunId, port: Option<u16>, connections: u32) -> (Vec<Segment>, Vec<Change>) {
        let Some(r) = self.runs.get_mut(&run) else { return (Vec::new(), Vec::new()) };
        r.done = true;
        r.kept = port;
        let pending = std::mem::take(&mut r.pending);
        let changes = std::mem::take(&mut r.changes);
        if !r.scenario.retries() {
            return (pending.into_iter().map(|(_, s)| s).collect(), changes);
        }
        self.hidden += u64::from(connections.saturating_sub(u32::from(port.is_some())));
        let kept = port.and_then(|p| r.ports.iter().rposition(|&q| q == p));
        let shown: Vec<Segment> = pending.into_iter().filter(|(t, _)| Some(*t) == kept).map(|(_, s)| s).collect();
        // A change leads its segment by microseconds (close() before its FIN):
        // a millisecond's margin before the first.
        let since = shown.first().map_or(u64::MAX, |s| s.ts.0.saturating_sub(1_000_000));
        let mine = |c: &Change| port.is_some_and(|p| c.local.port() == p || c.remote.port() == p) && c.ts.0 >= since;
        let mut given: Vec<Change> = changes.into_iter().filter(mine).collect();
        // Changes before a port, from the successful try's start on (the
        // earlier tries' sockets made theirs before).
        given.extend(std::mem::take(&mut self.unported).into_iter().filter(|c| c.ts.0 >= since));
        (shown, given)
    }

    /// Whether a retried run still holds back its tries (their segments are
    /// not on screen yet).
    #[must_use]
    pub fn holding(&self) -> bool {
        self.runs.values().any(|r| !r.done && r.scenario.retries())
    }

    /// The scenario of run `run`.
    #[must_use]
    pub fn scenario(&self, run: RunId) -> Option<Scenario> {
        self.runs.get(&run).map(|r| r.scenario)
    }

    /// Connection `id` began with `seg`: it is its run's, if one made it.
    pub fn label(&mut self, id: ConnId, seg: &Segment) {
        let Some(scenario) = self.run_of(seg).and_then(|(r, _)| self.runs.get(&r)).map(|r| r.scenario) else {
            return;
        };
        if self.labels.len() >= LABELS_KEPT {
            self.labels.pop_first();
        }
        self.labels.insert(id, scenario);
    }

    /// The scenario that made connection `id`, if one did.
    #[must_use]
    pub fn of(&self, id: ConnId) -> Option<Scenario> {
        self.labels.get(&id).copied()
    }
}
