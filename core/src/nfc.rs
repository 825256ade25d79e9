//! Unicode Normalization Form C for [`FilePath`](crate::path::FilePath)'s
//! portable keys, built on `unicode-normalization`'s per-character functions
//! (canonical decomposition, combining classes, composition).
//!
//! It gives exactly what `str::nfc()` of that crate gives (a property test
//! checks it), but `nfc()` shares its decomposition iterator with NFKC, so a
//! build that only ever asks for NFC still links the compatibility tables:
//! about 60 KB gzipped of the browser's WebAssembly module (see the README's
//! package section). This module only reaches the canonical tables.

use unicode_normalization::char::{canonical_combining_class, compose, decompose_canonical};

/// `text` in Normalization Form C (UAX #15: canonical decomposition,
/// canonical ordering, canonical composition).
pub(crate) fn nfc(text: &str) -> String {
    // Canonical decomposition, each character with its combining class.
    let mut chars: Vec<(char, u8)> = Vec::with_capacity(text.len());
    for c in text.chars() {
        decompose_canonical(c, |d| chars.push((d, canonical_combining_class(d))));
    }
    // Canonical ordering: each run of non-starters sorted (stably) by class.
    let mut i = 0;
    while i < chars.len() {
        if chars[i].1 == 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].1 != 0 {
            i += 1;
        }
        let mut run = chars[start..i].to_vec();
        crate::sort::sort_by_key(&mut run, |&(_, class)| class);
        chars[start..i].copy_from_slice(&run);
    }
    // Canonical composition: a character joins the last starter unless a
    // character between them blocks it (a starter, or a class not lower).
    let mut out: Vec<(char, u8)> = Vec::with_capacity(chars.len());
    let mut starter: Option<usize> = None;
    for (c, class) in chars {
        if let Some(at) = starter {
            let adjacent = at + 1 == out.len();
            let unblocked = adjacent || out.last().is_some_and(|&(_, last)| last < class);
            if unblocked && let Some(composed) = compose(out[at].0, c) {
                out[at].0 = composed;
                continue;
            }
        }
        if class == 0 {
            starter = Some(out.len());
        }
        out.push((c, class));
    }
    out.into_iter().map(|(c, _)| c).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use unicode_normalization::UnicodeNormalization;

    use super::nfc;

    /// Characters where normalization has work to do: Latin with accents
    /// (precomposed and combining), combining marks of many classes, Hangul
    /// jamo and syllables, Greek, Devanagari nukta, singletons (Ohm, Kelvin,
    /// Angstrom), compatibility characters NFC must keep.
    fn interesting() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::char::range('A', 'z'),
            prop::char::range('\u{C0}', '\u{17F}'),
            prop::char::range('\u{300}', '\u{36F}'),
            prop::char::range('\u{1DC0}', '\u{1DFF}'),
            prop::char::range('\u{1100}', '\u{11FF}'),
            prop::char::range('\u{AC00}', '\u{AC40}'),
            prop::char::range('\u{386}', '\u{3CE}'),
            prop::char::range('\u{1F00}', '\u{1FFF}'),
            prop::char::range('\u{915}', '\u{95F}'),
            prop::sample::select(vec![
                '\u{2126}', '\u{212A}', '\u{212B}', '\u{FB01}', '\u{2474}'
            ]),
            any::<char>(),
        ]
    }

    #[test]
    fn known_forms() {
        assert_eq!(nfc("e\u{301}"), "\u{E9}");
        assert_eq!(nfc("\u{212B}"), "\u{C5}");
        assert_eq!(nfc("\u{1100}\u{1161}\u{11A8}"), "\u{AC01}");
        assert_eq!(nfc("a\u{323}\u{302}"), "\u{1EAD}");
        assert_eq!(
            nfc("\u{FB01}"),
            "\u{FB01}",
            "NFC keeps compatibility characters"
        );
        assert_eq!(
            nfc("\u{301}e"),
            "\u{301}e",
            "a leading mark has nothing to join"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn same_as_the_crates_nfc(chars in prop::collection::vec(interesting(), 0..12)) {
            let text: String = chars.into_iter().collect();
            prop_assert_eq!(nfc(&text), text.nfc().collect::<String>());
        }
    }
}
