//! `zkml-eth demo`: the whole story on its own anvil, run once from a directory outside the checkout (the
//! binary finds the examples, solc and anvil of its checkout itself) with `--serve`, then stopped with
//! Ctrl-C; and interrupted once mid-story to show that Ctrl-C stops its anvil.
//! Keys are cached in the repository's `.zkml-cache`, as the other heavy tests do.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::common::{process_alive, zkml_eth};

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

/// The demo's process, killed if the test fails before it stops it.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = Command::new("kill").args(["-INT", &self.0.id().to_string()]).status();
            let _ = self.0.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0)).expect("a free port").local_addr().expect("its address").port()
}

/// `GET path` on `127.0.0.1:port`: the status line and the body.
fn http_get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the page's server accepts connections");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    (head.lines().next().unwrap_or_default().to_string(), body.to_string())
}

fn listening(url: &str) -> bool {
    let authority = url.split("://").nth(1).and_then(|rest| rest.split('/').next()).expect("host:port");
    TcpStream::connect(authority).is_ok()
}

/// Sends Ctrl-C (SIGINT) to `demo` and returns its exit code, failing if it still runs 30 s later.
fn exit_after_ctrl_c(demo: &mut Child) -> Option<i32> {
    let sent = Command::new("kill").args(["-INT", &demo.id().to_string()]).status().expect("kill runs");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = demo.try_wait().expect("wait") {
            return status.code();
        }
        assert!(Instant::now() < deadline, "the demo still runs 30 s after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn demo_tells_the_whole_story_on_its_own_anvil_then_serves_the_dapp() {
    let cwd = tempfile::tempdir().expect("a temp dir");
    let out = cwd.path().join("story");
    let port = free_port();
    let errors = cwd.path().join("stderr.log");
    let mut demo = Demo(
        Command::new(env!("CARGO_BIN_EXE_zkml-eth"))
            .args(["--json", "demo", "--out", out.to_str().expect("UTF-8"), "--cache-dir", &cache()])
            .args(["--serve", "--port", &port.to_string()])
            .current_dir(cwd.path())
            .env_remove("ETH_PRIVATE_KEY")
            .env_remove("ZKML_ANVIL")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&errors).expect("a log file"))
            .spawn()
            .expect("the zkml-eth binary runs"),
    );
    // With --serve the report is printed once the page is up; the demo then serves until Ctrl-C.
    let mut text = String::new();
    for line in BufReader::new(demo.0.stdout.take().expect("stdout")).lines().map_while(Result::ok) {
        text += &line;
        text.push('\n');
        if line == "}" {
            break;
        }
    }
    let report: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("no report ({e}): {text}\n{}", std::fs::read_to_string(&errors).unwrap_or_default())
    });

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

    // The page: at the printed address, pointed at the chain, which still runs, and serving the deployment.
    let rpc = report["rpcUrl"].as_str().expect("rpcUrl");
    assert_eq!(report["pageUrl"].as_str(), Some(format!("http://127.0.0.1:{port}/?rpc={rpc}").as_str()));
    assert!(listening(rpc), "the chain stops only on Ctrl-C with --serve");
    let (status, page) = http_get(port, "/");
    assert!(status.contains(" 200"), "{status}");
    assert!(page.contains("<script"), "{page}");
    let (status, served) = http_get(port, "/deployment.json");
    assert!(status.contains(" 200"), "{status}");
    assert_eq!(serde_json::from_str::<Value>(&served).expect("JSON"), deployment);

    // Ctrl-C stops the page's server and anvil.
    assert_eq!(exit_after_ctrl_c(&mut demo.0), Some(130));
    let deadline = Instant::now() + Duration::from_secs(10);
    while listening(rpc) || TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "anvil or the page's server outlived the demo");
        std::thread::sleep(Duration::from_millis(50));
    }
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

    assert_eq!(exit_after_ctrl_c(&mut demo), Some(130), "an interrupted demo exits with 130");
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
