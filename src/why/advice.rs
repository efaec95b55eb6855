//! From matches to answers: who printed each text (narrowed by the wrappers around it),
//! the findings behind it (the client models' own mapping, ranked), what the text rules
//! out (each verifier checks in a fixed order and reports the first or the most
//! important failure), and the next command.

use crate::clients::texts as client_texts;
use crate::clients::{Channel, ClientName};
use crate::findings::FindingId;
use crate::verifiers::apple::Subtype;
use crate::verifiers::chrome::CertStatus;

use super::catalogue::{
    catalogue, AppleStep, BoringStep, Causes, GoStep, Known, OpenSslStep, Restrict, Source, Step,
    Verifier,
};
use super::matcher::{self, Hole, Match, Piece};
use super::{Cause, Closest, NextStep, PrintedBy, Recognised, Statement};

/// The findings in the order they cause refusals in practice, most often first: a
/// private CA nobody installed, a missing intermediate, a self-signed certificate,
/// ingress-nginx's default certificate, a wrong name, Apple's lifetime limit, expiry…
/// Ties in a text's candidates are ranked by it. (certready's judgement from Flyte
/// ingress incidents, not a measurement.)
const COMMONNESS: &[FindingId] = &[
    FindingId::UntrustedRoot,
    FindingId::IncompleteChain,
    FindingId::SelfSignedLeaf,
    FindingId::IngressDefaultCertificate,
    FindingId::HostnameMismatch,
    FindingId::ValidityExceeds825Days,
    FindingId::Expired,
    FindingId::PlaintextEndpoint,
    FindingId::AlpnNoH2,
    FindingId::GrpcNotRouted,
    FindingId::CnOnly,
    FindingId::UntrustedChain,
    FindingId::InsecureButTls,
    FindingId::CaCertFileUnusable,
    FindingId::MissingServerAuthEku,
    FindingId::ValidityExceeds398Days,
    FindingId::NotYetValid,
    FindingId::IssuerNotCa,
    FindingId::WeakSignatureSha1,
    FindingId::WeakRsaKey,
    FindingId::IncompatibleKeyUsage,
    FindingId::LeafIsCa,
    FindingId::ChainOrder,
    FindingId::UnknownCriticalExtension,
    FindingId::MalformedCertificate,
    FindingId::ChainLoop,
    FindingId::TooManyCertificates,
];

/// Words in a text that single out one of its candidate findings (checked in order; the
/// first hit ranks first). The last two add ingress-nginx's default certificate even
/// where the models would not: its name in the text is proof enough. (A word followed
/// by [`NOT_POINTING`]'s continuation does not count.)
const POINTERS: &[(&str, FindingId)] = &[
    (" is after ", FindingId::Expired),
    (" is before ", FindingId::NotYetValid),
    ("certificate is expired", FindingId::Expired),
    ("certificate has expired", FindingId::Expired),
    ("ERR_CERT_DATE_INVALID", FindingId::Expired),
    ("not yet valid", FindingId::NotYetValid),
    ("legacy Common Name", FindingId::CnOnly),
    ("certificate in certificate chain", FindingId::UntrustedRoot),
    ("self-signed certificate", FindingId::SelfSignedLeaf),
    ("self signed certificate", FindingId::SelfSignedLeaf),
    (
        "unable to get local issuer certificate",
        FindingId::UntrustedRoot,
    ),
    (
        "unable to get local issuer certificate",
        FindingId::IncompleteChain,
    ),
    (
        "unable to verify the first certificate",
        FindingId::IncompleteChain,
    ),
    (
        "unable to get issuer certificate",
        FindingId::IncompleteChain,
    ),
    ("invalid CA certificate", FindingId::IssuerNotCa),
    ("cannot sign", FindingId::IssuerNotCa),
    ("not authorized to sign other", FindingId::IssuerNotCa),
    ("insecure algorithm", FindingId::WeakSignatureSha1),
    ("digest algorithm too weak", FindingId::WeakSignatureSha1),
    ("broken signature algorithm", FindingId::WeakSignatureSha1),
    ("key too weak", FindingId::WeakRsaKey),
    ("certificate revoked", FindingId::Revoked),
    ("certificate is revoked", FindingId::Revoked),
    ("broken key size", FindingId::WeakRsaKey),
    ("not standards compliant", FindingId::ValidityExceeds825Days),
    ("-bit keys are insecure", FindingId::WeakRsaKey),
    ("incompatible key usage", FindingId::MissingServerAuthEku),
    ("KEY_USAGE_BIT_INCORRECT", FindingId::IncompatibleKeyUsage),
    (
        "unhandled critical extension",
        FindingId::UnknownCriticalExtension,
    ),
    (
        "Kubernetes Ingress Controller Fake Certificate",
        FindingId::IngressDefaultCertificate,
    ),
    ("ingress.local", FindingId::IngressDefaultCertificate),
];
const ADDED_BY_POINTER: FindingId = FindingId::IngressDefaultCertificate;

/// "self-signed certificate in certificate chain" is about the root, not the leaf.
const NOT_POINTING: (&str, &str) = ("self", " in certificate chain");

/// Whether `words` occur in `text` as a pointer.
fn points(text: &str, words: &str) -> bool {
    text.match_indices(words).any(|(at, _)| {
        !(words.starts_with(NOT_POINTING.0) && text[at + words.len()..].starts_with(NOT_POINTING.1))
    })
}

/// One match of a known text, with the wrappers found right before it.
struct Found<'c> {
    known: &'c Known,
    at: Match,
    wrappers: Vec<(&'c super::catalogue::Wrapper, Match)>,
}

/// Every known text in `text` (cleaned), at most `limit` distinct ones.
pub(super) fn recognise(text: &[char], limit: usize) -> Vec<Recognised> {
    let catalogue = catalogue();
    let mut matches: Vec<(usize, Match)> = Vec::new();
    for (index, known) in catalogue.known.iter().enumerate() {
        for found in matcher::find_all(text, &known.pieces) {
            matches.push((index, found));
        }
    }
    // A text inside a longer one is part of it (OpenSSL's "certificate has expired" in
    // Go's "certificate has expired or is not yet valid", a reason after grpcio's queue).
    matches.sort_by_key(|(_, m)| (m.start, std::cmp::Reverse(m.end)));
    let mut kept: Vec<(usize, Match)> = Vec::new();
    let mut reach = 0;
    for (index, found) in matches {
        if !kept.is_empty() && found.end <= reach {
            continue;
        }
        reach = reach.max(found.end);
        kept.push((index, found));
    }
    let wrapper_matches: Vec<(usize, Match)> = catalogue
        .wrappers
        .iter()
        .enumerate()
        .flat_map(|(index, w)| {
            matcher::find_all(text, &w.pieces)
                .into_iter()
                .map(move |m| (index, m))
        })
        .collect();
    let mut out: Vec<Recognised> = Vec::new();
    for (index, at) in kept {
        let mut wrappers = Vec::new();
        let mut start = at.start;
        while wrappers.len() < 6 {
            let before = wrapper_matches.iter().find(|(_, w)| {
                w.end <= start && text[w.end..start].iter().all(|c| c.is_whitespace())
            });
            let Some((wrapper, m)) = before else {
                break;
            };
            start = m.start;
            wrappers.push((&catalogue.wrappers[*wrapper], m.clone()));
        }
        let found = Found {
            known: &catalogue.known[index],
            at,
            wrappers,
        };
        let recognised = answer(text, &found);
        if !out
            .iter()
            .any(|r| r.text == recognised.text && r.known_text == recognised.known_text)
        {
            out.push(recognised);
            if out.len() == limit {
                break;
            }
        }
    }
    out
}

/// The value each hole (and each one-of) took, by kind, in order.
fn holes(text: &[char], pieces: &[Piece], at: &Match) -> Vec<(Option<Hole>, String)> {
    pieces
        .iter()
        .filter_map(|piece| match piece {
            Piece::Hole(hole) => Some(Some(*hole)),
            Piece::OneOf(_) => Some(None),
            Piece::Lit(_) => None,
        })
        .zip(&at.spans)
        .map(|(hole, (start, end))| {
            let taken: String = text[*start..*end].iter().collect();
            let value = match hole {
                // Kinds without blanks: a blank inside came from a wrap.
                Some(Hole::Host | Hole::Count | Hole::Hex | Hole::Time | Hole::Token)
                | Some(Hole::Word | Hole::Url | Hole::Peer) => taken.split_whitespace().collect(),
                _ => taken.split_whitespace().collect::<Vec<_>>().join(" "),
            };
            (hole, value)
        })
        .collect()
}

/// The text in the client's own words: the known text's literals with what the holes
/// took (a one-of takes its option's exact words).
fn canonical(text: &[char], pieces: &[Piece], at: &Match) -> String {
    let values = holes(text, pieces, at);
    let mut values = values.into_iter();
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Lit(literal) => out.push_str(&literal.text),
            Piece::Hole(_) => out.push_str(&values.next().map(|(_, v)| v).unwrap_or_default()),
            Piece::OneOf(options) => {
                let taken = values.next().map(|(_, v)| v).unwrap_or_default();
                let exact = options
                    .iter()
                    .find(|o| o.text.eq_ignore_ascii_case(&taken))
                    .map_or(taken, |o| o.text.clone());
                out.push_str(&exact);
            }
        }
    }
    out
}

fn answer(text: &[char], found: &Found<'_>) -> Recognised {
    let known = found.known;
    // The wrappers narrow who printed it; one that fits none of the sources is ignored.
    let mut sources: Vec<&Source> = known.sources.iter().collect();
    let mut channels: Vec<(&'static [ClientName], Channel)> = Vec::new();
    for (wrapper, _) in &found.wrappers {
        let narrowed: Vec<&Source> = sources
            .iter()
            .copied()
            .filter(|source| match wrapper.restrict {
                Restrict::Verifiers(verifiers) => verifiers.contains(&source.verifier),
                Restrict::Clients(clients, channel) => source
                    .verifier
                    .printers()
                    .iter()
                    .any(|p| clients.contains(&p.client) && p.channel == channel),
            })
            .collect();
        if narrowed.is_empty() {
            continue;
        }
        sources = narrowed;
        if let Restrict::Clients(clients, channel) = wrapper.restrict {
            channels.push((clients, channel));
        }
    }
    let mut clients: Vec<PrintedBy> = Vec::new();
    for source in &sources {
        for printer in source.verifier.printers() {
            let fits = channels
                .iter()
                .all(|(c, ch)| c.contains(&printer.client) && *ch == printer.channel);
            let printed_by = PrintedBy {
                client: printer.client,
                channel: printer.channel,
                verifier: source.verifier.name(),
                condition: printer.condition,
            };
            if fits && !clients.contains(&printed_by) {
                clients.push(printed_by);
            }
        }
    }

    let canonical = canonical(text, &known.pieces, &found.at);
    let values = holes(text, &known.pieces, &found.at);
    let token = values
        .iter()
        .find(|(hole, _)| *hole == Some(Hole::Token))
        .map(|(_, v)| v.as_str());
    let has_reason = values.iter().any(|(hole, _)| hole.is_none());
    let mut notes: Vec<Statement> = known
        .note
        .iter()
        .map(|n| Statement {
            verifier: None,
            text: n.to_string(),
        })
        .collect();

    // Candidate findings: the models' mapping per source, and what the text adds.
    let mut candidates: Vec<FindingId> = known.extra.to_vec();
    for source in &sources {
        let (ids, note) = causes(source, &canonical, token, has_reason);
        candidates.extend(ids);
        notes.extend(note.map(|text| Statement {
            verifier: None,
            text,
        }));
    }
    if POINTERS
        .iter()
        .any(|(words, id)| *id == ADDED_BY_POINTER && points(&canonical, words))
    {
        candidates.push(ADDED_BY_POINTER);
    }
    let findings = rank(candidates, &canonical);

    // Host, port and names from the holes and the wrappers.
    let mut place = Place::default();
    for (hole, value) in &values {
        place.take(*hole, value);
    }
    for (wrapper, m) in &found.wrappers {
        for (hole, value) in holes(text, &wrapper.pieces, m) {
            place.take(hole, &value);
        }
    }
    if place.host.is_none() {
        place.endpoint_in_record(text, found.at.start);
    }
    if place.host.is_none() {
        if let Some(name) = place.certificate.as_deref().filter(|n| looks_like_host(n)) {
            place.host = Some(name.to_string());
            place.host_source =
                Some("the certificate's name, which the text quotes: not always the host dialled");
        }
    }

    let verifiers: Vec<Verifier> = {
        let mut v: Vec<Verifier> = Vec::new();
        for source in &sources {
            if !v.contains(&source.verifier) {
                v.push(source.verifier);
            }
        }
        v
    };
    // What holds depends on who printed it, when several could have.
    let mut rules_out: Vec<Statement> = Vec::new();
    for source in &sources {
        let verifier = (verifiers.len() > 1).then(|| source.verifier.name());
        let (out, note) = rules_out_of(source.step);
        for text in out {
            let statement = Statement { verifier, text };
            if !rules_out.contains(&statement) {
                rules_out.push(statement);
            }
        }
        if let Some(text) = note {
            let statement = Statement { verifier, text };
            if !notes.contains(&statement) {
                notes.push(statement);
            }
        }
    }

    let start = found
        .wrappers
        .last()
        .map_or(found.at.start, |(_, m)| m.start);
    let shown: String = text[start..found.at.end]
        .iter()
        .map(|c| if *c == '\n' { ' ' } else { *c })
        .collect();
    let next = next_steps(&sources, &clients, &findings, &place);
    Recognised {
        text: shown,
        known_text: known.display.clone(),
        clients,
        host: place.host,
        port: place.port,
        host_source: place.host_source.map(str::to_string),
        address: place.address,
        certificate_name: place.certificate,
        findings: findings
            .into_iter()
            .map(|id| Cause {
                id,
                title: id.kind().title,
            })
            .collect(),
        rules_out,
        notes,
        next,
    }
}

/// The findings a source's model gives the text, and a note when the text says more.
fn causes(
    source: &Source,
    canonical: &str,
    token: Option<&str>,
    has_reason: bool,
) -> (Vec<FindingId>, Option<String>) {
    let ids: Vec<FindingId> = match &source.causes {
        Causes::Go(context) => {
            let text = context.map_or_else(|| canonical.to_string(), |c| c.fill(&[canonical]));
            client_texts::go_causes(&text).to_vec()
        }
        Causes::Apple(stages) => stages
            .iter()
            .flat_map(|stage| client_texts::apple_causes(*stage).iter().copied())
            .collect(),
        Causes::OpenSsl => client_texts::openssl_causes(canonical).to_vec(),
        Causes::Chrome => client_texts::chrome_causes(canonical).to_vec(),
        Causes::Fixed(ids) => ids.to_vec(),
        Causes::BoringQueue => {
            return queue_causes(token.unwrap_or_default(), has_reason, canonical)
        }
    };
    (ids, None)
}

/// grpcio's handshake errors whose queued error, not the verify result, says what
/// happened: the client models give these their own causes (`clients::alpn`,
/// `clients::pyflyte`); the rest go by the verify result's text.
fn queue_causes(
    token: &str,
    has_reason: bool,
    canonical: &str,
) -> (Vec<FindingId>, Option<String>) {
    let tls_alpn = client_texts::GRPCIO_NO_APPLICATION_PROTOCOL;
    match token {
        t if tls_alpn.contains(&format!("OPENSSL_internal:{t}:")) => (
            client_texts::ALPN_CAUSES.to_vec(),
            Some("The server refused h2 with an alert before sending its certificate.".into()),
        ),
        "SSLV3_ALERT_HANDSHAKE_FAILURE" => (
            Vec::new(),
            Some("The server aborted the handshake. From grpcio this is typically a server key of a type its BoringSSL cannot verify a handshake signature with (Ed25519, ECDSA P-521): serve an ECDSA P-256/P-384 or RSA key.".into()),
        ),
        "BAD_SIGNATURE" | "WRONG_SIGNATURE_TYPE" if !has_reason => (
            vec![FindingId::ChainOrder],
            Some("The handshake was not signed by the key of the first certificate sent: the server sends its leaf after a CA certificate, or a certificate that is not its own.".into()),
        ),
        "WRONG_VERSION_NUMBER" => (
            vec![FindingId::PlaintextEndpoint],
            Some("The server did not answer with TLS: a plaintext port (admin.insecure territory) or a port of another protocol.".into()),
        ),
        _ => (client_texts::openssl_causes(canonical).to_vec(), None),
    }
}

/// Candidates without repeats: those the text's words point at first (in `POINTERS`'
/// order), then by [`COMMONNESS`], then in catalogue order.
fn rank(candidates: Vec<FindingId>, canonical: &str) -> Vec<FindingId> {
    let mut unique: Vec<FindingId> = Vec::new();
    for id in candidates {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    let pointed = |id: FindingId| {
        POINTERS
            .iter()
            .position(|(words, pointed)| *pointed == id && points(canonical, words))
            .unwrap_or(usize::MAX)
    };
    let common = |id: FindingId| {
        COMMONNESS
            .iter()
            .position(|c| *c == id)
            .unwrap_or(COMMONNESS.len() + id as usize)
    };
    unique.sort_by_key(|id| (pointed(*id), common(*id)));
    unique
}

/// Statements of what the checks before `step` passed, and a note on what it leaves open.
fn rules_out_of(step: Step) -> (Vec<String>, Option<String>) {
    let own = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match step {
        Step::Go(step) => {
            let passed = [
                (GoStep::Parse, "Every certificate the server sent parses."),
                (GoStep::Leaf, "The leaf is within its validity period and has no critical extension Go does not know (Go checks the leaf first)."),
                (GoStep::Name, "Not a host-name problem: Go checks the name before it builds the chain."),
                (GoStep::Chain, "Not a trust problem: the chain reaches a root Go trusts (key usage is checked after the chain)."),
                (GoStep::KeyUsage, "The extended key usage allows a TLS server."),
            ];
            let out = passed
                .iter()
                .filter(|(s, _)| *s < step)
                .map(|(_, t)| t.to_string())
                .collect();
            let note = match step {
                GoStep::Parse => Some("Go stopped before verifying anything: trust, name and dates are not known yet.".to_string()),
                GoStep::Name => Some("Go checks the name before the chain: the chain may be refused too once the name is fixed.".to_string()),
                _ => None,
            };
            (out, note)
        }
        Step::Apple(AppleStep::Parse) => (
            Vec::new(),
            Some("A certificate could not be read, so trustd never judged the chain.".into()),
        ),
        Step::Apple(AppleStep::Trustd(reported)) => {
            let mut out = own(&["Every certificate the server sent parses (Go reads them before trustd)."]);
            out.extend(
                Subtype::ALL
                    .iter()
                    .filter(|s| **s < reported)
                    .map(|s| format!("Not {}: Apple reports that first.", apple_problem_in_full(*s))),
            );
            let later: Vec<&str> = Subtype::ALL
                .iter()
                .filter(|s| **s > reported)
                .map(|s| apple_problem(*s))
                .collect();
            let note = (!later.is_empty()).then(|| {
                format!(
                    "Apple reports one problem, the most important it found: {} may be wrong too.",
                    join_or(&later)
                )
            });
            (out, note)
        }
        Step::Apple(AppleStep::AfterTrustd(step)) => {
            let mut out = own(&["trustd accepted the chain: not a trust, key size, signature, compliance, usage or expiry problem by Apple's rules."]);
            if step > GoStep::Name {
                out.push("Not a host-name problem: Go checked the name after trustd.".into());
            }
            if step > GoStep::KeyUsage {
                out.push("The extended key usage allows a TLS server.".into());
            }
            (out, None)
        }
        Step::OpenSsl(step) => {
            let passed = [
                (OpenSslStep::LeafKey, "The leaf's key is strong enough (OpenSSL checks it first)."),
                (OpenSslStep::Chain, "Not a trust problem: OpenSSL built a chain to a trusted root before this check."),
                (OpenSslStep::Extensions, "The certificates' extensions and purposes are acceptable."),
                (OpenSslStep::KeyStrength, "Every key and signature digest is strong enough for security level 2."),
                (OpenSslStep::Name, "Not a host-name problem: OpenSSL checks the name before signatures and dates."),
                (OpenSslStep::SignaturesAndDates, "Every signature verifies and every certificate is within its validity period."),
            ];
            let out = match step {
                OpenSslStep::Before | OpenSslStep::Unknown => Vec::new(),
                _ => passed
                    .iter()
                    .filter(|(s, _)| *s < step)
                    .map(|(_, t)| t.to_string())
                    .collect(),
            };
            let note = (step == OpenSslStep::Before)
                .then(|| "Nothing was verified: the connection stopped before the chain was judged.".to_string());
            (out, note)
        }
        Step::BoringSsl(step) => {
            let passed = [
                (BoringStep::LeafKeyUsage, "The leaf's keyUsage allows it to sign the handshake."),
                (BoringStep::Chain, "Not a trust problem: BoringSSL accepted the chain (grpc checks ALPN and the name after the handshake)."),
                (BoringStep::Alpn, "The server selected ALPN h2."),
            ];
            let out = match step {
                BoringStep::Handshake => Vec::new(),
                _ => passed
                    .iter()
                    .filter(|(s, _)| *s < step)
                    .map(|(_, t)| t.to_string())
                    .collect(),
            };
            (out, None)
        }
        Step::Chrome(index) => {
            let out = CertStatus::ERRORS[..index.min(CertStatus::ERRORS.len())]
                .iter()
                .map(|(_, _, error)| {
                    format!("Not {}: Chrome would report {error} instead.", chrome_problem(error))
                })
                .collect();
            (out, None)
        }
        Step::GrpcGoAlpn { after_certificate: true } => (
            own(&["Not a certificate problem for this client: grpc-go checks ALPN after the certificate was accepted."]),
            None,
        ),
        Step::GrpcGoAlpn { after_certificate: false } => (
            Vec::new(),
            Some("The server refused h2 before sending its certificate: this text says nothing about the certificate.".into()),
        ),
        Step::NoCertificate => (
            own(&["Not a certificate problem: no certificate was exchanged."]),
            None,
        ),
        Step::TlsHandshake => (
            Vec::new(),
            Some("No certificate was verified: trust, the name and the dates are not known from this text.".into()),
        ),
        Step::AfterTls => (
            own(&["Not a certificate problem: the TLS handshake succeeded; what answered is not admin's gRPC service."]),
            None,
        ),
        Step::Config => (
            own(&["Not the server's certificate: flytectl stopped while reading caCertFilePath, before connecting."]),
            None,
        ),
    }
}

/// An Apple subtype's problem, for what its absence rules out.
fn apple_problem_in_full(subtype: Subtype) -> &'static str {
    match subtype {
        Subtype::KeySize => "a key Apple calls too small",
        Subtype::WeakHash => "a SHA-1 or MD5 signature",
        Subtype::Compliance => {
            "a compliance problem (a lifetime over 825 or 398 days, CA flags, critical extensions)"
        }
        Subtype::Trust => "a trust problem (the chain reaches a root the Mac trusts)",
        Subtype::Usage => "a key usage problem",
        Subtype::Name => "a host-name problem",
        Subtype::Expired => "an expired certificate",
    }
}

fn apple_problem(subtype: Subtype) -> &'static str {
    match subtype {
        Subtype::KeySize => "a key size",
        Subtype::WeakHash => "a signature algorithm",
        Subtype::Compliance => "a compliance rule",
        Subtype::Trust => "trust",
        Subtype::Usage => "a key usage",
        Subtype::Name => "the host name",
        Subtype::Expired => "the validity dates",
    }
}

fn chrome_problem(net_error: &str) -> &'static str {
    match net_error {
        "ERR_CERT_INVALID" => "a malformed certificate or a forbidden key usage",
        "ERR_CERT_AUTHORITY_INVALID" => "a trust problem",
        "ERR_CERT_COMMON_NAME_INVALID" => "a host-name problem",
        "ERR_CERTIFICATE_TRANSPARENCY_REQUIRED" => "missing Certificate Transparency",
        "ERR_CERT_WEAK_SIGNATURE_ALGORITHM" => "a SHA-1 signature",
        "ERR_CERT_WEAK_KEY" => "a weak key",
        "ERR_CERT_DATE_INVALID" => "an expired certificate",
        "ERR_CERT_REVOKED" => "a revoked certificate",
        _ => "that problem",
    }
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Where the text points: the host and port, the address dialled, the certificate's
/// name, a file.
#[derive(Default)]
struct Place {
    host: Option<String>,
    port: Option<u16>,
    host_source: Option<&'static str>,
    address: Option<String>,
    certificate: Option<String>,
    path: Option<String>,
    /// The OAuth URL's path, when the host comes from it.
    url_path: Option<String>,
}

impl Place {
    fn take(&mut self, hole: Option<Hole>, value: &str) {
        match hole {
            Some(Hole::Host) if self.host.is_none() => {
                let host = value.trim_end_matches('.').trim_matches(['[', ']']);
                self.host = Some(host.to_string());
                self.host_source = Some("the name the client dialled");
            }
            Some(Hole::Url) => {
                if let Some((host, port, path)) = split_url(value) {
                    self.host = Some(host);
                    self.port = port;
                    self.url_path = Some(path);
                    self.host_source = Some("the OAuth URL");
                }
            }
            Some(Hole::Peer) => {
                let address = value.split_once(':').map_or(value, |(scheme, rest)| {
                    if scheme.starts_with("ipv") {
                        rest
                    } else {
                        value
                    }
                });
                self.address = Some(address.to_string());
            }
            Some(Hole::Summary | Hole::QuotedName) => {
                self.certificate = Some(value.trim_matches('"').to_string());
            }
            Some(Hole::Path) => self.path = Some(value.to_string()),
            _ => {}
        }
    }

    /// flytectl names its endpoint (`dns:///host:port`) in its message, usually on the
    /// same line, else elsewhere in the paste.
    fn endpoint_in_record(&mut self, text: &[char], at: usize) {
        let start = text[..at]
            .iter()
            .rposition(|c| *c == '\n')
            .map_or(0, |p| p + 1);
        let end = text[at..]
            .iter()
            .position(|c| *c == '\n')
            .map_or(text.len(), |p| at + p);
        let record: String = text[start..end].iter().collect();
        if let Some((host, port, source)) = endpoint(&record) {
            (self.host, self.port) = (Some(host), port);
            self.host_source = Some(source);
        } else if let Some((host, port, _)) = endpoint(&text.iter().collect::<String>()) {
            (self.host, self.port) = (Some(host), port);
            self.host_source = Some("an endpoint named elsewhere in the paste");
        }
    }
}

/// The endpoint a client's message names around its TLS error: flytectl's
/// `dns:///host[:port]`, or urllib3's `HTTPSConnectionPool(host='…', port=…)`.
fn endpoint(text: &str) -> Option<(String, Option<u16>, &'static str)> {
    let host_chars = |c: &char| c.is_alphanumeric() || "-._:[]".contains(*c);
    if let Some(found) = text.to_ascii_lowercase().find("dns:///") {
        let authority: String = text[found + "dns:///".len()..]
            .chars()
            .take_while(host_chars)
            .collect();
        if let Some((host, port)) = split_authority(authority.trim_end_matches(['.', ':'])) {
            return Some((host, port, "flytectl's endpoint in the same message"));
        }
    }
    let pool = text.find("HTTPSConnectionPool(host='")?;
    let rest = &text[pool + "HTTPSConnectionPool(host='".len()..];
    let (host, rest) = rest.split_once('\'')?;
    let port = rest
        .strip_prefix(", port=")
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|p| p.parse().ok());
    (!host.is_empty() && host.chars().all(|c| host_chars(&c))).then(|| {
        (
            host.to_string(),
            port,
            "requests' connection pool in the same message",
        )
    })
}

/// `"https://host:port/path"` (quoted or not) → host, port, path.
fn split_url(url: &str) -> Option<(String, Option<u16>, String)> {
    let url = url.trim_matches('"');
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], rest[slash..].to_string()),
        None => (rest, String::new()),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = split_authority(authority)?;
    Some((host, port, path))
}

fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    if authority.is_empty() {
        return None;
    }
    if let Some(inner) = authority.strip_prefix('[') {
        let (host, rest) = inner.split_once(']')?;
        let port = rest.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((host.to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Some((host.to_string(), port.parse().ok())),
        _ => Some((authority.to_string(), None)),
    }
}

/// A DNS name or an IP address (Apple quotes a certificate's CN, often the host).
fn looks_like_host(name: &str) -> bool {
    name.parse::<std::net::IpAddr>().is_ok()
        || (name.contains('.')
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.*".contains(c)))
}

/// The commands to run next: the Flyte check for the endpoint (or `check` for a browser
/// or an identity provider), the CA file for a private CA, the config for a file error.
fn next_steps(
    sources: &[&Source],
    clients: &[PrintedBy],
    findings: &[FindingId],
    place: &Place,
) -> Vec<NextStep> {
    let mut steps = Vec::new();
    if sources.iter().any(|s| s.step == Step::Config) {
        let path = place.path.clone().unwrap_or_else(|| "PATH".into());
        steps.push(NextStep {
            command: format!("certready inspect {}", shell_word(&path)),
            purpose: "what caCertFilePath holds: certready reads PEM and DER and says what is wrong with it".into(),
        });
        steps.push(NextStep {
            command: "certready lint-config ~/.flyte/config.yaml".into(),
            purpose: "checks flytectl's config, caCertFilePath included".into(),
        });
        return steps;
    }
    let known_host = place.host.is_some();
    let mut target = place.host.clone().unwrap_or_else(|| "HOST".into());
    if target.contains(':') {
        target = format!("[{target}]");
    }
    if let Some(port) = place.port.filter(|p| *p != 443) {
        target = format!("{target}:{port}");
    }
    let target = shell_word(&target);
    let placeholder = if known_host {
        ""
    } else {
        " (replace HOST with the endpoint's host name)"
    };
    let identity_provider = place
        .url_path
        .as_deref()
        .is_some_and(|path| !path.is_empty() && path != "/oauth2/token");
    let flyte = clients.iter().any(|c| c.client != ClientName::Browser) && !identity_provider;
    let connect_to = match (&place.address, known_host) {
        (Some(address), false) => format!(" --connect-to {}", shell_word(address)),
        _ => String::new(),
    };
    if flyte {
        steps.push(NextStep {
            command: format!("certready flyte {target}{connect_to}"),
            purpose: format!("admin's certificate with every client's verdict, its gRPC readiness (ALPN, routing) and every host the login touches{placeholder}"),
        });
    } else {
        let whose = if identity_provider {
            "the identity provider's certificate"
        } else {
            "the certificate"
        };
        steps.push(NextStep {
            command: format!("certready check {target}{connect_to}"),
            purpose: format!("{whose} as served, every client's verdict and the fix{placeholder}"),
        });
    }
    let private_ca = findings.iter().take(3).any(|id| {
        matches!(
            id,
            FindingId::UntrustedRoot
                | FindingId::UntrustedChain
                | FindingId::SelfSignedLeaf
                | FindingId::IncompleteChain
        )
    });
    if private_ca {
        steps.push(NextStep {
            command: format!("certready check {target} --ca-file company-root.pem"),
            purpose: "if a company CA issued the certificate: with its root, certready judges each client as if the CA were installed where that client looks".into(),
        });
    }
    steps
}

/// `word` as one shell word.
fn shell_word(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._:/[]@%+=,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The known texts closest to the paste: each compared (normalised Levenshtein,
/// lower-case) with each of the paste's first lines, best first.
pub(super) fn closest(text: &[char], count: usize) -> Vec<Closest> {
    const LINES: usize = 12;
    const LINE_CHARS: usize = 300;
    let lines: Vec<String> = text
        .split(|c| *c == '\n')
        .filter(|l| l.iter().any(|c| !c.is_whitespace()))
        .take(LINES)
        .map(|l| {
            l.iter()
                .take(LINE_CHARS)
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .collect();
    if lines.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(f64, &Known)> = catalogue()
        .known
        .iter()
        .map(|known| {
            let display = known.display.to_ascii_lowercase();
            let best = lines
                .iter()
                .map(|line| strsim::normalized_levenshtein(line, &display))
                .fold(0.0, f64::max);
            (best, known)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
        .into_iter()
        .take(count)
        .map(|(similarity, known)| Closest {
            known_text: known.display.clone(),
            similarity: (similarity * 100.0).round() / 100.0,
            clients: known
                .sources
                .iter()
                .flat_map(|s| {
                    s.verifier.printers().iter().map(|p| PrintedBy {
                        client: p.client,
                        channel: p.channel,
                        verifier: s.verifier.name(),
                        condition: p.condition,
                    })
                })
                .collect(),
        })
        .collect()
}
