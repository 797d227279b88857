//! Real `nats-server` processes for tests (feature `testing`): one node or a three-node
//! cluster, JetStream on, file storage under a directory the test owns, everything on
//! 127.0.0.1. Servers are stopped by pid when dropped. A missing `nats-server` is an error,
//! not a skip: CI installs it (`ops/deps.sh`).

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary: `$NATS_SERVER`, else `nats-server` on the `PATH`, else Debian's
/// `/usr/sbin/nats-server`.
pub fn nats_server_binary() -> io::Result<PathBuf> {
    if let Some(p) = std::env::var_os("NATS_SERVER") {
        return Ok(PathBuf::from(p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let c = dir.join("nats-server");
            if c.is_file() {
                return Ok(c);
            }
        }
    }
    let debian = PathBuf::from("/usr/sbin/nats-server");
    if debian.is_file() {
        return Ok(debian);
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "nats-server not found (apt-get install nats-server, or run ops/deps.sh)",
    ))
}

/// A free TCP port on 127.0.0.1 (bound then released; the server binds it right after).
pub fn free_port() -> io::Result<u16> {
    Ok(free_ports(1)?[0])
}

/// `n` distinct free ports: all held at once while they are chosen, so none repeats.
pub fn free_ports(n: usize) -> io::Result<Vec<u16>> {
    let held = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<io::Result<Vec<_>>>()?;
    held.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

/// One `nats-server` process with JetStream, started from a config file it writes in its
/// directory. Its ports stay the same across [`NatsServer::restart`].
#[derive(Debug)]
pub struct NatsServer {
    name: String,
    dir: PathBuf,
    port: u16,
    config: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a single server on a free port with JetStream storing under `dir/nats/js`;
    /// returns once it accepts clients.
    pub fn start(dir: &Path) -> io::Result<NatsServer> {
        NatsServer::start_with(dir, "", &[])
    }

    /// Like [`start`](Self::start), with `extra` appended to the generated configuration
    /// (an `authorization` block...) and `env` set for the server process (the variables
    /// such a block refers to as `$NAME`).
    pub fn start_with(dir: &Path, extra: &str, env: &[(&str, &str)]) -> io::Result<NatsServer> {
        let port = free_port()?;
        let node = dir.join("nats");
        std::fs::create_dir_all(&node)?;
        let config = node.join("server.conf");
        std::fs::write(
            &config,
            format!(
                "server_name: vigie-test\nlisten: 127.0.0.1:{port}\njetstream {{\n  store_dir: {:?}\n}}\n{extra}\n",
                node.join("js")
            ),
        )?;
        let mut s = NatsServer {
            name: "vigie-test".to_string(),
            dir: node,
            port,
            config,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
        };
        s.spawn()?;
        Ok(s)
    }

    fn spawn(&mut self) -> io::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))?;
        let child = Command::new(nats_server_binary()?)
            .arg("-c")
            .arg(&self.config)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        wait_accepting(self.port, Duration::from_secs(30))
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.name)))
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGKILL by pid, and reap it. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same ports and store (after [`kill`](Self::kill), or kills it
    /// first); returns once it accepts clients.
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill();
        self.spawn()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three (or more) `nats-server` nodes routed together on 127.0.0.1 as cluster `vigie`,
/// each with its own `server_name` and store, so an R3 stream can be created.
#[derive(Debug)]
pub struct NatsCluster {
    /// The nodes, in start order.
    pub nodes: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts `n` nodes (3 for an R3 stream) under `dir/n1`, `dir/n2`...; returns once each
    /// accepts clients. JetStream may need a few more seconds to elect its meta leader:
    /// connect with retries (see [`crate::Bus::connect`] and `is_transient`).
    pub fn start(n: usize, dir: &Path) -> io::Result<NatsCluster> {
        let picked = free_ports(2 * n)?;
        let ports: Vec<(u16, u16)> = picked.chunks(2).map(|c| (c[0], c[1])).collect();
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, r)| format!("nats-route://127.0.0.1:{r}"))
            .collect();
        let mut nodes = Vec::with_capacity(n);
        for (i, (port, route)) in ports.iter().enumerate() {
            let name = format!("n{}", i + 1);
            let node = dir.join(&name);
            std::fs::create_dir_all(&node)?;
            let config = node.join("server.conf");
            let mut f = std::fs::File::create(&config)?;
            writeln!(f, "server_name: {name}")?;
            writeln!(f, "listen: 127.0.0.1:{port}")?;
            writeln!(f, "jetstream {{\n  store_dir: {:?}\n}}", node.join("js"))?;
            writeln!(
                f,
                "cluster {{\n  name: vigie\n  listen: 127.0.0.1:{route}\n  routes: [{}]\n}}",
                routes.join(", ")
            )?;
            drop(f);
            let mut s = NatsServer {
                name,
                dir: node,
                port: *port,
                config,
                env: Vec::new(),
                child: None,
            };
            // Start without waiting, so all nodes come up together; wait below.
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(s.dir.join("server.log"))?;
            s.child = Some(
                Command::new(nats_server_binary()?)
                    .arg("-c")
                    .arg(&s.config)
                    .stdin(Stdio::null())
                    .stdout(log.try_clone()?)
                    .stderr(log)
                    .spawn()?,
            );
            nodes.push(s);
        }
        for s in &nodes {
            wait_accepting(s.port, Duration::from_secs(30))?;
        }
        Ok(NatsCluster { nodes })
    }

    /// Every node's URL, comma-separated (for `BusConfig::new`).
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Waits until a NATS server on `port` sends its `INFO` greeting.
fn wait_accepting(port: u16, timeout: Duration) -> io::Result<()> {
    let start = Instant::now();
    loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            let mut line = String::new();
            if BufReader::new(s).read_line(&mut line).is_ok() && line.starts_with("INFO") {
                return Ok(());
            }
        }
        if start.elapsed() > timeout {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("nats-server on port {port} did not accept clients within {timeout:?}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
