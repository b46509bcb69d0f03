//! The scenarios the dashboard started: which connection each one made (so
//! the list names every connection's scenario), and, for a scenario that
//! tries again ([`Scenario::retries`]), the segments of its tries, held until
//! it says which try made the close asked for: only that one is shown, so
//! that one key press shows one connection.
//!
//! A scenario tells each connection's client port before it connects
//! ([`crate::echo::Watch`]), so its segments are known from the first SYN.
//! Pure: no IO, no clock; bounded whatever comes.

use std::collections::{BTreeMap, HashMap};

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
    ports: Vec<u16>,
    /// Segments of its tries, while it has not said which try did it.
    pending: Vec<Segment>,
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
        self.runs.insert(self.next, Run { scenario, done: false, ports: Vec::new(), pending: Vec::new() });
        self.next
    }

    /// Run `run` is about to connect from client port `port`.
    pub fn connect(&mut self, run: RunId, port: u16) {
        if let Some(r) = self.runs.get_mut(&run) {
            r.ports.push(port);
            self.by_port.insert(port, run);
        }
    }

    /// The run `seg` belongs to, by either port.
    fn run_of(&self, seg: &Segment) -> Option<RunId> {
        [seg.src.port(), seg.dst.port()].iter().find_map(|p| self.by_port.get(p).copied())
    }

    /// Keeps `seg` when it belongs to a try of a retried scenario that has
    /// not said which try did it (`None`); otherwise gives it back.
    pub fn hold(&mut self, seg: Segment) -> Option<Segment> {
        let Some(run) = self.run_of(&seg).and_then(|id| self.runs.get_mut(&id)) else { return Some(seg) };
        if run.done || !run.scenario.retries() {
            return Some(seg);
        }
        if run.pending.len() < PENDING_MAX {
            run.pending.push(seg);
        } else {
            self.dropped += 1;
        }
        None
    }

    /// Run `run` is over; `port` is the try that did it when it retried,
    /// `connections` how many it made. Returns the held segments to show:
    /// the successful try's, in the order they came (none when it failed).
    pub fn done(&mut self, run: RunId, port: Option<u16>, connections: u32) -> Vec<Segment> {
        let Some(r) = self.runs.get_mut(&run) else { return Vec::new() };
        r.done = true;
        let pending = std::mem::take(&mut r.pending);
        if !r.scenario.retries() {
            return pending;
        }
        self.hidden += u64::from(connections.saturating_sub(u32::from(port.is_some())));
        pending.into_iter().filter(|s| port.is_some_and(|p| s.src.port() == p || s.dst.port() == p)).collect()
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
        let Some(scenario) = self.run_of(seg).and_then(|r| self.runs.get(&r)).map(|r| r.scenario) else { return };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::segment::{Flags, Preview, TcpOptions, Timestamp};
    use crate::model::seq::SeqNum;

    fn seg(client_port: u16) -> Segment {
        Segment {
            ts: Timestamp(1),
            src: format!("127.0.0.1:{client_port}").parse().unwrap(),
            dst: "127.0.0.1:8001".parse().unwrap(),
            flags: Flags::SYN,
            seq: SeqNum(0),
            ack: SeqNum(0),
            window: 512,
            options: TcpOptions::default(),
            payload_len: 0,
            preview: Preview::default(),
            encap: Default::default(),
            icmp: None,
        }
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
        let shown = runs.done(x, Some(40003), 3);
        assert_eq!(shown.iter().map(|s| s.src.port()).collect::<Vec<_>>(), [40003, 40003]);
        assert_eq!(runs.hidden, 2);
        assert!(!runs.holding());
        // After the run, its segments go through (a late one of the kept try).
        assert!(runs.hold(seg(40003)).is_some());
        runs.label(7, &seg(40003));
        assert_eq!(runs.of(7), Some(Scenario::Simultaneous));
        assert_eq!(runs.of(8), None);
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
        assert!(runs.done(b, None, 4).is_empty());
        assert_eq!(runs.hidden, 0);
    }

    #[test]
    fn a_failed_retried_run_shows_nothing_and_memory_is_bounded() {
        let mut runs = Runs::default();
        let x = runs.start(Scenario::Simultaneous);
        runs.connect(x, 40001);
        assert_eq!(runs.hold(seg(40001)), None);
        assert!(runs.done(x, None, 1).is_empty());
        assert_eq!(runs.hidden, 1);
        for _ in 0..RUNS_KEPT + 10 {
            let r = runs.start(Scenario::Seed);
            runs.connect(r, 1);
        }
        assert!(runs.runs.len() <= RUNS_KEPT && runs.by_port.len() <= RUNS_KEPT + 1);
    }
}
