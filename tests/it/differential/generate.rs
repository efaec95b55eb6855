//! Seeded chain cases. Each case starts from a correct chain (root → intermediate →
//! leaf for HOST, trusted through its root) and changes a few dimensions, so most cases
//! carry one or two faults whose effect is easy to attribute, and some carry several
//! (which fault a client reports first is part of what is compared).
//!
//! Case `i` depends on the seed and `i` only, so a case keeps its id when the count
//! changes. Keys are random (pooled, see [`Keys`]), which changes no verdict.

use std::collections::BTreeMap;
use std::net::IpAddr;

use certready::der::tlv;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType, SerialNumber, SignatureAlgorithm,
};
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// The name every leaf is issued for (and, unless the `host` dimension says otherwise,
/// the name dialled).
pub const HOST: &str = "flyte.example.com";

/// splitmix64: small, fast and good enough to spread cases over the dimensions.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The generator of case `index`: independent of how many cases are made.
    pub fn for_case(seed: u64, index: usize) -> Self {
        let mut mixer = Rng(seed ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        Rng(mixer.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// One dimension: its name and its values, the first being the correct chain's.
struct Dimension {
    name: &'static str,
    values: Vec<String>,
}

fn dim(name: &'static str, values: &[&str]) -> Dimension {
    Dimension {
        name,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

const KEYS: &[&str] = &[
    "p256",
    "p384",
    "p521",
    "ed25519",
    "rsa2048",
    "rsa2048-sha384",
    "rsa2048-sha512",
];

const NAME_CONSTRAINTS: &[&str] = &[
    "permit-dns=example.com",
    "permit-dns=.example.com",
    "permit-dns=other.org",
    "exclude-dns=flyte.example.com",
    "exclude-dns=example.com",
    "permit-ip=127.0.0.0/8",
    "permit-ip=10.0.0.0/8",
    "exclude-ip=127.0.0.1/32",
    "permit-dns=example.com+permit-ip=10.0.0.0/8",
];

fn dimensions() -> Vec<Dimension> {
    let mut nc = vec!["none".to_string()];
    for place in ["int", "root"] {
        nc.extend(NAME_CONSTRAINTS.iter().map(|c| format!("{place}:{c}")));
    }
    vec![
        dim("depth", &["1", "0", "2"]),
        dim("root-key", KEYS),
        dim("int-key", KEYS),
        dim("leaf-key", KEYS),
        dim(
            "san",
            &[
                "exact",
                "wildcard",
                "tld-wildcard",
                "star",
                "partial-wildcard",
                "ip",
                "ip+dns",
                "cn-only",
                "upper",
                "trailing-dot",
                "other",
            ],
        ),
        dim("host", &["name", "upper", "trailing-dot", "ip"]),
        Dimension {
            name: "nc",
            values: nc,
        },
        dim(
            "leaf-eku",
            &[
                "serverAuth",
                "none",
                "clientAuth",
                "any",
                "serverAuth+clientAuth",
                "codeSigning",
            ],
        ),
        dim("int-eku", &["none", "serverAuth", "clientAuth", "any"]),
        dim("root-eku", &["none", "serverAuth", "clientAuth"]),
        dim(
            "bc",
            &[
                "ok",
                "int-not-ca",
                "int-no-bc",
                "int-pathlen0",
                "root-pathlen0",
                "root-no-bc",
                "root-not-ca",
                "leaf-ca",
            ],
        ),
        dim(
            "leaf-ku",
            &["ds+ke", "none", "ke-only", "ds-only", "cert-sign-only"],
        ),
        dim(
            "int-ku",
            &["cert-sign+crl-sign", "none", "crl-sign-only", "+ds"],
        ),
        dim("root-validity", &["ok", "expired", "not-yet-valid"]),
        dim("int-validity", &["ok", "expired", "not-yet-valid"]),
        dim("leaf-validity", &["ok", "expired", "not-yet-valid"]),
        dim("critical-ext", &["none", "leaf", "int", "root"]),
        dim(
            "aia",
            &["none", "leaf:ca-issuers", "leaf:malformed", "int:malformed"],
        ),
        dim("serial", &["random", "zero", "20-octets"]),
        dim(
            "order",
            &["leaf-first", "reversed-rest", "shuffled", "leaf-last"],
        ),
        dim("send-root", &["no", "yes"]),
        // A second root B cross-signs the top intermediate (same name and key): which
        // copies are sent, in which order, which roots the CA file holds, what expired.
        dim(
            "cross",
            &[
                "none",
                "b-sent",
                "b-sent-first",
                "b-instead+trust-b",
                "b-sent+trust-b",
                "b-sent-first+trust-ab+root-a-expired",
                "b-sent+trust-ab+int-a-expired",
            ],
        ),
        dim("missing-int", &["no", "yes"]),
        dim("duplicate", &["none", "int", "leaf"]),
        dim("extra", &["none", "unrelated-root", "unrelated-leaf"]),
        dim(
            "trust",
            &[
                "root",
                "intermediate",
                "unrelated",
                "leaf",
                "root+unrelated",
            ],
        ),
    ]
}

/// Dimensions that name an intermediate: meaningless without one (depth 0).
fn needs_intermediate(name: &str, value: &str) -> bool {
    matches!(
        name,
        "int-key" | "int-eku" | "int-ku" | "int-validity" | "missing-int"
    ) || value.starts_with("int")
        || (name == "duplicate" && value == "int")
        || (name == "trust" && value == "intermediate")
        || (name == "aia" && value.starts_with("int:"))
        || (name == "cross" && value != "none")
}

/// The `aia-fetch` dimension: the server omits the leaf's issuer and the leaf's
/// caIssuers URL points at the test's own HTTP server, which answers as the value says.
/// Only a browser fetches it; the other clients see a missing intermediate. It is drawn
/// from a stream of its own after the other dimensions, so adding it changed no other
/// case, and only where the chain has an intermediate and no other AIA extension.
const AIA_FETCH: &[&str] = &["intermediate", "garbage", "stall", "404"];
/// One case in AIA_FETCH_ONE_IN (among the eligible) fetches.
const AIA_FETCH_ONE_IN: usize = 10;
const AIA_FETCH_STREAM: u64 = 0xA1A_F37C;

/// What the caIssuers URL of an `aia-fetch` case answers.
#[derive(Clone, Debug)]
pub enum Fetch {
    /// The leaf's issuer, DER (what a correct caIssuers URL serves).
    Intermediate(Vec<u8>),
    /// 200 OK with bytes that are no certificate.
    Garbage,
    /// Never answers: the client's own timeout ends the fetch.
    Stall,
    /// 404 Not Found.
    NotFound,
}

/// How many dimensions a case changes, by weight: mostly one or two.
const FAULT_WEIGHTS: &[(usize, u64)] = &[(0, 8), (1, 36), (2, 30), (3, 16), (4, 10)];

pub struct Case {
    /// Four digits: the case's index for its seed.
    pub id: String,
    /// The dimensions that differ from the correct chain, `name=value; …`, or "baseline".
    pub description: String,
    /// The chain the server sends, exactly in this order.
    pub served: Vec<CertificateDer<'static>>,
    /// PKCS#8 of the key the server signs the handshake with (the leaf's).
    pub key: Vec<u8>,
    /// The name the clients dial and verify (the server is always 127.0.0.1).
    pub host: String,
    /// The CA file (caCertFilePath): the only trust anchors.
    pub ca_pem: String,
    /// For `aia-fetch` cases: the path of the leaf's caIssuers URL on the AIA server
    /// (see `generate`'s `aia_base`) and what it must answer.
    pub fetch: Option<(String, Fetch)>,
}

/// Pools of pre-generated keys, per family. RSA generation is slow, and no verdict
/// depends on which key a certificate has, only on its type; within a case every
/// certificate has a different key (pool slot = position), so no two issuers of one
/// case can be confused by their keys.
pub struct Keys {
    pkcs8: BTreeMap<&'static str, Vec<Vec<u8>>>,
}

const SLOTS: usize = 7;
const SLOT_ROOT: usize = 0;
const SLOT_INT: usize = 1; // and 2 for the second intermediate
const SLOT_LEAF: usize = 3;
const SLOT_UNRELATED: usize = 4;
const SLOT_UNRELATED_LEAF: usize = 5;
const SLOT_CROSS_ROOT: usize = 6;

impl Keys {
    pub fn generate() -> Self {
        let families: [(&'static str, &'static SignatureAlgorithm); 5] = [
            ("p256", &rcgen::PKCS_ECDSA_P256_SHA256),
            ("p384", &rcgen::PKCS_ECDSA_P384_SHA384),
            ("p521", &rcgen::PKCS_ECDSA_P521_SHA512),
            ("ed25519", &rcgen::PKCS_ED25519),
            ("rsa2048", &rcgen::PKCS_RSA_SHA256),
        ];
        let pkcs8 = families
            .iter()
            .map(|(family, alg)| {
                let keys = (0..SLOTS)
                    .map(|_| KeyPair::generate_for(alg).unwrap().serialize_der())
                    .collect();
                (*family, keys)
            })
            .collect();
        Keys { pkcs8 }
    }

    /// The key of `slot` for one of [`KEYS`]; RSA signs with the named digest.
    fn key(&self, kind: &str, slot: usize) -> KeyPair {
        let (family, alg): (&str, &'static SignatureAlgorithm) = match kind {
            "p256" => ("p256", &rcgen::PKCS_ECDSA_P256_SHA256),
            "p384" => ("p384", &rcgen::PKCS_ECDSA_P384_SHA384),
            "p521" => ("p521", &rcgen::PKCS_ECDSA_P521_SHA512),
            "ed25519" => ("ed25519", &rcgen::PKCS_ED25519),
            "rsa2048" => ("rsa2048", &rcgen::PKCS_RSA_SHA256),
            "rsa2048-sha384" => ("rsa2048", &rcgen::PKCS_RSA_SHA384),
            "rsa2048-sha512" => ("rsa2048", &rcgen::PKCS_RSA_SHA512),
            other => panic!("unknown key kind {other}"),
        };
        let der = &self.pkcs8[family][slot];
        KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(der.as_slice()), alg)
            .unwrap()
    }
}

/// The chosen value of each dimension of one case.
struct Choice(BTreeMap<&'static str, String>);

impl Choice {
    fn get(&self, name: &str) -> &str {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("no dimension {name}"))
    }

    fn is(&self, name: &str, value: &str) -> bool {
        self.get(name) == value
    }
}

fn choose(rng: &mut Rng, dims: &[Dimension]) -> (Choice, Vec<&'static str>) {
    let total: u64 = FAULT_WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut roll = rng.next_u64() % total;
    let mut faults = 0;
    for &(count, weight) in FAULT_WEIGHTS {
        if roll < weight {
            faults = count;
            break;
        }
        roll -= weight;
    }
    let mut choice: BTreeMap<&'static str, String> =
        dims.iter().map(|d| (d.name, d.values[0].clone())).collect();
    let mut changed = Vec::new();
    let mut order: Vec<usize> = (0..dims.len()).collect();
    for i in 0..faults.min(dims.len()) {
        let j = i + rng.below(order.len() - i);
        order.swap(i, j);
        let d = &dims[order[i]];
        let value = d.values[1 + rng.below(d.values.len() - 1)].clone();
        choice.insert(d.name, value);
        changed.push(d.name);
    }
    // Without an intermediate, the dimensions about one change nothing: undo them so
    // the description stays true.
    if choice["depth"] == "0" {
        for d in dims {
            if needs_intermediate(d.name, &choice[d.name]) {
                choice.insert(d.name, d.values[0].clone());
                changed.retain(|&n| n != d.name);
            }
        }
    }
    (Choice(choice), changed)
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc())
}

/// Validity relative to now, days away from any edge: Python's ssl cannot be given a
/// verification time, so every client judges "now" and a second's drift must not matter.
fn set_validity(params: &mut CertificateParams, value: &str, lifetime_days: i64) {
    let now = now();
    let (start, end) = match value {
        "ok" => (
            now - Duration::days(30),
            now + Duration::days(lifetime_days),
        ),
        "expired" => (now - Duration::days(60), now - Duration::days(1)),
        "not-yet-valid" => (now + Duration::days(1), now + Duration::days(lifetime_days)),
        other => panic!("unknown validity {other}"),
    };
    params.not_before = start;
    params.not_after = end;
}

fn serial(rng: &mut Rng, octets: usize) -> SerialNumber {
    let mut bytes: Vec<u8> = (0..octets).map(|_| rng.next_u64() as u8).collect();
    // Positive and of exactly this length in DER.
    bytes[0] = (bytes[0] & 0x7f) | 0x10;
    SerialNumber::from_slice(&bytes)
}

const OID_AIA: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];

fn aia_ca_issuers(url: &str) -> CustomExtension {
    let oid_ca_issuers = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let mut description = oid_ca_issuers.to_vec();
    description.extend(tlv(0x86, url.as_bytes()));
    CustomExtension::from_oid_content(OID_AIA, tlv(0x30, &tlv(0x30, &description)))
}

/// An AIA whose inner SEQUENCE claims more bytes than it has (non-critical).
fn aia_malformed() -> CustomExtension {
    CustomExtension::from_oid_content(OID_AIA, vec![0x30, 0x05, 0x30, 0x03, 0x06, 0x01])
}

fn critical_unknown() -> CustomExtension {
    let mut extension =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![0x05, 0x00]);
    extension.set_criticality(true);
    extension
}

fn name_constraints(spec: &str) -> NameConstraints {
    let mut nc = NameConstraints {
        permitted_subtrees: Vec::new(),
        excluded_subtrees: Vec::new(),
    };
    for part in spec.split('+') {
        let (kind, value) = part.split_once('=').unwrap();
        let subtree = if kind.ends_with("dns") {
            GeneralSubtree::DnsName(value.to_string())
        } else {
            let (addr, prefix) = value.split_once('/').unwrap();
            GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(
                addr.parse::<IpAddr>().unwrap(),
                prefix.parse().unwrap(),
            ))
        };
        if kind.starts_with("permit") {
            nc.permitted_subtrees.push(subtree);
        } else {
            nc.excluded_subtrees.push(subtree);
        }
    }
    nc
}

fn eku(value: &str) -> Vec<ExtendedKeyUsagePurpose> {
    value
        .split('+')
        .filter_map(|e| match e {
            "none" => None,
            "serverAuth" => Some(ExtendedKeyUsagePurpose::ServerAuth),
            "clientAuth" => Some(ExtendedKeyUsagePurpose::ClientAuth),
            "any" => Some(ExtendedKeyUsagePurpose::Any),
            "codeSigning" => Some(ExtendedKeyUsagePurpose::CodeSigning),
            other => panic!("unknown EKU {other}"),
        })
        .collect()
}

fn base_params(common_name: &str, rng: &mut Rng) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.serial_number = Some(serial(rng, 16));
    params.use_authority_key_identifier_extension = true;
    params
}

fn ca_params(common_name: &str, rng: &mut Rng) -> CertificateParams {
    let mut params = base_params(common_name, rng);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params, "ok", 3650);
    params
}

/// A certificate with what is needed to issue below it.
struct Made {
    der: CertificateDer<'static>,
    pem: String,
    params: CertificateParams,
    key: KeyPair,
}

fn make(params: CertificateParams, key: KeyPair, issuer: Option<&Made>) -> Made {
    let cert = match issuer {
        None => params.self_signed(&key),
        Some(issuer) => params.signed_by(&key, &Issuer::from_params(&issuer.params, &issuer.key)),
    }
    .unwrap_or_else(|e| panic!("rcgen refused a certificate: {e}"));
    Made {
        der: cert.der().clone(),
        pem: cert.pem(),
        params,
        key,
    }
}

fn host_for(value: &str) -> String {
    match value {
        "name" => HOST.into(),
        "upper" => "FLYTE.Example.COM".into(),
        "trailing-dot" => format!("{HOST}."),
        "ip" => "127.0.0.1".into(),
        other => panic!("unknown host {other}"),
    }
}

fn sans(value: &str) -> Vec<SanType> {
    let dns = |name: &str| SanType::DnsName(name.try_into().unwrap());
    let ip = || SanType::IpAddress("127.0.0.1".parse().unwrap());
    match value {
        "exact" => vec![dns(HOST)],
        "wildcard" => vec![dns("*.example.com")],
        "tld-wildcard" => vec![dns("*.com")],
        "star" => vec![dns("*")],
        "partial-wildcard" => vec![dns("fl*.example.com")],
        "ip" => vec![ip()],
        "ip+dns" => vec![dns(HOST), ip()],
        "cn-only" => Vec::new(),
        "upper" => vec![dns("FLYTE.EXAMPLE.COM")],
        "trailing-dot" => vec![dns(&format!("{HOST}."))],
        "other" => vec![dns("other.example.com")],
        other => panic!("unknown SAN form {other}"),
    }
}

/// The cases; `aia_base` (`http://127.0.0.1:PORT`) is where the `aia-fetch` cases'
/// caIssuers URLs point.
pub fn generate(seed: u64, count: usize, keys: &Keys, aia_base: &str) -> Vec<Case> {
    let dims = dimensions();
    (0..count)
        .map(|i| case(seed, i, &dims, keys, aia_base))
        .collect()
}

/// A case as a file, to keep as a regression case: `# id:`, `# description:` and
/// `# host:` lines, then `# served`, `# key` and `# ca` sections of PEM (the CA file
/// verbatim, as the clients read it).
pub fn to_case_file(case: &Case) -> String {
    let mut out = format!(
        "# id: {}\n# description: {}\n# host: {}\n# served\n",
        case.id, case.description, case.host
    );
    for der in &case.served {
        out.push_str(&pem_block("CERTIFICATE", der));
    }
    out.push_str("# key\n");
    out.push_str(&pem_block("PRIVATE KEY", &case.key));
    out.push_str("# ca\n");
    out.push_str(&case.ca_pem);
    out
}

/// A case written by [`to_case_file`]; its id is `name`.
pub fn from_case_file(name: &str, text: &str) -> Result<Case, String> {
    use rustls_pki_types::pem::PemObject;
    let mut fields = BTreeMap::new();
    let mut sections: BTreeMap<&str, String> = BTreeMap::new();
    let mut section = None;
    for line in text.split_inclusive('\n') {
        if let Some(field) = line.strip_prefix("# ") {
            let field = field.trim_end();
            match field.split_once(": ") {
                Some((key, value)) if section.is_none() => {
                    fields.insert(key.to_string(), value.to_string());
                }
                _ => section = Some(field.to_string()),
            }
            continue;
        }
        let Some(name) = section.as_deref() else {
            return Err(format!("{line:?} before the first section"));
        };
        let key = match name {
            "served" => "served",
            "key" => "key",
            "ca" => "ca",
            other => return Err(format!("unknown section {other:?}")),
        };
        sections.entry(key).or_default().push_str(line);
    }
    let field = |key: &str| {
        fields
            .get(key)
            .cloned()
            .ok_or(format!("no `# {key}:` line"))
    };
    let served =
        CertificateDer::pem_slice_iter(sections.get("served").map_or(&b""[..], |s| s.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("served: {e}"))?;
    let key =
        PrivatePkcs8KeyDer::from_pem_slice(sections.get("key").map_or(&b""[..], |s| s.as_bytes()))
            .map_err(|e| format!("key: {e}"))?;
    Ok(Case {
        id: name.to_string(),
        description: field("description")?,
        served,
        key: key.secret_pkcs8_der().to_vec(),
        host: field("host")?,
        ca_pem: sections.remove("ca").unwrap_or_default(),
        fetch: None,
    })
}

fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn case(seed: u64, index: usize, dims: &[Dimension], keys: &Keys, aia_base: &str) -> Case {
    let mut rng = Rng::for_case(seed, index);
    let (c, mut changed) = choose(&mut rng, dims);
    let depth: usize = c.get("depth").parse().unwrap();
    let aia_fetch = {
        let mut stream = Rng::for_case(seed ^ AIA_FETCH_STREAM, index);
        let roll = stream.below(AIA_FETCH_ONE_IN);
        let value = AIA_FETCH[stream.below(AIA_FETCH.len())];
        (depth > 0 && c.is("aia", "none") && roll == 0).then_some(value)
    };
    let aia_path = format!("/aia/{index:04}.der");
    let bc = c.get("bc").to_string();
    let nc = c.get("nc").to_string();
    let (nc_place, nc_spec) = nc.split_once(':').unwrap_or(("none", ""));

    // Every CA's name ends with the case's id: a browser judging many cases keeps all
    // their roots in one NSS database, and looks issuers up by name (keys are pooled, so
    // two cases' CAs of one name would even share a key and verify each other's chains).
    let id = format!("{index:04}");
    // Root.
    let cross = c.get("cross").to_string();
    let mut root = ca_params(&format!("Differential Root CA {id}"), &mut rng);
    let root_validity = if cross.ends_with("root-a-expired") {
        "expired"
    } else {
        c.get("root-validity")
    };
    set_validity(&mut root, root_validity, 3650);
    root.extended_key_usages = eku(c.get("root-eku"));
    match bc.as_str() {
        "root-pathlen0" => root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0)),
        "root-no-bc" => root.is_ca = IsCa::NoCa,
        "root-not-ca" => root.is_ca = IsCa::ExplicitNoCa,
        _ => {}
    }
    if nc_place == "root" {
        root.name_constraints = Some(name_constraints(nc_spec));
    }
    if c.is("critical-ext", "root") {
        root.custom_extensions.push(critical_unknown());
    }
    let root = make(root, keys.key(c.get("root-key"), SLOT_ROOT), None);

    // Intermediates, from the root down; the `int-*` dimensions apply to the leaf's
    // issuer, pathlen 0 to the top one (so that a second intermediate exceeds it).
    let mut chain_cas: Vec<Made> = Vec::new();
    let mut cross_signed: Option<Made> = None;
    let mut cross_root: Option<Made> = None;
    for level in 0..depth {
        let bottom = level + 1 == depth;
        let name = if level == 0 {
            format!("Differential Issuing CA {id}")
        } else {
            format!("Differential Sub CA {level} {id}")
        };
        let mut params = ca_params(&name, &mut rng);
        if level == 0 && bc == "int-pathlen0" {
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        }
        let mut key = "p256";
        if bottom {
            key = c.get("int-key");
            set_validity(&mut params, c.get("int-validity"), 3650);
            params.extended_key_usages = eku(c.get("int-eku"));
            match bc.as_str() {
                "int-not-ca" => params.is_ca = IsCa::ExplicitNoCa,
                "int-no-bc" => params.is_ca = IsCa::NoCa,
                _ => {}
            }
            params.key_usages = match c.get("int-ku") {
                "cert-sign+crl-sign" => params.key_usages,
                "none" => Vec::new(),
                "crl-sign-only" => vec![KeyUsagePurpose::CrlSign],
                "+ds" => vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::KeyCertSign,
                    KeyUsagePurpose::CrlSign,
                ],
                other => panic!("unknown int-ku {other}"),
            };
            if nc_place == "int" {
                params.name_constraints = Some(name_constraints(nc_spec));
            }
            if c.is("critical-ext", "int") {
                params.custom_extensions.push(critical_unknown());
            }
            if c.is("aia", "int:malformed") {
                params.custom_extensions.push(aia_malformed());
            }
        }
        if level == 0 && cross != "none" {
            // The same name and key under root B; a serial of its own.
            let root_b = make(
                ca_params(&format!("Differential Cross Root CA {id}"), &mut rng),
                keys.key("p256", SLOT_CROSS_ROOT),
                None,
            );
            let mut copy = params.clone();
            copy.serial_number = Some(serial(&mut rng, 8));
            cross_signed = Some(make(copy, keys.key(key, SLOT_INT), Some(&root_b)));
            cross_root = Some(root_b);
            if cross.ends_with("int-a-expired") {
                set_validity(&mut params, "expired", 3650);
            }
        }
        let issuer = chain_cas.last().unwrap_or(&root);
        let made = make(params, keys.key(key, SLOT_INT + level), Some(issuer));
        chain_cas.push(made);
    }

    // Leaf.
    let host = host_for(c.get("host"));
    let mut leaf = base_params(HOST, &mut rng);
    leaf.subject_alt_names = sans(c.get("san"));
    set_validity(&mut leaf, c.get("leaf-validity"), 90);
    leaf.extended_key_usages = eku(c.get("leaf-eku"));
    leaf.key_usages = match c.get("leaf-ku") {
        "ds+ke" => vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ],
        "none" => Vec::new(),
        "ke-only" => vec![KeyUsagePurpose::KeyEncipherment],
        "ds-only" => vec![KeyUsagePurpose::DigitalSignature],
        "cert-sign-only" => vec![KeyUsagePurpose::KeyCertSign],
        other => panic!("unknown leaf-ku {other}"),
    };
    if bc == "leaf-ca" {
        leaf.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    match c.get("serial") {
        "random" => {}
        "zero" => leaf.serial_number = Some(SerialNumber::from_slice(&[0])),
        "20-octets" => leaf.serial_number = Some(serial(&mut rng, 20)),
        other => panic!("unknown serial {other}"),
    }
    if c.is("critical-ext", "leaf") {
        leaf.custom_extensions.push(critical_unknown());
    }
    match c.get("aia") {
        "leaf:ca-issuers" => leaf
            .custom_extensions
            .push(aia_ca_issuers("http://127.0.0.1:9/issuing-ca.crt")),
        "leaf:malformed" => leaf.custom_extensions.push(aia_malformed()),
        _ => {}
    }
    if aia_fetch.is_some() {
        leaf.custom_extensions
            .push(aia_ca_issuers(&format!("{aia_base}{aia_path}")));
    }
    let leaf_key = c.get("leaf-key");
    let leaf = make(
        leaf,
        keys.key(leaf_key, SLOT_LEAF),
        Some(chain_cas.last().unwrap_or(&root)),
    );

    // Strangers: a root nobody issued from here, and a leaf it issued.
    let unrelated = make(
        ca_params(&format!("Unrelated Root CA {id}"), &mut rng),
        keys.key("p256", SLOT_UNRELATED),
        None,
    );
    let stranger = if c.is("extra", "unrelated-leaf") {
        let mut params = base_params("other.example.com", &mut rng);
        params.subject_alt_names = sans("other");
        set_validity(&mut params, "ok", 90);
        params.extended_key_usages = eku("serverAuth");
        Some(make(
            params,
            keys.key("p256", SLOT_UNRELATED_LEAF),
            Some(&unrelated),
        ))
    } else {
        None
    };

    // What the server sends.
    let mut served: Vec<CertificateDer<'static>> = vec![leaf.der.clone()];
    let missing_int = c.is("missing-int", "yes");
    if !missing_int {
        // aia-fetch omits the leaf's issuer only: a second intermediate is still sent.
        let omitted = usize::from(aia_fetch.is_some());
        served.extend(chain_cas.iter().rev().skip(omitted).map(|m| m.der.clone()));
    }
    if let Some(int_b) = &cross_signed {
        // The top intermediate is the last of the sent intermediates.
        let top = served
            .iter()
            .position(|d| *d == chain_cas[0].der)
            .unwrap_or(served.len());
        if cross.starts_with("b-instead") {
            if top < served.len() {
                served[top] = int_b.der.clone();
            }
        } else if cross.starts_with("b-sent-first") {
            served.insert(top.min(served.len()), int_b.der.clone());
        } else {
            served.insert((top + 1).min(served.len()), int_b.der.clone());
        }
    }
    if c.is("send-root", "yes") {
        served.push(root.der.clone());
    }
    match c.get("duplicate") {
        "int" => {
            if let Some(int) = chain_cas
                .last()
                .filter(|_| !missing_int && aia_fetch.is_none())
            {
                served.insert(2, int.der.clone());
            } else {
                changed.retain(|&n| n != "duplicate");
            }
        }
        "leaf" => served.insert(1, leaf.der.clone()),
        _ => {}
    }
    match c.get("extra") {
        "unrelated-root" => served.push(unrelated.der.clone()),
        "unrelated-leaf" => served.push(stranger.as_ref().unwrap().der.clone()),
        _ => {}
    }
    let leaf_first = served.clone();
    match c.get("order") {
        "reversed-rest" => served[1..].reverse(),
        "shuffled" => {
            for i in (1..served.len()).rev() {
                let j = rng.below(i + 1);
                served.swap(i, j);
            }
        }
        "leaf-last" => served.rotate_left(1),
        _ => {}
    }
    if served == leaf_first {
        // Reordering changed nothing (one certificate, or the shuffle kept the order).
        changed.retain(|&n| n != "order");
    }

    let ca_pem = match c.get("trust") {
        "root" if cross.contains("trust-b") => cross_root.as_ref().unwrap().pem.clone(),
        "root" if cross.contains("trust-ab") => {
            format!("{}{}", root.pem, cross_root.as_ref().unwrap().pem)
        }
        "root" => root.pem.clone(),
        "intermediate" => chain_cas.last().unwrap().pem.clone(),
        "unrelated" => unrelated.pem.clone(),
        "leaf" => leaf.pem.clone(),
        "root+unrelated" => format!("{}{}", root.pem, unrelated.pem),
        other => panic!("unknown trust {other}"),
    };

    // In the dimensions' order, so equal cases read alike; aia-fetch last.
    let mut parts: Vec<String> = dims
        .iter()
        .filter(|d| changed.contains(&d.name))
        .map(|d| format!("{}={}", d.name, c.get(d.name)))
        .collect();
    parts.extend(aia_fetch.map(|value| format!("aia-fetch={value}")));
    let description = if parts.is_empty() {
        "baseline".to_string()
    } else {
        parts.join("; ")
    };
    let fetch = aia_fetch.map(|value| {
        let answer = match value {
            "intermediate" => Fetch::Intermediate(chain_cas.last().unwrap().der.to_vec()),
            "garbage" => Fetch::Garbage,
            "stall" => Fetch::Stall,
            "404" => Fetch::NotFound,
            other => panic!("unknown aia-fetch {other}"),
        };
        (aia_path.clone(), answer)
    });
    Case {
        id,
        description,
        served,
        key: leaf.key.serialize_der(),
        host,
        ca_pem,
        fetch,
    }
}

#[test]
fn a_case_file_reads_back_as_the_same_case() {
    let keys = Keys::generate();
    for case in generate(11, 40, &keys, "http://127.0.0.1:1") {
        let again = from_case_file(&case.id, &to_case_file(&case)).unwrap();
        assert_eq!(again.id, case.id);
        assert_eq!(again.description, case.description);
        assert_eq!(again.host, case.host);
        assert_eq!(again.served, case.served);
        assert_eq!(again.key, case.key);
        assert_eq!(again.ca_pem, case.ca_pem);
    }
}

#[test]
fn the_generator_is_deterministic_and_covers_every_value() {
    let keys = Keys::generate();
    let base = "http://127.0.0.1:1";
    let first = generate(7, 200, &keys, base);
    let again = generate(7, 5, &keys, base);
    for (a, b) in first.iter().zip(&again) {
        assert_eq!(a.description, b.description, "case {}", a.id);
        assert_eq!(a.host, b.host);
        assert_eq!(a.served.len(), b.served.len());
    }
    let other_seed = generate(8, 5, &keys, base);
    assert!(first
        .iter()
        .zip(&other_seed)
        .any(|(a, b)| a.description != b.description));
    let mut rng = Rng::new(1);
    let values: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
    // splitmix64's published first outputs for seed 1.
    assert_eq!(
        values,
        [
            0x910A_2DEC_8902_5CC1,
            0xBEEB_8DA1_658E_EC67,
            0xF893_A2EE_FB32_555E
        ]
    );
    let all: String = first.iter().map(|c| c.description.clone()).collect();
    for d in dimensions() {
        assert!(
            all.contains(&format!("{}=", d.name)),
            "200 cases never change {}",
            d.name
        );
    }
    for value in AIA_FETCH {
        assert!(
            all.contains(&format!("aia-fetch={value}")),
            "200 cases never have aia-fetch={value}"
        );
    }
    for case in &first {
        if let Some((path, Fetch::Intermediate(issuer))) = &case.fetch {
            assert!(path.starts_with("/aia/"));
            assert!(
                case.served.iter().all(|c| c.as_ref() != issuer.as_slice()),
                "case {} sends the issuer it should fetch: {}",
                case.id,
                case.description
            );
        }
    }
}
