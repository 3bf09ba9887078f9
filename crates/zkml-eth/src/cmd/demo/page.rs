//! `zkml-eth demo --serve`: the dApp of `examples/dapp`, built and served by Vite against the demo's chain
//! until Ctrl-C.

use std::{
    fs::File,
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use zkml_evm::solc::on_search_path;

use crate::output::Output;

/// How long `vite preview` may take to accept connections.
const STARTUP: Duration = Duration::from_secs(60);

/// The page, served on `127.0.0.1:port` by a `vite preview` child process.
pub(super) struct Page {
    /// The server (one node process: vite is started directly, not through npm, so that stopping it stops
    /// the server).
    pub(super) server: Child,
    /// Where the server's output goes (shown when it fails).
    log: PathBuf,
    /// The page's address, without the query string.
    pub(super) url: String,
}

/// Builds `app` (installing its npm packages when its lock file changed) and serves it on `port`, reading
/// `deployment` through the `ZKML_DEPLOYMENT` variable that its Vite config serves as `/deployment.json`.
/// The server's output goes to `log`.
pub(super) fn serve(app: &Path, deployment: &Path, port: u16, log: &Path, out: &Output) -> Result<Page> {
    ensure!(
        app.join("package.json").is_file(),
        "--serve: {} is not the dApp (no package.json); pass --examples DIR of a zkml-eth checkout",
        app.display()
    );
    let npm = on_search_path("npm").context("--serve needs Node.js 20.19 or later with npm on PATH")?;
    let node = on_search_path("node").context("--serve needs Node.js 20.19 or later (node on PATH)")?;
    // Refused here, by name, rather than by vite's --strictPort after the build.
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .with_context(|| format!("--port {port}: the port is in use on 127.0.0.1; choose another"))?;

    if needs_install(app) {
        out.status(format!("Installing the dApp's npm packages in {} (npm ci) ...", app.display()));
        run(Command::new(&npm).args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(app), "npm ci")?;
    }
    out.status("Building the dApp (npm run build) ...");
    run(
        Command::new(&npm).args(["run", "build"]).current_dir(app).env("ZKML_DEPLOYMENT", deployment),
        "npm run build",
    )?;

    let vite = app.join("node_modules/vite/bin/vite.js");
    ensure!(vite.is_file(), "{} is missing: run `npm ci` in {}", vite.display(), app.display());
    let output = File::create(log).with_context(|| format!("could not create {}", log.display()))?;
    let errors = output.try_clone().with_context(|| format!("could not write {}", log.display()))?;
    let server = Command::new(node)
        .arg(&vite)
        .args(["preview", "--host", "127.0.0.1", "--strictPort", "--port", &port.to_string()])
        .current_dir(app)
        .env("ZKML_DEPLOYMENT", deployment)
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors)
        .spawn()
        .with_context(|| format!("could not start {}", vite.display()))?;
    let mut page = Page { server, log: log.to_path_buf(), url: format!("http://127.0.0.1:{port}/") };

    let started = Instant::now();
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        if let Some(status) = page.server.try_wait()? {
            bail!("the dApp's server stopped ({status}):\n{}", page.log_tail());
        }
        if started.elapsed() > STARTUP {
            let _ = page.server.kill();
            bail!(
                "the dApp's server did not listen on port {port} within {} s:\n{}",
                STARTUP.as_secs(),
                page.log_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(page)
}

impl Page {
    /// The last lines the server wrote.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// npm writes `node_modules/.package-lock.json` on install: an install is due when it is missing or older
/// than the lock file.
fn needs_install(app: &Path) -> bool {
    let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(app.join("node_modules/.package-lock.json")), modified(app.join("package-lock.json"))) {
        (Some(installed), Some(locked)) => installed < locked,
        _ => true,
    }
}

/// Runs `cmd` to completion; its output is shown only when it fails.
fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let output = cmd.stdin(Stdio::null()).output().with_context(|| format!("could not run {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_file_newer_than_the_install_means_install_again() {
        let app = tempfile::tempdir().unwrap();
        assert!(needs_install(app.path()), "no node_modules");
        std::fs::create_dir(app.path().join("node_modules")).unwrap();
        std::fs::write(app.path().join("node_modules/.package-lock.json"), "{}").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(app.path().join("package-lock.json"), "{}").unwrap();
        assert!(needs_install(app.path()), "the lock file changed after the install");
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(app.path().join("node_modules/.package-lock.json"), "{}").unwrap();
        assert!(!needs_install(app.path()));
    }

    #[test]
    fn a_port_in_use_is_named_before_any_build() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let app = tempfile::tempdir().unwrap();
        std::fs::write(app.path().join("package.json"), "{}").unwrap();
        let log = app.path().join("page.log");
        match serve(app.path(), Path::new("deployment.json"), port, &log, &Output { quiet: true, ..Output::default() })
        {
            Err(e) if on_search_path("npm").is_some() => {
                assert!(e.to_string().contains(&format!("--port {port}: the port is in use")), "{e:#}")
            }
            Err(e) => assert!(e.to_string().contains("needs Node.js"), "{e:#}"),
            Ok(_) => panic!("served on a port in use"),
        }
        assert!(!app.path().join("node_modules").exists(), "nothing installed");
    }
}
