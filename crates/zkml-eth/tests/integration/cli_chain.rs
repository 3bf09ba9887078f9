//! `zkml-eth deploy` and `zkml-eth submit-proof`, run as the real binary against a real anvil, with the
//! committed example proofs (test/fixtures) and verifiers generated from freshly set-up example models:
//! valid proofs change state, tampered ones are refused with the decoded custom error, a replayed vault
//! round is refused, a second deploy reuses everything, and a deployment of another chain is refused.

use std::path::{Path, PathBuf};

use alloy::{
    hex,
    primitives::{Address, U256, keccak256},
    providers::{Provider, ProviderBuilder},
};
use serde_json::Value;

use crate::common::{json, spawn_anvil, stderr, zkml_eth};
use zkml_eth::contracts::{TestToken, VerifiedTradingVault, ZkmlModelRegistry};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// Compiles and sets up `examples/NAME/ONNX` as the fixture scripts do (tools/fixtures/examples.sh), with
/// a private key cache.
fn set_up_example(name: &str, onnx: &str, scale: &[&str], dir: &Path, cache: &Path) -> PathBuf {
    let example = repo().join("examples").join(name);
    let model = dir.join(name);
    let env = [("ZKML_CACHE_DIR", path(cache))];
    let (onnx, calibration) = (example.join(onnx), example.join("calibration.json"));
    let args = ["-q", "compile", path(&onnx), "--calibration", path(&calibration), "--out", path(&model)];
    let compiled = zkml_eth(&[&args[..], scale].concat(), &env);
    assert!(compiled.status.success(), "compile {name}: {}", stderr(&compiled));
    let setup = zkml_eth(&["-q", "setup", path(&model), "--unsafe-dev-srs"], &env);
    assert!(setup.status.success(), "setup {name}: {}", stderr(&setup));
    model
}

fn read_json(file: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(file).expect("the file reads")).expect("the file is JSON")
}

/// A copy of a fixture proof with one byte of the proof changed.
fn tampered(fixture: &Path, out: &Path) -> PathBuf {
    let text = std::fs::read_to_string(fixture).expect("the fixture reads");
    let mut artifact: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    let mut bytes = hex::decode(artifact["proof"].as_str().expect("a proof")).expect("the proof is hex");
    bytes[100] ^= 1;
    artifact["proof"] = Value::String(hex::encode_prefixed(bytes));
    std::fs::write(out, artifact.to_string()).expect("the copy writes");
    out.to_path_buf()
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_then_submit_proofs_to_the_book_the_nft_the_vault_and_a_verifier() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let eth_price = set_up_example("eth-price", "model.onnx", &["--scale", "12"], tmp.path(), &cache);
    let pixel_art = set_up_example("pixel-art", "model.onnx", &["--scale", "12"], tmp.path(), &cache);
    let fixtures = repo().join("test/fixtures");
    let (eth_proof, art_proof) = (fixtures.join("eth-price/proof.json"), fixtures.join("pixel-art/proof.json"));
    let feed = repo().join("examples/eth-price/feed.json");

    let anvil = spawn_anvil();
    let rpc = anvil.endpoint();
    let key = hex::encode_prefixed(anvil.keys()[0].to_bytes());
    let deployment = tmp.path().join("deployments/local.json");
    let env = [("ETH_PRIVATE_KEY", key.as_str()), ("ZKML_CACHE_DIR", path(&cache))];
    let deploy_args = [
        "--json",
        "deploy",
        "--rpc-url",
        &rpc,
        "--eth-price",
        path(&eth_price),
        "--pixel-art",
        path(&pixel_art),
        "--feed-history",
        path(&feed),
        "--out",
        path(&deployment),
        "--unsafe-dev-srs",
    ];

    // A fresh deployment: every contract sent, the file written with what the chain holds.
    let first = json(&zkml_eth(&deploy_args, &env));
    assert!(first["transactions"].as_array().unwrap().len() >= 16, "{first}");
    assert!(first["reused"].as_array().unwrap().is_empty());
    let d = &first["deployment"];
    assert_eq!(d, &serde_json::from_str::<Value>(&std::fs::read_to_string(&deployment).unwrap()).unwrap());
    let address = |name: &str| d[name].as_str().unwrap().parse::<Address>().unwrap();
    let provider = ProviderBuilder::new().wallet(anvil.wallet().unwrap()).connect_http(anvil.endpoint_url());
    for name in ["registry", "book", "nft", "vault", "usd", "weth", "feed", "market"] {
        assert!(!provider.get_code_at(address(name)).await.unwrap().is_empty(), "no code at {name}");
    }
    assert_eq!((d["ethPriceModelId"].as_u64(), d["pixelArtModelId"].as_u64()), (Some(1), Some(2)));

    // Again: nothing sent, the same addresses.
    let second = json(&zkml_eth(&deploy_args, &env));
    assert!(second["transactions"].as_array().unwrap().is_empty(), "{second}");
    assert_eq!(second["reused"].as_array().unwrap().len(), 7, "{second}");
    assert_eq!(&second["deployment"], d);

    // On a chain with a market of its own (here the test market above, given as if it were a real one): the
    // vault is wired to it, and nothing of a test market is deployed. A mistyped address is named by flag.
    let market = ["--quote", "usd", "--risk", "weth", "--feed", "feed", "--router", "market"]
        .map(|a| d.get(a).and_then(Value::as_str).unwrap_or(a).to_string());
    let own_market = tmp.path().join("deployments/own-market.json");
    let mut args: Vec<&str> = deploy_args.to_vec();
    let out_at = args.iter().position(|a| *a == "--out").unwrap() + 1;
    args[out_at] = path(&own_market);
    args.extend(market.iter().map(String::as_str));
    let mut mistyped = args.clone();
    let eoa = anvil.addresses()[1].to_string();
    let feed_at = mistyped.iter().position(|a| *a == "--feed").unwrap() + 1;
    mistyped[feed_at] = &eoa;
    let refused = zkml_eth(&mistyped, &env);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains(&format!("--feed {eoa}: no contract there")), "{}", stderr(&refused));
    assert!(!own_market.exists(), "a refused deploy writes no file");
    let own = json(&zkml_eth(&args, &env));
    let o = &own["deployment"];
    for name in ["usd", "weth", "feed", "market"] {
        assert_eq!(o[name], d[name], "{name}");
    }
    assert!(own["transactions"].as_array().unwrap().iter().all(|tx| !tx["action"].as_str().unwrap().contains("test")));
    let vault = VerifiedTradingVault::new(o["vault"].as_str().unwrap().parse().unwrap(), &provider);
    assert_eq!(vault.FEED().call().await.unwrap(), address("feed"));
    assert_eq!(vault.ROUTER().call().await.unwrap(), address("market"));

    let submit = |proof: &Path, to: &str| {
        zkml_eth(
            &["--json", "submit-proof", path(proof), "--to", to, "--rpc-url", &rpc, "--deployment", path(&deployment)],
            &env,
        )
    };
    // The gas of each submission, for docs/chain.md (`-- --nocapture` shows it).
    let gas = |what: &str, report: &Value| {
        let used: Vec<u64> =
            report["transactions"].as_array().unwrap().iter().map(|tx| tx["gasUsed"].as_u64().unwrap()).collect();
        println!("{what}: gas {used:?}");
    };
    let events = |report: &Value| -> Vec<String> {
        report["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|tx| tx["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap().to_string()))
            .collect()
    };

    // check-verifier: the eth-price model's registered adapter leads to its verifier, byte for byte; the
    // pixel-art model's does not, and the command fails naming the difference.
    let registered_verifier = |id: u64| {
        let shown = json(&zkml_eth(
            &[
                "--json",
                "registry",
                "show",
                "--rpc-url",
                &rpc,
                "--registry",
                d["registry"].as_str().unwrap(),
                "--model-id",
                &id.to_string(),
            ],
            &[],
        ));
        shown["model"]["verifier"].as_str().unwrap().to_string()
    };
    let check = |address: &str| {
        let args = ["--json", "check-verifier", "--model", path(&eth_price), "--address", address, "--rpc-url", &rpc];
        zkml_eth(&[&args[..], &["--unsafe-dev-srs"]].concat(), &env)
    };
    let checked = json(&check(&registered_verifier(1)));
    assert_eq!((checked["matches"].as_bool(), checked["adapter"].as_bool()), (Some(true), Some(true)), "{checked}");
    let mismatch = check(&registered_verifier(2));
    assert!(!mismatch.status.success());
    let report: Value = serde_json::from_slice(&mismatch.stdout).unwrap();
    assert_eq!(report["matches"], false);
    assert!(report["differences"].to_string().contains("is not the verifier generated from"), "{report}");

    // The verifier: the fixture proof verifies, a tampered one does not (and the command fails). Calling a
    // verifier sends nothing, so it needs no account.
    let verified = json(&zkml_eth(
        &[
            "--json",
            "submit-proof",
            path(&eth_proof),
            "--to",
            "verifier",
            "--rpc-url",
            &rpc,
            "--deployment",
            path(&deployment),
        ],
        &[],
    ));
    assert_eq!(verified["valid"], true);
    assert!(verified["gasEstimate"].as_u64().unwrap() > 200_000, "{verified}");
    println!("--to verifier, eth-price: estimated gas {}", verified["gasEstimate"]);
    let bad_eth = tampered(&eth_proof, &tmp.path().join("bad-eth.json"));
    let refused = submit(&bad_eth, "verifier");
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("does not verify"), "{}", stderr(&refused));

    // The book: a tampered proof is refused with the registry's error, by name and argument; the real one
    // is attested; attesting it again sends nothing.
    let refused = submit(&bad_eth, "book");
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("ZkmlRegistryProofRejected(modelId: 1)"), "{}", stderr(&refused));
    let attested = json(&submit(&eth_proof, "book"));
    assert_eq!(events(&attested), ["InferenceAttested"]);
    gas("--to book, eth-price", &attested);
    let again = json(&submit(&eth_proof, "book"));
    assert!(again["transactions"].as_array().unwrap().is_empty());
    assert!(again["alreadyAttested"].as_u64().unwrap() > 0);

    // The NFT: commit, then reveal and mint; the token id is keccak256(prompt), the prompt read from the proof.
    let art_artifact: Value = serde_json::from_str(&std::fs::read_to_string(&art_proof).unwrap()).unwrap();
    assert!(art_artifact["format"].is_string());
    let bad_art = tampered(&art_proof, &tmp.path().join("bad-art.json"));
    let refused = submit(&bad_art, "nft");
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("ERC7007ZkmlUnverifiedAigcData(tokenId: "), "{}", stderr(&refused));
    let minted = json(&submit(&art_proof, "nft"));
    assert_eq!(events(&minted), ["PromptCommitted", "Transfer", "AigcData"], "{minted}");
    gas("--to nft, pixel-art (commit, mint)", &minted);
    let prompt = hex::decode("0x0310f00000").unwrap();
    assert_eq!(minted["tokenId"].as_str().unwrap().parse::<U256>().unwrap(), U256::from_be_bytes(keccak256(&prompt).0));
    // Minting the same prompt again is refused: the token exists.
    let twice = submit(&art_proof, "nft");
    assert!(stderr(&twice).contains("ERC721InvalidSender"), "{}", stderr(&twice));

    // The vault, funded, trades on the prediction for the feed's latest round (the fixture's window)...
    let usd = TestToken::new(address("usd"), &provider);
    let vault = VerifiedTradingVault::new(address("vault"), &provider);
    let depositor = anvil.addresses()[0];
    let amount = U256::from(100_000_000_000u64);
    usd.mint(depositor, amount).send().await.unwrap().get_receipt().await.unwrap();
    usd.approve(*vault.address(), amount).send().await.unwrap().get_receipt().await.unwrap();
    vault.deposit(amount, depositor).send().await.unwrap().get_receipt().await.unwrap();
    let bad_act = submit(&bad_eth, "vault");
    assert!(!bad_act.status.success());
    assert!(stderr(&bad_act).contains("ZkmlRegistryProofRejected(modelId: 1)"), "{}", stderr(&bad_act));
    // The proof the vault acts on is made from its own feed on chain (`prove --from-feed`): the same window
    // as the committed fixture's, so the same public values.
    let round = (d["feedFirstRound"].as_str().unwrap().parse::<u128>().unwrap() + 12).to_string();
    let from_feed = tmp.path().join("from-feed.json");
    let args = ["--json", "prove", path(&eth_price), "--from-feed", "--vault", d["vault"].as_str().unwrap(), "--round"];
    let more =
        [round.as_str(), "--rpc-url", &rpc, "--transcript", "keccak", "--out", path(&from_feed), "--unsafe-dev-srs"];
    json(&zkml_eth(&[&args[..], &more[..]].concat(), &env));
    let read = |p: &Path| serde_json::from_str::<Value>(&std::fs::read_to_string(p).unwrap()).unwrap();
    assert_eq!(read(&from_feed)["instances"], read(&eth_proof)["instances"]);
    // A round whose window crosses its phase's start, and one the feed does not hold, are refused by name.
    let prove_at = |round: &str| {
        let out = tmp.path().join(format!("at-{round}.json"));
        let more = [round, "--rpc-url", &rpc, "--out", path(&out), "--unsafe-dev-srs"];
        zkml_eth(&[&args[..], &more[..]].concat(), &env)
    };
    let early = prove_at("5");
    assert!(stderr(&early).contains("would reach back before the start of its phase"), "{}", stderr(&early));
    let missing = prove_at("18446744073709551717");
    assert!(
        stderr(&missing).contains("the feed has no round 18446744073709551705: it reverted"),
        "{}",
        stderr(&missing)
    );
    // A proof of other inputs is named as such before anything is sent.
    let other = submit(&art_proof, "vault");
    assert!(
        stderr(&other).contains("are not the features of the vault's window ending at round"),
        "{}",
        stderr(&other)
    );
    let acted = json(&submit(&from_feed, "vault"));
    assert_eq!(events(&acted).last().map(String::as_str), Some("Traded"), "{acted}");
    gas("--to vault, eth-price (a trade)", &acted);
    // ... once: the same round again is refused by name.
    let replayed = submit(&eth_proof, "vault");
    assert!(!replayed.status.success());
    assert!(stderr(&replayed).contains("VerifiedTradingVaultRoundNotNewer"), "{}", stderr(&replayed));

    // An aggregated proof goes to the book only, and needs its batch verifier.
    let aggregated = fixtures.join("mixed/aggregated.json");
    let wrong = submit(&aggregated, "vault");
    assert!(!wrong.status.success());
    assert!(stderr(&wrong).contains("--to book"), "{}", stderr(&wrong));
    let unregistered = submit(&aggregated, "book");
    assert!(stderr(&unregistered).contains("register --aggregated"), "{}", stderr(&unregistered));

    // `register`: the digits MLP (the mixed aggregation's third slot), then the aggregation's verifier (the
    // committed bytecode: regenerating it needs the aggregation keys, minutes of keygen) as a batch verifier
    // over models 1, 2, 3, active at once as the deployer owns all three, and recorded in the deployment file.
    let digits = set_up_example("digits", "mlp.onnx", &[], tmp.path(), &cache);
    let register = |args: &[&str]| {
        let base = ["--json", "register", "--rpc-url", &rpc, "--deployment", path(&deployment), "--unsafe-dev-srs"];
        zkml_eth(&[&base[..], args].concat(), &env)
    };
    let registered = json(&register(&["--model", path(&digits)]));
    assert_eq!(registered["modelId"], 3, "{registered}");
    let bytecode = fixtures.join("mixed/Halo2Verifier.hex");
    let batch = json(&register(&["--aggregated", path(&aggregated), "--bytecode", path(&bytecode)]));
    assert_eq!((batch["batchVerifierId"].as_u64(), batch["pendingApprovals"].as_u64()), (Some(1), Some(0)), "{batch}");
    assert_eq!(batch["slotModelIds"], serde_json::json!([1, 2, 3]));
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(&deployment).unwrap()).unwrap();
    assert_eq!(recorded["batchVerifiers"].as_object().unwrap().values().next(), Some(&Value::from(1)));

    // The batch: a tampered aggregated proof is refused by name; the real one records the two inferences the
    // book did not hold yet (the eth-price one, the same window and outputs, was attested above).
    let bad_batch = tampered(&aggregated, &tmp.path().join("bad-batch.json"));
    let refused = submit(&bad_batch, "book");
    assert!(stderr(&refused).contains("ZkmlRegistryBatchProofRejected(batchVerifierId: 1)"), "{}", stderr(&refused));
    let attested = json(&submit(&aggregated, "book"));
    assert_eq!(events(&attested), ["InferenceAttested", "InferenceAttested"], "{attested}");
    gas("--to book, the mixed aggregated proof (two new inferences)", &attested);

    // A retired model: the registry no longer finds it by commitment, and naming it is refused by name.
    // A fresh provider: the first one's cached nonce is behind the CLI's transactions from the same account.
    let provider = ProviderBuilder::new().wallet(anvil.wallet().unwrap()).connect_http(anvil.endpoint_url());
    let registry = ZkmlModelRegistry::new(address("registry"), &provider);
    registry.retireModel(U256::from(2)).send().await.unwrap().get_receipt().await.unwrap();
    let unknown = submit(&art_proof, "book");
    assert!(stderr(&unknown).contains("no active model in registry"), "{}", stderr(&unknown));
    let args = ["submit-proof", path(&art_proof), "--to", "book", "--model-id", "2", "--rpc-url", &rpc, "--deployment"];
    let retired = zkml_eth(&[&args[..], &[path(&deployment)]].concat(), &env);
    assert!(stderr(&retired).contains("ZkmlRegistryModelIsRetired(modelId: 2)"), "{}", stderr(&retired));

    // An account without ETH is told so before anything is sent.
    let broke = "0x0000000000000000000000000000000000000000000000000000000000000abc";
    let args = ["submit-proof", path(&eth_proof), "--to", "book", "--rpc-url", &rpc, "--deployment", path(&deployment)];
    let unfunded = zkml_eth(&args, &[("ETH_PRIVATE_KEY", broke)]);
    assert!(stderr(&unfunded).contains("has no ETH on chain 31337"), "{}", stderr(&unfunded));

    // A deployment file of another chain, and a chain that does not answer, are refused by name.
    let mut other: Value = d.clone();
    other["chainId"] = Value::from(1);
    let other_file = tmp.path().join("other.json");
    std::fs::write(&other_file, other.to_string()).unwrap();
    let args = ["submit-proof", path(&eth_proof), "--to", "book", "--rpc-url", &rpc, "--deployment", path(&other_file)];
    let mismatched = zkml_eth(&args, &env);
    assert!(stderr(&mismatched).contains("is a deployment on chain 1, but"), "{}", stderr(&mismatched));
    let mut deploy_elsewhere = deploy_args.to_vec();
    let out_index = deploy_elsewhere.iter().position(|a| *a == "--out").unwrap() + 1;
    deploy_elsewhere[out_index] = path(&other_file);
    let refused = zkml_eth(&deploy_elsewhere, &env);
    assert!(stderr(&refused).contains("is a deployment on chain 1, but"), "{}", stderr(&refused));
    assert_eq!(read_json(&other_file), other, "the other chain's file was changed");
    let args = ["submit-proof", path(&eth_proof), "--to", "book", "--rpc-url", "http://127.0.0.1:9", "--deployment"];
    let unreachable = zkml_eth(&[&args[..], &[path(&deployment)]].concat(), &env);
    assert!(
        stderr(&unreachable).contains("could not reach the chain at http://127.0.0.1:9"),
        "{}",
        stderr(&unreachable)
    );
}

#[test]
fn inspect_decodes_proofs_and_aggregated_proofs_and_refuses_other_files() {
    let fixtures = repo().join("test/fixtures");
    let read = |p: &Path| serde_json::from_str::<Value>(&std::fs::read_to_string(p).unwrap()).unwrap();
    let inspect = |p: &Path| zkml_eth(&["--json", "inspect", path(p)], &[]);

    let proof = fixtures.join("eth-price/proof.json");
    let shown = json(&inspect(&proof));
    let outputs = &shown["sections"][1];
    assert_eq!(outputs["kind"], "outputs");
    assert_eq!(outputs["quantized"], read(&proof)["outputs_quantized"]);
    assert_eq!(outputs["argmax"], 3);
    let inputs = read(&fixtures.join("eth-price/input.json"));
    assert_eq!(shown["sections"][0]["quantized"], inputs["quantized"][0]);

    let aggregated = json(&inspect(&fixtures.join("mixed/aggregated.json")));
    let slots = aggregated["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 3);
    assert_eq!(slots[0]["sections"][1]["quantized"], read(&proof)["outputs_quantized"]);

    let refused = inspect(&repo().join("Cargo.toml"));
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("Cargo.toml is not JSON"), "{}", stderr(&refused));
}
