//! The client scenarios: one table that the command line, the dashboard's
//! keys and help, the demo's tour, the echo server and the fixture recorder
//! all read. Add a scenario here and everything else follows. The words a
//! person reads on the dashboard (its help line, the tour's caption) are
//! messages `tui-scenario-*` and `tui-caption-*`; `help` stays English for
//! `--help`.

use crate::t;

/// A kind of close the built-in client can make happen on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// The tutorial client: connect, send, receive, close.
    Seed,
    /// The client closes first; the server closes when it sees EOF.
    ClientClose,
    /// The server closes first; the client closes when it sees EOF.
    ServerClose,
    /// The passive closer waits past the delayed-ACK timer.
    SlowClose,
    /// The client shuts down writing; the server sends more, then closes.
    HalfClose,
    /// Both sides close right after a barrier.
    Simultaneous,
    /// SO_LINGER 0: the client aborts with RST.
    Abort,
    /// Connect where nothing listens.
    Refused,
    /// The server's application does not close for [`CLOSE_WAIT_HOLD_MS`]:
    /// its socket sits in CLOSE-WAIT, the client's in FIN-WAIT-2.
    CloseWait,
    /// The server turns to `listen(3)` and stops accepting for 2 s; eight
    /// clients connect at once.
    Backlog,
    /// Two send() calls, one recv(): TCP is a byte stream.
    Stream,
    /// One datagram, its upper-cased reply ([`crate::udp_echo`]).
    Udp,
    /// One datagram on a connected UDP socket to a port where nothing
    /// listens: ICMP port unreachable, ECONNREFUSED on the next recv.
    UdpClosed,
}

/// What the echo server does for a scenario, after its first read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSide {
    /// Reply, close at once (the tutorial server).
    Echo,
    /// Reply, close as soon as the client has closed.
    WaitEof,
    /// Reply, wait for the client's FIN, close [`SLOW_CLOSE_DELAY_MS`] later.
    Slow,
    /// Read to EOF, send three chunks [`HALF_CLOSE_GAP_MS`] apart, close.
    Half,
    /// Reply, close at a barrier the client names.
    CloseAt,
    /// Reply, wait for whatever the client does.
    Hold,
    /// Stop listening for a moment: connections are refused.
    Pause,
    /// Reply, read to EOF, keep the socket [`CLOSE_WAIT_HOLD_MS`], close.
    Keep,
    /// Wait, one recv(1024) of two sends; reply; wait, two recv(1024) of a
    /// 1,025-byte message; reply; close at EOF.
    Stream,
}

/// How long the slow closer waits before its FIN: past Linux's 40 ms
/// delayed-ACK timer, so its ACK leaves alone.
pub const SLOW_CLOSE_DELAY_MS: u64 = 200;
/// Gap between the half-close scenario's chunks.
pub const HALF_CLOSE_GAP_MS: u64 = 60;
/// How long the close-wait scenario's server leaves a closed-by-the-peer
/// socket open: long enough to see, bounded.
pub const CLOSE_WAIT_HOLD_MS: u64 = 3000;

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Info {
    pub scenario: Scenario,
    /// On the command line: `slow-close`.
    pub name: &'static str,
    /// The dashboard key that runs it, if any.
    pub key: Option<char>,
    /// One line for `--help` and the dashboard's help.
    pub help: &'static str,
    /// The demo's caption, for the scenarios the tour shows (in English;
    /// the dashboard shows [`Scenario::caption_words`]).
    pub caption: Option<&'static str>,
    /// What the server does.
    pub server: ServerSide,
}

/// Every scenario, in the order the tour shows them.
pub const SCENARIOS: &[Info] = &[
    Info {
        scenario: Scenario::Seed,
        name: "seed",
        key: Some('n'),
        help: "the tutorial's client: connect, send helloworld, close",
        caption: Some(
            "The tutorial's client and server. Look at the first three rows: SYN, SYN-ACK, ACK open the \
             connection. Then \"helloworld\" and its upper-cased reply. Both sides then close at once: whose FIN \
             leaves first decides who waits in TIME-WAIT.",
        ),
        server: ServerSide::Echo,
    },
    Info {
        scenario: Scenario::Udp,
        name: "udp",
        key: Some('u'),
        help: "udp: \"helloworld\" as one datagram, its reply waited 1 s",
        // Right after the tutorial's TCP connection: the same message over UDP.
        caption: Some(
            "The same \"helloworld\" as step 1, now over UDP: one datagram to the server, its upper-cased reply \
             back. Look at the ladder: no handshake, no close, and no state column, because UDP keeps no \
             connection state.",
        ),
        server: ServerSide::Echo,
    },
    Info {
        scenario: Scenario::ClientClose,
        name: "client-close",
        key: None,
        help: "the client closes first; the server closes when it sees EOF",
        caption: Some(
            "The client closes first; the server closes as soon as it reads the end of the stream. Look at the \
             close: the server's FIN carries its ACK of the client's FIN, three segments instead of four.",
        ),
        server: ServerSide::WaitEof,
    },
    Info {
        scenario: Scenario::ServerClose,
        name: "server-close",
        key: None,
        help: "the server closes first; the client closes when it sees EOF",
        caption: None,
        server: ServerSide::Echo,
    },
    Info {
        scenario: Scenario::SlowClose,
        name: "slow-close",
        key: Some('s'),
        help: "slow close: a visible four-segment close",
        caption: Some(
            "The server waits 200 ms after the client's FIN before closing. Look at the close: its ACK of the \
             client's FIN goes out alone when the delayed-ACK timer fires, its own FIN about 200 ms after the \
             client's: the textbook four-way close, FIN, ACK, FIN, ACK.",
        ),
        server: ServerSide::Slow,
    },
    Info {
        scenario: Scenario::HalfClose,
        name: "half-close",
        // Not `h`: with `j`, `k` and `l`, `h` moves as in vi.
        key: Some('H'),
        help: "half-close: data flows after the client's FIN",
        caption: Some(
            "A half-close: the client shuts down writing only. Look after the client's FIN: the server still \
             sends three chunks and the client acknowledges them; then the server closes.",
        ),
        server: ServerSide::Half,
    },
    Info {
        scenario: Scenario::Abort,
        name: "abort",
        key: Some('a'),
        help: "abort: RST instead of FIN",
        caption: Some(
            "An abortive close: SO_LINGER 0 makes the client's close() send RST. Look at the last row: no FIN \
             on either side, and nobody waits in TIME-WAIT.",
        ),
        server: ServerSide::Hold,
    },
    Info {
        scenario: Scenario::Simultaneous,
        name: "simultaneous",
        key: Some('x'),
        help: "simultaneous close: both FINs cross",
        caption: Some(
            "Both sides close at the same instant. Look at the two FINs: each leaves before the other arrives \
             (✕ FINs cross), so each side goes FIN-WAIT-1, CLOSING, TIME-WAIT.",
        ),
        server: ServerSide::CloseAt,
    },
    Info {
        scenario: Scenario::Refused,
        name: "refused",
        key: Some('r'),
        help: "refused: the server stops listening for a moment",
        caption: Some(
            "A refused connection: nothing listens for a moment. Look at the two rows: the SYN is answered by \
             RST-ACK, and no connection ever opened.",
        ),
        server: ServerSide::Pause,
    },
    Info {
        scenario: Scenario::CloseWait,
        name: "close-wait",
        key: Some('w'),
        help: "close-wait: the server application holds its socket 3 s",
        caption: Some(
            "The server's application forgets to close. Look after the client's FIN: it is acknowledged, then \
             nothing for 3 s: the server's socket sits in CLOSE-WAIT, the client's in FIN-WAIT-2. Thousands of \
             CLOSE-WAIT on a server mean this.",
        ),
        server: ServerSide::Keep,
    },
    Info {
        scenario: Scenario::Backlog,
        name: "backlog",
        key: Some('b'),
        help: "backlog: listen(3), eight clients at once, the queue fills",
        caption: Some(
            "The server calls listen(3), as the tutorial does, and stops accepting for 2 s; eight clients connect at \
             once. listen(3) bounds the accept queue: handshakes done, not yet taken by accept(). Linux finds it \
             full only when more than 3 wait, so four fit. While it is full, Linux drops new SYNs and third ACKs; \
             TCP never resends a bare ACK: what comes again is the client's SYN, its data (which carries the ACK) \
             or the server's SYN-ACK. The tutorial calls the 3 the size of the half-connection pool (半连接池): half \
             right. Handshakes not yet done (SYN-RECEIVED: embryonic connections) wait in another queue, the SYN \
             queue, and on Linux the same 3 bounds it too; the accept queue holds complete connections. Then the \
             server accepts one every 200 ms: watch the listener lane drain.",
        ),
        server: ServerSide::Echo,
    },
    Info {
        scenario: Scenario::Stream,
        name: "stream",
        key: Some('m'),
        help: "stream: two send()s, one recv() (message boundaries)",
        caption: Some(
            "TCP is a byte stream. The client sends \"hello\" and \"world\" in two send() calls 10 ms apart: two \
             segments. The server waits 50 ms after accept(), then its one recv(1024) returns both, 10 bytes. Then a 1,025-byte \
             message takes two recv(1024): 1,024, then 1. Look at the ◆ rows: calls are not segments.",
        ),
        server: ServerSide::Stream,
    },
    Info {
        scenario: Scenario::UdpClosed,
        name: "udp-closed",
        key: Some('U'),
        help: "udp-closed: ICMP back; connected recv: ECONNREFUSED",
        caption: None,
        server: ServerSide::Echo,
    },
];

impl Scenario {
    /// Its row of the table.
    #[must_use]
    pub fn info(self) -> &'static Info {
        // Every variant has a row: `every_scenario_has_one_row` checks it.
        SCENARIOS.iter().find(|i| i.scenario == self).unwrap_or(&SCENARIOS[0])
    }

    /// What the dashboard's help says of it ([`Info::help`]), in the
    /// current language.
    #[must_use]
    pub fn help_words(self) -> String {
        match self {
            Scenario::Seed => t!("tui-scenario-seed"),
            Scenario::ClientClose => t!("tui-scenario-client-close"),
            Scenario::ServerClose => t!("tui-scenario-server-close"),
            Scenario::SlowClose => t!("tui-scenario-slow-close"),
            Scenario::HalfClose => t!("tui-scenario-half-close"),
            Scenario::Simultaneous => t!("tui-scenario-simultaneous"),
            Scenario::Abort => t!("tui-scenario-abort"),
            Scenario::Refused => t!("tui-scenario-refused"),
            Scenario::CloseWait => t!("tui-scenario-close-wait"),
            Scenario::Backlog => t!("tui-scenario-backlog"),
            Scenario::Stream => t!("tui-scenario-stream"),
            Scenario::Udp => t!("tui-scenario-udp"),
            Scenario::UdpClosed => t!("tui-scenario-udp-closed"),
        }
    }

    /// The demo's caption ([`Info::caption`]) in the current language.
    #[must_use]
    pub fn caption_words(self) -> Option<String> {
        self.info().caption?;
        Some(match self {
            Scenario::Seed => t!("tui-caption-seed"),
            Scenario::Udp => t!("tui-caption-udp"),
            Scenario::ClientClose => t!("tui-caption-client-close"),
            Scenario::SlowClose => t!("tui-caption-slow-close"),
            Scenario::HalfClose => t!("tui-caption-half-close"),
            Scenario::Abort => t!("tui-caption-abort"),
            Scenario::Simultaneous => t!("tui-caption-simultaneous"),
            Scenario::Refused => t!("tui-caption-refused"),
            Scenario::CloseWait => t!("tui-caption-close-wait"),
            Scenario::Backlog => t!("tui-caption-backlog"),
            Scenario::Stream => t!("tui-caption-stream"),
            Scenario::ServerClose | Scenario::UdpClosed => return None,
        })
    }

    /// The name on the command line (`slow-close`).
    #[must_use]
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Whether it may take more than one connection to make its close
    /// happen: a simultaneous close is tried again until the FINs cross
    /// (only the try that did it is the scenario's connection).
    #[must_use]
    pub fn retries(self) -> bool {
        self == Scenario::Simultaneous
    }

    /// The scenario a dashboard key runs.
    #[must_use]
    pub fn from_key(key: char) -> Option<Scenario> {
        SCENARIOS.iter().find(|i| i.key == Some(key)).map(|i| i.scenario)
    }

    /// The scenario with this command-line name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Scenario> {
        SCENARIOS.iter().find(|i| i.name == name).map(|i| i.scenario)
    }
}

/// The dashboard keys that run scenarios, in table order: `n u s H a x r w b m U`.
#[must_use]
pub fn keys() -> Vec<char> {
    SCENARIOS.iter().filter_map(|i| i.key).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_has_one_row() {
        let all = [
            Scenario::Seed,
            Scenario::ClientClose,
            Scenario::ServerClose,
            Scenario::SlowClose,
            Scenario::HalfClose,
            Scenario::Simultaneous,
            Scenario::Abort,
            Scenario::Refused,
            Scenario::CloseWait,
            Scenario::Backlog,
            Scenario::Stream,
            Scenario::Udp,
            Scenario::UdpClosed,
        ];
        assert_eq!(SCENARIOS.len(), all.len());
        for s in all {
            assert_eq!(SCENARIOS.iter().filter(|i| i.scenario == s).count(), 1, "{s:?}");
            assert_eq!(s.info().scenario, s);
            assert_eq!(Scenario::from_name(s.name()), Some(s));
        }
    }

    /// The English messages are the table's words, byte for byte (the
    /// table keeps them for `--help` and the tests that read them).
    #[test]
    fn the_english_messages_are_the_tables_words() {
        let _en = crate::i18n::scope(crate::i18n::Lang::En);
        for i in SCENARIOS {
            assert_eq!(i.scenario.help_words(), i.help, "{:?}", i.scenario);
            assert_eq!(i.scenario.caption_words().as_deref(), i.caption, "{:?}", i.scenario);
        }
        let _zh = crate::i18n::scope(crate::i18n::Lang::Zh);
        for i in SCENARIOS {
            assert_ne!(i.scenario.help_words(), i.help, "{:?}", i.scenario);
            assert_eq!(i.scenario.caption_words().is_some(), i.caption.is_some(), "{:?}", i.scenario);
        }
    }

    #[test]
    fn keys_and_names_are_unique() {
        let keys = keys();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), keys.len());
        assert_eq!(Scenario::from_key('x'), Some(Scenario::Simultaneous));
        assert_eq!(Scenario::from_key('u'), Some(Scenario::Udp));
        assert_eq!(Scenario::from_key('U'), Some(Scenario::UdpClosed));
        assert_eq!(Scenario::from_key('z'), None);
    }
}
