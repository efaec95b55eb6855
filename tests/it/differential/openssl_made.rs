//! Seeded chain cases made with the `openssl` command: what rcgen cannot make — SHA-1,
//! MD5, SHA-224 and RSA-PSS signatures, RSA keys of 1024, 3072 and 4096 bits, DSA keys
//! on CAs, negative and zero serial numbers. Each case is the correct chain (root →
//! intermediate → leaf for HOST) with one to three of these changed; the CA file holds
//! the root, or the intermediate.
//!
//! Keys are made once per machine (RSA 4096 and DSA parameters take seconds) and kept in
//! the target directory; certificates are made per case, in a few milliseconds each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};

use super::generate::{Case, Rng, HOST};

const SIGNATURES: &[&str] = &[
    "sha1",
    "md5",
    "sha224",
    "sha384",
    "sha512",
    "pss-sha256",
    "pss-sha384",
    "pss-sha1",
];
/// rustls must sign the handshake with the leaf's key: no DSA, no RSA under 2048 bits.
const LEAF_KEYS: &[&str] = &["rsa2048", "rsa3072", "rsa4096", "p384"];
/// CAs have RSA 2048 keys unless changed (so the RSA-only signatures apply).
const CA_KEYS: &[&str] = &[
    "rsa1024", "rsa3072", "rsa4096", "dsa2048", "p256", "p384", "p521",
];
const SERIALS: &[&str] = &["negative", "zero"];
const POSITIONS: [&str; 3] = ["leaf", "int", "root"];

/// (dimension, values): the first value of each is the correct chain's.
fn dimensions() -> Vec<(String, Vec<&'static str>)> {
    let mut dims = Vec::new();
    for position in POSITIONS {
        let mut signatures = vec!["sha256"];
        signatures.extend(SIGNATURES);
        dims.push((format!("sig@{position}"), signatures));
        let (default, keys) = if position == "leaf" {
            ("p256", LEAF_KEYS)
        } else {
            ("rsa2048", CA_KEYS)
        };
        let mut values = vec![default];
        values.extend(keys);
        dims.push((format!("key@{position}"), values));
        let mut serials = vec!["random"];
        serials.extend(SERIALS);
        dims.push((format!("serial@{position}"), serials));
    }
    dims.push(("trust".into(), vec!["root", "intermediate"]));
    dims
}

/// `count` cases of `seed`, ids `oNNNN`, made in `dir` (emptied first).
pub fn generate(seed: u64, count: usize, dir: &Path) -> Vec<Case> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let keys = keys();
    let dims = dimensions();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let indexes: Vec<usize> = (0..count).collect();
    let mut cases: Vec<Case> = std::thread::scope(|scope| {
        let handles: Vec<_> = indexes
            .chunks(count.div_ceil(threads).max(1))
            .map(|chunk| {
                let dims = &dims;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&i| case(seed, i, dims, keys, dir))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    cases
}

/// The values of case `index`: one to three dimensions changed, made compatible with the
/// keys that sign them.
fn choose<'d>(
    rng: &mut Rng,
    dims: &'d [(String, Vec<&'static str>)],
) -> (BTreeMap<&'d str, &'static str>, Vec<&'d str>) {
    let mut choice: BTreeMap<&str, &str> = dims.iter().map(|(n, v)| (n.as_str(), v[0])).collect();
    let faults = 1 + rng.below(3);
    let mut changed: Vec<&str> = Vec::new();
    while changed.len() < faults {
        let (name, values) = &dims[rng.below(dims.len())];
        if changed.contains(&name.as_str()) {
            continue;
        }
        choice.insert(name, values[1 + rng.below(values.len() - 1)]);
        changed.push(name);
    }
    // A signature the issuer's key cannot make (MD5 or PSS with a non-RSA key) becomes
    // SHA-1 with that key, which every key type can; DSA signs with SHA-1/224/256 only.
    for position in POSITIONS {
        let signer = match position {
            "leaf" => choice["key@int"],
            _ => choice["key@root"],
        };
        let (name, _) = dims
            .iter()
            .find(|(n, _)| *n == format!("sig@{position}"))
            .unwrap();
        let wanted = choice[name.as_str()];
        if !signer.starts_with("rsa") && (wanted == "md5" || wanted.starts_with("pss")) {
            choice.insert(name, "sha1");
        }
        if signer.starts_with("dsa") && !matches!(choice[name.as_str()], "sha1" | "sha224") {
            choice.insert(name, "sha256");
        }
    }
    changed.retain(|name| choice[name] != dims.iter().find(|(n, _)| n == name).unwrap().1[0]);
    (choice, changed)
}

fn case(
    seed: u64,
    index: usize,
    dims: &[(String, Vec<&'static str>)],
    keys: &Keys,
    dir: &Path,
) -> Case {
    // Its own stream, so these cases never repeat the rcgen generator's choices.
    let mut rng = Rng::for_case(seed ^ 0x0055_5e11, index);
    let (choice, changed) = choose(&mut rng, dims);
    let id = format!("o{index:04}");
    let work = dir.join(&id);
    std::fs::create_dir_all(&work).unwrap();

    let serial = |position: &str, rng: &mut Rng| match choice[format!("serial@{position}").as_str()]
    {
        "negative" => format!("-{}", 1 + rng.below(1 << 20)),
        "zero" => "0".to_string(),
        _ => format!("{}", 1 + rng.below(1 << 30)),
    };
    let root_key = keys.path(choice["key@root"], 0);
    let int_key = keys.path(choice["key@int"], 1);
    let leaf_key = keys.path(choice["key@leaf"], 2);
    let extensions = work.join("ext.cnf");
    std::fs::write(&extensions, extension_file(choice["key@leaf"])).unwrap();

    // One `openssl req -x509` per certificate (OpenSSL 3 signs with -CA directly).
    let issue = |name: &str,
                 common_name: &str,
                 key: &Path,
                 issuer: Option<(&str, &Path)>,
                 days: &str,
                 position: &str,
                 rng: &mut Rng| {
        let serial = serial(position, rng);
        let subject = format!("/CN={common_name}");
        let out = format!("{name}.pem");
        let mut args = vec![
            "req",
            "-new",
            "-x509",
            "-key",
            path(key),
            "-subj",
            &subject,
            "-days",
            days,
            "-set_serial",
            &serial,
            "-config",
            "ext.cnf",
            "-extensions",
            name,
            "-out",
            &out,
        ];
        if let Some((ca, ca_key)) = issuer {
            args.extend(["-CA", ca, "-CAkey", path(ca_key)]);
        }
        openssl(
            &work,
            &args,
            sig_args(choice[format!("sig@{position}").as_str()]),
        );
    };
    // Every CA name ends with the case id: one browser judges many cases (see browser.rs).
    issue(
        "root",
        &format!("Differential Root CA {id}"),
        &root_key,
        None,
        "3650",
        "root",
        &mut rng,
    );
    issue(
        "int",
        &format!("Differential Intermediate CA {id}"),
        &int_key,
        Some(("root.pem", &root_key)),
        "1825",
        "int",
        &mut rng,
    );
    issue(
        "leaf",
        HOST,
        &leaf_key,
        Some(("int.pem", &int_key)),
        "90",
        "leaf",
        &mut rng,
    );
    let root = work.join("root.pem");

    let read = |file: &Path| std::fs::read_to_string(file).unwrap();
    let der = |file: &Path| {
        CertificateDer::from_pem_slice(read(file).as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
    };
    let int = work.join("int.pem");
    let leaf = work.join("leaf.pem");
    let ca_pem = match choice["trust"] {
        "intermediate" => read(&int),
        _ => read(&root),
    };
    let key = PrivatePkcs8KeyDer::from_pem_slice(read(&leaf_key).as_bytes())
        .unwrap()
        .secret_pkcs8_der()
        .to_vec();
    let description = if changed.is_empty() {
        "baseline".to_string()
    } else {
        dims.iter()
            .filter(|(n, _)| changed.contains(&n.as_str()))
            .map(|(n, _)| format!("{n}={}", choice[n.as_str()]))
            .collect::<Vec<_>>()
            .join("; ")
    };
    Case {
        id,
        description,
        served: vec![der(&leaf), der(&int)],
        key,
        host: HOST.to_string(),
        ca_pem,
        fetch: None,
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn extension_file(leaf_key: &str) -> String {
    // An RSA leaf may encipher keys (TLS 1.2 RSA key exchange); other keys only sign.
    let leaf_usage = if leaf_key.starts_with("rsa") {
        "digitalSignature, keyEncipherment"
    } else {
        "digitalSignature"
    };
    format!(
        "[req]\n\
         distinguished_name = dn\n\
         prompt = no\n\
         [dn]\n\
         [root]\n\
         basicConstraints = critical, CA:TRUE\n\
         keyUsage = critical, keyCertSign, cRLSign\n\
         subjectKeyIdentifier = hash\n\
         [int]\n\
         basicConstraints = critical, CA:TRUE, pathlen:0\n\
         keyUsage = critical, keyCertSign, cRLSign\n\
         subjectKeyIdentifier = hash\n\
         authorityKeyIdentifier = keyid\n\
         [leaf]\n\
         keyUsage = critical, {leaf_usage}\n\
         extendedKeyUsage = serverAuth\n\
         subjectAltName = DNS:{HOST}\n\
         subjectKeyIdentifier = hash\n\
         authorityKeyIdentifier = keyid\n"
    )
}

fn sig_args(signature: &str) -> Vec<String> {
    let (pss, digest) = match signature.strip_prefix("pss-") {
        Some(digest) => (true, digest),
        None => (false, signature),
    };
    let mut args = vec![format!("-{digest}")];
    if pss {
        for opt in ["rsa_padding_mode:pss", "rsa_pss_saltlen:digest"] {
            args.extend(["-sigopt".to_string(), opt.to_string()]);
        }
    }
    args
}

fn openssl(dir: &Path, args: &[&str], extra: Vec<String>) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .args(&extra)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {} {}: {}",
        args.join(" "),
        extra.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// PKCS#8 PEM keys, three per kind (one per position, so no two certificates of a case
/// share a key), made once and kept in the target directory.
struct Keys {
    dir: PathBuf,
}

impl Keys {
    fn path(&self, kind: &str, slot: usize) -> PathBuf {
        self.dir.join(format!("{kind}-{slot}.pem"))
    }
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential-openssl-keys");
        std::fs::create_dir_all(&dir).unwrap();
        let keys = Keys { dir };
        let dsa_params = keys.dir.join("dsa2048.params");
        let mut kinds: Vec<&str> = CA_KEYS.iter().chain(LEAF_KEYS).copied().collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            for slot in 0..3 {
                let file = keys.path(kind, slot);
                if file.exists() {
                    continue;
                }
                let mut args: Vec<String> = vec!["genpkey".into()];
                match kind {
                    "dsa2048" => {
                        if !dsa_params.exists() {
                            openssl(
                                &keys.dir,
                                &[
                                    "genpkey",
                                    "-genparam",
                                    "-algorithm",
                                    "DSA",
                                    "-pkeyopt",
                                    "dsa_paramgen_bits:2048",
                                    "-out",
                                    path(&dsa_params),
                                ],
                                Vec::new(),
                            );
                        }
                        args.extend(["-paramfile".into(), path(&dsa_params).into()]);
                    }
                    rsa if rsa.starts_with("rsa") => args.extend([
                        "-algorithm".into(),
                        "RSA".into(),
                        "-pkeyopt".into(),
                        format!("rsa_keygen_bits:{}", &rsa[3..]),
                    ]),
                    curve => args.extend([
                        "-algorithm".into(),
                        "EC".into(),
                        "-pkeyopt".into(),
                        format!("ec_paramgen_curve:P-{}", &curve[1..]),
                    ]),
                }
                // Written aside and renamed, so a key file is whole or absent.
                let partial = file.with_extension("partial");
                args.extend(["-out".into(), path(&partial).into()]);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                openssl(&keys.dir, &args, Vec::new());
                std::fs::rename(&partial, &file).unwrap();
            }
        }
        keys
    })
}

#[test]
fn the_choices_cover_every_value() {
    let dims = dimensions();
    let mut seen = std::collections::BTreeSet::new();
    for index in 0..400 {
        let mut rng = Rng::for_case(3, index);
        let (choice, changed) = choose(&mut rng, &dims);
        for name in changed {
            seen.insert(format!("{name}={}", choice[name]));
        }
    }
    for (name, values) in &dims {
        for value in &values[1..] {
            assert!(
                seen.contains(&format!("{name}={value}")),
                "no case has {name}={value}"
            );
        }
    }
}
