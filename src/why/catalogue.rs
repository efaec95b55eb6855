//! Every text certready's client models can print, read from the engines' own patterns
//! and tables (`verifiers::*`, `clients::texts`), each with the verifiers that print it,
//! where it sits among their checks and how to find its causes; and the wrappers the
//! clients put around them. A few texts no engine models (a plaintext port, a gRPC
//! request answered by plain HTTP) are listed here, marked as such.

use std::sync::OnceLock;

use crate::clients::texts as client_texts;
use crate::clients::{Channel, ClientName};
use crate::findings::FindingId;
use crate::flyte::grpc_health;
use crate::verifiers::apple::{self, Check, Stage, Subtype};
use crate::verifiers::chrome::CertStatus;
use crate::verifiers::go::{self, cert as go_cert, names as go_names};
use crate::verifiers::openssl::{self, text as openssl_text};
use crate::verifiers::pattern::Pattern;

use super::matcher::{Hole, Piece};

/// A verifier (or a layer of a client) that prints texts of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verifier {
    /// Go's crypto/x509 and crypto/tls (flytectl on Linux, and with caCertFilePath).
    Go,
    /// Apple's trustd as Go on macOS reports it (flytectl on macOS).
    Apple,
    /// OpenSSL 3 through Python's ssl (pyflyte's OAuth requests).
    OpenSsl,
    /// BoringSSL and grpc's own checks in grpcio (pyflyte's gRPC).
    BoringSsl,
    /// grpc-go (flytectl's gRPC channel) itself.
    GrpcGo,
    /// Go's crypto/tls before any certificate (either flytectl channel).
    GoTls,
    /// flyteidl reading caCertFilePath (flytectl's gRPC channel).
    Flyteidl,
    /// Chromium's verifier.
    Chrome,
}

/// A client channel a verifier speaks for, and when.
pub(super) struct Printer {
    pub client: ClientName,
    pub channel: Channel,
    pub condition: Option<&'static str>,
}

/// A `Printer` literal (promoted to a static, unlike a function's result).
macro_rules! printer {
    ($client:expr, $channel:expr, $condition:expr) => {
        Printer {
            client: $client,
            channel: $channel,
            condition: $condition,
        }
    };
}

impl Verifier {
    pub(super) fn name(self) -> &'static str {
        match self {
            Verifier::Go => "Go's crypto/x509",
            Verifier::Apple => "Apple's trustd (through Go)",
            Verifier::OpenSsl => "OpenSSL (requests, Python's ssl)",
            Verifier::BoringSsl => "grpcio (BoringSSL and grpc's checks)",
            Verifier::GrpcGo => "grpc-go",
            Verifier::GoTls => "Go's crypto/tls",
            Verifier::Flyteidl => "flyteidl (flytectl's caCertFilePath)",
            Verifier::Chrome => "Chrome",
        }
    }

    /// The channels it prints for, the most common first.
    pub(super) fn printers(self) -> &'static [Printer] {
        use Channel::{Grpc, Https, OauthHttp};
        use ClientName::{Browser, FlytectlLinux, FlytectlMacos, Pyflyte};
        match self {
            Verifier::Go => &[
                printer!(FlytectlLinux, Grpc, None),
                printer!(FlytectlLinux, OauthHttp, None),
                printer!(FlytectlMacos, Grpc, Some("with caCertFilePath")),
            ],
            Verifier::Apple => &[
                printer!(FlytectlMacos, OauthHttp, None),
                printer!(FlytectlMacos, Grpc, Some("without caCertFilePath")),
            ],
            Verifier::OpenSsl => &[printer!(Pyflyte, OauthHttp, None)],
            Verifier::BoringSsl => &[printer!(Pyflyte, Grpc, None)],
            Verifier::GrpcGo => &[
                printer!(FlytectlLinux, Grpc, None),
                printer!(FlytectlMacos, Grpc, None),
            ],
            Verifier::GoTls => &[
                printer!(FlytectlLinux, Grpc, None),
                printer!(FlytectlLinux, OauthHttp, None),
                printer!(FlytectlMacos, Grpc, None),
                printer!(FlytectlMacos, OauthHttp, None),
            ],
            Verifier::Flyteidl => &[
                printer!(FlytectlLinux, Grpc, Some("with caCertFilePath")),
                printer!(FlytectlMacos, Grpc, Some("with caCertFilePath")),
            ],
            Verifier::Chrome => &[printer!(Browser, Https, None)],
        }
    }
}

/// Go's verification in its order: crypto/tls parses every certificate, `Verify`
/// checks the leaf (critical extensions, validity), the host name, builds the chain,
/// checks the extended key usage; crypto/tls then checks the leaf's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum GoStep {
    Parse,
    Leaf,
    Name,
    Chain,
    KeyUsage,
    LeafKey,
}

/// Where an Apple refusal comes from: Go's parsing first, then trustd (which reports
/// the highest-priority [`Subtype`] of everything it found), then Go's own checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AppleStep {
    Parse,
    Trustd(Subtype),
    AfterTrustd(GoStep),
}

/// OpenSSL's `X509_verify_cert` in its order (crypto/x509/x509_vfy.c `verify_chain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum OpenSslStep {
    /// Python refuses the name before connecting, or the certificate does not parse.
    Before,
    LeafKey,
    Chain,
    Extensions,
    KeyStrength,
    Name,
    SignaturesAndDates,
    NameConstraints,
    Unknown,
}

/// grpcio's handshake in its order: the leaf's keyUsage (TLS 1.3), the chain, then
/// after the handshake grpc's ALPN check and its host-name verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum BoringStep {
    Handshake,
    LeafKeyUsage,
    Chain,
    Alpn,
    Name,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Go(GoStep),
    Apple(AppleStep),
    OpenSsl(OpenSslStep),
    BoringSsl(BoringStep),
    /// Index in Chrome's `MapCertStatusToNetError` order.
    Chrome(usize),
    /// grpc-go's ALPN check: after the certificate was accepted, or (the server's alert)
    /// before any certificate was sent.
    GrpcGoAlpn {
        after_certificate: bool,
    },
    /// The connection failed before or around TLS: no certificate was judged.
    NoCertificate,
    /// The TLS stack refused during the handshake, before the verifier ran.
    TlsHandshake,
    /// TLS worked; what failed came after it.
    AfterTls,
    /// Reading flytectl's own configuration, before any connection.
    Config,
}

/// How to find the findings behind a text, the way the client model does.
#[derive(Debug, Clone)]
pub(super) enum Causes {
    /// `clients::go`'s mapping, of the text inside `context` (the wrapping that carries
    /// its meaning, such as "failed to parse certificate").
    Go(Option<Pattern>),
    /// `clients::apple`'s mapping of the stages that print the text.
    Apple(Vec<Stage>),
    /// `clients::pyflyte`'s mapping of an OpenSSL or BoringSSL text.
    OpenSsl,
    /// BoringSSL's queued error decides (see `advice::queue_causes`), else as OpenSsl.
    BoringQueue,
    /// `clients::browser`'s mapping of the net error.
    Chrome,
    Fixed(&'static [FindingId]),
}

pub(super) struct Source {
    pub verifier: Verifier,
    pub causes: Causes,
    pub step: Step,
}

/// A text certready knows.
pub(super) struct Known {
    pub pieces: Vec<Piece>,
    /// The text with placeholders for its holes.
    pub display: String,
    pub sources: Vec<Source>,
    /// Findings the text itself points at beyond the models' mapping.
    pub extra: &'static [FindingId],
    /// What to know about this text.
    pub note: Option<&'static str>,
}

/// Which printers a wrapper leaves.
#[derive(Debug, Clone, Copy)]
pub(super) enum Restrict {
    Verifiers(&'static [Verifier]),
    Clients(&'static [ClientName], Channel),
}

/// A layer a client wraps a text in; it comes right before the text.
pub(super) struct Wrapper {
    pub pieces: Vec<Piece>,
    pub restrict: Restrict,
}

pub(super) struct Catalogue {
    pub known: Vec<Known>,
    pub wrappers: Vec<Wrapper>,
}

/// The catalogue, built once from the engines' tables.
pub(super) fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(build)
}

/// A pattern's pieces with `holes` (one per variable part) between them; a trailing
/// variable part with no hole given is left open (a wrapper's place for the text).
fn pieces(pattern: Pattern, holes: &[Hole]) -> Vec<Piece> {
    let mut out = Vec::new();
    for (index, literal) in pattern.0.iter().enumerate() {
        if !literal.is_empty() {
            out.push(Piece::lit(literal));
        }
        if let Some(hole) = holes.get(index) {
            out.push(Piece::Hole(*hole));
        }
    }
    debug_assert!(
        holes.len() + 1 == pattern.0.len()
            || (holes.len() + 2 == pattern.0.len() && pattern.0.last() == Some(&"")),
        "{pattern:?} with {holes:?}"
    );
    out
}

/// `outer`'s pieces with its last (open) part filled by `inner`.
fn nest(outer: Pattern, outer_holes: &[Hole], inner: Vec<Piece>) -> Vec<Piece> {
    let mut out = pieces(outer, outer_holes);
    out.extend(inner);
    out
}

fn display(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Lit(literal) => literal.text.clone(),
            Piece::Hole(hole) => hole.placeholder().to_string(),
            Piece::OneOf(_) => "RESULT".to_string(),
        })
        .collect()
}

struct Builder {
    known: Vec<Known>,
}

impl Builder {
    /// Adds a known text, or the sources to the known text of the same words.
    fn add(&mut self, pieces: Vec<Piece>, sources: Vec<Source>) -> &mut Known {
        let display = display(&pieces);
        if let Some(index) = self.known.iter().position(|k| k.display == display) {
            let known = &mut self.known[index];
            for source in sources {
                match known
                    .sources
                    .iter_mut()
                    .find(|s| s.verifier == source.verifier)
                {
                    Some(existing) => {
                        if let (Causes::Apple(stages), Causes::Apple(more)) =
                            (&mut existing.causes, source.causes)
                        {
                            stages.extend(more);
                        }
                    }
                    None => known.sources.push(source),
                }
            }
            return known;
        }
        self.known.push(Known {
            pieces,
            display,
            sources,
            extra: &[],
            note: None,
        });
        self.known.last_mut().expect("just pushed")
    }
}

fn go(step: GoStep, context: Option<Pattern>) -> Source {
    Source {
        verifier: Verifier::Go,
        causes: Causes::Go(context),
        step: Step::Go(step),
    }
}

fn apple_source(step: AppleStep, stages: &[Stage]) -> Source {
    Source {
        verifier: Verifier::Apple,
        causes: Causes::Apple(stages.to_vec()),
        step: Step::Apple(step),
    }
}

fn fixed(verifier: Verifier, step: Step, causes: &'static [FindingId]) -> Source {
    Source {
        verifier,
        causes: Causes::Fixed(causes),
        step,
    }
}

fn build() -> Catalogue {
    let mut b = Builder { known: Vec::new() };
    add_go(&mut b);
    add_apple(&mut b);
    add_openssl(&mut b);
    add_boringssl(&mut b);
    add_grpc_and_transport(&mut b);
    add_chrome(&mut b);
    Catalogue {
        known: b.known,
        wrappers: wrappers(),
    }
}

/// crypto/x509's and crypto/tls's texts; those Go on macOS prints around trustd too
/// carry Apple's stages.
fn add_go(b: &mut Builder) {
    use GoStep::*;
    let go_parse = Some(go::PARSE_FAILED);
    let both = |step: GoStep, apple_step: AppleStep, stages: &[Stage]| {
        vec![go(step, None), apple_source(apple_step, stages)]
    };
    let tls: [(Pattern, &[Hole], Vec<Source>); 4] = [
        (
            go::NO_CERTIFICATE,
            &[],
            both(Parse, AppleStep::Parse, &[Stage::GoParse]),
        ),
        (
            go::RSA_KEY_TOO_LARGE,
            &[Hole::Count],
            both(Parse, AppleStep::Parse, &[Stage::GoParse]),
        ),
        (
            go::INSECURE_RSA_LEAF,
            &[Hole::Count],
            both(
                LeafKey,
                AppleStep::AfterTrustd(LeafKey),
                &[Stage::GoLeafKey],
            ),
        ),
        (
            go::UNSUPPORTED_LEAF_KEY,
            &[Hole::Word],
            both(
                LeafKey,
                AppleStep::AfterTrustd(LeafKey),
                &[Stage::GoLeafKey],
            ),
        ),
    ];
    for (pattern, holes, sources) in tls {
        b.add(pieces(pattern, holes), sources);
    }
    b.add(
        pieces(go::INCOMPATIBLE_KEY_USAGE, &[]),
        both(
            KeyUsage,
            AppleStep::AfterTrustd(KeyUsage),
            &[Stage::GoKeyUsage],
        ),
    );
    let not_trusted = Stage::Trustd {
        check: Check::AnchorTrusted,
        cert: 0,
    };
    let mut hinted = pieces(go::UNKNOWN_AUTHORITY, &[]);
    hinted.extend(pieces(
        go::UNKNOWN_AUTHORITY_HINT,
        &[Hole::Quoted, Hole::QuotedName],
    ));
    // Go adds a hint; through trustd the text is bare.
    b.add(hinted, vec![go(Chain, None)]);
    b.add(
        pieces(go::UNKNOWN_AUTHORITY, &[]),
        both(Chain, AppleStep::Trustd(Subtype::Trust), &[not_trusted]),
    );
    let go_only: [(Pattern, &[Hole], GoStep); 9] = [
        (go::SIGNATURE_CHECK_LIMIT, &[], Chain),
        (go::UNHANDLED_CRITICAL_EXTENSION, &[], Leaf),
        (go::NOT_YET_VALID, &[Hole::Time, Hole::Time], Leaf),
        (go::EXPIRED, &[Hole::Time, Hole::Time], Leaf),
        (go::NOT_AUTHORIZED_TO_SIGN, &[], Chain),
        (go::PATH_LENGTH_EXCEEDED, &[], Chain),
        (go_names::CANNOT_PARSE_DNS_NAME, &[Hole::Quoted], Chain),
        (go_names::UNKNOWN_ERROR, &[], Chain),
        (go_names::NOT_AUTHORIZED_FOR_NAME, &[Hole::Rest], Chain),
    ];
    for (pattern, holes, step) in go_only {
        b.add(pieces(pattern, holes), vec![go(step, None)]);
    }
    // The host-name texts: Go's own check, and trustd's mismatch mapped by Go.
    let hostname_stages = [
        Stage::Trustd {
            check: Check::SslHostname,
            cert: 0,
        },
        Stage::GoHostname,
    ];
    let names: [(Pattern, &[Hole]); 6] = [
        (go_names::LEGACY_COMMON_NAME, &[]),
        (go_names::NO_IP_SANS, &[Hole::Host]),
        (go_names::TOO_MANY_IP_SANS, &[Hole::Count, Hole::Host]),
        (go_names::TOO_MANY_NAMES, &[Hole::Count, Hole::Host]),
        (go_names::NO_NAMES, &[Hole::Host]),
        (go_names::VALID_FOR, &[Hole::Names, Hole::Host]),
    ];
    for (pattern, holes) in names {
        b.add(
            pieces(pattern, holes),
            both(Name, AppleStep::Trustd(Subtype::Name), &hostname_stages),
        );
    }
    // Parse errors: after "tls: failed to parse certificate from server: " (both), or
    // after "tls: failed to verify certificate: " for a certificate trustd put on the
    // path that Go cannot parse.
    let holes_of = |pattern: &Pattern| -> &'static [Hole] {
        if *pattern == go_cert::DUPLICATE_EXTENSION {
            &[Hole::Quoted]
        } else if pattern.0.len() == 2 {
            &[Hole::Count]
        } else {
            &[]
        }
    };
    let parse_errors = go_cert::PATTERNS
        .iter()
        .chain(go_cert::EXTENSION_PARSE_ERRORS.iter().map(|(_, p)| p));
    for pattern in parse_errors {
        let known = b.add(
            pieces(*pattern, holes_of(pattern)),
            vec![
                go(Parse, go_parse),
                apple_source(AppleStep::Parse, &[Stage::GoParse]),
            ],
        );
        known.extra = &[FindingId::MalformedCertificate];
    }
}

/// root_darwin.go's forms around trustd's descriptions, one per check: the subtype's
/// text around the certificate's summary, or the status's message when it has none.
fn add_apple(b: &mut Builder) {
    for &check in Check::ALL {
        let status = check.status();
        if status == apple::ERR_SEC_HOST_NAME_MISMATCH || status == apple::ERR_SEC_NOT_TRUSTED {
            continue; // Go's own texts (see `add_go`)
        }
        let outer = if status == apple::ERR_SEC_CERTIFICATE_EXPIRED {
            apple::DARWIN_EXPIRED
        } else {
            apple::DARWIN_ERROR
        };
        let subtype = check.subtype();
        let stage = Stage::Trustd { check, cert: 0 };
        let described = nest(outer, &[], pieces(subtype.pattern(), &[Hole::Summary]));
        let plain = nest(outer, &[], vec![Piece::lit(apple::status_message(status))]);
        for text in [described, plain] {
            b.add(
                text,
                vec![apple_source(AppleStep::Trustd(subtype), &[stage])],
            );
        }
    }
    for pattern in [apple::INVALID_LEAF, apple::INVALID_CERTIFICATE] {
        b.add(
            pieces(pattern, &[]),
            vec![apple_source(AppleStep::Parse, &[Stage::AppleParse])],
        );
    }
}

/// The verify results' texts of both libraries, and Python's own.
fn add_openssl(b: &mut Builder) {
    let mut reasons: Vec<(String, Vec<Source>)> = Vec::new();
    for code in 1..=255 {
        for (text, source) in [
            (
                openssl_text::openssl(code),
                Source {
                    verifier: Verifier::OpenSsl,
                    causes: Causes::OpenSsl,
                    step: Step::OpenSsl(openssl_step(code)),
                },
            ),
            (
                openssl_text::boringssl(code),
                Source {
                    verifier: Verifier::BoringSsl,
                    causes: Causes::OpenSsl,
                    step: Step::BoringSsl(boring_step(code)),
                },
            ),
        ] {
            match reasons.iter_mut().find(|(t, _)| t == text) {
                Some((_, sources)) => {
                    if !sources.iter().any(|s| s.verifier == source.verifier) {
                        sources.push(source);
                    }
                }
                None => reasons.push((text.to_string(), vec![source])),
            }
        }
    }
    for (text, sources) in reasons {
        b.add(vec![Piece::lit(&text)], sources);
    }
    let ossl = |step| Source {
        verifier: Verifier::OpenSsl,
        causes: Causes::OpenSsl,
        step: Step::OpenSsl(step),
    };
    for pattern in [openssl::HOSTNAME_MISMATCH, openssl::IP_ADDRESS_MISMATCH] {
        b.add(
            pieces(pattern, &[Hole::Host]),
            vec![ossl(OpenSslStep::Name)],
        );
    }
    b.add(
        pieces(openssl::BAD_SERVER_HOSTNAME, &[]),
        vec![ossl(OpenSslStep::Before)],
    );
    for pattern in [openssl::NO_CERTIFICATE, openssl::UNPARSABLE] {
        let known = b.add(
            pieces(pattern, &[]),
            vec![
                ossl(OpenSslStep::Before),
                Source {
                    verifier: Verifier::BoringSsl,
                    causes: Causes::OpenSsl,
                    step: Step::BoringSsl(BoringStep::Handshake),
                },
            ],
        );
        known.extra = &[FindingId::MalformedCertificate];
        known.note = Some("certready's own words: the real client fails while reading the server's Certificate message, with an error of its TLS library");
    }
}

/// Where an OpenSSL 3 verify result comes from (`verify_chain`'s order).
fn openssl_step(code: u32) -> OpenSslStep {
    match code {
        66 => OpenSslStep::LeafKey,
        2 | 18..=22 | 27..=29 | 55 => OpenSslStep::Chain,
        24..=26 | 32 | 34 | 37 | 41 | 79..=94 => OpenSslStep::Extensions,
        67 | 68 => OpenSslStep::KeyStrength,
        62..=64 => OpenSslStep::Name,
        4 | 6 | 7 | 9 | 10 | 13 | 14 => OpenSslStep::SignaturesAndDates,
        47..=53 => OpenSslStep::NameConstraints,
        _ => OpenSslStep::Unknown,
    }
}

/// Where a BoringSSL verify result comes from.
fn boring_step(code: u32) -> BoringStep {
    match code {
        65 => BoringStep::Handshake,
        _ => BoringStep::Chain,
    }
}

/// grpcio's handshake errors: BoringSSL's oldest queued error
/// (`error:HEX:LIBRARY:OPENSSL_internal:REASON`, `ERR_error_string_n`'s form), then the
/// verify result's text and ": OK"; grpc's checks after the handshake.
fn add_boringssl(b: &mut Builder) {
    let reasons: Vec<String> = (0..=255)
        .map(openssl_text::boringssl)
        .filter(|t| *t != "ok")
        .map(str::to_string)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let prefix = openssl::HANDSHAKE_FAILED.0[0];
    let separator = openssl::HANDSHAKE_FAILED.0[1];
    let ok = openssl::HANDSHAKE_FAILED.0[2];
    let queue = || {
        vec![
            Piece::lit("error:"),
            Piece::Hole(Hole::Hex),
            Piece::lit(":"),
            Piece::Hole(Hole::Words),
            Piece::lit(":OPENSSL_internal:"),
            Piece::Hole(Hole::Token),
        ]
    };
    let source = || Source {
        verifier: Verifier::BoringSsl,
        causes: Causes::BoringQueue,
        step: Step::BoringSsl(BoringStep::Handshake),
    };
    for with_prefix in [true, false] {
        for tail in [2, 1, 0] {
            let mut text = Vec::new();
            if with_prefix {
                text.push(Piece::lit(prefix));
            }
            text.extend(queue());
            if tail >= 1 {
                text.push(Piece::lit(separator));
                text.push(Piece::one_of(&reasons));
            }
            if tail == 2 {
                text.push(Piece::lit(ok));
            }
            b.add(text, vec![source()]);
        }
    }
    b.add(
        vec![Piece::lit("OPENSSL_internal:"), Piece::Hole(Hole::Token)],
        vec![source()],
    );
    let after_handshake = |step| Source {
        verifier: Verifier::BoringSsl,
        causes: Causes::OpenSsl,
        step: Step::BoringSsl(step),
    };
    let verifier_failed = nest(
        openssl::VERIFIER_FAILED,
        &[],
        vec![Piece::lit(openssl::HOSTNAME_CHECK_FAILED)],
    );
    for text in [
        verifier_failed,
        vec![Piece::lit(openssl::HOSTNAME_CHECK_FAILED)],
    ] {
        b.add(text, vec![after_handshake(BoringStep::Name)]);
    }
    b.add(
        pieces(openssl::CALL_HOST_MISMATCH, &[]),
        vec![fixed(
            Verifier::BoringSsl,
            Step::BoringSsl(BoringStep::Name),
            &[FindingId::HostnameMismatch, FindingId::CnOnly],
        )],
    );
    b.add(
        vec![Piece::lit(client_texts::GRPCIO_MISSING_ALPN)],
        vec![fixed(
            Verifier::BoringSsl,
            Step::BoringSsl(BoringStep::Alpn),
            client_texts::ALPN_CAUSES,
        )],
    );
}

/// grpc-go's ALPN texts and its answer to plain HTTP; flyteidl's CA file error; and the
/// texts of a connection that is not TLS at all, which no engine models.
fn add_grpc_and_transport(b: &mut Builder) {
    let alpn = |after_certificate| {
        vec![fixed(
            Verifier::GrpcGo,
            Step::GrpcGoAlpn { after_certificate },
            client_texts::ALPN_CAUSES,
        )]
    };
    b.add(
        vec![Piece::lit(client_texts::GRPC_GO_NO_APPLICATION_PROTOCOL)],
        alpn(false),
    );
    // The whole text, and its first sentence (grpc-go before 1.70 stops there).
    let missing = client_texts::GRPC_GO_MISSING_ALPN;
    let first_sentence = missing.split_once(". ").map_or(missing, |(first, _)| first);
    for text in [missing, first_sentence] {
        b.add(vec![Piece::lit(text)], alpn(true));
    }
    let status = grpc_health::UNEXPECTED_HTTP_STATUS;
    let not_routed = || {
        vec![fixed(
            Verifier::GrpcGo,
            Step::AfterTls,
            &[FindingId::GrpcNotRouted],
        )]
    };
    b.add(
        pieces(status, &[Hole::Token, Hole::Words, Hole::Rest]),
        not_routed(),
    );
    // Without grpc's "rpc error: code = … desc = " around it.
    b.add(
        vec![
            Piece::lit(status.0[1].trim_start_matches(" desc = ")),
            Piece::Hole(Hole::Words),
            Piece::lit(status.0[2]),
            Piece::Hole(Hole::Rest),
        ],
        not_routed(),
    );
    b.add(
        pieces(client_texts::UNREADABLE_CA_FILE, &[Hole::Path]),
        vec![fixed(
            Verifier::Flyteidl,
            Step::Config,
            &[
                FindingId::CaCertFileUnusable,
                FindingId::MalformedCertificate,
            ],
        )],
    );
    // Not modelled by any engine: what the clients say when the port does not speak
    // TLS (plaintext), or speaks TLS to a client configured for plaintext.
    let plaintext: &'static [FindingId] = &[FindingId::PlaintextEndpoint];
    b.add(
        vec![Piece::lit(
            "tls: first record does not look like a TLS handshake",
        )],
        vec![fixed(Verifier::GoTls, Step::NoCertificate, plaintext)],
    );
    b.add(
        vec![Piece::lit(
            "[SSL: WRONG_VERSION_NUMBER] wrong version number",
        )],
        vec![fixed(Verifier::OpenSsl, Step::NoCertificate, plaintext)],
    );
    for text in [
        "error reading server preface: http2: frame too large",
        "error reading server preface: EOF",
    ] {
        b.add(
            vec![Piece::lit(text)],
            vec![fixed(
                Verifier::GrpcGo,
                Step::NoCertificate,
                &[FindingId::InsecureButTls],
            )],
        );
    }
}

/// Chrome's verifier's net errors, and two of its TLS stack's (BoringSSL refuses before
/// any verification: a leaf whose keyUsage cannot sign the TLS 1.3 handshake; a server
/// key it offers no signature scheme for, a port that is not TLS, other protocol errors).
fn add_chrome(b: &mut Builder) {
    for (index, (_, _, net_error)) in CertStatus::ERRORS.iter().enumerate() {
        b.add(
            vec![Piece::lit(net_error)],
            vec![Source {
                verifier: Verifier::Chrome,
                causes: Causes::Chrome,
                step: Step::Chrome(index),
            }],
        );
    }
    let handshake: [(&str, &'static [FindingId], &'static str); 3] = [
        (
            crate::clients::ERR_CERT_REVOKED,
            &[FindingId::Revoked],
            "Chrome refused a certificate its issuer revoked: the server stapled an OCSP response saying so (or Chrome's CRLSet lists it). Go, grpcio and requests do not check revocation and still connect. Replace the certificate.",
        ),
        (
            crate::verifiers::chrome::ERR_SSL_KEY_USAGE_INCOMPATIBLE,
            &[FindingId::IncompatibleKeyUsage, FindingId::LeafIsCa],
            "Chrome's TLS stack refused the first certificate sent before verifying the chain: its keyUsage does not allow signing the handshake.",
        ),
        (
            crate::verifiers::chrome::ERR_SSL_PROTOCOL_ERROR,
            &[FindingId::PlaintextEndpoint],
            "Chrome's TLS stack failed the handshake before any certificate was verified: a server key it offers no signature scheme for (Ed25519, ECDSA P-521), a port that does not speak TLS, or another protocol error.",
        ),
    ];
    for (net_error, causes, note) in handshake {
        b.add(
            vec![Piece::lit(net_error)],
            vec![fixed(Verifier::Chrome, Step::TlsHandshake, causes)],
        )
        .note = Some(note);
    }
}

fn wrappers() -> Vec<Wrapper> {
    use ClientName::{Browser, FlytectlLinux, FlytectlMacos, Pyflyte};
    const FLYTECTL: &[ClientName] = &[FlytectlLinux, FlytectlMacos];
    const GO_OR_APPLE: &[Verifier] = &[Verifier::Go, Verifier::Apple];
    let open = |pattern: Pattern, holes: &[Hole]| pieces(pattern, holes);
    vec![
        Wrapper {
            pieces: open(go::VERIFY_FAILED, &[]),
            restrict: Restrict::Verifiers(GO_OR_APPLE),
        },
        Wrapper {
            pieces: open(go::PARSE_FAILED, &[]),
            restrict: Restrict::Verifiers(GO_OR_APPLE),
        },
        Wrapper {
            pieces: open(client_texts::GRPC_HANDSHAKE_FAILED, &[]),
            restrict: Restrict::Clients(FLYTECTL, Channel::Grpc),
        },
        Wrapper {
            pieces: open(client_texts::OAUTH_POST, &[Hole::Url]),
            restrict: Restrict::Clients(FLYTECTL, Channel::OauthHttp),
        },
        // net/http names the method: the metadata is read with GET.
        Wrapper {
            pieces: vec![
                Piece::lit("Get "),
                Piece::Hole(Hole::Url),
                Piece::lit(client_texts::OAUTH_POST.0[1]),
            ],
            restrict: Restrict::Clients(FLYTECTL, Channel::OauthHttp),
        },
        Wrapper {
            pieces: open(client_texts::PYTHON_VERIFY_FAILED, &[]),
            restrict: Restrict::Clients(&[Pyflyte], Channel::OauthHttp),
        },
        Wrapper {
            pieces: open(openssl::GRPC_DETAILS, &[Hole::Peer]),
            restrict: Restrict::Clients(&[Pyflyte], Channel::Grpc),
        },
        Wrapper {
            pieces: open(client_texts::NET_ERROR, &[]),
            restrict: Restrict::Clients(&[Browser], Channel::Https),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(pattern: &Pattern) -> bool {
        let wanted: String = pattern
            .0
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("");
        catalogue().known.iter().any(|k| {
            let literals: String = k
                .pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Lit(l) => Some(l.text.as_str()),
                    _ => None,
                })
                .collect();
            literals.contains(&wanted)
        })
    }

    /// A text an engine adds to its list is one `why` knows (or a wrapper).
    #[test]
    fn every_engine_pattern_is_known() {
        let wrappers = [go::VERIFY_FAILED, go::PARSE_FAILED];
        for pattern in go::PATTERNS
            .iter()
            .chain(go_names::PATTERNS)
            .chain(go_cert::PATTERNS)
            .filter(|p| !wrappers.contains(p))
        {
            assert!(has(pattern), "{pattern:?} is not in why's catalogue");
        }
    }

    #[test]
    fn every_known_text_starts_with_a_literal_and_says_who_prints_it() {
        for known in &catalogue().known {
            assert!(
                matches!(known.pieces.first(), Some(Piece::Lit(_))),
                "{}",
                known.display
            );
            assert!(!known.sources.is_empty(), "{}", known.display);
        }
    }
}
