//! Target lists (`--targets FILE`, "-" for stdin): one target per line, blank lines and
//! `#` comments skipped, read line by line as the run goes, so a list of a million lines
//! is never in memory at once. Only this replica's `--shard` of the targets comes out.

use std::io::BufRead;
use std::path::Path;

use super::error::Error;
use crate::check::fleet::{Listed, Shard};
use crate::target::{self, Target};

/// The longest line taken for a target; a longer one is reported, not read into memory.
const MAX_LINE: usize = 8192;

/// The targets of a list, lazily, with the line number of each problem.
pub struct Lines {
    reader: Box<dyn BufRead + Send>,
    /// How the list is named in messages: `--targets FILE` or `--targets -`.
    label: String,
    line: usize,
    shard: Shard,
    /// Targets seen in any shard: a list that names none is a mistake, an empty shard is not.
    seen: usize,
    done: bool,
    buffer: Vec<u8>,
}

impl Lines {
    /// Opens `path` ("-": stdin).
    pub fn open(path: &Path, shard: Shard) -> Result<Lines, Error> {
        let (reader, label): (Box<dyn BufRead + Send>, String) = if path == Path::new("-") {
            (
                Box::new(std::io::BufReader::new(std::io::stdin())),
                "--targets -".into(),
            )
        } else {
            let label = format!("--targets {}", path.display());
            if path.is_dir() {
                return Err(Error::Failed(format!("{label}: is a directory")));
            }
            let file = std::fs::File::open(path)
                .map_err(|e| Error::Failed(format!("{label}: cannot read: {e}")))?;
            (
                Box::new(std::io::BufReader::with_capacity(64 * 1024, file)),
                label,
            )
        };
        Ok(Lines {
            reader,
            label,
            line: 0,
            shard,
            seen: 0,
            done: false,
            buffer: Vec::new(),
        })
    }

    pub fn seen(&self) -> usize {
        self.seen
    }

    /// Reads `path` once to the end without keeping it: a line that is not a target, in
    /// any shard, is a usage error before anything is probed (every replica refuses the
    /// same list). Returns (targets in the list, targets in this shard).
    pub fn validate(path: &Path, shard: Shard) -> Result<(usize, usize), Error> {
        let mut lines = Lines::open(path, Shard::ALL)?;
        let mut in_shard = 0;
        for listed in lines.by_ref() {
            match listed {
                Listed::Target(target) => in_shard += usize::from(shard.holds(&target.input)),
                Listed::Unusable { error, .. } => return Err(Error::Usage(error)),
            }
        }
        Ok((lines.seen, in_shard))
    }

    /// The next raw line (without its end), or None at the end; over-long lines and read
    /// errors come back as Err with the message.
    fn next_line(&mut self) -> Option<Result<String, String>> {
        self.buffer.clear();
        let read = std::io::Read::take(&mut self.reader, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut self.buffer);
        match read {
            Ok(0) => None,
            Ok(_) => {
                self.line += 1;
                if self.buffer.len() > MAX_LINE && self.buffer.last() != Some(&b'\n') {
                    // Skip the rest of the line without keeping it.
                    loop {
                        let chunk = match self.reader.fill_buf() {
                            Ok(chunk) if !chunk.is_empty() => chunk,
                            _ => break,
                        };
                        let (used, end) = match chunk.iter().position(|&b| b == b'\n') {
                            Some(at) => (at + 1, true),
                            None => (chunk.len(), false),
                        };
                        self.reader.consume(used);
                        if end {
                            break;
                        }
                    }
                    return Some(Err(format!("longer than {MAX_LINE} bytes")));
                }
                match std::str::from_utf8(&self.buffer) {
                    Ok(text) => Some(Ok(text.trim_end_matches(['\n', '\r']).to_string())),
                    Err(_) => Some(Err("is not UTF-8 text".into())),
                }
            }
            Err(e) => {
                self.done = true;
                Some(Err(format!("cannot read: {e}")))
            }
        }
    }
}

impl Iterator for Lines {
    type Item = Listed;

    fn next(&mut self) -> Option<Listed> {
        while !self.done {
            let line = match self.next_line()? {
                Ok(line) => line,
                Err(why) => {
                    self.seen += 1;
                    return Some(Listed::Unusable {
                        input: format!("{} line {}", self.label, self.line),
                        error: format!("{} line {}: {why}", self.label, self.line),
                    });
                }
            };
            let text = line.split(" #").next().unwrap_or_default().trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            self.seen += 1;
            if !self.shard.holds(text) {
                continue;
            }
            return Some(match target::parse_target(text) {
                Ok(target) => Listed::Target(target),
                Err(e) => Listed::Unusable {
                    input: text.to_string(),
                    error: format!("{} line {}: {e}", self.label, self.line),
                },
            });
        }
        None
    }
}

/// The rest of `lines` as a stream, read on a thread of its own (stdin may block), at most
/// `ahead` lines ahead of the run.
pub fn read_ahead(lines: Lines, ahead: usize) -> impl futures_util::Stream<Item = Listed> {
    let (send, receive) = tokio::sync::mpsc::channel(ahead.max(1));
    std::thread::spawn(move || {
        for listed in lines {
            // The run has ended (an output error): stop reading.
            if send.blocking_send(listed).is_err() {
                return;
            }
        }
    });
    futures_util::stream::unfold(receive, |mut receive| async move {
        receive.recv().await.map(|listed| (listed, receive))
    })
}

/// The named targets of this shard.
pub fn named_in_shard(named: &[Target], shard: Shard) -> Vec<Target> {
    named
        .iter()
        .filter(|t| shard.holds(&t.input))
        .cloned()
        .collect()
}

/// `serve`'s targets: the named ones, then the list's, this shard's only. Any line that
/// is not a target is a usage error.
pub fn all_in_shard(
    named: &[Target],
    file: Option<&Path>,
    shard: Shard,
) -> Result<(Vec<Target>, usize), Error> {
    let mut targets = named_in_shard(named, shard);
    let mut seen = named.len();
    if let Some(file) = file {
        let mut lines = Lines::open(file, Shard::ALL)?;
        for listed in lines.by_ref() {
            match listed {
                Listed::Target(target) if shard.holds(&target.input) => targets.push(target),
                Listed::Target(_) => {}
                Listed::Unusable { error, .. } => return Err(Error::Usage(error)),
            }
        }
        seen += lines.seen();
    }
    Ok((targets, seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &[u8], shard: Shard) -> Vec<Listed> {
        Lines {
            reader: Box::new(std::io::Cursor::new(text.to_vec())),
            label: "--targets t.txt".into(),
            line: 0,
            shard,
            seen: 0,
            done: false,
            buffer: Vec::new(),
        }
        .collect()
    }

    fn describe(listed: &[Listed]) -> Vec<String> {
        listed
            .iter()
            .map(|l| match l {
                Listed::Target(t) => t.input.clone(),
                Listed::Unusable { error, .. } => format!("ERROR {error}"),
            })
            .collect()
    }

    #[test]
    fn comments_blank_lines_and_bad_lines_are_told_apart() {
        let mut text =
            b"# fleet\n a.example.com  # old\n\n\tb.example.com:8443\r\nhttp://c\n".to_vec();
        text.extend_from_slice(&[0xff, b'\n']);
        text.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        text.extend_from_slice(b"\nlast.example.com");
        let got = describe(&lines_of(&text, Shard::ALL));
        assert_eq!(got[..2], ["a.example.com", "b.example.com:8443"]);
        assert!(
            got[2].starts_with("ERROR --targets t.txt line 5: cannot use target"),
            "{got:?}"
        );
        assert_eq!(got[3], "ERROR --targets t.txt line 6: is not UTF-8 text");
        assert_eq!(
            got[4],
            format!("ERROR --targets t.txt line 7: longer than {MAX_LINE} bytes")
        );
        assert_eq!(
            got[5], "last.example.com",
            "the long line was skipped whole"
        );
        assert_eq!(got.len(), 6);
    }

    #[test]
    fn only_this_shards_targets_come_out() {
        let text: String = (0..300).map(|i| format!("h{i}.example.com\n")).collect();
        let mut union = Vec::new();
        for index in 0..3 {
            let part = describe(&lines_of(text.as_bytes(), Shard { index, count: 3 }));
            assert!(!part.is_empty() && part.len() < 300);
            union.extend(part);
        }
        union.sort();
        let mut all = describe(&lines_of(text.as_bytes(), Shard::ALL));
        all.sort();
        assert_eq!(union, all);
    }
}
