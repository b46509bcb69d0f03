//! The text ladder (the same layout as the dashboard's) plus a verdict.

use super::Exporter;
use crate::ladder;
use crate::model::timeline;
use crate::model::tracker::Connection;
use crate::t;

/// An ICMP error's name in the current language (`port unreachable`).
#[must_use]
pub fn icmp_name(icmp: &crate::model::segment::Icmp) -> String {
    let name = icmp.name();
    t!("rows-icmp-name", name = name, key = name.replace(' ', "-"))
}

/// Plain text ladders; with `diagram`, each endpoint's path through RFC
/// 9293's state diagram after the verdict.
#[derive(Default)]
pub struct TextExporter {
    pub diagram: bool,
    scratch: ladder::TextScratch,
    /// The last verdict and its wrapped lines: most connections of a capture
    /// end alike, and wrapping is a tenth of the export.
    verdict: (String, String),
    /// This connection's verdict (a buffer used again, not one allocated
    /// and freed for every connection).
    next_verdict: String,
}

impl TextExporter {
    /// With `diagram`: each endpoint's path through the state diagram.
    #[must_use]
    pub fn new(diagram: bool) -> TextExporter {
        TextExporter { diagram, ..TextExporter::default() }
    }
}

/// `s` and spaces after it up to `width` terminal columns (a Chinese
/// character takes two).
#[must_use]
pub fn pad(s: &str, width: usize) -> String {
    let mut out = s.to_owned();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(crate::i18n::width(s))));
    out
}

/// Where the ACK of an arrow `rcv FIN / snd ACK` left: the arrow's row shows
/// the peer's FIN taken, and `role`'s ACK of it is a later segment, alone or
/// with `role`'s own FIN (` (the ACK: row 9, with its FIN)`); empty for other
/// arrows or when no ACK of that FIN was captured.
fn ack_of_fin(conn: &Connection, fin: usize, role: crate::model::tracker::Role, arrow: &str) -> String {
    if !arrow.starts_with("rcv FIN") {
        return String::new();
    }
    // The peer's FIN taken on this row (a row of `role`'s own FIN when the FINs crossed).
    let peer_fin = conn.records.iter().take(fin + 1).rposition(|r| r.dir.sender() == role.peer() && r.flags.fin());
    let Some(f) = peer_fin.map(|i| &conn.records[i]) else { return String::new() };
    let end = f.seq.plus(f.payload_len + 1);
    // The arrow's own row is the ACK (a FIN that came past a hole is taken
    // only when it is acknowledged): nothing to add.
    let own = &conn.records[fin];
    if own.dir.sender() == role && own.flags.ack() && own.ack.ge(end) && !own.flags.fin() {
        return String::new();
    }
    let acked = conn
        .records
        .iter()
        .enumerate()
        .skip(fin + 1)
        .find(|(_, a)| a.dir.sender() == role && a.flags.ack() && !a.flags.rst() && a.ack.ge(end));
    match acked {
        Some((i, a)) => {
            let fin = if a.flags.fin() { "yes" } else { "no" };
            t!("rows-ack-of-fin", fin = fin, row = i + 1)
        }
        None => String::new(),
    }
}

/// Why a transition is not an arrow of figure 5 ([`crate::model::diagram::off_diagram`],
/// [`crate::model::explain::rst_label`]), in the current language: each
/// of those texts has its message; another text is shown as it is.
fn off_arrow(why: &'static str) -> String {
    use crate::model::diagram::off_diagram;
    use crate::model::explain as e;
    use crate::model::tcp::TcpState;
    let key = match why {
        w if w == e::RST_IN_SYN_SENT => "rst-in-syn-sent",
        w if w == e::RST_RECEIVED => "rst-received",
        w if w == e::RST_ABORT => "rst-abort",
        w if w == e::RST_UNREAD => "rst-unread",
        w if w == e::RST_DATA_AFTER_CLOSE => "rst-data-after-close",
        w if w == off_diagram(TcpState::FinWait1, TcpState::TimeWait) => "fin-with-ack",
        w if w == off_diagram(TcpState::SynReceived, TcpState::CloseWait) => "fin-before-ack",
        w if w == off_diagram(TcpState::Established, TcpState::FinWait2) => "inferred",
        _ => "other",
    };
    t!("rows-off-arrow", key = key, why = why)
}

/// Each endpoint's path through RFC 9293's figure 5, one transition a line:
/// from, to, the segment's row (1 = the first), and the arrow's label.
#[must_use]
pub fn diagram_path(conn: &Connection) -> String {
    use crate::model::diagram;
    use crate::model::tracker::Role;
    let mut out = format!("  {}\n", t!("rows-path-title"));
    for role in [Role::Client, Role::Server] {
        for (i, tr) in diagram::path(conn, role).iter().enumerate() {
            let who = if i == 0 { t!("rows-role", role = role.name()) } else { String::new() };
            let label = match tr.label {
                Ok(arrow) => format!("{arrow}{}", ack_of_fin(conn, tr.row, role, arrow)),
                Err(why) => t!("rows-not-an-arrow", why = off_arrow(why)),
            };
            let step = format!("{} -> {}", tr.from, tr.to);
            let row = t!("rows-path-row", row = tr.row + 1);
            out.push_str(&format!("    {} {step:<28} {} {label}\n", pad(&who, 7), pad(&row, 8)));
        }
    }
    out
}

/// The ladder with extra lines between its rows: under each row an ICMP
/// error quoted, that error; where the kernel changed an endpoint's state,
/// that change, at its time (`⚙`, and `✗` when the wire does not show it);
/// each socket call on its caller's lifeline (`◆`), before the first
/// segment captured after it; then the kernel's agreement.
fn with_extras(conn: &Connection, ladder: &ladder::Ladder) -> String {
    use crate::model::kernel;
    let text = ladder.to_text();
    let rows: Vec<&str> = text.lines().collect();
    let pad = " ".repeat(ladder.geometry.state_width + 3);
    let since = |ts: crate::model::segment::Timestamp| ts.0.saturating_sub(conn.start().0) as f64 / 1e6;
    // (after which row, or None for before the first; order key; text)
    let mut extra: Vec<(Option<usize>, u64, String)> = Vec::new();
    for n in &conn.icmp {
        let line = format!(
            "{pad}{}",
            t!(
                "rows-icmp",
                v6 = if n.icmp.v6 { "v6" } else { "" },
                name = icmp_name(&n.icmp),
                from = n.icmp.from.to_string(),
                ms = format!("{:.3}", since(n.ts)),
                mtu = n.icmp.mtu,
            )
        );
        let after = n.row.or_else(|| conn.records.len().checked_sub(1));
        extra.push((after, n.ts.0, line));
    }
    let verdicts = if conn.kernel_watched { kernel::compare(conn) } else { Vec::new() };
    for v in &verdicts {
        let t = &v.transition;
        let after = conn.records.iter().rposition(|r| r.ts <= t.ts);
        let mark = if v.agrees() { '⚙' } else { '✗' };
        let wire = match (v.row, v.as_wire, v.apart) {
            (Some(_), Some((_, to)), _) => t!("rows-kernel-handover", state = to.name()),
            (Some(_), None, _) if kernel::born_late(conn, v) => t!("rows-kernel-born-late"),
            (Some(_), None, _) => String::new(),
            (None, _, Some(row)) => format!("  {}", t!("rows-kernel-wire-elsewhere", row = row + 1)),
            (None, _, None) => format!("  {}", t!("rows-kernel-wire-none")),
        };
        let said = t!(
            "rows-kernel",
            mark = mark.to_string(),
            role = t.side.name(),
            from = t.from.name(),
            to = t.to.name(),
            ms = format!("{:.3}", since(t.ts)),
        );
        let line = format!("{pad}{said}{wire}");
        extra.push((after, t.ts.0, line));
    }
    for c in &conn.calls {
        // A connect() comes before the first segment: a negative time.
        let at = (i128::from(c.ts.0) - i128::from(conn.start().0)) as f64 / 1e6;
        let line =
            format!("{}  {}", ladder::call_line(c, &ladder.geometry), t!("rows-call-at", ms = format!("{at:.3}")));
        extra.push((ladder::call_after(conn, c), c.ts.0, line));
    }
    extra.sort_by_key(|(after, ts, _)| (after.map_or(0, |a| a + 1), *ts));
    let mut out = String::new();
    let mut next = extra.iter().peekable();
    // Line 0 is the header; row i is line i + 1.
    for (line_no, line) in rows.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        let placed = line_no; // extras placed after row line_no - 1, i.e. key line_no
        while let Some((after, _, text)) = next.peek() {
            if after.map_or(0, |a| a + 1) != placed {
                break;
            }
            out.push_str(text);
            out.push('\n');
            next.next();
        }
    }
    for (_, _, text) in next {
        out.push_str(text);
        out.push('\n');
    }
    if conn.kernel_watched {
        out.push_str(&format!("  {}\n", kernel::summary(conn, &verdicts)));
    }
    out
}

/// Wraps `text` at `width` columns, each line indented by `indent`.
#[must_use]
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    push_wrapped(&mut out, text, width, indent);
    out
}

/// Splits `text` into lines of at most `width` columns (a longer word gets a
/// line of its own; Chinese breaks between characters, a wide one counted
/// as two columns).
#[must_use]
pub fn wrap_lines(text: &str, width: usize) -> Vec<String> {
    wrap(text, width, "").lines().map(str::to_string).collect()
}

/// Appends `text` wrapped at `width` columns, each line indented by
/// `indent` and ended by a newline; words are joined by one space.
///
/// ASCII text whose words are parted by single spaces (a verdict) is cut a
/// line at a time, at the last space that fits. Otherwise words are found a
/// byte at a time between ASCII whitespace, and an ASCII word's width is its
/// length; a word with other characters is split and counted as
/// `str::split_whitespace` and `chars` do. (Verdicts carry a connection's
/// own numbers, so most are wrapped anew: word by word, this was a third of
/// the text export.) `tests::fast_wrap_is_the_plain_wrap` holds both to
/// [`push_wrapped_plain`].
pub fn push_wrapped(out: &mut String, text: &str, width: usize, indent: &str) {
    // What `char::is_whitespace` says of an ASCII byte.
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    // A verdict: ASCII words between single spaces. Each line is the longest
    // run of whole words that fits, cut at the last space that fits.
    let bytes = text.as_bytes();
    if text.is_ascii()
        && bytes.first().is_none_or(|&b| b != b' ')
        && bytes.last().is_none_or(|&b| b != b' ')
        && !bytes.iter().any(|&b| space(b) && b != b' ')
        && !text.contains("  ")
    {
        let mut rest = text;
        while !rest.is_empty() {
            let cut = if rest.len() <= width {
                rest.len()
            } else {
                match rest.as_bytes()[..=width].iter().rposition(|&b| b == b' ') {
                    Some(k) => k,
                    // A word longer than the line: a line of its own.
                    None => rest.find(' ').unwrap_or(rest.len()),
                }
            };
            out.push_str(indent);
            out.push_str(&rest[..cut]);
            out.push('\n');
            rest = rest.get(cut + 1..).unwrap_or("");
        }
        return;
    }
    // Characters on the current line (0: none yet, the indent not written).
    let mut chars = 0;
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && space(bytes[i]) {
            i += 1;
        }
        let start = i;
        let mut ascii = true;
        while i < bytes.len() && !space(bytes[i]) {
            ascii &= bytes[i].is_ascii();
            i += 1;
        }
        // Both ends are at ASCII bytes (or the ends): character boundaries.
        let piece = &text[start..i];
        if ascii {
            place_word(out, &mut chars, piece, piece.len(), width, indent);
        } else {
            for word in piece.split_whitespace() {
                place_any(out, &mut chars, word, width, indent);
            }
        }
    }
    if chars > 0 {
        out.push('\n');
    }
}

/// Appends `word` (`n` characters) to the line of `chars` characters, or on
/// a new line when it would pass `width`.
fn place_word(out: &mut String, chars: &mut usize, word: &str, n: usize, width: usize, indent: &str) {
    if n == 0 {
        return;
    }
    if *chars > 0 && *chars + 1 + n > width {
        out.push('\n');
        *chars = 0;
    }
    if *chars == 0 {
        out.push_str(indent);
    } else {
        out.push(' ');
        *chars += 1;
    }
    out.push_str(word);
    *chars += n;
}

/// Places a word that may hold wide characters: one without them as
/// [`place_word`] does, its width its count of characters; one with them
/// as [`place_wide`] does.
fn place_any(out: &mut String, chars: &mut usize, word: &str, width: usize, indent: &str) {
    if word.chars().any(is_wide) {
        place_wide(out, chars, word, width, indent);
    } else {
        place_word(out, chars, word, word.chars().count(), width, indent);
    }
}

/// Whether `c` takes two terminal columns (a Chinese character, `，`).
fn is_wide(c: char) -> bool {
    unicode_width::UnicodeWidthChar::width(c) == Some(2)
}

/// Punctuation a line may not begin with (it closes what came before).
fn closes(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '！'
            | '？'
            | '）'
            | '」'
            | '』'
            | '》'
            | '”'
            | '’'
            | ')'
            | ','
            | '.'
            | ';'
            | ':'
    )
}

/// Punctuation a line may not end with (it opens what comes after).
fn opens(c: char) -> bool {
    matches!(c, '（' | '「' | '『' | '《' | '“' | '‘' | '(')
}

/// Places a word with wide characters (Chinese writes no spaces between
/// its words): a line may break between any two wide characters, never
/// inside a run of narrow ones (`FIN-WAIT-1`, `0.040`), never before
/// closing punctuation nor after opening punctuation. Widths are terminal
/// columns (a wide character takes two), so no line passes `width` unless
/// one unbreakable run is wider than it.
fn place_wide(out: &mut String, cols: &mut usize, word: &str, width: usize, indent: &str) {
    // The units between which a line may break, with their widths.
    let mut units: Vec<(usize, usize, usize)> = Vec::new(); // (start, end, columns)
    let mut glue = false; // the next character joins the last unit
    for (i, c) in word.char_indices() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        let end = i + c.len_utf8();
        let joins = match units.last() {
            None => false,
            Some(&(s, e, _)) => {
                let prev = word[s..e].chars().next_back().unwrap_or(' ');
                glue || closes(c) || (!is_wide(c) && !is_wide(prev) && !opens(prev)) || w == 0
            }
        };
        match units.last_mut() {
            Some(u) if joins => {
                u.1 = end;
                u.2 += w;
            }
            _ => units.push((i, end, w)),
        }
        glue = opens(c);
    }
    for (k, &(s, e, w)) in units.iter().enumerate() {
        let unit = &word[s..e];
        if k == 0 {
            // The first unit is placed as a word: after a space, or on a new line.
            place_word(out, cols, unit, w, width, indent);
            continue;
        }
        if *cols + w > width {
            out.push('\n');
            out.push_str(indent);
            *cols = 0;
        }
        out.push_str(unit);
        *cols += w;
    }
}

/// [`push_wrapped`] the plain way, one `char` at a time.
#[must_use]
pub fn push_wrapped_plain(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for word in text.split_whitespace() {
        place_any(&mut out, &mut chars, word, width, indent);
    }
    if chars > 0 {
        out.push('\n');
    }
    out
}

impl Exporter for TextExporter {
    fn append_udp(&mut self, flow: &crate::model::udp::Flow, out: &mut String) {
        out.push_str(&super::udp::text(flow));
    }

    fn append(&mut self, conn: &Connection, buf: &mut String) {
        if conn.icmp.is_empty() && !conn.kernel_watched && conn.calls.is_empty() {
            ladder::write_text(conn, &mut self.scratch, buf);
        } else {
            buf.push_str(&with_extras(conn, &ladder::layout(conn, None, 0)));
        }
        self.next_verdict.clear();
        timeline::verdict_into(conn, &mut self.next_verdict);
        if self.next_verdict != self.verdict.0 {
            self.verdict.1.clear();
            push_wrapped(&mut self.verdict.1, &self.next_verdict, 96, "  ");
            std::mem::swap(&mut self.verdict.0, &mut self.next_verdict);
        }
        buf.push_str(&self.verdict.1);
        if self.diagram {
            buf.push_str(&diagram_path(conn));
        }
        buf.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The byte-wise wrap gives what the plain one gives, whatever the
        /// text: ASCII, other characters, every kind of whitespace.
        #[test]
        fn fast_wrap_is_the_plain_wrap_on_verdicts(text in "[a-z0-9=.,:()]{1,15}( [a-z0-9=.,:()]{1,15}){0,60}", width in 1usize..100) {
            let mut fast = String::new();
            push_wrapped(&mut fast, &text, width, "  ");
            proptest::prop_assert_eq!(fast, push_wrapped_plain(&text, width, "  "));
        }

        /// With Chinese: the same, and no line wider than the width unless
        /// one unbreakable run is (Latin, with the punctuation it holds on to).
        #[test]
        fn fast_wrap_is_the_plain_wrap_in_chinese(
            text in "([a-z0-9]{0,6}[中文]{0,4}[，。（）：]?[中文]{0,4}[ ]{0,2}){0,30}",
            width in 4usize..60,
        ) {
            let mut fast = String::new();
            push_wrapped(&mut fast, &text, width, "");
            proptest::prop_assert_eq!(&fast, &push_wrapped_plain(&text, width, ""));
            for line in fast.lines() {
                let latin = line.split(|c: char| !c.is_ascii_alphanumeric() && c != '.').map(str::len).max().unwrap_or(0);
                proptest::prop_assert!(crate::i18n::width(line) <= width.max(latin + 4), "{:?}", line);
            }
        }

        #[test]
        fn fast_wrap_is_the_plain_wrap(
            text in "([a-z§→é0-9=.,:()]{0,12}[ \t\n\u{b}\u{c}\r\u{85}\u{a0}\u{2003}]{0,3}){0,40}",
            width in 1usize..100,
        ) {
            let mut fast = String::new();
            push_wrapped(&mut fast, &text, width, "  ");
            proptest::prop_assert_eq!(fast, push_wrapped_plain(&text, width, "  "));
        }
    }
}
