//! What a user pasted, bounded and cleaned: at most [`MAX_INPUT_BYTES`] read, terminal
//! colours and log prefixes (timestamps, levels, logfmt keys, JSON log lines) taken off,
//! lines a terminal or an editor wrapped joined again, curly quotes made straight.

use std::io::Read;

/// The most of a paste `why` reads. An error text is a few hundred bytes; a log around it
/// a few thousand. Beyond this the rest is ignored (and the answer says so), so a huge
/// paste costs a bounded amount of time and memory.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// The text as received, before cleaning.
#[derive(Debug, Clone)]
pub struct Pasted {
    pub text: String,
    /// Bytes kept (at most [`MAX_INPUT_BYTES`]).
    pub bytes: usize,
    /// More was given than was read.
    pub truncated: bool,
}

impl Pasted {
    /// Text given on the command line: the words joined by spaces (an unquoted error is
    /// several arguments), cut at the limit.
    pub fn from_words(words: &[String]) -> Pasted {
        Pasted::from_bytes(words.join(" ").into_bytes())
    }

    /// Reads at most the limit from `reader` (a pipe or a terminal); one byte more tells
    /// whether there was more.
    pub fn read(reader: impl Read) -> std::io::Result<Pasted> {
        let mut bytes = Vec::new();
        reader
            .take(MAX_INPUT_BYTES as u64 + 1)
            .read_to_end(&mut bytes)?;
        Ok(Pasted::from_bytes(bytes))
    }

    fn from_bytes(mut bytes: Vec<u8>) -> Pasted {
        let truncated = bytes.len() > MAX_INPUT_BYTES;
        bytes.truncate(MAX_INPUT_BYTES);
        // A cut in the middle of a character, or bytes that are not UTF-8, become U+FFFD.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Pasted {
            bytes: bytes.len(),
            text,
            truncated,
        }
    }

    /// Nothing but whitespace.
    pub fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }
}

/// The cleaned text: one logical line per record (wrapped lines joined), `\n` between
/// records, quotes straightened, runs of blanks made one space.
pub(super) fn clean(raw: &str) -> Vec<char> {
    let lines: Vec<Line> = raw
        .split('\n')
        .map(|line| {
            let visible = visible(line);
            let width = visible.chars().count();
            let (content, prefixed) = strip_log_prefixes(&visible);
            Line {
                width,
                content,
                prefixed,
            }
        })
        .collect();
    let wrap = wrap_width(&lines);
    let mut joined = String::new();
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            let before = &lines[index - 1];
            joined.push_str(join(before, line, wrap));
        }
        joined.push_str(&line.content);
    }
    normalise(&joined)
}

struct Line {
    /// Characters as shown, prefix included: what a terminal wrapped.
    width: usize,
    content: String,
    /// A log prefix was taken off: the line starts a record of its own.
    prefixed: bool,
}

/// The width the paste was wrapped at: a terminal cuts every full line at the same
/// column, so two or more different lines of the same longest length give it away (the
/// same line repeated is a log, not a wrap); else 80.
fn wrap_width(lines: &[Line]) -> usize {
    let longest = lines.iter().map(|l| l.width).max().unwrap_or(0);
    let mut at_longest: Vec<&str> = lines
        .iter()
        .filter(|l| l.width == longest)
        .map(|l| l.content.as_str())
        .take(64)
        .collect();
    at_longest.sort_unstable();
    at_longest.dedup();
    if longest >= 60 && at_longest.len() >= 2 {
        longest
    } else {
        80
    }
}

/// What goes between two lines: nothing after a line cut at the wrap width (a terminal
/// cuts anywhere, even inside a word) or after a hyphen an editor broke at; a space
/// after a line an editor wrapped at a space; a record break otherwise.
fn join(before: &Line, next: &Line, wrap: usize) -> &'static str {
    if next.prefixed || before.content.trim().is_empty() || next.content == before.content {
        return "\n";
    }
    if before.width == wrap {
        ""
    } else if before.width + 20 >= wrap && before.width < wrap {
        if before.content.ends_with('-') {
            ""
        } else {
            " "
        }
    } else {
        "\n"
    }
}

/// The line without terminal escape sequences and other control characters (tabs
/// become spaces, a carriage return goes).
fn visible(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI: ESC [ parameters final-byte; other escapes: ESC and one character.
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                } else {
                    chars.next();
                }
            }
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The line with its log prefixes taken off (repeatedly: a timestamp, then a level…),
/// and a JSON log line replaced by its message; whether anything was taken off.
fn strip_log_prefixes(line: &str) -> (String, bool) {
    if let Some(message) = json_log_message(line) {
        return (message, true);
    }
    let mut rest = line.trim_start();
    let mut stripped = false;
    for _ in 0..8 {
        let before = rest.len();
        for strip in [
            strip_timestamp,
            strip_glog,
            strip_level,
            strip_logfmt_pair,
            strip_bracketed,
        ] {
            if let Some(after) = strip(rest) {
                rest = after.trim_start();
            }
        }
        if rest.len() == before {
            break;
        }
        stripped = true;
    }
    // logfmt's msg="…" leaves the closing quote.
    let rest = if stripped {
        rest.strip_suffix('"').unwrap_or(rest)
    } else {
        rest
    };
    (rest.to_string(), stripped)
}

/// `{"level":"error","msg":"…","error":"…"}`: the message and the error, in that order.
fn json_log_message(line: &str) -> Option<String> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let serde_json::Value::Object(fields) = serde_json::from_str(trimmed).ok()? else {
        return None;
    };
    let parts: Vec<&str> = ["msg", "message", "error", "err"]
        .iter()
        .filter_map(|key| fields.get(*key).and_then(|v| v.as_str()))
        .collect();
    (!parts.is_empty()).then(|| parts.join(": "))
}

fn digits(text: &str, count: usize) -> Option<&str> {
    let head = text.get(..count)?;
    head.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| &text[count..])
}

/// `HH:MM[:SS[.fraction]]`.
fn clock(text: &str) -> Option<&str> {
    let rest = digits(text, 2)?.strip_prefix(':')?;
    let mut rest = digits(rest, 2)?;
    if let Some(seconds) = rest.strip_prefix(':').and_then(|r| digits(r, 2)) {
        rest = seconds;
        if let Some(fraction) = rest.strip_prefix(['.', ',']) {
            rest = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
        }
    }
    Some(rest)
}

/// `2026-11-29T10:00:00Z`, `2026/11/29 10:00:00.123`, `[2026-11-29 10:00:00,5 +0100]`,
/// `10:00:00`: a date and time, or a time alone, at the start, followed by a blank.
fn strip_timestamp(text: &str) -> Option<&str> {
    let (inner, bracketed) = match text.strip_prefix('[') {
        Some(inner) => (inner, true),
        None => (text, false),
    };
    let after_date = digits(inner, 4)
        .and_then(|r| r.strip_prefix(['-', '/']))
        .and_then(|r| digits(r, 2))
        .and_then(|r| r.strip_prefix(['-', '/']))
        .and_then(|r| digits(r, 2));
    let mut rest = match after_date {
        Some(rest) => match rest.strip_prefix(['T', ' ']).and_then(clock) {
            Some(after_clock) => after_clock,
            None => rest,
        },
        None => clock(inner)?,
    };
    // A zone: Z, +01:00, +0100, or " UTC".
    if let Some(zone) = rest.strip_prefix('Z') {
        rest = zone;
    } else if let Some(offset) = rest.strip_prefix(['+', '-']) {
        let hours = digits(offset, 2)?;
        rest = digits(hours.strip_prefix(':').unwrap_or(hours), 2).unwrap_or(hours);
    }
    rest = rest.strip_prefix(" UTC").unwrap_or(rest);
    if bracketed {
        rest = rest.strip_prefix(']')?;
    }
    rest.starts_with([' ', ':', '|'])
        .then(|| rest.trim_start_matches([' ', ':', '|']))
}

/// glog's `E1129 10:00:00.000000   12345 file.go:42] `.
fn strip_glog(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(['I', 'W', 'E', 'F'])?;
    let rest = digits(rest, 4)?.strip_prefix(' ')?;
    clock(rest)?;
    let end = text.get(..text.len().min(80))?.find("] ")?;
    Some(&text[end + 2..])
}

/// A level word: `ERROR`, `[error]`, `Error:`, `WARN`… (not a single letter).
fn strip_level(text: &str) -> Option<&str> {
    const LEVELS: [&str; 12] = [
        "error", "erro", "err", "warning", "warn", "info", "debug", "fatal", "fata", "critical",
        "crit", "panic",
    ];
    let (inner, bracketed) = match text.strip_prefix('[') {
        Some(inner) => (inner, true),
        None => (text, false),
    };
    let word_end = inner
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(inner.len());
    let word = &inner[..word_end];
    if !LEVELS.iter().any(|l| l.eq_ignore_ascii_case(word)) {
        return None;
    }
    let mut rest = &inner[word_end..];
    if bracketed {
        rest = rest.strip_prefix(']')?;
    }
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    (rest.is_empty() || rest.starts_with(' ')).then_some(rest)
}

/// A logfmt pair a logger puts first (`level=error`, `ts=…`, `caller=…`); `msg="` and
/// `error="` open the message itself.
fn strip_logfmt_pair(text: &str) -> Option<&str> {
    const KEYS: [&str; 10] = [
        "level",
        "lvl",
        "ts",
        "time",
        "t",
        "caller",
        "logger",
        "component",
        "source",
        "module",
    ];
    const MESSAGES: [&str; 4] = ["msg", "message", "error", "err"];
    let (key, value) = text.split_once('=')?;
    if MESSAGES.contains(&key) {
        return Some(value.strip_prefix('"').unwrap_or(value));
    }
    if !KEYS.contains(&key) {
        return None;
    }
    if let Some(quoted) = value.strip_prefix('"') {
        return quoted.split_once('"').map(|(_, rest)| rest);
    }
    Some(value.split_once(' ').map_or("", |(_, rest)| rest))
}

/// A short bracketed tag such as `[flytectl]` or `[main]` before the message.
fn strip_bracketed(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('[')?;
    let end = inner.find(']')?;
    let tag = &inner[..end];
    (end <= 24 && !tag.contains(' ') && !tag.contains(':')).then(|| &inner[end + 1..])
}

/// One character the way the matcher compares it: every kind of double quote becomes
/// `"`, every kind of single quote `'`, every blank a space.
pub(super) fn normalise_char(c: char) -> char {
    match c {
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{201f}' | '\u{2033}' | '\u{ff02}' | '\u{ab}'
        | '\u{bb}' => '"',
        '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}' | '\u{2032}' | '`' => '\'',
        c if c.is_whitespace() && c != '\n' => ' ',
        c => c,
    }
}

/// The joined text as the matcher reads it: characters normalised, the backslash of an
/// escaped quote dropped (a Go error quoted inside another keeps `\"`), blanks collapsed.
fn normalise(text: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|n| normalise_char(*n) == '"') {
            continue;
        }
        let c = normalise_char(c);
        if c == ' ' && matches!(out.last(), Some(' ' | '\n') | None) {
            continue;
        }
        if c == '\n' && out.last() == Some(&' ') {
            out.pop();
        }
        if c == '\n' && matches!(out.last(), Some('\n') | None) {
            continue;
        }
        out.push(c);
    }
    while matches!(out.last(), Some(' ' | '\n')) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleaned(raw: &str) -> String {
        clean(raw).into_iter().collect()
    }

    #[test]
    fn log_prefixes_come_off() {
        for raw in [
            "2026-11-29T10:00:00Z ERROR x509: oops",
            "2026-11-29T10:00:00.123+01:00 [error] x509: oops",
            "[2026-11-29 10:00:00,5] ERROR: x509: oops",
            "E1129 10:00:00.000000   12345 main.go:42] x509: oops",
            "level=error ts=2026-11-29T10:00:00Z msg=\"x509: oops\"",
            "{\"level\":\"error\",\"msg\":\"x509: oops\"}",
            "10:00:00 WARN x509: oops",
            "Error: x509: oops",
        ] {
            assert_eq!(cleaned(raw), "x509: oops", "{raw}");
        }
        // Not a prefix: left alone.
        assert_eq!(cleaned("errors: x509: oops"), "errors: x509: oops");
    }

    #[test]
    fn wrapped_lines_are_joined_and_records_kept_apart() {
        let long = "a".repeat(75);
        // An editor's wrap at a space.
        assert_eq!(cleaned(&format!("{long}\nmore")), format!("{long} more"));
        // A terminal's cut at exactly 80 columns, inside a word.
        let cut = "b".repeat(80);
        assert_eq!(cleaned(&format!("{cut}\nxyz")), format!("{cut}xyz"));
        // Short lines are records of their own.
        assert_eq!(cleaned("one\ntwo"), "one\ntwo");
        // A prefixed line starts a record even after a long one.
        assert_eq!(
            cleaned(&format!("{long}\n2026-11-29T10:00:00Z ERROR two")),
            format!("{long}\ntwo")
        );
    }

    #[test]
    fn quotes_colours_and_escapes_are_normalised() {
        assert_eq!(
            cleaned("\u{1b}[31mx509: \u{201c}a\u{201d} \\\"b\\\"\u{1b}[0m"),
            "x509: \"a\" \"b\""
        );
    }

    #[test]
    fn the_limit_holds() {
        let big = "x".repeat(MAX_INPUT_BYTES * 3);
        let pasted = Pasted::read(big.as_bytes()).unwrap();
        assert!(pasted.truncated);
        assert_eq!(pasted.bytes, MAX_INPUT_BYTES);
        let words = Pasted::from_words(&[big]);
        assert!(words.truncated);
        let small = Pasted::read("x509: oops".as_bytes()).unwrap();
        assert!(!small.truncated && small.bytes == 10);
    }
}
