//! What a host name may hold. A certificate's dNSName and CN, and a topology's FQDN
//! attributes, are host names (RFC 1123 section 2.1, RFC 5280 section 4.2.1.6): letters, digits
//! and hyphens in dot-separated labels, a leading `*.` wildcard in a certificate name. A control
//! character, space or comma there is never a name: it forges lines in a request or a second
//! name, so it is refused whatever -Force says.

/// Why `name` cannot be a host name (`None`: it can). Only the characters are judged: label
/// shapes and lengths, wildcards, IDN and underscores are the validator's rules (findings that
/// -Force may let through).
pub fn hostname_fault(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '*')))
    {
        let what = match c {
            ' ' => "a space".to_string(),
            ',' => "a comma".to_string(),
            c if c.is_control() => format!("the control character U+{:04X}", c as u32),
            c if !c.is_ascii() => format!(
                "the non-ASCII character U+{:04X} (write an IDN as its A-label, xn--)",
                c as u32
            ),
            c => format!("the character '{c}'"),
        };
        return Some(format!("it contains {what}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::hostname_fault;

    #[test]
    fn host_names_hold_letters_digits_hyphens_and_dots_only() {
        let good = [
            "sip.contoso.com",
            "*.contoso.com",
            "xn--bcher-kva.contoso.com",
            "a-b_c.d",
            "localhost",
            "f*.contoso.com",
        ];
        for ok in good {
            assert_eq!(hostname_fault(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("b.contoso.com\u{1b}[2J", "U+001B"),
            ("sip.contoso.com\n, evil.com", "U+000A"),
            ("sip.contoso.com, evil.com", "a comma"),
            ("sip contoso.com", "a space"),
            ("bücher.contoso.com", "non-ASCII"),
            ("", "empty"),
        ] {
            let f = hostname_fault(bad).unwrap_or_default();
            assert!(f.contains(why), "{bad:?}: {f}");
        }
    }
}
