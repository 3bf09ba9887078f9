//! The one place that writes command results: tidy text for people, JSON for machines (`--json`), nothing
//! but errors with `--quiet`.

use serde::Serialize;
use std::sync::Mutex;

/// How command results are printed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Output {
    /// Print results as one JSON document on stdout.
    pub json: bool,
    /// Print nothing but errors.
    pub quiet: bool,
    /// Keep results here instead of printing them (`zkml-eth demo` runs the other commands in-process and
    /// reads their reports). Nothing else is printed.
    pub capture: Option<&'static Captured>,
}

/// The results of commands run with [`Output::captured`], in the order they were reported.
pub type Captured = Mutex<Vec<CapturedResult>>;

/// One command result kept by [`Output::captured`]: what `--json` would print, and the human text.
#[derive(Debug, Clone)]
pub struct CapturedResult {
    /// The JSON document.
    pub value: serde_json::Value,
    /// The text for people.
    pub text: String,
}

impl Output {
    /// Results kept in `sink`, nothing printed.
    pub fn captured(sink: &'static Captured) -> Self {
        Self { json: false, quiet: true, capture: Some(sink) }
    }

    /// True when results go to a machine (`--json`, or captured): a failing command reports its result
    /// before its error.
    pub fn machine(&self) -> bool {
        self.json || self.capture.is_some()
    }

    /// Prints a command's result: `value` as JSON with `--json`, else the human text.
    pub fn result<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) -> anyhow::Result<()> {
        if let Some(sink) = self.capture {
            let result = CapturedResult { value: serde_json::to_value(value)?, text: human() };
            sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(result);
        } else if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else if !self.quiet {
            println!("{}", human());
        }
        Ok(())
    }

    /// Prints a progress line for people on stderr (never with `--json` or `--quiet`).
    pub fn status(&self, line: impl AsRef<str>) {
        if !self.json && !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }
}
