//! Text measured in terminal columns, for the parts of the dashboard that
//! pad, cut or wrap by themselves: a Chinese character takes two columns
//! ([`crate::i18n::width`]), and none is ever split. Text whose every
//! character takes one column comes out exactly as `format!` padding and
//! the text export's wrapping give it (English stays byte for byte).

use crate::i18n::width;

/// `s` padded with spaces on the right to `w` columns (`{s:<w}` by width).
#[must_use]
pub fn pad_end(s: &str, w: usize) -> String {
    let mut out = s.to_owned();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(s))));
    out
}

/// `s` padded with spaces on the left to `w` columns (`{s:>w}` by width).
#[must_use]
pub fn pad_start(s: &str, w: usize) -> String {
    let mut out: String = std::iter::repeat_n(' ', w.saturating_sub(width(s))).collect();
    out.push_str(s);
    out
}

/// The longest start of `s` that fits in `w` columns (a wide character
/// that would straddle the edge is left out whole).
#[must_use]
pub fn cut(s: &str, w: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let cw = width(c.encode_utf8(&mut [0; 4]));
        if used + cw > w {
            return &s[..i];
        }
        used += cw;
    }
    s
}

/// Whether `c` takes two columns.
fn wide(c: char) -> bool {
    width(c.encode_utf8(&mut [0; 4])) > 1
}

/// Punctuation a line never starts with (it closes what comes before).
fn closing(c: char) -> bool {
    "，。：；、）」』！？》】,.:;)!?".contains(c)
}

/// Punctuation a line never ends with (it opens what comes after).
fn opening(c: char) -> bool {
    "（「『《【“‘(".contains(c)
}

/// `text` wrapped in lines of at most `columns` columns: at spaces (which
/// go), and between Chinese characters (where a line may break with no
/// space), never before closing or after opening punctuation; a word wider
/// than the line is cut between characters. Text with no wide character is
/// wrapped as the text export wraps it ([`crate::export::text::wrap_lines`]).
#[must_use]
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    if !text.chars().any(wide) {
        return crate::export::text::wrap_lines(text, columns);
    }
    let columns = columns.max(2);
    // Atoms: the pieces no line breaks inside, each with whether a space
    // came before it. A run of narrow characters is one atom; each wide
    // character is one, glued to closing punctuation after it and to
    // opening punctuation before it.
    let mut atoms: Vec<(String, bool)> = Vec::new();
    let mut space = false;
    let mut glue = false;
    let mut word = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = !atoms.is_empty();
            word = false;
            continue;
        }
        let join = match atoms.last() {
            Some(_) if glue => true,
            Some(_) if space => false,
            Some(_) if closing(c) => true,
            Some(_) => word && !wide(c),
            None => false,
        };
        match atoms.last_mut() {
            Some(last) if join => last.0.push(c),
            _ => atoms.push((c.to_string(), space)),
        }
        word = !wide(c);
        glue = opening(c);
        space = false;
    }
    let atoms = keep_units(atoms);
    let mut lines = Vec::new();
    let mut line = String::new();
    for (atom, spaced) in atoms {
        let sep = if spaced && !line.is_empty() { " " } else { "" };
        if width(&line) + width(sep) + width(&atom) <= columns {
            line.push_str(sep);
            line.push_str(&atom);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // An atom wider than a line: cut between its characters.
        let mut rest = atom.as_str();
        while width(rest) > columns {
            let head = cut(rest, columns);
            let head = if head.is_empty() { &rest[..rest.chars().next().map_or(0, char::len_utf8)] } else { head };
            lines.push(head.to_owned());
            rest = &rest[head.len()..];
        }
        line.push_str(rest);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Units written in Latin letters after a number (`40 ms`).
const UNITS: [&str; 3] = ["ms", "µs", "s"];

/// Units of two Chinese characters after a number (`1025 字节`); a unit of
/// one character (`60 秒`, `3 个`) is any wide character after a number.
const WIDE_UNITS: [&str; 4] = ["毫秒", "微秒", "字节", "分钟"];

/// Whether `atom` starts with a Latin unit that ends there or at punctuation.
fn latin_unit(atom: &str) -> bool {
    UNITS.iter().any(|u| atom.strip_prefix(u).is_some_and(|rest| !rest.starts_with(char::is_alphanumeric)))
}

/// `atoms` with each number joined to the unit after it, so that no line
/// ends with `40` and the next starts with `ms`: a number is one with its
/// unit, as it is read.
fn keep_units(atoms: Vec<(String, bool)>) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::with_capacity(atoms.len());
    // Whether the last atom out is a number with a wide unit of one
    // character so far (the first half of 字节 or 毫秒).
    let mut half = false;
    for (atom, spaced) in atoms {
        let join = match out.last() {
            Some((last, _)) if half => WIDE_UNITS.iter().any(|u| {
                let first = last.chars().last().map(String::from).unwrap_or_default();
                u.starts_with(&first) && atom.starts_with(&u[first.len()..])
            }),
            Some((last, _)) => {
                last.ends_with(|c: char| c.is_ascii_digit())
                    && (latin_unit(&atom) || atom.starts_with(wide) && !atom.starts_with(opening))
            }
            None => false,
        };
        half = false;
        match out.last_mut() {
            Some(last) if join => {
                let unit_started = !last.0.ends_with(|c: char| c.is_ascii_digit());
                half = !unit_started && atom.chars().count() == 1 && atom.starts_with(wide);
                if spaced {
                    last.0.push(' ');
                }
                last.0.push_str(&atom);
            }
            _ => out.push((atom, spaced)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_counts_columns() {
        assert_eq!(pad_end("ab", 4), "ab  ");
        assert_eq!(pad_end("四次挥手", 12), "四次挥手    ");
        assert_eq!(pad_start("客户端", 8), "  客户端");
        assert_eq!(pad_end("too long", 3), "too long");
        // ASCII as format! pads it.
        assert_eq!(pad_start("ESTABLISHED", 12), format!("{:>12}", "ESTABLISHED"));
    }

    #[test]
    fn a_cut_never_splits_a_wide_character() {
        assert_eq!(cut("四次挥手", 5), "四次");
        assert_eq!(cut("a四", 2), "a");
        assert_eq!(cut("abc", 9), "abc");
    }

    #[test]
    fn english_wraps_as_the_text_export_does() {
        let s = "close: four-way. The client closed first. The server acknowledged that FIN in a segment of its own.";
        assert_eq!(wrap(s, 30), crate::export::text::wrap_lines(s, 30));
    }

    #[test]
    fn chinese_wraps_by_columns_between_characters() {
        let s = "客户端先关闭。服务器收到 FIN 后 41 ms 单独发回确认 ACK，因为没有数据可以捎带。";
        let lines = wrap(s, 20);
        for l in &lines {
            assert!(width(l) <= 20, "{l:?} in {lines:?}");
            // No line starts with closing punctuation.
            assert!(!l.starts_with(['，', '。']), "{lines:?}");
        }
        // Nothing lost but the spaces at the breaks.
        let joined: String = lines.concat();
        assert_eq!(joined.replace(' ', ""), s.replace(' ', ""));
        // A Latin word is never split when it fits.
        assert!(lines.iter().any(|l| l.contains("FIN")), "{lines:?}");
    }

    /// English with a few Chinese characters (the backlog caption names
    /// 半连接池) fits by columns too: the old count by characters let such a
    /// line run past the panel's edge.
    #[test]
    fn english_with_chinese_fits_by_columns() {
        let s = "The tutorial calls the 3 the size of the half-connection pool (半连接池): half right.";
        for w in 20..40 {
            let lines = wrap(s, w);
            assert!(lines.iter().all(|l| width(l) <= w), "{w}: {lines:?}");
            // Never a line ending with an opening bracket.
            assert!(lines.iter().all(|l| !l.ends_with('(')), "{w}: {lines:?}");
            assert_eq!(lines.join(" ").replace(' ', ""), s.replace(' ', ""), "{w}");
        }
    }

    /// A line never ends with a number whose unit starts the next
    /// (`40` / `ms`, `1025 字` / `节`), at any width.
    #[test]
    fn a_number_keeps_its_unit() {
        let s = "服务器在延迟确认计时器到期时（Linux 至少等待 40 ms）单独发出 ACK，它的 FIN 比客户端的晚 300 ms，共 1025 字节，等 60 秒。";
        // From the width of the widest number with its unit (`1025 字节，`).
        for w in 12..60 {
            let lines = wrap(s, w);
            assert!(lines.iter().all(|l| width(l) <= w), "{w}: {lines:?}");
            for pair in lines.windows(2) {
                let (end, start) = (&pair[0], &pair[1]);
                assert!(!(end.ends_with(|c: char| c.is_ascii_digit())), "{w}: {lines:?}");
                assert!(!start.starts_with("节"), "{w}: {lines:?}");
            }
            assert_eq!(lines.concat().replace(' ', ""), s.replace(' ', ""), "{w}");
        }
        // Where the unit is not one, nothing is joined: `40 ms` may stand
        // alone on a line, and a number before a Latin word breaks as before.
        assert!(wrap("等 40 ms，然后", 8).contains(&"40 ms，".to_owned()));
        assert_eq!(wrap("共 3 SYN", 4), ["共 3", "SYN"]);
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut() {
        let lines = wrap("中 abcdefghijkl", 5);
        assert!(lines.iter().all(|l| width(l) <= 5), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), "中abcdefghijkl");
    }
}
