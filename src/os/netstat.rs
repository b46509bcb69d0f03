//! The listen counters of `/proc/net/netstat`: `ListenOverflows` and
//! `ListenDrops` of its `TcpExt` lines, and their growth since a start.
//!
//! The file holds pairs of lines, a header of names and a line of values,
//! each beginning with the same prefix (`TcpExt:`, `IpExt:`, ...).
//! `ListenOverflows` counts the times a listener found its accept queue
//! full (a SYN dropped in `tcp_conn_request`, a third ACK dropped in
//! `tcp_v4_syn_recv_sock`); `ListenDrops` every drop at a listener, those
//! included (`tcp_listendrop`). Both are the whole network namespace's, not
//! one port's. [`parse`] is a pure function; [`read`] reads the file.

use std::io;

/// The two listen counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListenCounters {
    /// `TcpExt: ListenOverflows`: a full accept queue met.
    pub overflows: u64,
    /// `TcpExt: ListenDrops`: a segment dropped at a listener, for any cause.
    pub drops: u64,
}

impl ListenCounters {
    /// How much each counter grew since `start` (0 when it went back: a
    /// counter never does, but a namespace can change under a long run).
    #[must_use]
    pub fn since(self, start: ListenCounters) -> ListenCounters {
        ListenCounters {
            overflows: self.overflows.saturating_sub(start.overflows),
            drops: self.drops.saturating_sub(start.drops),
        }
    }
}

/// The listen counters in the text of `/proc/net/netstat`, or `None` when
/// the `TcpExt` lines or either counter are missing or not numbers.
#[must_use]
pub fn parse(text: &str) -> Option<ListenCounters> {
    let mut lines = text.lines();
    while let Some(names) = lines.next() {
        let Some(names) = names.strip_prefix("TcpExt:") else { continue };
        let values = lines.next()?.strip_prefix("TcpExt:")?;
        let mut overflows = None;
        let mut drops = None;
        for (name, value) in names.split_whitespace().zip(values.split_whitespace()) {
            match name {
                "ListenOverflows" => overflows = value.parse().ok(),
                "ListenDrops" => drops = value.parse().ok(),
                _ => {}
            }
        }
        return Some(ListenCounters { overflows: overflows?, drops: drops? });
    }
    None
}

/// The counters now, from `/proc/net/netstat`.
///
/// # Errors
/// When the file cannot be read, or does not hold the counters.
pub fn read() -> io::Result<ListenCounters> {
    let text = std::fs::read_to_string("/proc/net/netstat")?;
    parse(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "/proc/net/netstat: no TcpExt listen counters"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file as Linux 6.18 wrote it on the machine this was made on.
    const REAL: &str = include_str!("../../tests/fixtures/proc/netstat");

    #[test]
    fn the_counters_of_a_real_file() {
        // Read off by hand: the 23rd and 24th names and values of TcpExt.
        let names: Vec<&str> = REAL.lines().next().unwrap().split_whitespace().collect();
        let values: Vec<&str> = REAL.lines().nth(1).unwrap().split_whitespace().collect();
        let at = names.iter().position(|n| *n == "ListenOverflows").unwrap();
        assert_eq!(names[at + 1], "ListenDrops");
        let want = ListenCounters { overflows: values[at].parse().unwrap(), drops: values[at + 1].parse().unwrap() };
        assert_eq!(parse(REAL), Some(want));
        assert_eq!(want, ListenCounters { overflows: 3623, drops: 3623 });
    }

    #[test]
    fn the_tcpext_pair_is_found_wherever_it_is() {
        let text = "IpExt: InNoRoutes\nIpExt: 4\nTcpExt: A ListenDrops ListenOverflows\nTcpExt: 1 9 7\n";
        assert_eq!(parse(text), Some(ListenCounters { overflows: 7, drops: 9 }));
    }

    #[test]
    fn missing_or_broken_counters_are_none() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("TcpExt: ListenOverflows\nTcpExt: 3\n"), None, "no ListenDrops");
        assert_eq!(parse("TcpExt: ListenOverflows ListenDrops\nTcpExt: 3 x\n"), None, "not a number");
        assert_eq!(parse("TcpExt: ListenOverflows ListenDrops\n"), None, "no values line");
        assert_eq!(parse("TcpExt: ListenOverflows ListenDrops\nIpExt: 1 2\n"), None, "values of another line");
    }

    #[test]
    fn growth_since_a_start() {
        let start = ListenCounters { overflows: 10, drops: 12 };
        let now = ListenCounters { overflows: 14, drops: 17 };
        assert_eq!(now.since(start), ListenCounters { overflows: 4, drops: 5 });
        assert_eq!(start.since(now), ListenCounters::default());
    }
}
