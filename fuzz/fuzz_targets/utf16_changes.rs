//! UTF-16 edit lists (Monaco change events, as JSON): an accepted list
//! becomes an op of the text's length that applies; turning the op back
//! into UTF-16 changes and into an op again gives the same result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use velocity_sync::TextOp;
use velocity_sync::ot::Utf16Change;

fuzz_target!(|data: &[u8]| {
    // First line: the base text; the rest: the JSON change list.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (base, json) = text.split_once('\n').unwrap_or(("", text));
    let Ok(changes) = serde_json::from_str::<Vec<Utf16Change>>(json) else {
        return;
    };
    let Ok(op) = TextOp::from_utf16_changes(base, &changes) else {
        return;
    };
    assert_eq!(op.base_len(), base.chars().count());
    let out = op.apply(base).expect("an accepted change list applies");
    let back = op.to_utf16_changes(base).expect("op of the base length");
    let again = TextOp::from_utf16_changes(base, &back).expect("own changes are accepted");
    assert_eq!(again.apply(base).expect("applies"), out);
    // Applying the changes one by one, last first, as an editor does.
    let mut units: Vec<u16> = base.encode_utf16().collect();
    for change in &back {
        let insert: Vec<u16> = change.text.encode_utf16().collect();
        units.splice(change.offset..change.offset + change.deleted, insert);
    }
    assert_eq!(String::from_utf16(&units).expect("valid UTF-16"), out);
});
