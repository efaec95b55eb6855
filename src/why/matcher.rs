//! Finding a known text in the cleaned paste. A known text is literal pieces with holes
//! between them (a host name, a time, a quoted error…). Literals compare ignoring case
//! and blanks (a wrapped or re-spaced paste still matches, whatever its quotes: the text
//! was normalised); each hole takes what its kind allows, the shortest that lets the
//! rest match, or as much as it can at the end.

use super::input::normalise_char;

/// What a hole may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hole {
    /// A host name or IP address: no blanks.
    Host,
    /// Host names or addresses separated by ", ".
    Names,
    /// Decimal digits.
    Count,
    /// An RFC 3339 time.
    Time,
    /// A Go-quoted string, quotes included.
    Quoted,
    /// A Go-quoted certificate name, quotes included.
    QuotedName,
    /// A certificate's subject summary (between the text's own quotes).
    Summary,
    /// A Go-quoted URL, quotes included.
    Url,
    /// grpc's peer: `ipv4:ADDRESS:PORT`, `ipv6:[ADDRESS]:PORT`.
    Peer,
    /// A file path.
    Path,
    /// An identifier (`CERTIFICATE_VERIFY_FAILED`, `Unavailable`).
    Token,
    /// One word: anything but blanks (`*dsa.PublicKey`, `<nil>`).
    Word,
    /// Hexadecimal digits.
    Hex,
    /// A few words, within the line.
    Words,
    /// Everything to the end of the line.
    Rest,
}

impl Hole {
    /// How the hole reads in a known text shown to the user.
    pub(super) fn placeholder(self) -> &'static str {
        match self {
            Hole::Host => "HOST",
            Hole::Names => "NAMES",
            Hole::Count => "N",
            Hole::Time => "TIME",
            Hole::Quoted => "\"ERROR\"",
            Hole::QuotedName => "\"NAME\"",
            Hole::Summary => "NAME",
            Hole::Url => "\"URL\"",
            Hole::Peer => "ipv4:ADDRESS:PORT",
            Hole::Path => "PATH",
            Hole::Token => "REASON",
            Hole::Word => "…",
            Hole::Hex => "XXXXXXXX",
            Hole::Words | Hole::Rest => "…",
        }
    }

    /// The most characters a hole takes (a bound on the work a hostile paste causes).
    fn limit(self) -> usize {
        match self {
            Hole::Count => 12,
            Hole::Hex => 16,
            Hole::Time => 40,
            Hole::Token | Hole::Word => 80,
            Hole::Host | Hole::Peer => 260,
            Hole::Names
            | Hole::Quoted
            | Hole::QuotedName
            | Hole::Summary
            | Hole::Url
            | Hole::Path => 600,
            Hole::Words => 120,
            Hole::Rest => 2_000,
        }
    }

    /// Whether `c` may be part of the hole.
    fn admits(self, c: char) -> bool {
        if c == '\n' {
            return false;
        }
        match self {
            Hole::Host => c.is_alphanumeric() || "-._*:[]%".contains(c),
            Hole::Peer => c.is_alphanumeric() || "-._:[]%/".contains(c),
            Hole::Count => c.is_ascii_digit(),
            Hole::Hex => c.is_ascii_hexdigit(),
            Hole::Time => c.is_ascii_digit() || "TZtz:+-.".contains(c),
            Hole::Token => c.is_ascii_alphanumeric() || c == '_',
            Hole::Url | Hole::Word => c != ' ',
            Hole::Summary => c != '"',
            Hole::Names
            | Hole::Quoted
            | Hole::QuotedName
            | Hole::Path
            | Hole::Words
            | Hole::Rest => true,
        }
    }

    /// Whether what the hole took is one of its kind.
    fn accepts(self, taken: &[char]) -> bool {
        let (Some(first), Some(last)) = (taken.first(), taken.last()) else {
            return false;
        };
        match self {
            Hole::Quoted | Hole::QuotedName | Hole::Url => {
                taken.len() >= 2 && *first == '"' && *last == '"'
            }
            Hole::Time => first.is_ascii_digit(),
            Hole::Token => first.is_ascii_alphanumeric(),
            // ipv4:ADDRESS:PORT, ipv6:[ADDRESS]:PORT: the port makes it whole.
            Hole::Peer => {
                let taken: String = taken.iter().collect();
                let port_follows = |address: &str| {
                    address.rsplit_once(':').is_some_and(|(host, port)| {
                        !host.is_empty()
                            && !port.is_empty()
                            && port.bytes().all(|b| b.is_ascii_digit())
                    })
                };
                match taken.split_once(':') {
                    Some(("ipv6", address)) => address.contains("]:") && port_follows(address),
                    Some((_, address)) => port_follows(address),
                    None => false,
                }
            }
            _ => *first != ' ' && *last != ' ',
        }
    }
}

/// Literal text as the client prints it, and as the matcher compares it.
#[derive(Debug, Clone)]
pub(super) struct Literal {
    pub text: String,
    /// Normalised and lower-case.
    chars: Vec<char>,
}

impl Literal {
    pub(super) fn new(text: &str) -> Literal {
        Literal {
            text: text.to_string(),
            chars: text
                .chars()
                .map(|c| normalise_char(c).to_ascii_lowercase())
                .collect(),
        }
    }
}

/// One piece of a known text.
#[derive(Debug, Clone)]
pub(super) enum Piece {
    Lit(Literal),
    Hole(Hole),
    /// One of these texts, the longest that fits first.
    OneOf(Vec<Literal>),
}

impl Piece {
    pub(super) fn lit(text: &str) -> Piece {
        Piece::Lit(Literal::new(text))
    }

    pub(super) fn one_of(texts: &[String]) -> Piece {
        let mut options: Vec<Literal> = texts.iter().map(|t| Literal::new(t)).collect();
        options.sort_by_key(|o| std::cmp::Reverse(o.chars.len()));
        Piece::OneOf(options)
    }
}

/// Where a match lies, and the span each hole (and each one-of) took, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Match {
    pub start: usize,
    pub end: usize,
    pub spans: Vec<(usize, usize)>,
}

/// Every place `pieces` match in `text`, left to right, not overlapping one another.
pub(super) fn find_all(text: &[char], pieces: &[Piece]) -> Vec<Match> {
    let Some(first) = first_char(pieces) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut position = 0;
    while position < text.len() {
        let Some(offset) = text[position..]
            .iter()
            .position(|c| c.to_ascii_lowercase() == first)
        else {
            break;
        };
        let start = position + offset;
        position = start + 1;
        if starts_inside_word(text, start, first) {
            continue;
        }
        let mut spans = Vec::new();
        if let Some(end) = match_pieces(text, start, pieces, &mut spans) {
            if ends_inside_word(text, end) {
                continue;
            }
            found.push(Match { start, end, spans });
            position = end.max(start + 1);
        }
    }
    found
}

/// The first literal character of a known text (every known text starts with one).
fn first_char(pieces: &[Piece]) -> Option<char> {
    match pieces.first()? {
        Piece::Lit(literal) => literal.chars.iter().copied().find(|c| *c != ' '),
        _ => None,
    }
}

/// A match must not start in the middle of a word: "ok" is not in "token".
fn starts_inside_word(text: &[char], start: usize, first: char) -> bool {
    first.is_alphanumeric() && start > 0 && text[start - 1].is_alphanumeric()
}

fn ends_inside_word(text: &[char], end: usize) -> bool {
    end > 0 && text[end - 1].is_alphanumeric() && text.get(end).is_some_and(|c| c.is_alphanumeric())
}

fn skip_blanks(text: &[char], mut position: usize) -> usize {
    while text.get(position).is_some_and(|c| c.is_whitespace()) {
        position += 1;
    }
    position
}

/// The end of `literal` matched at `position`, blanks ignored on both sides.
fn match_literal(text: &[char], mut position: usize, literal: &[char]) -> Option<usize> {
    for &expected in literal.iter().filter(|c| !c.is_whitespace()) {
        position = skip_blanks(text, position);
        if text.get(position)?.to_ascii_lowercase() != expected {
            return None;
        }
        position += 1;
    }
    Some(position)
}

fn match_pieces(
    text: &[char],
    position: usize,
    pieces: &[Piece],
    spans: &mut Vec<(usize, usize)>,
) -> Option<usize> {
    let Some((piece, rest)) = pieces.split_first() else {
        return Some(position);
    };
    match piece {
        Piece::Lit(literal) => {
            let end = match_literal(text, position, &literal.chars)?;
            match_pieces(text, end, rest, spans)
        }
        Piece::OneOf(options) => {
            let start = skip_blanks(text, position);
            for option in options {
                if let Some(end) = match_literal(text, start, &option.chars) {
                    spans.push((start, end));
                    if let Some(done) = match_pieces(text, end, rest, spans) {
                        return Some(done);
                    }
                    spans.pop();
                }
            }
            None
        }
        Piece::Hole(hole) => {
            let start = skip_blanks(text, position);
            let limit = (start + hole.limit()).min(text.len());
            let admitted = text[start..limit]
                .iter()
                .position(|c| !hole.admits(*c))
                .map_or(limit, |offset| start + offset);
            if rest.is_empty() {
                let end = trailing_end(text, start, admitted, *hole);
                if end > start && hole.accepts(&text[start..end]) {
                    spans.push((start, end));
                    return Some(end);
                }
                return None;
            }
            for end in start + 1..=admitted {
                if !hole.accepts(&text[start..end]) {
                    continue;
                }
                spans.push((start, end));
                if let Some(done) = match_pieces(text, end, rest, spans) {
                    return Some(done);
                }
                spans.pop();
            }
            None
        }
    }
}

/// Where a hole that ends the text stops: at the first blank for the kinds that hold
/// none, without the punctuation a sentence or a log adds after it.
fn trailing_end(text: &[char], start: usize, admitted: usize, hole: Hole) -> usize {
    let mut end = match hole {
        Hole::Host
        | Hole::Count
        | Hole::Hex
        | Hole::Time
        | Hole::Token
        | Hole::Peer
        | Hole::Word => text[start..admitted]
            .iter()
            .position(|c| c.is_whitespace())
            .map_or(admitted, |offset| start + offset),
        _ => admitted,
    };
    if hole == Hole::Host {
        // A trailing dot stays: a fully qualified name ends with one.
        while end > start && matches!(text[end - 1], ',' | ';' | ')' | '"' | '\'' | ':') {
            end -= 1;
        }
    }
    while end > start && text[end - 1] == ' ' {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Vec<char> {
        s.chars().map(normalise_char).collect()
    }

    fn holes(t: &[char], m: &Match) -> Vec<String> {
        m.spans
            .iter()
            .map(|(a, b)| t[*a..*b].iter().collect())
            .collect()
    }

    #[test]
    fn literals_ignore_case_and_blanks_and_holes_take_their_kind() {
        let pieces = [
            Piece::lit("x509: certificate is valid for "),
            Piece::Hole(Hole::Names),
            Piece::lit(", not "),
            Piece::Hole(Hole::Host),
        ];
        let t = text("E: X509: certificate is va\nlid for a.example.com, b.example.com, not c.example.com. next");
        let found = find_all(&t, &pieces);
        assert_eq!(found.len(), 1);
        // A trailing dot stays with the host (a fully qualified name keeps it).
        assert_eq!(
            holes(&t, &found[0]),
            ["a.example.com, b.example.com", "c.example.com."]
        );
        assert!(find_all(&text("x509: certificate is valid for a, no b"), &pieces).is_empty());
    }

    #[test]
    fn words_are_not_matched_inside_other_words() {
        let pieces = [Piece::lit("path loop")];
        assert!(find_all(&text("xpath loops"), &pieces).is_empty());
        assert_eq!(find_all(&text("a path loop."), &pieces).len(), 1);
    }

    #[test]
    fn one_of_takes_the_longest_that_fits() {
        let pieces = [
            Piece::lit("failed: "),
            Piece::one_of(&[
                "self signed certificate".into(),
                "self signed certificate in certificate chain".into(),
            ]),
        ];
        let t = text("failed: self signed certificate in certificate chain");
        let found = find_all(&t, &pieces);
        assert_eq!(found[0].end, t.len());
    }

    #[test]
    fn quoted_holes_need_their_quotes() {
        let pieces = [
            Piece::lit("of "),
            Piece::Hole(Hole::Quoted),
            Piece::lit(" while"),
        ];
        assert_eq!(find_all(&text("of \"x: a \"b\"\" while"), &pieces).len(), 1);
        assert!(find_all(&text("of x while"), &pieces).is_empty());
    }

    #[test]
    fn a_hostile_paste_stays_bounded() {
        // Every position starts a match whose hole could end anywhere: the holes'
        // limits keep it linear.
        let pieces = [
            Piece::lit("a "),
            Piece::Hole(Hole::Names),
            Piece::lit(", not "),
            Piece::Hole(Hole::Host),
        ];
        let t: Vec<char> = "a ".repeat(50_000).chars().collect();
        let started = std::time::Instant::now();
        assert!(find_all(&t, &pieces).is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}
