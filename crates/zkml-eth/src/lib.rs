//! The `zkml-eth` command line and its Ethereum side: contract bindings and the commands that deploy,
//! register and query the zkml-eth contracts over JSON-RPC with alloy.

pub mod chain;
pub mod cli;
pub mod cmd;
pub mod contracts;
pub mod opts;
pub mod output;
pub mod public_values;
