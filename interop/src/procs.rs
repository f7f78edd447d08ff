//! The processes under test: our plugins (`pluginctl demo serve`) and the Go
//! plugin. Each is killed if dropped; `stop` ends one with SIGTERM and checks
//! it went cleanly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::{Failure, Programs};

/// How long a program may take to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// A running program whose stdout we read line by line.
#[derive(Debug)]
pub(crate) struct Running {
    what: String,
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Running {
    /// Starts `command` (stdout piped, stderr inherited, killed on drop).
    pub(crate) fn spawn(what: &str, mut command: Command) -> Result<Self, Failure> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {what}: {e}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| format!("{what} has no stdout"))?;
        Ok(Self {
            what: what.to_owned(),
            child,
            lines: BufReader::new(stdout).lines(),
        })
    }

    /// The next line of its output.
    pub(crate) async fn line(&mut self) -> Result<String, Failure> {
        match tokio::time::timeout(READY_WITHIN, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => Ok(line),
            Ok(Ok(None)) => Err(format!("{} ended before saying it was ready", self.what)),
            Ok(Err(e)) => Err(format!("cannot read from {}: {e}", self.what)),
            Err(_) => Err(format!(
                "{} said nothing within {READY_WITHIN:?}",
                self.what
            )),
        }
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> Result<u32, Failure> {
        self.child
            .id()
            .ok_or_else(|| format!("{} has already exited", self.what))
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub(crate) async fn terminate(mut self) -> Result<Vec<String>, Failure> {
        let pid = self.pid()?;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if !status.success() {
            return Err(format!("kill -TERM {pid} ({}) failed", self.what));
        }
        let mut rest = Vec::new();
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(READY_WITHIN, self.lines.next_line()).await
        {
            rest.push(line);
        }
        let status = self
            .child
            .wait()
            .await
            .map_err(|e| format!("cannot wait for {}: {e}", self.what))?;
        if status.success() {
            Ok(rest)
        } else {
            Err(format!("{} exited with {status} on SIGTERM", self.what))
        }
    }
}

/// `pluginctl demo serve --dir DIR --state DIR-state`: demo-volume,
/// demo-ipam, demo-net, demo-authz, demo-log and echo on unix sockets,
/// echo-tcp with a `.spec`, echo-tls with a `.json` and a CA in `DIR/tls`;
/// what the plugins keep in `DIR-state`, beside DIR.
#[derive(Debug)]
pub(crate) struct OurPlugins {
    running: Running,
    /// Where the sockets and descriptors are.
    pub(crate) dir: PathBuf,
    /// What the plugins keep (the volumes' directories are under
    /// `volumes/`), as an absolute path without links.
    pub(crate) state: PathBuf,
    /// Each plugin's address, by name, as `demo serve` printed it.
    pub(crate) addresses: BTreeMap<String, String>,
}

impl OurPlugins {
    /// The plugins of `demo serve`.
    pub(crate) const NAMES: [&str; 8] = [
        "demo-volume",
        "demo-ipam",
        "demo-net",
        "demo-authz",
        "demo-log",
        "echo",
        "echo-tcp",
        "echo-tls",
    ];

    pub(crate) async fn start(programs: &Programs, dir: &Path) -> Result<Self, Failure> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let state = dir.with_file_name(format!(
            "{}-state",
            dir.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        ));
        let mut command = Command::new(&programs.pluginctl);
        command
            .arg("demo")
            .arg("serve")
            .arg("--dir")
            .arg(dir)
            .arg("--state")
            .arg(&state);
        let mut running = Running::spawn("pluginctl demo serve", command)?;
        let mut addresses = BTreeMap::new();
        for _ in Self::NAMES {
            let line = running.line().await?;
            let (name, address) = line
                .strip_prefix("serving ")
                .and_then(|rest| rest.split_once(" on "))
                .ok_or_else(|| format!("pluginctl demo serve said {line:?}"))?;
            addresses.insert(name.to_owned(), address.to_owned());
        }
        let state = std::fs::canonicalize(&state)
            .map_err(|e| format!("cannot resolve {}: {e}", state.display()))?;
        Ok(Self {
            running,
            dir: dir.to_owned(),
            state,
            addresses,
        })
    }

    /// The address `name` serves on.
    pub(crate) fn address(&self, name: &str) -> Result<&str, Failure> {
        self.addresses
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("pluginctl demo serve did not serve {name}"))
    }

    /// The demo CA, the certificate it signed (for `localhost` and
    /// 127.0.0.1) and its key.
    pub(crate) fn tls_file(&self, file: &str) -> PathBuf {
        self.dir.join("tls").join(file)
    }

    /// The process id of `pluginctl demo serve`.
    pub(crate) fn pid(&self) -> Result<u32, Failure> {
        self.running.pid()
    }

    /// SIGTERM; checks it says it removed its files, and did.
    pub(crate) async fn stop(self) -> Result<(), Failure> {
        let said = self.running.terminate().await?;
        if said != ["stopped; sockets and descriptors removed"] {
            return Err(format!("pluginctl demo serve ended saying {said:?}"));
        }
        let left: Vec<_> = std::fs::read_dir(&self.dir)
            .map_err(|e| format!("cannot list {}: {e}", self.dir.display()))?
            .filter_map(Result::ok)
            .map(|entry| entry.file_name())
            .collect();
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("pluginctl demo serve left {left:?} behind"))
        }
    }
}

/// The Go plugin (`go/goplugin`), on a unix socket or on TCP with TLS.
#[derive(Debug)]
pub(crate) struct GoPlugin {
    running: Running,
    /// Its address: `unix:///...` or `https://127.0.0.1:PORT`.
    pub(crate) address: String,
}

impl GoPlugin {
    /// Serves on the unix socket `path`.
    pub(crate) async fn unix(programs: &Programs, path: &Path) -> Result<Self, Failure> {
        let mut command = Command::new(programs.goplugin());
        command.arg("-unix").arg(path);
        Self::start(command).await
    }

    /// Serves TLS on 127.0.0.1 with `cert` and `key`.
    pub(crate) async fn tls(programs: &Programs, cert: &Path, key: &Path) -> Result<Self, Failure> {
        let mut command = Command::new(programs.goplugin());
        command
            .args(["-tcp", "127.0.0.1:0", "-cert"])
            .arg(cert)
            .arg("-key")
            .arg(key);
        Self::start(command).await
    }

    async fn start(command: Command) -> Result<Self, Failure> {
        let mut running = Running::spawn("the Go plugin", command)?;
        let line = running.line().await?;
        let address = line
            .strip_prefix("listening ")
            .ok_or_else(|| format!("the Go plugin said {line:?}"))?
            .to_owned();
        Ok(Self { running, address })
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> Result<u32, Failure> {
        self.running.pid()
    }

    /// The port of a TCP address.
    pub(crate) fn port(&self) -> Result<&str, Failure> {
        self.address
            .rsplit_once(':')
            .map(|(_, port)| port)
            .ok_or_else(|| format!("{} has no port", self.address))
    }
}

/// User and system CPU time of process `pid` so far, from `/proc/PID/stat`.
pub(crate) fn cpu_time(pid: u32) -> Result<Duration, Failure> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let fields = stat
        .rsplit_once(')')
        .map(|(_, fields)| fields)
        .ok_or_else(|| format!("{path} is not what Linux writes"))?;
    // After the command name: state is field 3; utime 14 and stime 15, in
    // USER_HZ (100 per second) ticks.
    let mut fields = fields.split_whitespace().skip(11);
    let mut tick = || -> Result<u64, Failure> {
        fields
            .next()
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("{path} has no CPU times"))
    };
    let (user, system) = (tick()?, tick()?);
    Ok(Duration::from_millis((user + system) * 10))
}
