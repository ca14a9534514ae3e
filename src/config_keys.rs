//! Turns serde's "unknown field" refusal of a `kiosk.toml` key into a sentence that names the
//! key, its section and what to do. The config's tables refuse keys they do not know
//! (`deny_unknown_fields`): a misspelt key ignored would leave a setting at its default without
//! a word, which after an upgrade is how a kiosk quietly loses a setting.

/// `message` (a TOML error for `text`) rewritten when it is an unknown-key refusal.
pub fn explain(message: &str, text: &str) -> String {
    const MARK: &str = "unknown field `";
    let Some(at) = message.find(MARK) else {
        return message.to_string();
    };
    let Some((key, rest)) = message[at + MARK.len()..].split_once('`') else {
        return message.to_string();
    };
    let known: Vec<&str> = rest
        .lines()
        .next()
        .unwrap_or("")
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|k| !k.is_empty())
        .collect();
    let line = error_line(message);
    // The launcher table is read on its own (it may also be a list), so its errors carry
    // their section in the message instead of a line of the file.
    let section = if message[..at].ends_with("[launcher]: ") {
        Some("launcher".to_string())
    } else {
        line.and_then(|n| section_at(text, n))
    };
    let place = match &section {
        Some(s) => format!("in [{s}]"),
        None => "at the top level".to_string(),
    };
    let mut out = match line {
        Some(n) => format!("line {n}: "),
        None => String::new(),
    };
    out.push_str(&format!(
        "unknown key `{key}` {place}: this version of the kiosk has no such setting, so it is \
         refused rather than ignored."
    ));
    if let Some(near) = nearest(key, &known) {
        out.push_str(&format!(" Did you mean `{near}`?"));
    }
    out.push_str(
        " Correct its spelling, or remove it if it belongs to another version of QuickCard \
         (every setting is listed in docs/lab-technicians.md).",
    );
    if !known.is_empty() {
        let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        out.push_str(&format!(" Keys allowed {place}: {}.", list.join(", ")));
    }
    out
}

/// "TOML parse error at line N, column M": N.
fn error_line(message: &str) -> Option<usize> {
    let rest = message.split_once("at line ")?.1;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The table (`[a.b]` or `[[a]]`) line `n` (1-based) of `text` belongs to; `None` at the top
/// level. A header line itself belongs to its parent table.
fn section_at(text: &str, n: usize) -> Option<String> {
    let header = |l: &str| {
        let l = l.trim();
        l.starts_with('[').then(|| {
            l.trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
    };
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(n.checked_sub(1)?)?;
    if let Some(h) = header(here) {
        return h.rsplit_once('.').map(|(parent, _)| parent.to_string());
    }
    lines[..n - 1].iter().rev().find_map(|l| header(l))
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
