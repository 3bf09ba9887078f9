//! `zkml-eth`: from an ONNX model to a verified prediction on Ethereum.

fn main() {}
