//! The `zkml-eth registry` commands, run as the real binary against a real anvil.

use crate::common::{json, spawn_anvil, stderr, zkml_eth};
use alloy::{
    hex,
    primitives::{Address, B256, U256},
    providers::ProviderBuilder,
};
use zkml_eth::contracts::{MockZkmlVerifier, ZkmlModelRegistry};

#[tokio::test]
async fn deploy_then_show_registry_and_model() {
    let anvil = spawn_anvil();
    let rpc = anvil.endpoint();
    let key = hex::encode_prefixed(anvil.keys()[0].to_bytes());

    let deployed = json(&zkml_eth(&["--json", "registry", "deploy", "--rpc-url", &rpc], &[("ETH_PRIVATE_KEY", &key)]));
    let registry: Address = deployed["address"].as_str().unwrap().parse().unwrap();
    assert!(deployed["runtimeBytes"].as_u64().unwrap() > 1_000, "{deployed}");
    assert!(deployed["gasUsed"].as_u64().unwrap() > 100_000, "{deployed}");

    let shown =
        json(&zkml_eth(&["--json", "registry", "show", "--rpc-url", &rpc, "--registry", &registry.to_string()], &[]));
    assert_eq!(shown["modelCount"], 0);
    assert_eq!(shown["chainId"], 31337);
    assert!(shown.get("model").is_none());

    // Register a model with alloy, then read it through the CLI.
    let provider = ProviderBuilder::new().wallet(anvil.wallet().unwrap()).connect_http(anvil.endpoint_url());
    let verifier = MockZkmlVerifier::deploy(&provider).await.unwrap();
    let commitment = B256::from(U256::from(77));
    ZkmlModelRegistry::new(registry, &provider)
        .registerModel(ZkmlModelRegistry::ModelConfig {
            verifier: *verifier.address(),
            commitment,
            verifyGasLimit: 300_000,
            publicLayout: ZkmlModelRegistry::PublicLayout {
                weights: 1,
                input: 1,
                output: 0,
                inputScale: 6,
                outputScale: 8,
                inputWidth: 17,
                outputWidth: 19,
                inputCount: 64,
                outputCount: 10,
            },
        })
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();

    let shown = json(&zkml_eth(
        &["--json", "registry", "show", "--rpc-url", &rpc, "--registry", &registry.to_string(), "--model-id", "1"],
        &[],
    ));
    let model = &shown["model"];
    assert_eq!(model["status"], "active");
    assert_eq!(model["verifier"].as_str().unwrap().parse::<Address>().unwrap(), *verifier.address());
    assert_eq!(model["commitment"].as_str().unwrap().parse::<B256>().unwrap(), commitment);
    let layout = &model["publicLayout"];
    assert_eq!((layout["inputScale"].as_u64(), layout["outputScale"].as_u64()), (Some(6), Some(8)));
    assert_eq!(
        (layout["weights"].as_str(), layout["input"].as_str(), layout["output"].as_str()),
        (Some("committed"), Some("hashed"), Some("public"))
    );
    assert_eq!((layout["inputCount"].as_u64(), layout["outputWidth"].as_u64()), (Some(64), Some(19)));
    assert_eq!(model["owner"].as_str().unwrap().parse::<Address>().unwrap(), anvil.addresses()[0]);

    let human =
        zkml_eth(&["registry", "show", "--rpc-url", &rpc, "--registry", &registry.to_string(), "--model-id", "1"], &[]);
    assert!(human.status.success());
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("status      active"), "{text}");
    assert!(text.contains("weights     committed (the commitment must be instance 0)"), "{text}");
    assert!(text.contains("outputs     public 10 x 19 bits, scale 2^-8"), "{text}");

    // Errors name the problem and never panic.
    let unknown =
        zkml_eth(&["registry", "show", "--rpc-url", &rpc, "--registry", &registry.to_string(), "--model-id", "9"], &[]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("model 9 is not registered"), "{}", stderr(&unknown));

    let eoa = anvil.addresses()[1].to_string();
    let no_code = zkml_eth(&["registry", "show", "--rpc-url", &rpc, "--registry", &eoa], &[]);
    assert_eq!(no_code.status.code(), Some(1));
    assert!(stderr(&no_code).contains(&format!("no contract at {eoa}")), "{}", stderr(&no_code));
}

#[tokio::test]
async fn signs_with_an_encrypted_keystore_and_names_a_wrong_password() {
    let anvil = spawn_anvil();
    let rpc = anvil.endpoint();
    let dir = tempfile::tempdir().unwrap();
    // anvil's first dev key, encrypted as geth and `cast wallet import` do.
    let key = anvil.keys()[0].to_bytes();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_chacha::rand_core::SeedableRng>::seed_from_u64(7);
    alloy::signers::local::PrivateKeySigner::encrypt_keystore(
        dir.path(),
        &mut rng,
        key,
        "correct horse",
        Some("deployer.json"),
    )
    .unwrap();
    let keystore = dir.path().join("deployer.json");
    let keystore = keystore.to_str().unwrap();

    let deployed = json(&zkml_eth(
        &["--json", "registry", "deploy", "--rpc-url", &rpc, "--keystore", keystore],
        &[("ETH_PASSWORD", "correct horse")],
    ));
    assert!(deployed["address"].as_str().unwrap().parse::<Address>().is_ok(), "{deployed}");

    let wrong =
        zkml_eth(&["registry", "deploy", "--rpc-url", &rpc, "--keystore", keystore, "--password", "wrong"], &[]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stderr(&wrong).contains("could not decrypt the keystore"), "{}", stderr(&wrong));
    let missing = zkml_eth(&["registry", "deploy", "--rpc-url", &rpc, "--keystore", keystore], &[]);
    assert!(stderr(&missing).contains("needs its password: --password or ETH_PASSWORD"), "{}", stderr(&missing));
    let none = zkml_eth(&["registry", "deploy", "--rpc-url", &rpc], &[]);
    assert!(stderr(&none).contains("no sending account"), "{}", stderr(&none));
}

#[test]
fn bad_private_key_is_a_clear_error_that_does_not_echo_the_key() {
    let secret = "0xnot-a-key-but-still-secret";
    let out = zkml_eth(&["registry", "deploy", "--rpc-url", "http://127.0.0.1:9"], &[("ETH_PRIVATE_KEY", secret)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("not a valid hex secp256k1 private key"), "{err}");
    assert!(!err.contains("still-secret"), "the key leaked into the error: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unreachable_rpc_names_the_endpoint() {
    let out = zkml_eth(
        &[
            "registry",
            "show",
            "--rpc-url",
            "http://127.0.0.1:9",
            "--registry",
            "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("could not reach http://127.0.0.1:9"), "{}", stderr(&out));
}
