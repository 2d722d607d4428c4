//! Text that came from the CA (problem details, URLs, identifiers, terms of service) before it
//! reaches a terminal or an error record: control and bidirectional-override characters are
//! shown as `\u{..}` escapes, and the text is capped at 200 characters like every other quoted
//! remote text. A compromised CA must not be able to move the cursor, recolour or reorder what
//! the admin reads, or bury the message under kilobytes of text.

/// The cap on quoted remote text, in characters.
pub const CAP: usize = 200;

/// Characters that reorder text on screen (Unicode bidi controls, RFC 9839 "problematic").
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` made safe to print: escaped, then capped at [`CAP`] characters ("..." marks a cut).
pub fn text(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= CAP {
            out.push_str("...");
            break;
        }
        if c.is_control() || is_bidi(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_caps() {
        assert_eq!(text("ok"), "ok");
        assert_eq!(text("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(text("x\u{202e}y\n"), "x\\u{202e}y\\u{a}");
        let long = "é".repeat(5000);
        let t = text(&long);
        assert_eq!(t.chars().count(), CAP + 3);
        assert!(t.ends_with("..."));
    }
}
