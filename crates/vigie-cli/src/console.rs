//! `vigie users`, `vigie serve` and `vigie audit`: the analyst console's accounts, server and
//! trail (the console itself is the `vigie-console` crate).

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use vigie_store::{AuditAction, Role, Store};

use crate::args::UsersCommand;
use crate::config::Config;
use crate::incidents::open_for_queries;
use crate::Outcome;

fn open_writable(config: &Config, store_flag: Option<&Path>) -> Result<Store> {
    let dir = config.store_dir(store_flag);
    Store::open(&dir).with_context(|| format!("opening the store {}", dir.display()))
}

pub fn users(command: UsersCommand, config: &Config, store_flag: Option<&Path>) -> Result<Outcome> {
    match command {
        UsersCommand::Add { name, role } => {
            let role = Role::parse(&role).context("role: admin, analyst or viewer")?;
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            let password = line.trim_end_matches(['\n', '\r']);
            let mut store = open_writable(config, store_flag)?;
            let existed = store.put_user(&name, role, password)?;
            let what = if existed { "changed" } else { "added" };
            store.audit(
                "cli",
                AuditAction::UserChanged,
                None,
                &format!("{name} {what}, role {}", role.as_str()),
            )?;
            store.sync()?;
            eprintln!("user {name} {what} ({})", role.as_str());
            Ok(Outcome::Success)
        }
        UsersCommand::Totp { name, disable } => {
            let mut store = open_writable(config, store_flag)?;
            if disable {
                if !store.disable_totp(&name)? {
                    bail!("no user {name}");
                }
                store.audit(
                    "cli",
                    AuditAction::UserChanged,
                    None,
                    &format!("{name}: TOTP removed"),
                )?;
                store.sync()?;
                eprintln!("user {name}: second factor removed");
                return Ok(Outcome::Success);
            }
            let Some(uri) = store.enable_totp(&name)? else {
                bail!("no user {name}");
            };
            store.audit(
                "cli",
                AuditAction::UserChanged,
                None,
                &format!("{name}: TOTP set"),
            )?;
            store.sync()?;
            // The URI holds the secret: it goes to stdout only, for the user's app.
            println!("{uri}");
            eprintln!("user {name}: second factor set; load the URI above into an authenticator app (it is not shown again)");
            Ok(Outcome::Success)
        }
        UsersCommand::List => {
            let store = open_for_queries(config, store_flag)?;
            let mut out = std::io::stdout().lock();
            let users = store.users()?;
            for u in &users {
                let lock = match u.locked_until {
                    Some(t) => format!("locked until {t}"),
                    None => String::new(),
                };
                let totp = if u.totp_secret.is_some() { "totp" } else { "-" };
                writeln!(
                    out,
                    "{:<24} {:<8} {totp:<5} {lock}",
                    u.name,
                    u.role.as_str()
                )?;
            }
            Ok(if users.is_empty() {
                Outcome::NothingFound
            } else {
                Outcome::Found
            })
        }
    }
}

pub fn serve(
    listen: Option<SocketAddr>,
    config: &Config,
    store_flag: Option<&Path>,
) -> Result<Outcome> {
    let mut console = config.console.clone().unwrap_or_default();
    if let Some(l) = listen {
        console.listen = l;
    }
    let store = open_writable(config, store_flag)?;
    if store.users()?.is_empty() {
        bail!("no console user yet: add one with `vigie users add NAME --role admin` (password on stdin)");
    }
    let store = Arc::new(Mutex::new(store));
    let watchlist = crate::shipped::load(&config.watchlists)?;
    let matcher = vigie_match::Matcher::new(&watchlist).context("compiling the watchlists")?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let recipients = crate::alerting::recipient_summaries(config, &watchlist);
    let server = Server::start(
        console,
        Arc::clone(&store),
        Arc::new(matcher),
        recipients,
        stop,
    )?;
    server.join()?;
    let store = store.lock().unwrap_or_else(|p| p.into_inner());
    store.sync()?;
    Ok(Outcome::Success)
}

pub fn audit(
    limit: usize,
    json: bool,
    config: &Config,
    store_flag: Option<&Path>,
) -> Result<Outcome> {
    let store = open_for_queries(config, store_flag)?;
    let entries = store.audit_entries(None, limit, None, None)?;
    let mut out = std::io::stdout().lock();
    for e in &entries {
        if json {
            serde_json::to_writer(&mut out, e)?;
            writeln!(out)?;
        } else {
            let incident = e
                .incident
                .map_or(String::new(), |i| format!(" incident {i}"));
            writeln!(
                out,
                "{:>6} {} {:<16} {:<14}{incident} {}",
                e.seq,
                e.at,
                e.user,
                e.action.as_str(),
                e.detail
            )?;
        }
    }
    let problems = store.verify_audit()?;
    for p in &problems {
        eprintln!("audit trail: {p}");
    }
    Ok(if !problems.is_empty() {
        Outcome::CheckFailed
    } else if entries.is_empty() {
        Outcome::NothingFound
    } else {
        Outcome::Found
    })
}

/// The console served on a thread of its own, for `vigie serve` and for `vigie run` with a
/// `[console]` section (the run's store, shared with the recorder).
pub struct Server {
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Binds the console's address now (a taken port is an error before anything starts),
    /// then serves until `stop` is set.
    pub fn start(
        console: vigie_console::ConsoleConfig,
        store: Arc<Mutex<Store>>,
        matcher: Arc<vigie_match::Matcher>,
        recipients: Vec<vigie_console::RecipientSummary>,
        stop: Arc<AtomicBool>,
    ) -> Result<Server> {
        let listen = console.listen;
        let state =
            vigie_console::ConsoleState::new(store, matcher, console)?.with_recipients(recipients);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("console")
            .enable_all()
            .build()?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(listen))
            .with_context(|| format!("console: listening on {listen}"))?;
        let thread = std::thread::Builder::new()
            .name("console".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let shutdown = async move {
                        while !stop.load(Ordering::Relaxed) {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    };
                    vigie_console::serve_listener(listener, state, shutdown).await
                })
            })?;
        Ok(Server { thread })
    }

    /// Waits for the console to stop (requests in flight finish first).
    pub fn join(self) -> Result<()> {
        match self.thread.join() {
            Ok(served) => served.context("serving the console"),
            Err(_) => bail!("the console thread panicked"),
        }
    }
}
