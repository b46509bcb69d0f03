//! The two languages hold the same messages, and every message id the
//! source uses is in both: a missing id fails here, not in front of a
//! student.

use std::collections::BTreeSet;
use std::path::Path;

use synack::i18n::{self, Lang};

/// `id` and `id.attr` of every message in a `.ftl` text.
fn ids(ftl: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut message = None;
    for line in ftl.lines() {
        let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if let Some((head, _)) = line.split_once(" =") {
            if !line.starts_with([' ', '#', '-']) && ident(head) {
                out.insert(head.to_owned());
                message = Some(head.to_owned());
            } else if let Some(attr) = head.trim_start().strip_prefix('.')
                && line.starts_with(' ')
                && ident(attr)
                && let Some(m) = &message
            {
                out.insert(format!("{m}.{attr}"));
            }
        }
    }
    out
}

fn all_ids(lang: Lang) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (name, src) in i18n::resources(lang) {
        for id in ids(src) {
            assert!(out.insert(id.clone()), "{id} twice in i18n/{} (again in {name}.ftl)", lang.code());
        }
    }
    out
}

/// Every Rust file under `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The ids used in the source: the literal first argument of `t!(`,
/// `said!(` and `Said::new(`.
fn used_ids() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut out = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for opener in ["t!(\"", "said!(\"", "Said::new(\""] {
            for (i, _) in text.match_indices(opener) {
                // `t!(` inside another name (`format!(`, `print!(`) is not ours.
                if opener == "t!(\"" && text[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                // Doc comments show the macros with made-up ids.
                let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                if text[line_start..i].trim_start().starts_with("//") {
                    continue;
                }
                let rest = &text[i + opener.len()..];
                let id = rest.split('"').next().unwrap();
                out.insert((id.to_owned(), f.display().to_string()));
            }
        }
    }
    out
}

#[test]
fn both_languages_hold_the_same_messages() {
    let (en, zh) = (all_ids(Lang::En), all_ids(Lang::Zh));
    let only_en: Vec<_> = en.difference(&zh).collect();
    let only_zh: Vec<_> = zh.difference(&en).collect();
    assert!(only_en.is_empty(), "in English only (translate them): {only_en:?}");
    assert!(only_zh.is_empty(), "in Chinese only: {only_zh:?}");
    assert!(en.len() >= 3, "the files were read: {en:?}");
}

#[test]
fn every_id_the_source_uses_is_in_both_languages() {
    let used = used_ids();
    assert!(!used.is_empty());
    for lang in Lang::ALL {
        let have = all_ids(lang);
        let missing: Vec<_> = used.iter().filter(|(id, _)| !have.contains(id)).collect();
        assert!(missing.is_empty(), "ids missing in i18n/{}: {missing:?}", lang.code());
        for (id, _) in &used {
            if !id.contains('.') {
                assert!(i18n::has(lang, id), "{id} in i18n/{} but not loaded", lang.code());
            }
        }
    }
}

/// The checker itself finds a missing id: an id only one language has is
/// told apart.
#[test]
fn the_checker_sees_a_missing_id() {
    let one = ids("a-b = x\n    .title = y\n# c = no\nd-e = { $n ->\n    [one] z\n   *[other] w\n}\n");
    assert_eq!(one.into_iter().collect::<Vec<_>>(), ["a-b", "a-b.title", "d-e"]);
}
