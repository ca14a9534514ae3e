//! Turns serde's "unknown field" refusal of a config key into a sentence that names the key,
//! its section and what to do. Every config table refuses keys it does not know
//! (`deny_unknown_fields`): a misspelt key ignored would leave a setting at its default without
//! a word, which after an upgrade is how a district loses a limit it thought it had set.

/// `message` rewritten when it is an unknown-key refusal; otherwise as it was.
pub fn explain(message: &str) -> String {
    let Some(rest) = message.trim().strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((key, rest)) = rest.split_once('`') else {
        return message.to_string();
    };
    let (expected, section) = match rest.rsplit_once("\nin `") {
        Some((e, s)) => (e, Some(s.trim_end().trim_end_matches('`'))),
        None => (rest, None),
    };
    let known: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|k| !k.is_empty())
        .collect();
    let place = match section {
        Some(s) if !s.is_empty() => format!("in [{s}]"),
        _ => "at the top level".to_string(),
    };
    let mut out = format!(
        "unknown key `{key}` {place}: this version has no such setting, so it is refused rather \
         than ignored."
    );
    if let Some(near) = nearest(key, &known) {
        out.push_str(&format!(" Did you mean `{near}`?"));
    }
    out.push_str(
        " Correct its spelling, or remove it if it belongs to another version of QuickCard \
         (every setting is listed under \"Configuration\" in the portal's README.md).",
    );
    if !known.is_empty() {
        out.push_str(&format!(
            " Keys allowed {place}: {}.",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

/// The known key closest to `key`, when it is close enough to be a slip of the keyboard.
fn nearest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_key_the_section_and_a_near_miss() {
        let m = explain(
            "unknown field `lifetime_sec`, expected one of `lifetime_secs`, `launch_ttl_secs`\nin `session`\n",
        );
        assert!(
            m.starts_with("unknown key `lifetime_sec` in [session]"),
            "{m}"
        );
        assert!(m.contains("Did you mean `lifetime_secs`?"), "{m}");
        let m = explain("unknown field `colour`, expected `listen`");
        assert!(
            m.contains("at the top level") && !m.contains("Did you mean"),
            "{m}"
        );
        assert_eq!(explain("invalid type: string"), "invalid type: string");
    }
}
