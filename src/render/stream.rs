//! `check`'s output for many targets, written as the reports come instead of at the end,
//! so that memory does not grow with the number of targets. Each report becomes a
//! `Piece` (on the worker that checked it); the `Stream` writes the pieces in order and
//! closes the document from the status counts. The result is the same text
//! `render::reports` makes from all the reports at once:
//!
//! - text: each report, then the summary line;
//! - JSON: `{"schema_version", "reports": [` … `], "summary"}`, written incrementally;
//! - Markdown: the title and table come first but need the counts, so the table rows
//!   and the sections are spooled (memory, then a temporary file past 4 MiB) and copied
//!   out after the header;
//! - Prometheus: each family must be contiguous, so only the compact per-target values
//!   (`metrics::TargetSeries`) are kept, and the families are written at the end.

use std::io::{Seek, Write};

use super::metrics::TargetSeries;
use super::{json, markdown, text, Format};
use crate::report::{Report, Status, Summary, SCHEMA_VERSION};

/// What one report becomes for the output.
#[derive(Debug)]
pub enum Piece {
    Text(String),
    /// The report's JSON, indented for its place in the `reports` array.
    Json(String),
    Markdown {
        row: String,
        section: String,
        /// The first report, kept in case it stays the only one (a document of its own).
        first: Option<Box<Report>>,
    },
    Metrics(TargetSeries),
}

/// Renders report number `index` (from 0, in input order) for `format`.
pub fn piece(format: Format, index: usize, report: Report, now: i64) -> Piece {
    match format {
        Format::Json | Format::Sarif => Piece::Json(json::indented(&report, 2)),
        Format::Prometheus => Piece::Metrics(TargetSeries::of(&report)),
        Format::Markdown => Piece::Markdown {
            row: markdown::summary_row(&report),
            section: markdown::section(&report, now),
            first: (index == 0).then(|| Box::new(report)),
        },
        Format::Text => {
            let mut out = String::new();
            text::render_report(&mut out, &report, now);
            Piece::Text(out)
        }
    }
}

/// Markdown kept until the counts are known.
struct Spool {
    rows: tempfile::SpooledTempFile,
    sections: tempfile::SpooledTempFile,
    first: Option<Box<Report>>,
}

/// Past this, a Markdown spool moves to a temporary file.
const SPOOL_IN_MEMORY: usize = 4 << 20;

pub struct Stream<W: Write> {
    format: Format,
    out: W,
    /// Drop colour codes (a file, where anstream does not strip them).
    plain: bool,
    now: i64,
    written: usize,
    spool: Option<Spool>,
    series: Vec<TargetSeries>,
}

impl<W: Write> Stream<W> {
    /// Starts the document on `out` (JSON writes its head at once).
    pub fn start(format: Format, mut out: W, plain: bool, now: i64) -> std::io::Result<Self> {
        if matches!(format, Format::Json | Format::Sarif) {
            write!(
                out,
                "{{\n  \"schema_version\": {SCHEMA_VERSION},\n  \"reports\": ["
            )?;
        }
        let spool = (format == Format::Markdown).then(|| Spool {
            rows: tempfile::spooled_tempfile(SPOOL_IN_MEMORY),
            sections: tempfile::spooled_tempfile(SPOOL_IN_MEMORY),
            first: None,
        });
        Ok(Stream {
            format,
            out,
            plain,
            now,
            written: 0,
            spool,
            series: Vec::new(),
        })
    }

    /// Spool Markdown past its memory share into `dir` (the directory of `--output`, which
    /// must be writable anyway) rather than the temporary directory.
    pub fn spool_in(&mut self, dir: &std::path::Path) {
        if let Some(spool) = &mut self.spool {
            spool.rows = tempfile::spooled_tempfile_in(SPOOL_IN_MEMORY, dir);
            spool.sections = tempfile::spooled_tempfile_in(SPOOL_IN_MEMORY, dir);
        }
    }

    /// Room for `targets` more reports' kept values, when the count is known (a list
    /// grown by doubling would hold up to twice the room it needs, and copy it).
    pub fn expect(&mut self, targets: usize) {
        if self.format == Format::Prometheus {
            self.series.reserve_exact(targets);
        }
    }

    /// Writes (or keeps) the next report's piece.
    pub fn write(&mut self, piece: Piece) -> std::io::Result<()> {
        let first = self.written == 0;
        self.written += 1;
        match piece {
            Piece::Text(text) => {
                if !first {
                    self.out.write_all(b"\n")?;
                }
                if self.plain {
                    self.out
                        .write_all(anstream::adapter::strip_str(&text).to_string().as_bytes())?;
                } else {
                    self.out.write_all(text.as_bytes())?;
                }
                self.out.flush()
            }
            Piece::Json(element) => {
                self.out
                    .write_all(if first { b"\n    " } else { b",\n    " })?;
                self.out.write_all(element.as_bytes())?;
                self.out.flush()
            }
            Piece::Markdown {
                row,
                section,
                first: report,
            } => {
                let spool = self.spool.as_mut().expect("a Markdown stream has a spool");
                spool.rows.write_all(row.as_bytes())?;
                spool.sections.write_all(section.as_bytes())?;
                if report.is_some() {
                    spool.first = report;
                }
                Ok(())
            }
            Piece::Metrics(series) => {
                self.series.push(series);
                Ok(())
            }
        }
    }

    /// Ends the document with what only the counts tell, and returns the writer.
    pub fn finish(mut self, summary: &Summary) -> std::io::Result<W> {
        let targets = self.written;
        match self.format {
            Format::Text => {
                if targets > 1 {
                    self.out
                        .write_all(super::summary_line(targets, summary).as_bytes())?;
                }
            }
            Format::Json | Format::Sarif => {
                let close = if targets > 0 { "\n  ]" } else { "]" };
                write!(
                    self.out,
                    "{close},\n  \"summary\": {}\n}}\n",
                    json::indented(summary, 1)
                )?;
            }
            Format::Prometheus => {
                super::metrics::write_series(std::mem::take(&mut self.series), &mut self.out)?;
            }
            Format::Markdown => {
                let mut spool = self.spool.take().expect("a Markdown stream has a spool");
                match (targets, spool.first.take()) {
                    (1, Some(report)) => self
                        .out
                        .write_all(markdown::single_report(&report, self.now).as_bytes())?,
                    _ => {
                        let worst = worst(summary);
                        let header = markdown::fleet_header(targets, summary, worst, self.now);
                        self.out.write_all(header.as_bytes())?;
                        for part in [&mut spool.rows, &mut spool.sections] {
                            part.rewind()?;
                            std::io::copy(part, &mut self.out)?;
                        }
                    }
                }
            }
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The worst status counted (UNKNOWN for none, as `Status::worst` says of no report).
fn worst(summary: &Summary) -> Status {
    [
        (summary.unknown, Status::Unknown),
        (summary.critical, Status::Critical),
        (summary.warning, Status::Warning),
        (summary.ok, Status::Ok),
    ]
    .into_iter()
    .find(|(n, _)| *n > 0)
    .map_or(Status::Unknown, |(_, status)| status)
}
