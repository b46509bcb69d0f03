//! UDP flows in every format: the jsonl object, the text ladder, the Mermaid
//! diagram and the SVG ladder of a [`Flow`]. Datagrams are arrows; there is
//! no state column, because UDP keeps no connection state on the wire.

use std::fmt::Write as _;

use crate::model::segment::Timestamp;
use crate::model::udp::{Dir, Flow, Kept};
use crate::t;

/// Why a UDP ladder has no state column: shown under every UDP flow (in
/// English; [`no_state`] in the current language).
pub const NO_STATE: &str = "UDP keeps no connection state on the wire: nothing to open, nothing to close";

/// [`NO_STATE`] in the current language.
#[must_use]
pub fn no_state() -> String {
    t!("rows-udp-no-state")
}

/// `text` as a sentence of the current language: a full stop after it
/// (`.` in English, `。` in Chinese, unless it ends with one already).
#[must_use]
pub fn sentence(text: &str) -> String {
    match crate::i18n::current() {
        crate::i18n::Lang::En => format!("{text}."),
        crate::i18n::Lang::Zh if text.ends_with(['。', '！', '？', '.']) => text.to_owned(),
        crate::i18n::Lang::Zh => format!("{text}。"),
    }
}

fn dir_name(dir: Dir) -> &'static str {
    match dir {
        Dir::ToServer => "c2s",
        Dir::ToClient => "s2c",
    }
}

fn millis(since: Timestamp, ts: Timestamp) -> f64 {
    ts.0.saturating_sub(since.0) as f64 / 1e6
}

/// A payload preview as text: printable ASCII kept, anything else `.`, and
/// `…` when the payload is longer than what was kept.
fn preview(k: &Kept) -> String {
    let bytes = k.preview.as_bytes();
    let shown = bytes.len().min(crate::model::segment::PREVIEW_LEN - 1);
    let mut s: String =
        bytes[..shown].iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { char::from(b) } else { '.' }).collect();
    if k.len as usize > shown {
        s.push('…');
    }
    s
}

/// Appends the jsonl object of a UDP flow and its newline (docs/format.md, "UDP flow").
pub fn jsonl(flow: &Flow, out: &mut String) {
    use super::jsonl::{json_string, list};
    let start = flow.first;
    let _ = write!(out, "{{\"proto\":\"udp\",\"flow\":{},\"client\":", flow.id);
    json_string(out, &flow.client.to_string());
    out.push_str(",\"server\":");
    json_string(out, &flow.server.to_string());
    out.push_str(",\"encapsulation\":");
    list(out, flow.encap.names(), |out, name| json_string(out, &name));
    let _ = write!(
        out,
        ",\"start_unix\":{:.6},\"duration_ms\":{:.3},\"segments\":",
        start.as_secs_f64(),
        millis(start, flow.last)
    );
    list(out, flow.kept(), |out, k| {
        let (t, dir, len) = (millis(start, k.ts), dir_name(k.dir), k.len);
        let _ = write!(out, "{{\"t_ms\":{t:.3},\"dir\":\"{dir}\",\"len\":{len},\"payload\":");
        json_string(out, &preview(k));
        out.push('}');
    });
    out.push_str(",\"icmp\":");
    list(out, &flow.icmp, |out, n| {
        let _ = write!(
            out,
            "{{\"t_ms\":{:.3},\"version\":{},\"type\":{},\"code\":{},\"name\":\"{}\",\"from\":\"{}\",\"quotes\":\"{}\"}}",
            millis(start, n.ts),
            if n.icmp.v6 { 6 } else { 4 },
            n.icmp.kind,
            n.icmp.code,
            n.icmp.name(),
            n.icmp.from,
            dir_name(n.dir)
        );
    });
    let _ = write!(
        out,
        ",\"datagrams\":{{\"c2s\":{},\"s2c\":{}}},\"payload_bytes\":{{\"c2s\":{},\"s2c\":{}}}",
        flow.datagrams[0], flow.datagrams[1], flow.bytes[0], flow.bytes[1]
    );
    if flow.dropped > 0 {
        let _ = write!(out, ",\"elided\":{{\"segments\":{},\"before\":{}}}", flow.dropped, flow.head.len());
    }
    out.push_str(",\"explain\":");
    json_string(out, &flow.verdict_in(crate::i18n::Lang::En));
    out.push_str("}\n");
}

/// The label of a datagram's arrow: `UDP 10 "helloworld"`.
fn label(k: &Kept) -> String {
    format!("UDP {} \"{}\"", k.len, preview(k))
}

/// The lines of a flow's ladder, one a kept datagram or ICMP error, in time
/// order: (time, arrow direction (to the server or back), label).
pub(crate) fn rows(flow: &Flow) -> Vec<(Timestamp, Dir, String)> {
    let mut rows: Vec<(Timestamp, Dir, String)> = flow.kept().map(|k| (k.ts, k.dir, label(k))).collect();
    if flow.dropped > 0 {
        let at = flow.head.last().map_or(flow.first, |k| k.ts);
        rows.insert(flow.head.len(), (at, Dir::ToServer, t!("rows-udp-not-kept", n = flow.dropped)));
    }
    for n in &flow.icmp {
        // The error comes back to the quoted datagram's sender.
        let back = match n.dir {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        };
        let text = t!("rows-udp-icmp", name = super::text::icmp_name(&n.icmp), from = n.icmp.from.to_string());
        let at = rows.partition_point(|r| r.0 <= n.ts);
        rows.insert(at, (n.ts, back, text));
    }
    rows
}

/// The text ladder of a UDP flow: a heading, one arrow a datagram (no state
/// column), the sentence [`NO_STATE`] and the verdict.
#[must_use]
pub fn text(flow: &Flow) -> String {
    let (c, s) = (flow.client.to_string(), flow.server.to_string());
    let mut out = t!("rows-udp-heading", id = flow.id, client = c.clone(), server = s.clone());
    out.push('\n');
    // In terminal columns: an ICMP error's name may be Chinese.
    let width = rows(flow).iter().map(|r| crate::i18n::width(&r.2)).max().unwrap_or(0).max(12) + 6;
    let _ = writeln!(out, "  {:>10}  {c:<w$}{s}", "", w = width);
    for (ts, dir, label) in rows(flow) {
        let fill = "-".repeat((width - 5).saturating_sub(crate::i18n::width(&label)));
        let arrow = match dir {
            Dir::ToServer => format!("|--{label}{fill}->|"),
            Dir::ToClient => format!("|<-{label}{fill}--|"),
        };
        let _ = writeln!(out, "  {:>8.3}ms  {arrow}", millis(flow.first, ts));
    }
    let _ = writeln!(out, "  {}", sentence(&no_state()));
    let _ = writeln!(out, "  {}", sentence(&flow.verdict()));
    out.push('\n');
    out
}

/// A flow's Mermaid heading and sequenceDiagram: an asynchronous arrow
/// (`-)`) a datagram, every text escaped as the TCP diagrams' are.
#[must_use]
pub fn mermaid(flow: &Flow) -> (String, String) {
    use super::mermaid::escape;
    let (c, s) = (flow.client.to_string(), flow.server.to_string());
    let title = t!("rows-udp-mermaid-title", id = flow.id, client = c.clone(), server = s.clone());
    let heading = format!("## {title}");
    let mut d = format!("sequenceDiagram\n    title {}\n", escape(&title));
    let _ = writeln!(d, "    participant C as {}", t!("rows-endpoint", role = "client", addr = c));
    let _ = writeln!(d, "    participant S as {}", t!("rows-endpoint", role = "server", addr = s));
    for (_, dir, label) in rows(flow) {
        let arrow = if dir == Dir::ToServer { "C-)S" } else { "S-)C" };
        let _ = writeln!(d, "    {arrow}: {}", escape(&label));
    }
    let _ = writeln!(d, "    Note over C,S: {}", escape(&no_state()));
    let _ = writeln!(d, "    Note over C,S: {}", escape(&flow.verdict()));
    (heading, d)
}

/// A flow's SVG ladder at `y` in the SVG exporter's document, lifelines at
/// `left` and `right` as the connections' are: a title, an arrow a datagram
/// (green, as data) or ICMP error, no states; then [`NO_STATE`] and the
/// verdict, wrapped as the connections' verdicts are. Returns the group and
/// its height.
#[must_use]
pub fn svg(flow: &Flow, y: u32, left: u32, right: u32) -> (String, u32) {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let rows = rows(flow);
    let mut notes = vec![no_state()];
    notes.extend(super::text::wrap_lines(&flow.verdict(), 110));
    let n = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let bottom = 64u32.saturating_add(30u32.saturating_mul(n));
    let height = bottom + 20 + 18 * u32::try_from(notes.len()).unwrap_or(0) + 20;
    let mut g = String::new();
    let _ = writeln!(g, r#"<g transform="translate(0,{y})">"#);
    let title =
        t!("rows-udp-svg-title", id = flow.id, client = flow.client.to_string(), server = flow.server.to_string());
    let _ = writeln!(g, r#"<text x="16" y="24" class="title">{}</text>"#, esc(&title));
    for (x, who) in [(left, t!("rows-role", role = "client")), (right, t!("rows-role", role = "server"))] {
        let _ = writeln!(g, r#"<text x="{x}" y="50" text-anchor="middle" class="who">{who}</text>"#);
        let _ = writeln!(g, r#"<line x1="{x}" y1="58" x2="{x}" y2="{bottom}" class="lifeline"/>"#);
    }
    for (i, (_, dir, label)) in rows.iter().enumerate() {
        let ry = 64 + 30 * u32::try_from(i).unwrap_or(0) + 16;
        let (x1, x2) = if *dir == Dir::ToServer { (left, right - 6) } else { (right, left + 6) };
        let _ = writeln!(
            g,
            r##"<line x1="{x1}" y1="{ry}" x2="{x2}" y2="{ry}" stroke="#2ca02c" class="arrow" marker-end="url(#head-data)"/><text x="{}" y="{}" text-anchor="middle" fill="#2ca02c">{}</text>"##,
            (left + right) / 2,
            ry - 6,
            esc(label)
        );
    }
    for (i, line) in notes.iter().enumerate() {
        let ly = bottom + 20 + 18 * u32::try_from(i).unwrap_or(0);
        let _ = writeln!(g, r#"<text x="16" y="{ly}" class="verdict">{}</text>"#, esc(line));
    }
    g.push_str("</g>\n");
    (g, height)
}
