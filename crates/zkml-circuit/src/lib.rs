//! zkml-circuit: halo2-base chips (dot products, rescaling, activations by lookup, pooling, Poseidon
//! commitments) and the circuit that lays out a quantized model from `zkml-model`.
