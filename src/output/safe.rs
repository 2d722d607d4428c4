//! Messages made safe for a terminal: names from files, topologies, CAs and parameters reach
//! warnings, verbose lines and error messages, so control characters (ESC clears a screen, a
//! newline forges a line) and bidirectional overrides (U+202E reorders what is read) are shown
//! as escapes, and a quoted value longer than [`QUOTED_CAP`] characters is cut.

/// The longest quoted value a message shows, in characters.
pub const QUOTED_CAP: usize = 200;

/// Characters that reorder or hide text (Unicode bidi controls and line separators), besides
/// the C0/C1 controls.
fn reorders(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// `c` as the terminal may show it: itself, or `\xHH` / `\u{HHHH}`.
fn push_safe(out: &mut String, c: char) {
    if c.is_control() && (c as u32) < 0x100 {
        out.push_str(&format!("\\x{:02X}", c as u32));
    } else if reorders(c) {
        out.push_str(&format!("\\u{{{:04X}}}", c as u32));
    } else {
        out.push(c);
    }
}

/// `value`, or when it is longer than `longest` characters its first [`QUOTED_CAP`] and how
/// many were left out.
fn push_cut(out: &mut String, value: &str, longest: usize) {
    let n = value.chars().count();
    // Already cut where it was made (the topology's messages say "... (N characters in all)").
    let tail: String = value.chars().skip(QUOTED_CAP).take(5).collect();
    if n > longest && !(tail == "... (" && n <= TOKEN_CAP) {
        out.extend(value.chars().take(QUOTED_CAP));
        out.push_str(&format!("... ({} more characters)", n - QUOTED_CAP));
    } else {
        out.push_str(value);
    }
}

/// Every quoted value (between a pair of `"`) cut to [`QUOTED_CAP`] characters, with how many
/// were left out; the rest of the message as it is.
pub fn cap_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(4096));
    let mut rest = msg;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find('"') else { break };
        push_cut(&mut out, &rest[..close], QUOTED_CAP);
        out.push('"');
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Any run without white space longer than this (a path or name quoted with `'`, or not at
/// all) is cut to [`QUOTED_CAP`] characters as well.
const TOKEN_CAP: usize = QUOTED_CAP + 40;

/// [`cap_quoted`], then every run of non-white-space characters longer than [`TOKEN_CAP`]
/// cut to [`QUOTED_CAP`].
pub fn cap_values(msg: &str) -> String {
    let quoted = cap_quoted(msg);
    let mut out = String::with_capacity(quoted.len());
    let mut rest = quoted.as_str();
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..ws]);
        rest = &rest[ws..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        push_cut(&mut out, &rest[..end], TOKEN_CAP);
        rest = &rest[end..];
    }
    out
}

/// A message for the terminal: quoted values capped, control and bidi characters escaped.
pub fn terminal_text(msg: &str) -> String {
    escaped(&cap_values(msg))
}

/// Control and bidi characters escaped, nothing cut: for lines that are data (the `DEBUG:
/// Bound:` trace is one JSON document that scripts and tests read whole).
pub fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_safe(&mut out, c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_newlines_and_bidi_overrides_are_shown_not_obeyed() {
        let m = terminal_text("name \"b.contoso.com\u{1b}[2J\" and \"moc.\u{202E}evil\"\nX\u{85}");
        assert_eq!(
            m,
            "name \"b.contoso.com\\x1B[2J\" and \"moc.\\u{202E}evil\"\\x0AX\\x85"
        );
        assert!(!m.chars().any(|c| c.is_control() || reorders(c)));
        // Plain text, including non-ASCII letters, is untouched.
        assert_eq!(
            terminal_text("Café \"sip.contoso.com\""),
            "Café \"sip.contoso.com\""
        );
    }

    #[test]
    fn quoted_values_are_capped_at_200_characters() {
        let long = "a".repeat(5000);
        let m = terminal_text(&format!("The name \"{long}\" is not valid; \"short\" is."));
        assert_eq!(
            m,
            format!(
                "The name \"{}... (4800 more characters)\" is not valid; \"short\" is.",
                "a".repeat(200)
            )
        );
        // A value its producer already cut keeps the producer's count.
        let clipped = format!("\"{}... (5000000 characters in all)\"", "x".repeat(200));
        assert_eq!(cap_quoted(&clipped), clipped);
        let exactly = "é".repeat(200);
        assert_eq!(
            cap_quoted(&format!("\"{exactly}\"")),
            format!("\"{exactly}\"")
        );
        // An unpaired quote leaves the rest as it is.
        assert_eq!(cap_quoted("a \"b"), "a \"b");
        // A long value in single quotes (a path) or none is cut too; white space is kept.
        let path = "/x".repeat(400);
        let m = terminal_text(&format!("Cannot find path '{path}'.\tdone"));
        assert_eq!(
            m,
            format!(
                "Cannot find path '{}... (603 more characters)\\x09done",
                &path[..199]
            )
        );
    }
}
