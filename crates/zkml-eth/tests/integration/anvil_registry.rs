//! Deploys the model registry to a real anvil with alloy and reads it back.
//!
//! anvil runs as a child process on a port it picks itself (`--port 0`, parsed from its "Listening on"
//! line by alloy's node bindings) and is stopped by PID when its handle drops, also when a test panics.

use crate::common::{process_alive, spawn_anvil};
use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, U256},
    providers::{Provider, ProviderBuilder},
    sol_types::SolEvent,
};
use zkml_eth::contracts::{
    MockZkmlVerifier,
    ZkmlModelRegistry::{self, ModelConfig, PublicLayout, ZkmlModelRegistryErrors},
};

#[tokio::test]
async fn deploys_registry_registers_a_model_and_reads_it_back() {
    let anvil = spawn_anvil();
    let wallet: EthereumWallet = anvil.wallet().expect("anvil prints its dev keys");
    let owner = anvil.addresses()[0];
    let provider = ProviderBuilder::new().wallet(wallet).connect_http(anvil.endpoint_url());

    let registry = ZkmlModelRegistry::deploy(&provider).await.expect("registry deploys");
    assert!(!provider.get_code_at(*registry.address()).await.unwrap().is_empty(), "registry has code");
    assert_eq!(registry.modelCount().call().await.unwrap(), U256::ZERO);

    let verifier = MockZkmlVerifier::deploy(&provider).await.expect("mock verifier deploys");
    let commitment = B256::from(U256::from(0xc0ffee_u64));
    let config = ModelConfig {
        verifier: *verifier.address(),
        commitment,
        verifyGasLimit: 400_000,
        publicLayout: PublicLayout {
            weights: 1,
            input: 0,
            output: 0,
            inputScale: 7,
            outputScale: 9,
            inputWidth: 17,
            outputWidth: 17,
            inputCount: 2,
            outputCount: 1,
        },
    };
    let receipt = registry
        .registerModel(config.clone())
        .send()
        .await
        .expect("registration is sent")
        .get_receipt()
        .await
        .expect("registration is mined");
    assert!(receipt.status(), "registration succeeded");
    let registered = receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| ZkmlModelRegistry::ModelRegistered::decode_log(&log.inner).ok())
        .expect("ModelRegistered was emitted");
    assert_eq!(registered.modelId, U256::from(1));
    assert_eq!(registered.owner, owner);
    assert_eq!(registered.commitment, commitment);
    assert_eq!(registered.publicLayout.inputCount, 2);

    let model = registry.model(U256::from(1)).call().await.expect("model 1 is readable");
    assert_eq!(model.verifier, *verifier.address());
    assert_eq!(model.commitment, commitment);
    let layout = &model.publicLayout;
    assert_eq!((layout.inputScale, layout.outputScale, model.verifyGasLimit), (7, 9, 400_000));
    assert_eq!(model.status, 1, "Active");
    assert_eq!(model.owner, owner);
    assert_eq!((layout.weights, layout.input, layout.output), (1, 0, 0), "committed, public, public");
    assert_eq!(registry.modelCount().call().await.unwrap(), U256::from(1));

    // Verification goes through the registry's gas-capped call; a tampered proof is rejected.
    let instances = vec![U256::from_be_bytes(commitment.0), U256::from(5)];
    let proof = verifier.mockProof(instances.clone()).call().await.unwrap();
    assert!(registry.isValidProof(U256::from(1), proof.clone(), instances.clone()).call().await.unwrap());
    let mut tampered = proof.to_vec();
    tampered[0] ^= 1;
    assert!(!registry.isValidProof(U256::from(1), tampered.into(), instances).call().await.unwrap());

    // A proof of other weights (another commitment at instance 0) is refused with a named error, although
    // the verifier itself accepts it.
    let other = vec![U256::from(0xbad_u64), U256::from(5)];
    let proof = verifier.mockProof(other.clone()).call().await.unwrap();
    assert!(verifier.verifyProof(proof.clone(), other.clone()).call().await.unwrap());
    assert!(!registry.isValidProof(U256::from(1), proof.clone(), other.clone()).call().await.unwrap());
    let err = registry
        .requireValidProof(U256::from(1), proof, other)
        .call()
        .await
        .expect_err("a proof of other weights is refused");
    match err.as_decoded_interface_error::<ZkmlModelRegistryErrors>() {
        Some(ZkmlModelRegistryErrors::ZkmlRegistryCommitmentMismatch(e)) => {
            assert_eq!((e.modelId, e.found), (U256::from(1), U256::from(0xbad_u64)))
        }
        other => panic!("expected ZkmlRegistryCommitmentMismatch, got {other:?} from {err}"),
    }

    // Reverts come back as our own custom errors, decoded from the ABI.
    let err = registry
        .registerModel(ModelConfig { verifier: Address::repeat_byte(0x11), ..config })
        .call()
        .await
        .expect_err("a verifier without code is refused");
    match err.as_decoded_interface_error::<ZkmlModelRegistryErrors>() {
        Some(ZkmlModelRegistryErrors::ZkmlRegistryInvalidVerifier(e)) => {
            assert_eq!(e.verifier, Address::repeat_byte(0x11))
        }
        other => panic!("expected ZkmlRegistryInvalidVerifier, got {other:?} from {err}"),
    }
    let err = registry.model(U256::from(2)).call().await.expect_err("model 2 does not exist");
    assert!(matches!(
        err.as_decoded_interface_error::<ZkmlModelRegistryErrors>(),
        Some(ZkmlModelRegistryErrors::ZkmlRegistryUnknownModel(_))
    ));
}

#[test]
fn anvil_is_stopped_by_pid_when_a_test_panics() {
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = std::panic::catch_unwind(move || {
        let anvil = spawn_anvil();
        tx.send(anvil.child().id()).unwrap();
        panic!("a failing test with anvil running");
    });
    assert!(outcome.is_err(), "the closure panicked");
    let pid = rx.recv().unwrap();
    assert!(!process_alive(pid), "anvil (pid {pid}) outlived the panicking test");
}
