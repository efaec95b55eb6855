//! `certready why`: from an error text a user pasted to the client that printed it, the
//! findings that can cause it, what the text rules out and the command to run next.
//!
//! The texts are the client models' own (`catalogue` reads the engines' patterns and
//! tables), so every refusal certready predicts is one `why` recognises, with the
//! findings the model gives it (tests/it/why.rs proves it on the differential test's
//! chains). `input` bounds and cleans the paste, `matcher` finds the texts in it,
//! `advice` ranks the causes and says what to do.

mod advice;
mod catalogue;
mod input;
mod matcher;

use serde::Serialize;

use crate::clients::{Channel, ClientName};
use crate::findings::FindingId;

pub use input::{Pasted, MAX_INPUT_BYTES};

/// What `why` made of a paste.
#[derive(Debug, Clone, Serialize)]
pub struct WhyReport {
    pub input: InputSummary,
    /// The error texts recognised, in the order they appear.
    pub recognised: Vec<Recognised>,
    /// When nothing was recognised: the known texts closest to the paste.
    pub closest: Vec<Closest>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    pub bytes_read: usize,
    /// More was given than `limit_bytes`; the rest was not read.
    pub truncated: bool,
    pub limit_bytes: usize,
}

/// One error text found in the paste.
#[derive(Debug, Clone, Serialize)]
pub struct Recognised {
    /// The text as found (cleaned: log prefixes off, wrapped lines joined).
    pub text: String,
    /// The known text it matched, with placeholders (HOST, NAME, TIME…).
    pub known_text: String,
    /// Who prints it, the most likely first.
    pub clients: Vec<PrintedBy>,
    /// The host name the text names, if any, and where it comes from.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub host_source: Option<String>,
    /// The address a client connected to (grpcio names it, not the host).
    pub address: Option<String>,
    /// The certificate the text names (Apple quotes its subject).
    pub certificate_name: Option<String>,
    /// The findings that can cause it, the most likely first.
    pub findings: Vec<Cause>,
    /// What the text shows is not the problem.
    pub rules_out: Vec<Statement>,
    /// What else to know: what the text leaves open, what the client does.
    pub notes: Vec<Statement>,
    /// The commands to run next.
    pub next: Vec<NextStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintedBy {
    pub client: ClientName,
    pub channel: Channel,
    /// The verifier that words the text.
    pub verifier: &'static str,
    /// When this client prints it (e.g. "with caCertFilePath").
    pub condition: Option<&'static str>,
}

/// A statement that holds if `verifier` printed the text (null: whoever printed it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub verifier: Option<&'static str>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    pub id: FindingId,
    pub title: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct NextStep {
    pub command: String,
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Closest {
    pub known_text: String,
    /// 0 to 1 (normalised Levenshtein similarity to a line of the paste).
    pub similarity: f64,
    pub clients: Vec<PrintedBy>,
}

impl WhyReport {
    /// 0 when a text was recognised, 3 (UNKNOWN) otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.recognised.is_empty() {
            3
        } else {
            0
        }
    }
}

/// The most error texts reported from one paste (a long log repeats itself).
const MAX_RECOGNISED: usize = 20;

/// Recognises the error texts in `pasted`.
pub fn explain(pasted: &Pasted) -> WhyReport {
    let text = input::clean(&pasted.text);
    let recognised = advice::recognise(&text, MAX_RECOGNISED);
    let closest = if recognised.is_empty() {
        advice::closest(&text, 5)
    } else {
        Vec::new()
    };
    WhyReport {
        input: InputSummary {
            bytes_read: pasted.bytes,
            truncated: pasted.truncated,
            limit_bytes: MAX_INPUT_BYTES,
        },
        recognised,
        closest,
    }
}
