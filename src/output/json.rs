//! The JSON Lines writer (compact, ASCII-only) and the stderr streams PowerShell users expect.

use super::safe::{escaped, terminal_text};
use crate::error::{CsError, Exit};
use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};
use std::io::{self, Write};

/// Escapes every non-ASCII character as `\uXXXX`: pwsh decodes a native program's stdout with the
/// console encoding, which on Windows is often not UTF-8.
struct AsciiFormatter;

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if ch.is_ascii() {
                continue;
            }
            w.write_all(&fragment.as_bytes()[start..i])?;
            let mut buf = [0u16; 2];
            for unit in ch.encode_utf16(&mut buf) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i + ch.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        esc: CharEscape,
    ) -> io::Result<()> {
        serde_json::ser::CompactFormatter.write_char_escape(w, esc)
    }
}

/// One compact ASCII JSON document.
pub fn to_ascii_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut buf = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, AsciiFormatter);
    value
        .serialize(&mut ser)
        .expect("output objects always serialize");
    String::from_utf8(buf).expect("ascii")
}

/// What a cmdlet writes to: JSON objects on stdout, errors/warnings/verbose lines on stderr.
/// It also keeps a transcript for `-Report`.
pub struct Host {
    cmdlet: &'static str,
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    pub verbose: bool,
    pub warnings: bool,
    pub show_errors: bool,
    pub json_errors: bool,
    pub transcript: Vec<(String, String)>,
    worst: Exit,
    /// The terminal view, when stdout is shown to a person (see `terminal::mode`).
    view: Option<super::terminal::View>,
    /// Nothing to summarise when nothing was meant to happen (-WhatIf).
    pub what_if: bool,
    /// Colour WARNING: and error lines (stderr is a terminal; see `terminal::stderr_color`).
    pub err_color: bool,
    /// Error lines printed after the terminal view (see [`Host::error_after_output`]).
    deferred: Vec<String>,
}

impl Host {
    pub fn new(cmdlet: &'static str, out: Box<dyn Write>, err: Box<dyn Write>) -> Host {
        Host {
            cmdlet,
            out,
            err,
            verbose: false,
            warnings: true,
            show_errors: true,
            // Set by the caller from `CSCERT_ERROR_FORMAT` (cli::Settings).
            json_errors: false,
            transcript: Vec::new(),
            worst: Exit::Success,
            view: None,
            what_if: false,
            err_color: false,
            deferred: Vec::new(),
        }
    }

    /// JSON Lines (the default) or the terminal view.
    pub fn set_mode(&mut self, mode: super::terminal::Mode) {
        self.view = match mode {
            super::terminal::Mode::Json => None,
            super::terminal::Mode::Terminal { color } => {
                Some(super::terminal::View::new(self.cmdlet, color))
            }
        };
    }

    /// A one-line summary of what a cmdlet changed: shown in the terminal view only, so that the
    /// JSON Lines stay exactly the objects.
    pub fn summary(&mut self, msg: impl Into<String>) {
        if let Some(v) = &mut self.view {
            v.summary(msg);
        }
    }

    pub fn cmdlet(&self) -> &'static str {
        self.cmdlet
    }

    /// Writes one output object as one line.
    pub fn emit<T: Serialize + ?Sized>(&mut self, obj: &T) {
        self.emit_line(to_ascii_json(obj));
    }

    /// Writes one output object already serialized by [`to_ascii_json`] (so that cmdlets can
    /// serialize many objects in parallel); the same as [`Host::emit`] of that object.
    pub fn emit_line(&mut self, line: String) {
        match &mut self.view {
            Some(v) => v.push_json(&line),
            None => {
                let _ = self.out.write_all(line.as_bytes());
                let _ = self.out.write_all(b"\n");
            }
        }
        self.transcript.push(("Output".into(), line));
    }

    /// Writes a raw text result (Get-CsTopology -AsXml).
    pub fn emit_text(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = self.out.write_all(b"\n");
        }
    }

    pub fn verbose(&mut self, msg: impl AsRef<str>) {
        let msg = msg.as_ref();
        if self.verbose {
            let _ = writeln!(self.err, "VERBOSE: {}", terminal_text(msg));
        }
        self.transcript.push(("Verbose".into(), msg.to_string()));
    }

    /// Debug stream lines (`-Debug`, or the binding trace).
    pub fn debug(&mut self, msg: impl AsRef<str>) {
        let _ = writeln!(self.err, "DEBUG: {}", escaped(msg.as_ref()));
    }

    pub fn warning(&mut self, msg: impl AsRef<str>) {
        let msg = msg.as_ref();
        if self.warnings {
            let line = super::terminal::paint(
                &format!("WARNING: {}", terminal_text(msg)),
                false,
                self.err_color,
            );
            let _ = writeln!(self.err, "{line}");
        }
        self.transcript.push(("Warning".into(), msg.to_string()));
    }

    /// Informational lines (Set-CsCertificate's "assigned for the type" lines) go to stderr so that
    /// stdout stays JSON.
    pub fn info(&mut self, msg: impl AsRef<str>) {
        let msg = msg.as_ref();
        let _ = writeln!(self.err, "{}", terminal_text(msg));
        self.transcript
            .push(("Information".into(), msg.to_string()));
    }

    /// A non-terminating error: printed, remembered for the exit status, and the cmdlet goes on.
    pub fn error(&mut self, e: &CsError) {
        if let Some(line) = self.record_error(e) {
            let _ = writeln!(self.err, "{line}");
        }
    }

    /// An error that sums up the objects (Test-CsCertificate's "N of M did not pass"): in the
    /// terminal view it is printed below them, where a person reads it last.
    pub fn error_after_output(&mut self, e: &CsError) {
        if let Some(line) = self.record_error(e) {
            if self.view.is_some() {
                self.deferred.push(line);
            } else {
                let _ = writeln!(self.err, "{line}");
            }
        }
    }

    /// Remembers the error (exit status, transcript); the line to print, if errors are shown.
    fn record_error(&mut self, e: &CsError) -> Option<String> {
        if e.exit as i32 > self.worst as i32 {
            self.worst = e.exit;
        }
        self.transcript.push(("Error".into(), e.message.clone()));
        if !self.show_errors {
            return None;
        }
        Some(if self.json_errors {
            #[derive(Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct Record<'a> {
                message: &'a str,
                fully_qualified_error_id: String,
                category: &'a str,
                target_object: Option<&'a str>,
            }
            // JSON escapes every control and non-ASCII character itself, and a script reads the
            // record whole (PowerShell's own messages quote long lists).
            to_ascii_json(&Record {
                message: &e.message,
                fully_qualified_error_id: format!("{},{}", e.error_id, self.cmdlet),
                category: e.category.name(),
                target_object: e.target.as_deref(),
            })
        } else {
            let line = format!("{}: {}", self.cmdlet, terminal_text(&e.message));
            super::terminal::paint(&line, true, self.err_color)
        })
    }

    /// The exit status the non-terminating errors so far call for.
    pub fn worst(&self) -> Exit {
        self.worst
    }

    pub fn flush(&mut self) {
        if let Some(v) = self.view.take() {
            let quiet = self.worst != Exit::Success || self.what_if;
            let _ = self.out.write_all(v.render(quiet).as_bytes());
        }
        let _ = self.out.flush();
        for line in std::mem::take(&mut self.deferred) {
            let _ = writeln!(self.err, "{line}");
        }
        let _ = self.err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_is_escaped_with_surrogates() {
        assert_eq!(
            to_ascii_json("caf\u{e9} \u{1F600}"),
            "\"caf\\u00e9 \\ud83d\\ude00\""
        );
        assert_eq!(to_ascii_json("a\"b\n"), "\"a\\\"b\\n\"");
    }
}
