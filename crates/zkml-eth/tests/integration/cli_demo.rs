//! `zkml-eth demo`: the whole story on its own anvil, run once from a directory outside the checkout (the
//! binary finds the examples, solc and anvil of its checkout itself), and interrupted once to show that
//! Ctrl-C stops its anvil. Keys are cached in the repository's `.zkml-cache`, as the other heavy tests do.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::common::{json, process_alive, zkml_eth};

fn cache() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.zkml-cache").display().to_string()
}

/// Events of every transaction in the demo's report, by name.
fn events<'a>(report: &'a Value, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    report["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .flat_map(|tx| tx["events"].as_array().expect("events"))
        .filter(move |e| e["event"] == name)
}

#[test]
fn demo_tells_the_whole_story_on_its_own_anvil() {
    let cwd = tempfile::tempdir().expect("a temp dir");
    let out = cwd.path().join("story");
    let run = zkml_eth(&["--json", "demo", "--out", out.to_str().expect("UTF-8"), "--cache-dir", &cache()], &[]);
    let report = json(&run);

    // The book attested three inferences in one transaction; the vault decided on the proven prediction;
    // the NFT minted; the tampered proof was refused by the registry's batch verifier, by name.
    assert_eq!(events(&report, "InferenceAttested").count(), 3, "{report:#}");
    assert_eq!(events(&report, "Traded").count() + events(&report, "Held").count(), 1, "{report:#}");
    assert!(report["tokenId"].as_str().is_some_and(|id| id.starts_with("0x")), "{report:#}");
    let refused = report["refused"].as_str().expect("refused");
    assert!(refused.contains("ZkmlRegistryBatchProofRejected"), "{refused}");
    for tx in report["transactions"].as_array().expect("transactions") {
        assert!(tx["gasUsed"].as_u64().is_some_and(|g| g > 21_000), "{tx:#}");
    }
    let sizes: Vec<&str> =
        report["proofBytes"].as_array().expect("proofBytes").iter().map(|p| p[0].as_str().expect("name")).collect();
    assert_eq!(sizes, ["digits-proof", "eth-price-proof", "pixel-art-proof", "aggregated"]);

    // What it wrote: the token's on-chain image is the one rendered from the proof.
    let token = std::fs::read(out.join("token.svg")).expect("token.svg");
    assert_eq!(token, std::fs::read(out.join("pixel-art-proof.svg")).expect("the rendered SVG"));
    let deployment: Value =
        serde_json::from_slice(&std::fs::read(out.join("deployment.json")).expect("deployment.json")).expect("JSON");
    assert_eq!(deployment["chainId"], 31337);
    assert_eq!(deployment["nft"], report["deployment"]["nft"]);
}

#[test]
fn ctrl_c_stops_the_demos_anvil() {
    let cwd = tempfile::tempdir().expect("a temp dir");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_zkml-eth"))
        .args(["demo", "--out", "story", "--cache-dir", &cache()])
        .current_dir(cwd.path())
        .env_remove("ETH_PRIVATE_KEY")
        .env_remove("ZKML_ANVIL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the zkml-eth binary runs");
    // anvil starts first: its PID is on the first step's lines.
    let mut lines = BufReader::new(demo.stdout.take().expect("stdout")).lines();
    let anvil = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.trim().strip_prefix("anvil pid ")?.split_whitespace().next()?.parse::<u32>().ok())
        .expect("the demo names its anvil's pid");
    assert!(process_alive(anvil), "anvil (pid {anvil}) runs while the demo does");

    let sent = Command::new("kill").args(["-INT", &demo.id().to_string()]).status().expect("kill runs");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = demo.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the demo still runs 30 s after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130), "an interrupted demo exits with 130");
    let deadline = Instant::now() + Duration::from_secs(10);
    while process_alive(anvil) {
        assert!(Instant::now() < deadline, "anvil (pid {anvil}) outlived the interrupted demo");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn demo_refuses_what_it_cannot_use_before_any_work() {
    let cwd = tempfile::tempdir().expect("a temp dir");
    let fail = |args: &[&str], envs: &[(&str, &str)]| {
        let run = zkml_eth(args, envs);
        assert_eq!(run.status.code(), Some(1), "{args:?} should fail");
        crate::common::stderr(&run)
    };

    // A directory with the user's files is never written into.
    let theirs = cwd.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("notes.txt"), "mine").unwrap();
    let err = fail(&["demo", "--out", theirs.to_str().unwrap()], &[]);
    assert!(err.contains("holds files the demo did not write"), "{err}");
    assert_eq!(std::fs::read_to_string(theirs.join("notes.txt")).unwrap(), "mine");
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 1);

    // An anvil that is not there is named, before any proving.
    let out = cwd.path().join("story");
    let missing = cwd.path().join("no-anvil");
    let err = fail(&["demo", "--out", out.to_str().unwrap(), "--anvil", missing.to_str().unwrap()], &[]);
    assert!(err.contains("--anvil / ZKML_ANVIL is") && err.contains("does not exist"), "{err}");

    // Examples without the three models.
    let err = fail(&["demo", "--out", out.to_str().unwrap(), "--examples", cwd.path().to_str().unwrap()], &[]);
    assert!(err.contains("no digits/ in it"), "{err}");

    // A step that fails after anvil started (the models' files are missing) stops anvil too.
    let empty = cwd.path().join("empty-examples");
    for model in ["digits", "eth-price", "pixel-art"] {
        std::fs::create_dir_all(empty.join(model)).unwrap();
    }
    let run = Command::new(env!("CARGO_BIN_EXE_zkml-eth"))
        .args(["demo", "--out", out.to_str().unwrap(), "--examples", empty.to_str().unwrap()])
        .env_remove("ZKML_ANVIL")
        .output()
        .expect("the zkml-eth binary runs");
    assert_eq!(run.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let anvil = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("anvil pid ")?.split_whitespace().next()?.parse::<u32>().ok())
        .expect("the demo named its anvil before failing");
    assert!(crate::common::stderr(&run).contains("mlp.onnx"), "{}", crate::common::stderr(&run));
    let deadline = Instant::now() + Duration::from_secs(10);
    while process_alive(anvil) {
        assert!(Instant::now() < deadline, "anvil (pid {anvil}) outlived the failed demo");
        std::thread::sleep(Duration::from_millis(50));
    }
}
