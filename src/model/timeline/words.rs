//! The words of a ladder's rows in one language (`i18n/*/rows.ftl`),
//! rendered once per language and kept: a note is written for every row of
//! every connection (`trace --format text` writes millions), so the hot path
//! copies words already rendered instead of formatting a message each time.
//! Pure: no IO, no clock; built on first use.

use std::sync::OnceLock;

use crate::i18n::{Lang, Said};
use crate::said;

/// Marks where an argument goes in a message rendered once (a private-use
/// character, never in a message's own text).
const SLOT: &str = "\u{e000}";

/// A message of one argument, rendered with [`SLOT`] for it and split there:
/// the words before the argument and after it.
#[derive(Debug)]
pub(crate) struct Split {
    pub before: String,
    pub after: String,
}

impl Split {
    fn of(said: &Said, lang: Lang) -> Split {
        let text = said.render(lang);
        match text.split_once(SLOT) {
            Some((b, a)) => Split { before: b.to_owned(), after: a.to_owned() },
            // The argument is not used: the words are the whole message.
            None => Split { before: text, after: String::new() },
        }
    }

    /// Appends the words around `arg`, written by `arg` itself.
    pub fn push(&self, out: &mut String, arg: impl FnOnce(&mut String)) {
        out.push_str(&self.before);
        arg(out);
        out.push_str(&self.after);
    }
}

/// Which close a teardown note counts the steps of (the message chooses
/// its words by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Teardown {
    /// Of four segments.
    Four,
    /// Of three (the second FIN also acknowledged the first).
    Three,
    /// Both FINs crossed.
    Simultaneous,
}

impl Teardown {
    fn key(self) -> &'static str {
        match self {
            Teardown::Four => "four",
            Teardown::Three => "three",
            Teardown::Simultaneous => "simultaneous",
        }
    }
}

/// The row words of one language.
#[derive(Debug)]
pub(crate) struct Words {
    /// `handshake 1/3` ... `handshake 3/3`.
    pub handshake: [String; 3],
    /// `refused 1/2`, `refused 2/2`.
    pub refused: [String; 2],
    pub reset: String,
    pub retransmission: String,
    pub retransmission_handshake: String,
    pub teardown_late: String,
    pub after_close: String,
    pub after_close_time_wait: String,
    /// `teardown 2+3/4` for every kind, total (3 or 4) and set of steps
    /// (bits 0..4 for steps 1..4): see [`Words::teardown`].
    teardown: Vec<String>,
    pub dropped: String,
    pub lost_or_dropped: String,
    /// A step's note, then why its receiver did not take it: `… (dropped)`,
    /// `… (lost or dropped)`.
    pub not_taken: [Split; 2],
    pub fins_cross: String,
    /// One ICMP error, several.
    pub icmp_errors: [String; 2],
    /// `client 127.0.0.1:46648`, `server …`.
    pub client: Split,
    pub server: Split,
    pub carried_in: Split,
}

impl Words {
    fn build(lang: Lang) -> Words {
        let mut teardown = Vec::with_capacity(3 * 2 * 16);
        for kind in [Teardown::Four, Teardown::Three, Teardown::Simultaneous] {
            for total in [3u8, 4] {
                for mask in 0u8..16 {
                    let steps: Vec<String> =
                        (1..=4u8).filter(|n| mask & (1 << (n - 1)) != 0).map(|n| n.to_string()).collect();
                    teardown.push(
                        said!("rows-teardown", kind = kind.key(), steps = steps.join("+"), total = u32::from(total))
                            .render(lang),
                    );
                }
            }
        }
        let one = |s: Said| s.render(lang);
        Words {
            handshake: [1u32, 2, 3].map(|n| one(said!("rows-handshake", step = n))),
            refused: [1u32, 2].map(|n| one(said!("rows-refused", step = n))),
            reset: one(said!("rows-reset")),
            retransmission: one(said!("rows-retransmission")),
            retransmission_handshake: one(said!("rows-retransmission-handshake")),
            teardown_late: one(said!("rows-teardown-late")),
            after_close: one(said!("rows-after-close")),
            after_close_time_wait: one(said!("rows-after-close-time-wait")),
            teardown,
            dropped: one(said!("rows-dropped")),
            lost_or_dropped: one(said!("rows-lost-or-dropped")),
            not_taken: [said!("rows-dropped"), said!("rows-lost-or-dropped")]
                .map(|what| Split::of(&said!("rows-not-taken", step = SLOT, what = what), lang)),
            fins_cross: one(said!("rows-fins-cross")),
            icmp_errors: [1u32, 2].map(|n| one(said!("rows-icmp-errors", n = n))),
            client: Split::of(&said!("rows-endpoint", role = "client", addr = SLOT), lang),
            server: Split::of(&said!("rows-endpoint", role = "server", addr = SLOT), lang),
            carried_in: Split::of(&said!("rows-carried-in", encap = SLOT), lang),
        }
    }

    /// `teardown 2+3/4`: `steps` the steps (1 to 4) one segment performs.
    /// `None` when a step is out of that range (rendered by the caller).
    pub fn teardown(&self, kind: Teardown, total: u8, steps: impl IntoIterator<Item = u8>) -> Option<&str> {
        let mut mask = 0usize;
        for n in steps {
            if !(1..=4).contains(&n) {
                return None;
            }
            mask |= 1 << (n - 1);
        }
        let k = match kind {
            Teardown::Four => 0,
            Teardown::Three => 1,
            Teardown::Simultaneous => 2,
        };
        let t = match total {
            3 => 0,
            4 => 1,
            _ => return None,
        };
        self.teardown.get((k * 2 + t) * 16 + mask).map(String::as_str)
    }
}

/// The language rows are written in: this thread's ([`crate::i18n::current`]).
pub(crate) fn lang() -> Lang {
    crate::i18n::current()
}

/// The row words of `lang`.
pub(crate) fn of(lang: Lang) -> &'static Words {
    static WORDS: OnceLock<[Words; 2]> = OnceLock::new();
    &WORDS.get_or_init(|| Lang::ALL.map(Words::build))[lang as usize]
}

/// `teardown 2+3/4` rendered now (steps outside what [`Words`] keeps).
pub(crate) fn teardown_now(lang: Lang, kind: Teardown, total: u8, steps: &str) -> String {
    said!("rows-teardown", kind = kind.key(), steps = steps.to_owned(), total = u32::from(total)).render(lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is kept is what the messages say, in both languages.
    #[test]
    fn kept_words_are_the_messages() {
        for lang in Lang::ALL {
            let w = of(lang);
            assert_eq!(w.handshake[1], said!("rows-handshake", step = 2u32).render(lang));
            assert_eq!(w.teardown(Teardown::Four, 4, [2, 3]).unwrap(), teardown_now(lang, Teardown::Four, 4, "2+3"),);
            assert_eq!(
                w.teardown(Teardown::Simultaneous, 4, [1]).unwrap(),
                teardown_now(lang, Teardown::Simultaneous, 4, "1")
            );
            assert_eq!(w.teardown(Teardown::Four, 4, [5]), None);
            let mut s = String::new();
            w.not_taken[0].push(&mut s, |o| o.push_str(&w.handshake[0]));
            assert_eq!(
                s,
                said!("rows-not-taken", step = w.handshake[0].clone(), what = w.dropped.clone()).render(lang)
            );
            let mut s = String::new();
            w.client.push(&mut s, |o| o.push_str("127.0.0.1:1"));
            assert_eq!(s, said!("rows-endpoint", role = "client", addr = "127.0.0.1:1").render(lang));
        }
        assert_eq!(of(Lang::En).teardown(Teardown::Three, 3, [1]).unwrap(), "teardown 1/3");
        assert_eq!(of(Lang::Zh).teardown(Teardown::Four, 4, [2, 3]).unwrap(), "四次挥手 2+3/4");
        assert_eq!(of(Lang::Zh).handshake[0], "三次握手 1/3");
    }
}
