//! Roster ids as the roster files, the portal's admin API and card subjects spell them, read
//! by `Subject::parse`: it must never panic, must call an id a UUID exactly when FORMAT.md
//! does, and its normal form must read back as the same subject. Cheap per input, so the
//! fuzzer tries many more ids here than through whole cards.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quickcard::Subject;

/// FORMAT.md's "hyphenated UUID", written again on its own to check the crate's reading.
fn is_hyphenated_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fuzz_target!(|data: &[u8]| {
    let Ok(id) = std::str::from_utf8(data) else {
        return;
    };
    match Subject::parse(id) {
        Ok(s) => {
            assert_eq!(
                matches!(s, Subject::Uuid(_)),
                is_hyphenated_uuid(id),
                "{id:?}"
            );
            let shown = s.to_string();
            assert_eq!(Subject::parse(&shown).as_ref(), Ok(&s), "{id:?}");
            if let Subject::Uuid(_) = s {
                assert_eq!(shown, id.to_ascii_lowercase());
            }
        }
        Err(_) => assert!(id.is_empty() || id.len() > quickcard::claims::MAX_TEXT_SUBJECT),
    }
});
