//! The rules: from parsed certificates, chain structure and trust verdicts to findings.

use std::net::IpAddr;

use rustls_pki_types::{DnsName, ServerName};

use crate::chain::{Cert, Malformed, Structure};
use crate::findings::{Finding, FindingId, Severity};
use crate::target::Host;
use crate::trust::{self, StoreKind, TrustStore, TrustVerdict};

pub const DAY: i64 = 86_400;
/// Apple: leaves whose notBefore is on or after 2019-07-01 may live at most 825 days + 1 h
/// when they chain to a non-system anchor (HT210176).
pub const APPLE_825_CUTOVER: i64 = 1_561_939_200;
pub const MAX_825_SECONDS: i64 = 825 * DAY + 3_600;
/// Apple and Chrome: publicly trusted leaves issued from 2020-09-01 may live 398 days.
pub const PUBLIC_398_CUTOVER: i64 = 1_598_918_400;
pub const MAX_398_SECONDS: i64 = 398 * DAY;

pub const INGRESS_FAKE_CN: &str = "Kubernetes Ingress Controller Fake Certificate";

/// The outcome of `--key` / a Secret's `tls.key` against the leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    Matches,
    Mismatch,
}

pub struct Context<'a> {
    /// How many certificates were presented (more than were analysed, past the limit).
    pub presented: usize,
    pub certs: &'a [Cert],
    pub malformed: &'a [Malformed],
    pub structure: &'a Structure,
    pub stores: &'a [TrustStore],
    pub trust: &'a [TrustVerdict],
    pub hostname: Option<&'a Host>,
    /// The instant validity is judged at (Unix seconds).
    pub at: i64,
    pub warn_days: u32,
    pub key: Option<KeyCheck>,
}

pub fn evaluate(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for bad in ctx.malformed {
        out.push(Finding::new(
            FindingId::MalformedCertificate,
            Some(bad.position),
            format!("Certificate #{} {}.", bad.position, bad.error),
        ));
    }
    if ctx.presented > crate::chain::MAX_CHAIN_CERTIFICATES {
        out.push(Finding::new(
            FindingId::TooManyCertificates,
            None,
            format!(
                "The server presents {} certificates; certready analysed the first {}. Real chains need 2 to 4; clients bound path length (rustls/webpki and others give up long before this).",
                ctx.presented,
                crate::chain::MAX_CHAIN_CERTIFICATES
            ),
        ));
    }
    if ctx.certs.is_empty() {
        return out;
    }
    let leaf = &ctx.certs[ctx.structure.leaf];
    let leaf_pos = Some(leaf.info.position);
    let path: Vec<&Cert> = ctx.structure.path.iter().map(|&i| &ctx.certs[i]).collect();
    let top = path.last().copied().unwrap_or(leaf);
    let trusted_by = |kind: StoreKind| ctx.trust.iter().any(|v| v.store == kind && v.trusted);
    let any_trusted = ctx.trust.iter().any(|v| v.trusted);
    let leaf_anchored = ctx.trust.iter().any(|v| v.trusted && v.leaf_is_anchor);

    structure_findings(ctx, &mut out);

    if leaf.info.self_signed {
        let finding = Finding::new(
            FindingId::SelfSignedLeaf,
            leaf_pos,
            format!(
                "The server certificate \"{}\" is self-signed: it vouches for itself, so no client trusts it unless that exact certificate is installed as trusted.",
                leaf.info.display_name()
            ),
        );
        out.push(if leaf_anchored {
            finding.severity(Severity::Warning)
        } else {
            finding
        });
    } else if !any_trusted && ctx.structure.top_self_signed {
        let anchored = ctx.stores.iter().any(|s| s.anchor_certs.contains(&top.der))
            || trust::anchor_named(ctx.stores, &top.info.facts.subject_der).is_some();
        if !anchored {
            out.push(Finding::new(
                FindingId::UntrustedRoot,
                Some(top.info.position),
                format!(
                    "The chain ends in the root \"{}\", which none of the evaluated stores ({}) trusts.",
                    top.info.subject,
                    store_names(ctx.stores)
                ),
            ));
        }
    } else if !ctx.structure.top_self_signed
        && path
            .iter()
            .any(|c| c.info.facts.subject_der == top.info.facts.issuer_der)
    {
        let issuer = path
            .iter()
            .find(|c| c.info.facts.subject_der == top.info.facts.issuer_der)
            .map(|c| c.info.position)
            .unwrap_or_default();
        out.push(Finding::new(
            FindingId::ChainLoop,
            Some(top.info.position),
            format!(
                "The certificates issue each other in a loop: \"{}\" (#{}) names #{issuer} as its issuer, which is already on the path. No root is ever reached.",
                top.info.display_name(),
                top.info.position
            ),
        ));
    } else if !ctx.structure.top_self_signed
        && ctx.presented <= crate::chain::MAX_CHAIN_CERTIFICATES
        && trust::anchor_named(ctx.stores, &top.info.facts.issuer_der).is_none()
    {
        let mut message = format!(
            "The issuer of \"{}\" — \"{}\" — was not sent and is not a trust anchor in any evaluated store ({}).",
            top.info.display_name(),
            top.info.issuer,
            store_names(ctx.stores)
        );
        let mut fix = FindingId::IncompleteChain.kind().remediation.to_string();
        if let Some(url) = top.info.ca_issuers_urls.first() {
            message.push_str(&format!(" Its AIA caIssuers URL is {url}."));
            fix = format!(
                "Download the missing intermediate \"{}\" from {url} (convert DER with `openssl x509 -inform DER -in FILE -out intermediate.pem`) and append it after the leaf in the served certificate file. Browsers fetch it themselves, which is why the site may work in a browser while Go, grpcio and curl fail.",
                top.info.issuer
            );
        }
        out.push(
            Finding::new(FindingId::IncompleteChain, Some(top.info.position), message)
                .remediation(fix),
        );
    }

    if let Some(host) = ctx.hostname {
        name_findings(leaf, host, &mut out);
    } else if !leaf.info.facts.has_san_extension {
        out.push(cn_only(leaf));
    }

    validity_findings(ctx, &path, &mut out);

    for cert in &path {
        if !cert.info.unknown_critical_extensions.is_empty() {
            out.push(Finding::new(
                FindingId::UnknownCriticalExtension,
                Some(cert.info.position),
                format!(
                    "\"{}\" carries a critical extension no client understands ({}); every client must refuse it (Go: \"x509: unhandled critical extension\").",
                    cert.info.display_name(),
                    cert.info.unknown_critical_extensions.join(", ")
                ),
            ));
        }
        // A root's own signature is never checked by anyone: it is trusted by its key.
        let is_root = cert.info.self_signed && path.len() > 1;
        if let Some(hash) = cert.info.facts.weak_hash.filter(|_| !is_root) {
            out.push(Finding::new(
                FindingId::WeakSignatureSha1,
                Some(cert.info.position),
                format!(
                    "\"{}\" is signed with {hash} ({}); Go, Apple, browsers and OpenSSL refuse it.",
                    cert.info.display_name(),
                    cert.info.signature_algorithm
                ),
            ));
        }
        if let Some(bits) = cert.info.facts.rsa_bits.filter(|bits| *bits < 2048) {
            out.push(Finding::new(
                FindingId::WeakRsaKey,
                Some(cert.info.position),
                format!(
                    "\"{}\" has a {bits}-bit RSA key; Apple refuses keys under 2048 bits (\"is using a broken key size\").",
                    cert.info.display_name()
                ),
            ));
        }
    }

    lifetime_findings(
        leaf,
        leaf_anchored,
        trusted_by(StoreKind::Mozilla),
        &mut out,
    );

    let facts = &leaf.info.facts;
    if facts.eku_present && !facts.eku_server_auth && !facts.eku_any {
        out.push(Finding::new(
            FindingId::MissingServerAuthEku,
            leaf_pos,
            format!(
                "The leaf's extended key usage ({}) does not include serverAuth; Go reports \"x509: certificate specifies an incompatible key usage\".",
                leaf.info.extended_key_usage.clone().unwrap_or_default().join(", ")
            ),
        ));
    } else if !facts.eku_present && !leaf_anchored {
        out.push(
            Finding::new(
                FindingId::MissingServerAuthEku,
                leaf_pos,
                "The leaf has no extended key usage extension. Go, OpenSSL and browsers accept that, but macOS requires serverAuth for publicly trusted chains and for certificates issued since 2019-07-01 unless their CA is trusted by an explicit user setting.",
            )
            .severity(Severity::Warning),
        );
    }
    if !leaf.info.facts.key_usage_allows_tls_server {
        out.push(Finding::new(
            FindingId::IncompatibleKeyUsage,
            leaf_pos,
            format!(
                "The leaf's keyUsage ({}) has none of digitalSignature, keyEncipherment, keyAgreement; OpenSSL reports \"unsuitable certificate purpose\". Go does not check it.",
                leaf.info.key_usage.join(", ")
            ),
        ));
    }
    if leaf.info.is_ca {
        out.push(Finding::new(
            FindingId::LeafIsCa,
            leaf_pos,
            "The server certificate has basicConstraints CA:TRUE (as `openssl req -x509` makes by default). Go accepts it; rustls-based clients refuse it as a server certificate.",
        ));
    }
    for cert in path.iter().skip(1) {
        if !cert.info.is_ca {
            let why = if cert.info.facts.has_basic_constraints {
                "has basicConstraints CA:FALSE"
            } else {
                "has no basicConstraints extension"
            };
            out.push(Finding::new(
                FindingId::IssuerNotCa,
                Some(cert.info.position),
                format!(
                    "\"{}\" issued another certificate but {why}; Go reports \"x509: certificate is not authorized to sign other certificates\".",
                    cert.info.display_name()
                ),
            ));
        }
    }
    if leaf.info.common_name.as_deref() == Some(INGRESS_FAKE_CN) {
        out.push(Finding::new(
            FindingId::IngressDefaultCertificate,
            leaf_pos,
            "This is ingress-nginx's built-in \"Kubernetes Ingress Controller Fake Certificate\": the ingress has no certificate configured for this host name (or its Secret is missing or invalid), so it serves its default.",
        ));
    }
    match ctx.key {
        Some(KeyCheck::Mismatch) => out.push(Finding::new(
            FindingId::KeyMismatch,
            leaf_pos,
            format!(
                "The private key does not match the public key of \"{}\".",
                leaf.info.display_name()
            ),
        )),
        Some(KeyCheck::Matches) | None => {}
    }

    trust_summary(ctx, &mut out);
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

fn store_names(stores: &[TrustStore]) -> String {
    stores
        .iter()
        .map(|s| s.kind.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn structure_findings(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let s = ctx.structure;
    let pos = |i: usize| ctx.certs[i].info.position;
    if s.out_of_order {
        let order: Vec<String> = s.path.iter().map(|&i| format!("#{}", pos(i))).collect();
        out.push(Finding::new(
            FindingId::ChainOrder,
            Some(pos(s.leaf)),
            format!(
                "The chain from the leaf up is {} in the order sent; it should be sent leaf first, each certificate followed by its issuer.",
                order.join(" → ")
            ),
        ));
    }
    if s.top_self_signed && s.path.len() > 1 {
        let root = &ctx.certs[*s.path.last().unwrap_or(&0)];
        out.push(Finding::new(
            FindingId::RootInChain,
            Some(root.info.position),
            format!(
                "The self-signed root \"{}\" is sent with the chain.",
                root.info.display_name()
            ),
        ));
    }
    for &(dup, first) in &s.duplicates {
        out.push(Finding::new(
            FindingId::DuplicateCertificate,
            Some(pos(dup)),
            format!(
                "Certificate #{} is an exact copy of #{} (\"{}\").",
                pos(dup),
                pos(first),
                ctx.certs[first].info.display_name()
            ),
        ));
    }
    for &i in &s.unrelated {
        out.push(Finding::new(
            FindingId::UnrelatedCertificate,
            Some(pos(i)),
            format!(
                "\"{}\" (#{}) did not issue the leaf or any of its issuers.",
                ctx.certs[i].info.display_name(),
                pos(i)
            ),
        ));
    }
}

fn cn_only(leaf: &Cert) -> Finding {
    Finding::new(
        FindingId::CnOnly,
        Some(leaf.info.position),
        format!(
            "The certificate has no subjectAltName extension; its only name is the Common Name {:?}, which Go (since 1.15), Apple and browsers ignore. Go reports \"x509: certificate relies on legacy Common Name field, use SANs instead\".",
            leaf.info.common_name.clone().unwrap_or_default()
        ),
    )
}

fn name_findings(leaf: &Cert, host: &Host, out: &mut Vec<Finding>) {
    let info = &leaf.info;
    let server_name = match host {
        Host::Ip(ip) => Some(ServerName::IpAddress((*ip).into())),
        Host::Name(name) => DnsName::try_from(name.as_str())
            .ok()
            .map(|n| ServerName::DnsName(n.to_owned())),
    };
    let matches = server_name
        .as_ref()
        .is_some_and(|name| trust::name_matches(leaf, name).is_ok());
    if !info.facts.has_san_extension {
        out.push(cn_only(leaf));
        let cn_matches = info
            .common_name
            .as_deref()
            .is_some_and(|cn| cn.eq_ignore_ascii_case(&host.to_string()));
        if cn_matches {
            return;
        }
    } else if matches {
        return;
    }
    let names: Vec<&str> = info
        .dns_names
        .iter()
        .chain(info.ip_addresses.iter())
        .map(String::as_str)
        .collect();
    let message = match host {
        Host::Ip(ip) if info.ip_addresses.is_empty() => format!(
            "The certificate has no IP address names, so it cannot be valid for {ip} (Go: \"x509: cannot validate certificate for {ip} because it doesn't contain any IP SANs\"). Its names: {}.",
            describe_names(&names)
        ),
        _ if names.is_empty() => format!(
            "The certificate is not valid for any names, but {host} was wanted."
        ),
        _ => format!(
            "The certificate is valid for {}, not {host}.",
            crate::chain::name_list(&names)
        ),
    };
    let fix = match host {
        Host::Ip(IpAddr::V4(_)) | Host::Ip(IpAddr::V6(_)) => format!(
            "Connect by a host name the certificate lists, or re-issue it with subjectAltName IP:{host}."
        ),
        Host::Name(_) => format!(
            "Re-issue the certificate with subjectAltName DNS:{host} (or use a host name it already lists)."
        ),
    };
    out.push(
        Finding::new(FindingId::HostnameMismatch, Some(info.position), message).remediation(fix),
    );
}

fn describe_names(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn validity_findings(ctx: &Context<'_>, path: &[&Cert], out: &mut Vec<Finding>) {
    for cert in path {
        let facts = &cert.info.facts;
        let name = cert.info.display_name();
        if ctx.at > facts.not_after {
            out.push(Finding::new(
                FindingId::Expired,
                Some(cert.info.position),
                format!(
                    "\"{name}\" expired on {} ({} ago).",
                    cert.info.not_after,
                    human_days(ctx.at - facts.not_after)
                ),
            ));
        } else if ctx.at < facts.not_before {
            out.push(Finding::new(
                FindingId::NotYetValid,
                Some(cert.info.position),
                format!(
                    "\"{name}\" is valid only from {} (in {}).",
                    cert.info.not_before,
                    human_days(facts.not_before - ctx.at)
                ),
            ));
        } else if facts.not_after - ctx.at < i64::from(ctx.warn_days) * DAY {
            out.push(Finding::new(
                FindingId::ExpiresSoon,
                Some(cert.info.position),
                format!(
                    "\"{name}\" expires on {} (in {}).",
                    cert.info.not_after,
                    human_days(facts.not_after - ctx.at)
                ),
            ));
        }
    }
}

fn human_days(seconds: i64) -> String {
    let days = seconds / DAY;
    match days {
        0 => {
            let hours = seconds / 3600;
            if hours == 1 {
                "1 hour".into()
            } else {
                format!("{hours} hours")
            }
        }
        1 => "1 day".into(),
        n => format!("{n} days"),
    }
}

fn lifetime_findings(
    leaf: &Cert,
    leaf_anchored: bool,
    publicly_trusted: bool,
    out: &mut Vec<Finding>,
) {
    let facts = &leaf.info.facts;
    let lifetime = leaf.info.lifetime_seconds();
    let days = lifetime as f64 / DAY as f64;
    let pos = Some(leaf.info.position);
    if publicly_trusted && facts.not_before >= PUBLIC_398_CUTOVER && lifetime > MAX_398_SECONDS {
        out.push(Finding::new(
            FindingId::ValidityExceeds398Days,
            pos,
            format!(
                "The leaf chains to a public root and is valid for {days:.0} days ({} to {}); publicly trusted certificates issued since 2020-09-01 may be valid for at most 398 days. macOS reports \"certificate is not standards compliant\".",
                leaf.info.not_before, leaf.info.not_after
            ),
        ));
    } else if !publicly_trusted
        && facts.not_before >= APPLE_825_CUTOVER
        && lifetime > MAX_825_SECONDS
    {
        let finding = Finding::new(
            FindingId::ValidityExceeds825Days,
            pos,
            format!(
                "The leaf is valid for {days:.0} days ({} to {}); macOS refuses certificates issued since 2019-07-01 that live longer than 825 days with \"certificate is not standards compliant\" — unless the certificate itself is trusted directly.",
                leaf.info.not_before, leaf.info.not_after
            ),
        );
        out.push(if leaf_anchored {
            finding.severity(Severity::Warning)
        } else {
            finding
        });
    }
}

fn trust_summary(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let trusted: Vec<StoreKind> = ctx
        .trust
        .iter()
        .filter(|v| v.trusted)
        .map(|v| v.store)
        .collect();
    if trusted.is_empty() {
        const EXPLAINED: &[FindingId] = &[
            FindingId::SelfSignedLeaf,
            FindingId::UntrustedRoot,
            FindingId::IncompleteChain,
            FindingId::Expired,
            FindingId::NotYetValid,
            FindingId::WeakSignatureSha1,
            FindingId::WeakRsaKey,
            FindingId::IssuerNotCa,
            FindingId::MalformedCertificate,
            FindingId::MissingServerAuthEku,
            FindingId::LeafIsCa,
            FindingId::ChainLoop,
            FindingId::UnknownCriticalExtension,
        ];
        if !out.iter().any(|f| EXPLAINED.contains(&f.id)) {
            let errors: Vec<String> = ctx
                .trust
                .iter()
                .map(|v| format!("{}: {}", v.store, v.error.clone().unwrap_or_default()))
                .collect();
            out.push(Finding::new(
                FindingId::UntrustedChain,
                None,
                format!(
                    "No evaluated store accepts the chain ({}).",
                    errors.join("; ")
                ),
            ));
        }
    } else if trusted == [StoreKind::CaFile] {
        out.push(Finding::new(
            FindingId::PrivateTrustOnly,
            None,
            "The chain is trusted through the --ca-file anchors only; neither the OS store nor Mozilla's public list trusts it.",
        ));
    } else if trusted == [StoreKind::System] {
        out.push(Finding::new(
            FindingId::SystemTrustOnly,
            None,
            "This machine's OS store trusts the chain, but Mozilla's public list does not: the root was added locally.",
        ));
    }
}
