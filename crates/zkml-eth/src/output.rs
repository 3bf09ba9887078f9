//! The one place that writes command results: tidy text for people, JSON for machines (`--json`), nothing
//! but errors with `--quiet`.

use serde::Serialize;

/// How command results are printed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Output {
    /// Print results as one JSON document on stdout.
    pub json: bool,
    /// Print nothing but errors.
    pub quiet: bool,
}

impl Output {
    /// Prints a command's result: `value` as JSON with `--json`, else the human text.
    pub fn result<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) -> anyhow::Result<()> {
        if self.json {
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
