//! The words a person reads, in English and in Chinese: Project Fluent
//! messages (`i18n/en/*.ftl`, `i18n/zh/*.ftl`, compiled in), looked up by id
//! with their arguments. Machine formats (jsonl keys and values, exit codes)
//! never pass through here.
//!
//! Which language: [`set`] once at start-up (from `--lang`, `SYNACK_LANG`,
//! then the locale, see [`Lang::detect`]); a thread may override it with
//! [`scope`] (the tests render both languages side by side). Code that
//! builds words from facts (the explanations) keeps the facts apart from
//! the words: it yields [`Said`] parts, message ids with arguments, and each
//! language renders them with its own grammar ([`Said::render`]).
//!
//! Pure: no IO, no clock. A message id missing in a language is a bug: a
//! debug build panics, a release build prints the id; `tests/i18n.rs` checks
//! every id used in the source against both languages.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language synack speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// Both, English first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// `en` / `zh`.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// `en`, `zh` and their regional forms (`zh-CN`, `zh_TW`, `en_US`).
    #[must_use]
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        let base = s.split(['-', '_', '.', '@']).next().unwrap_or("");
        match base {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The language of a POSIX locale (`zh_CN.UTF-8` is Chinese; anything
    /// else, `C` and `POSIX` included, is English).
    #[must_use]
    pub fn of_locale(locale: &str) -> Lang {
        if locale.trim().to_ascii_lowercase().starts_with("zh") { Lang::Zh } else { Lang::En }
    }

    /// The default from the environment, `var` reading one variable:
    /// `SYNACK_LANG` when set (and `en` or `zh`), else the first of
    /// `LC_ALL`, `LC_MESSAGES`, `LANG` that is set and not empty (POSIX's
    /// order for messages).
    pub fn detect(var: impl Fn(&str) -> Option<String>) -> Lang {
        if let Some(l) = var("SYNACK_LANG").as_deref().and_then(Lang::parse) {
            return l;
        }
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .find_map(|v| var(v).filter(|s| !s.is_empty()))
            .map_or(Lang::En, |l| Lang::of_locale(&l))
    }

    /// What goes between two sentences: a space in English, nothing in
    /// Chinese (its full stop 。 ends a sentence).
    #[must_use]
    pub fn sentence_gap(self) -> &'static str {
        match self {
            Lang::En => " ",
            Lang::Zh => "",
        }
    }
}

static GLOBAL: AtomicU8 = AtomicU8::new(0);

thread_local! {
    static HERE: Cell<Option<Lang>> = const { Cell::new(None) };
}

/// Sets the process's language (once, at start-up).
pub fn set(lang: Lang) {
    GLOBAL.store(lang as u8, Ordering::Relaxed);
}

/// The language of this thread: its [`scope`]'s, else the process's.
#[must_use]
pub fn current() -> Lang {
    HERE.with(Cell::get).unwrap_or(if GLOBAL.load(Ordering::Relaxed) == Lang::Zh as u8 { Lang::Zh } else { Lang::En })
}

/// This thread speaks `lang` until the returned guard is dropped.
#[must_use = "the language holds only while the guard lives"]
pub fn scope(lang: Lang) -> Scope {
    let before = HERE.with(|h| h.replace(Some(lang)));
    Scope { before }
}

/// See [`scope`].
pub struct Scope {
    before: Option<Lang>,
}

impl Drop for Scope {
    fn drop(&mut self) {
        HERE.with(|h| h.set(self.before));
    }
}

/// An argument of a message: a number (printed as given, and chosen on for
/// plurals) or text (printed as given: addresses, pre-formatted times,
/// names that are not translated). A [`Said`] nested in another is
/// rendered first, in the same language.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// A whole number.
    Int(i64),
    /// Text, printed as it is.
    Text(Cow<'static, str>),
    /// Words of their own, rendered in the message's language.
    Said(Box<Said>),
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Int(n)
    }
}
impl From<u64> for Arg {
    fn from(n: u64) -> Arg {
        Arg::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
impl From<u32> for Arg {
    fn from(n: u32) -> Arg {
        Arg::Int(n.into())
    }
}
impl From<u16> for Arg {
    fn from(n: u16) -> Arg {
        Arg::Int(n.into())
    }
}
impl From<i32> for Arg {
    fn from(n: i32) -> Arg {
        Arg::Int(n.into())
    }
}
impl From<&'static str> for Arg {
    fn from(s: &'static str) -> Arg {
        Arg::Text(Cow::Borrowed(s))
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(Cow::Owned(s))
    }
}
impl From<Said> for Arg {
    fn from(s: Said) -> Arg {
        Arg::Said(Box::new(s))
    }
}

/// Words not yet in a language: a message id and its arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Said {
    /// The message's id in the `.ftl` files.
    pub id: &'static str,
    /// Its arguments, by name.
    pub args: Vec<(&'static str, Arg)>,
}

impl Said {
    /// A message with no arguments.
    #[must_use]
    pub fn new(id: &'static str) -> Said {
        Said { id, args: Vec::new() }
    }

    /// This message with one more argument.
    #[must_use]
    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Said {
        self.args.push((name, value.into()));
        self
    }

    /// The words in `lang`.
    #[must_use]
    pub fn render(&self, lang: Lang) -> String {
        text(lang, self.id, &self.args)
    }
}

/// Sentences in `lang`, each rendered and joined by the language's gap.
#[must_use]
pub fn sentences(lang: Lang, parts: &[Said]) -> String {
    let mut s = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            s.push_str(lang.sentence_gap());
        }
        s.push_str(&p.render(lang));
    }
    s
}

const EN: &[(&str, &str)] = &[
    ("common", include_str!("../i18n/en/common.ftl")),
    ("explain", include_str!("../i18n/en/explain.ftl")),
    ("rows", include_str!("../i18n/en/rows.ftl")),
    ("tui", include_str!("../i18n/en/tui.ftl")),
    ("cli", include_str!("../i18n/en/cli.ftl")),
];
const ZH: &[(&str, &str)] = &[
    ("common", include_str!("../i18n/zh/common.ftl")),
    ("explain", include_str!("../i18n/zh/explain.ftl")),
    ("rows", include_str!("../i18n/zh/rows.ftl")),
    ("tui", include_str!("../i18n/zh/tui.ftl")),
    ("cli", include_str!("../i18n/zh/cli.ftl")),
];

/// The `.ftl` files of `lang`, by name (what `tests/i18n.rs` checks).
#[must_use]
pub fn resources(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => EN,
        Lang::Zh => ZH,
    }
}

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static BUNDLES: OnceLock<[FluentBundle<FluentResource>; 2]> = OnceLock::new();
    let all = BUNDLES.get_or_init(|| Lang::ALL.map(build));
    &all[lang as usize]
}

fn build(lang: Lang) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.code().parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // Arguments are printed as they are: no bidi isolation marks.
    b.set_use_isolating(false);
    for (name, src) in resources(lang) {
        // The files are compiled in and checked by tests/i18n.rs: an error
        // here is a bug in them.
        let res = FluentResource::try_new((*src).to_owned())
            .unwrap_or_else(|(_, e)| panic!("i18n/{}/{name}.ftl: {e:?}", lang.code()));
        if let Err(e) = b.add_resource(res) {
            panic!("i18n/{}/{name}.ftl: {e:?}", lang.code());
        }
    }
    b
}

/// Whether `lang` has message `id`.
#[must_use]
pub fn has(lang: Lang, id: &str) -> bool {
    bundle(lang).has_message(id)
}

/// Message `id` (or `id.attr`) in `lang`, with `args`.
#[must_use]
pub fn text(lang: Lang, id: &str, args: &[(&str, Arg)]) -> String {
    let b = bundle(lang);
    let (msg_id, attr) = match id.split_once('.') {
        Some((m, a)) => (m, Some(a)),
        None => (id, None),
    };
    let pattern = b.get_message(msg_id).and_then(|m| match attr {
        Some(a) => m.get_attribute(a).map(|a| a.value()),
        None => m.value(),
    });
    let Some(pattern) = pattern else {
        debug_assert!(false, "message {id} missing in i18n/{}", lang.code());
        return id.to_owned();
    };
    let mut fargs = FluentArgs::new();
    for (k, v) in args {
        let value: FluentValue = match v {
            Arg::Int(n) => FluentValue::from(*n),
            Arg::Text(s) => FluentValue::from(s.as_ref().to_owned()),
            Arg::Said(s) => FluentValue::from(s.render(lang)),
        };
        fargs.set(*k, value);
    }
    let mut errors = Vec::new();
    let out = b.format_pattern(pattern, Some(&fargs), &mut errors);
    debug_assert!(errors.is_empty(), "message {id} in i18n/{}: {errors:?}", lang.code());
    out.into_owned()
}

/// Message `id` in this thread's language ([`current`]).
#[must_use]
pub fn tr(id: &str, args: &[(&str, Arg)]) -> String {
    text(current(), id, args)
}

/// `t!("id")`, `t!("id", n = 3, who = "client")`: message `id` in this
/// thread's language, with its arguments. The id must be a literal (so
/// `tests/i18n.rs` finds every id in the source).
#[macro_export]
macro_rules! t {
    ($id:literal) => {
        $crate::i18n::tr($id, &[])
    };
    ($id:literal, $($k:ident = $v:expr),+ $(,)?) => {
        $crate::i18n::tr($id, &[$((stringify!($k), $crate::i18n::Arg::from($v))),+])
    };
}

/// `said!("id", n = 3)`: a [`Said`] part (words not yet in a language).
#[macro_export]
macro_rules! said {
    ($id:literal) => {
        $crate::i18n::Said::new($id)
    };
    ($id:literal, $($k:ident = $v:expr),+ $(,)?) => {
        $crate::i18n::Said { id: $id, args: vec![$((stringify!($k), $crate::i18n::Arg::from($v))),+] }
    };
}

/// Columns `s` takes in a terminal (a Chinese character takes two).
#[must_use]
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locale_chooses_and_synack_lang_overrides() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(Lang::detect(env(&[("LANG", "zh_CN.UTF-8")])), Lang::Zh);
        assert_eq!(Lang::detect(env(&[("LANG", "en_US.UTF-8")])), Lang::En);
        assert_eq!(Lang::detect(env(&[])), Lang::En);
        assert_eq!(Lang::detect(env(&[("LANG", "C")])), Lang::En);
        // LC_ALL, then LC_MESSAGES, then LANG; empty ones do not count.
        assert_eq!(Lang::detect(env(&[("LC_ALL", "zh_TW.UTF-8"), ("LANG", "en_US")])), Lang::Zh);
        assert_eq!(Lang::detect(env(&[("LC_ALL", ""), ("LC_MESSAGES", "zh_CN"), ("LANG", "en_US")])), Lang::Zh);
        assert_eq!(Lang::detect(env(&[("LC_MESSAGES", "en_GB"), ("LANG", "zh_CN")])), Lang::En);
        assert_eq!(Lang::detect(env(&[("SYNACK_LANG", "en"), ("LANG", "zh_CN")])), Lang::En);
        assert_eq!(Lang::detect(env(&[("SYNACK_LANG", "zh"), ("LANG", "en_US")])), Lang::Zh);
        // An unknown SYNACK_LANG falls back to the locale.
        assert_eq!(Lang::detect(env(&[("SYNACK_LANG", "fr"), ("LANG", "zh_CN")])), Lang::Zh);
    }

    #[test]
    fn a_scope_holds_for_its_thread_and_ends_with_it() {
        let before = current();
        {
            let _zh = scope(Lang::Zh);
            assert_eq!(current(), Lang::Zh);
            {
                let _en = scope(Lang::En);
                assert_eq!(current(), Lang::En);
            }
            assert_eq!(current(), Lang::Zh);
        }
        assert_eq!(current(), before);
    }

    #[test]
    fn arguments_and_plurals_in_both_languages() {
        let said = said!("common-segments", n = 1usize);
        assert_eq!(said.render(Lang::En), "1 segment");
        assert_eq!(said!("common-segments", n = 3usize).render(Lang::En), "3 segments");
        assert_eq!(said!("common-segments", n = 3usize).render(Lang::Zh), "3 个报文段");
        // A role is chosen in the message, not glued by the code.
        assert_eq!(said!("common-role", role = "client").render(Lang::En), "the client");
        assert_eq!(said!("common-role", role = "server").render(Lang::Zh), "服务器");
        assert_eq!(
            sentences(Lang::En, &[said!("common-role", role = "client"), said!("common-role", role = "server")]),
            "the client the server"
        );
    }
}
