//! Replays every input kept under testdata/fuzz-regressions/TARGET/ (crashes found by
//! scripts/fuzz.sh, fixed since) and the fixtures the fuzzers are seeded with, through
//! the same bodies the fuzz targets run. None may panic.

#[path = "../../fuzz/support.rs"]
mod support;

use std::path::Path;

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect()
}

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let mut count = 0;
    for path in files(&format!("testdata/fuzz-regressions/{target}")) {
        run(&std::fs::read(&path).unwrap());
        count += 1;
    }
    count
}

#[test]
fn kept_crash_inputs_and_seeds_do_not_panic() {
    let mut replayed = replay("certificates", support::analyse_chain)
        + replay("bundles", support::parse_bundle)
        + replay("configs", support::lint_config)
        + replay("targets", support::parse_arguments)
        + replay("pastes", support::explain_paste);
    // The seeds: every fixture through every body that reads files of its kind.
    let deploy = [
        "testdata/deploy",
        "testdata/deploy/flyte-core",
        "testdata/deploy/flyte-binary",
        "testdata/deploy/findings",
        "testdata/deploy/broken",
    ];
    for path in files("testdata")
        .into_iter()
        .chain(files("testdata/flyte"))
        .chain(deploy.into_iter().flat_map(files))
    {
        let bytes = std::fs::read(&path).unwrap();
        support::parse_bundle(&bytes);
        support::analyse_chain(&bytes);
        if Path::new(&path).extension().is_some_and(|e| e == "yaml") {
            support::lint_config(&bytes);
        }
        replayed += 1;
    }
    assert!(replayed > 10, "the fixtures are there");
}
