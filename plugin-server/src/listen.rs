//! The listeners: a unix socket, TCP with a `.spec`, TLS with an `https://`
//! descriptor, or a socket handed over by systemd.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plugin_spec::{Address, Descriptor, HostPort, PluginSpec, SocketName, UnixPath};

use crate::error::ServerError;
use crate::files::{self, OwnedFile, PathLock};
use crate::server::PluginServer;
use crate::serving::{self, Listener, Serving};

/// How [`serve_unix_with`](PluginServer::serve_unix_with) sets up the socket
/// file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnixOptions {
    mode: u32,
    group: Option<u32>,
}

impl Default for UnixOptions {
    /// Mode 0660, group unchanged (as go-plugins-helpers does).
    fn default() -> Self {
        Self {
            mode: 0o660,
            group: None,
        }
    }
}

impl UnixOptions {
    /// Mode 0660, group unchanged.
    pub fn new() -> Self {
        Self::default()
    }

    /// The socket file's permission bits.
    #[must_use]
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// The socket file's group (a gid), so that its members may connect.
    #[must_use]
    pub fn group(mut self, gid: u32) -> Self {
        self.group = Some(gid);
        self
    }
}

fn runtime() -> Result<tokio::runtime::Handle, ServerError> {
    tokio::runtime::Handle::try_current().map_err(|_| ServerError::NoRuntime)
}

fn file_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ServerError {
    let path = path.to_owned();
    move |source| ServerError::File {
        action,
        path,
        source,
    }
}

impl PluginServer {
    /// The directory [`serve_managed`](Self::serve_managed) makes its socket
    /// in: by default [`DOCKER_SOCKET_DIR`](plugin_spec::DOCKER_SOCKET_DIR)
    /// (`/run/docker/plugins`), where the engine looks inside the plugin's
    /// rootfs. Give another (a temporary directory) to run the managed
    /// plugin's binary in a test, outside its container.
    #[must_use]
    pub fn managed_socket_dir(self, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        self.edit(|inner| inner.managed_socket_dir = dir)
    }

    /// Serves as a managed (v2) plugin: on the unix socket `socket` (the
    /// file name `Interface.Socket` of its `config.json` gives, e.g.
    /// `sshfs.sock`) in [`managed_socket_dir`](Self::managed_socket_dir)
    /// (`/run/docker/plugins` unless set), which the engine bind-mounts into
    /// the plugin's container. A legacy plugin, run by systemd or by hand,
    /// uses [`serve_unix`](Self::serve_unix) with the path it likes instead.
    ///
    /// # Errors
    /// [`ServerError::ManagedSocket`] when `socket` is not a plain file name
    /// ([`SocketName`]: the engine looks only in that directory); as
    /// [`serve_unix_with`](Self::serve_unix_with) otherwise.
    pub fn serve_managed(&self, socket: &str) -> Result<Serving, ServerError> {
        let name =
            SocketName::new(socket).map_err(|source| ServerError::ManagedSocket { source })?;
        self.serve_unix(name.path_in(&self.inner.managed_socket_dir))
    }

    /// Serves on a unix socket at `path` (mode 0660); see
    /// [`serve_unix_with`](Self::serve_unix_with).
    ///
    /// # Errors
    /// As [`serve_unix_with`](Self::serve_unix_with).
    pub fn serve_unix(&self, path: impl AsRef<Path>) -> Result<Serving, ServerError> {
        self.serve_unix_with(path, UnixOptions::default())
    }

    /// Serves on a unix socket at `path`, creating its directory. A stale
    /// socket there (nobody answers) is replaced; a live one is not taken over;
    /// anything else at the path is left alone. The socket is removed when the
    /// server stops.
    ///
    /// # Restarting in place
    /// A new instance may start on the path while the previous one stops (a
    /// reload, a supervisor's restart), in this process or another: it starts
    /// every time, and the old instance never removes the new one's socket.
    /// The server that owns the path holds an exclusive lock (`flock(2)`) on
    /// `.NAME.lock` beside the socket (`.p.sock.lock` for `p.sock`; plugin
    /// discovery ignores it) from before it binds until after its socket is
    /// removed, and removes the lock file on the way out; the kernel releases
    /// the lock of a process that dies (its empty lock file stays, and the
    /// next instance takes it). A new instance that finds the lock
    /// held gets [`ServerError::SocketInUse`] if a server answers on the
    /// socket, and otherwise (the holder is stopping, or still starting)
    /// waits for the lock, up to 2 seconds, blocking its thread, then gets
    /// `SocketInUse` too. A socket whose removal races with the new
    /// instance's clearing of it counts as gone. Programs that take no lock
    /// (another plugin framework) are still refused while they answer, and
    /// their stale sockets replaced.
    ///
    /// # Errors
    /// [`ServerError::SocketInUse`], [`ServerError::NotASocket`],
    /// [`ServerError::InvalidPath`] (relative after resolution, over 107
    /// bytes), [`ServerError::Bind`], [`ServerError::File`],
    /// [`ServerError::NoRuntime`].
    pub fn serve_unix_with(
        &self,
        path: impl AsRef<Path>,
        options: UnixOptions,
    ) -> Result<Serving, ServerError> {
        let runtime = runtime()?;
        let path = std::path::absolute(path.as_ref()).unwrap_or_else(|_| path.as_ref().to_owned());
        UnixPath::new(&path).map_err(|source| ServerError::InvalidPath {
            path: path.clone(),
            source,
        })?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(file_error("create", dir))?;
        }
        let lock = claim(&path)?;
        clear_stale_socket(&path)?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::UnixListener::bind(&path).map_err(|source| {
                if source.kind() == io::ErrorKind::AddrInUse {
                    // Another program (one that takes no lock) bound it
                    // since the stale socket was cleared.
                    ServerError::SocketInUse { path: path.clone() }
                } else {
                    ServerError::Bind {
                        address: path.display().to_string(),
                        source,
                    }
                }
            })?
        };
        let owned =
            OwnedFile::adopt_locked(&path, Some(lock)).map_err(file_error("examine", &path))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(options.mode))
            .map_err(file_error("set permissions on", &path))?;
        if let Some(gid) = options.group {
            std::os::unix::fs::chown(&path, None, Some(gid))
                .map_err(file_error("change the group of", &path))?;
        }
        let spec = PluginSpec::from_socket(self.name().clone(), &path).map_err(|source| {
            ServerError::InvalidPath {
                path: path.clone(),
                source,
            }
        })?;
        Ok(serving::start(
            &runtime,
            self,
            Listener::Unix(listener),
            spec,
            vec![owned],
        ))
    }

    /// Serves plain HTTP on `addr` (port 0 picks one) and writes
    /// `<spec_dir>/<name>.spec` holding `tcp://` and the address actually
    /// bound, atomically. The descriptor is removed when the server stops.
    ///
    /// # Errors
    /// [`ServerError::Bind`], [`ServerError::File`], [`ServerError::NoRuntime`].
    pub fn serve_tcp(
        &self,
        addr: impl ToSocketAddrs,
        spec_dir: impl AsRef<Path>,
    ) -> Result<Serving, ServerError> {
        let runtime = runtime()?;
        let (listener, local) = bind_tcp(&runtime, addr)?;
        let address = Address::Tcp(host_port(&local.ip().to_string(), local.port())?);
        let descriptor = Descriptor::new(self.name(), &address, None).map_err(described)?;
        let (spec, owned) = self.write_descriptor(spec_dir.as_ref(), &descriptor)?;
        Ok(serving::start(
            &runtime,
            self,
            Listener::Tcp(listener),
            spec,
            vec![owned],
        ))
    }

    /// Serves HTTPS on `addr` with the certificate and key of `tls`, and writes
    /// an `https://` descriptor atomically: `<name>.json` with
    /// `TLSConfig.CAFile` when `tls` names a CA file, `<name>.spec` otherwise.
    /// (go-plugins-helpers writes `tcp://` here, so Docker speaks plain HTTP to
    /// a TLS server.) The descriptor is removed when the server stops.
    ///
    /// # Errors
    /// [`ServerError::TlsFile`], [`ServerError::Tls`], [`ServerError::Bind`],
    /// [`ServerError::File`], [`ServerError::NoRuntime`].
    #[cfg(feature = "tls")]
    pub fn serve_tls(
        &self,
        addr: impl ToSocketAddrs,
        tls: &crate::TlsFiles,
        spec_dir: impl AsRef<Path>,
    ) -> Result<Serving, ServerError> {
        let runtime = runtime()?;
        let acceptor = crate::tls::acceptor(tls)?;
        let (listener, local) = bind_tcp(&runtime, addr)?;
        let host = tls.host.clone().unwrap_or_else(|| local.ip().to_string());
        let address = Address::Tls(host_port(&host, local.port())?);
        let options = tls
            .ca_file
            .as_ref()
            .map(|ca| plugin_spec::TlsOptions::new().with_ca_file(ca));
        let descriptor =
            Descriptor::new(self.name(), &address, options.as_ref()).map_err(described)?;
        let (spec, owned) = self.write_descriptor(spec_dir.as_ref(), &descriptor)?;
        Ok(serving::start(
            &runtime,
            self,
            Listener::Tls(listener, acceptor),
            spec,
            vec![owned],
        ))
    }

    /// Serves on the socket systemd passed (socket activation: `LISTEN_FDS`
    /// and `LISTEN_PID`, first descriptor), unix or TCP. The socket and any
    /// descriptor belong to systemd's configuration: nothing is written or
    /// removed. Call it early, before other threads read the environment:
    /// it unsets `LISTEN_FDS` and `LISTEN_PID`, as `sd_listen_fds` does.
    ///
    /// # Errors
    /// [`ServerError::Systemd`] when no socket was passed, or it is not a
    /// stream socket; [`ServerError::NoRuntime`].
    pub fn serve_systemd(&self) -> Result<Serving, ServerError> {
        let runtime = runtime()?;
        let mut fds = listenfd::ListenFd::from_env();
        if fds.len() == 0 {
            return Err(ServerError::Systemd {
                reason: "LISTEN_FDS is not set, or LISTEN_PID names another process; start the plugin from a systemd socket unit".to_owned(),
            });
        }
        let systemd = |e: io::Error| ServerError::Systemd {
            reason: format!("the first passed socket cannot be used: {e}"),
        };
        let _entered = runtime.enter();
        if let Ok(Some(listener)) = fds.take_unix_listener(0) {
            listener.set_nonblocking(true).map_err(systemd)?;
            let path = listener
                .local_addr()
                .ok()
                .and_then(|addr| addr.as_pathname().map(Path::to_owned))
                .ok_or_else(|| ServerError::Systemd {
                    reason: "the passed unix socket has no path (abstract or unnamed sockets are not supported)".to_owned(),
                })?;
            let listener = tokio::net::UnixListener::from_std(listener).map_err(systemd)?;
            let spec = PluginSpec::from_socket(self.name().clone(), &path).map_err(|source| {
                ServerError::InvalidPath {
                    path: path.clone(),
                    source,
                }
            })?;
            return Ok(serving::start(
                &runtime,
                self,
                Listener::Unix(listener),
                spec,
                Vec::new(),
            ));
        }
        let listener = fds
            .take_tcp_listener(0)
            .map_err(systemd)?
            .ok_or_else(|| systemd(io::Error::other("it was already taken")))?;
        listener.set_nonblocking(true).map_err(systemd)?;
        let local = listener.local_addr().map_err(systemd)?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(systemd)?;
        let address = Address::Tcp(host_port(&local.ip().to_string(), local.port())?);
        let spec =
            PluginSpec::from_spec_text(self.name().clone(), &address.to_string(), "/dev/fd/3")
                .map_err(described)?;
        Ok(serving::start(
            &runtime,
            self,
            Listener::Tcp(listener),
            spec,
            Vec::new(),
        ))
    }

    /// Writes `descriptor` into `dir` atomically and reads it back as the
    /// spec hosts will see.
    fn write_descriptor(
        &self,
        dir: &Path,
        descriptor: &Descriptor,
    ) -> Result<(PluginSpec, OwnedFile), ServerError> {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
        let path = dir.join(descriptor.file_name());
        let owned = files::write_atomically(&path, descriptor.contents())
            .map_err(file_error("write", &path))?;
        let spec = PluginSpec::from_file(&path).map_err(|source| ServerError::InvalidPath {
            path: path.clone(),
            source,
        })?;
        Ok((spec, owned))
    }
}

fn described(source: plugin_spec::SpecError) -> ServerError {
    ServerError::Descriptor { source }
}

/// The address hosts are told: `host` (a name, or the bound IP) and the port.
fn host_port(host: &str, port: u16) -> Result<HostPort, ServerError> {
    HostPort::new(host, port).map_err(described)
}

fn bind_tcp(
    runtime: &tokio::runtime::Handle,
    addr: impl ToSocketAddrs,
) -> Result<(tokio::net::TcpListener, SocketAddr), ServerError> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|source| ServerError::Bind {
            address: "the given address".to_owned(),
            source,
        })?
        .collect();
    let described = addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let bind_error = |source| ServerError::Bind {
        address: described.clone(),
        source,
    };
    let listener = std::net::TcpListener::bind(addrs.as_slice()).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    let _entered = runtime.enter();
    let listener = tokio::net::TcpListener::from_std(listener).map_err(bind_error)?;
    Ok((listener, local))
}

/// How long a new instance waits for the path's lock while its holder does
/// not answer on the socket (it is stopping, or still starting).
const CLAIM_WAIT: Duration = Duration::from_secs(2);

/// Takes the lock on the socket path `path`: at once when it is free; refused
/// while a server answers on the socket; waited for (up to [`CLAIM_WAIT`])
/// while its holder is stopping or starting.
fn claim(path: &Path) -> Result<PathLock, ServerError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match PathLock::try_acquire(path) {
            Ok(Some(lock)) => return Ok(lock),
            Ok(None) => {}
            Err(e) => return Err(file_error("lock", &PathLock::path_for(path))(e)),
        }
        let answers = std::os::unix::net::UnixStream::connect(path).is_ok();
        if answers || started.elapsed() >= CLAIM_WAIT {
            return Err(ServerError::SocketInUse {
                path: path.to_owned(),
            });
        }
        tracing::debug!(socket = %path.display(), "another server holds the socket's lock and does not answer (it is stopping): waiting for it");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Removes a stale socket at `path`; refuses a live one or a non-socket. A
/// socket that disappears meanwhile (its server's cleanup) is gone already.
fn clear_stale_socket(path: &Path) -> Result<(), ServerError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(file_error("examine", path)(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(ServerError::NotASocket {
            path: path.to_owned(),
        });
    }
    files::hooks::run(files::hooks::Point::BeforeConnect, path);
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(ServerError::SocketInUse {
            path: path.to_owned(),
        }),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::info!(socket = %path.display(), "removing a stale socket (nobody answers on it)");
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    Err(file_error("remove the stale socket", path)(e))
                }
                _ => Ok(()),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ServerError::Bind {
            address: path.display().to_string(),
            source: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;
    use std::sync::mpsc;
    use std::time::Duration;

    use plugin_spec::PluginName;

    use super::*;
    use crate::files::hooks::{self, Point};

    fn server() -> PluginServer {
        PluginServer::new(PluginName::new("restarted").unwrap())
            .implements("VolumeDriver")
            .handle("Echo.Echo", |s: String| async move {
                Ok::<_, crate::HandlerError>(s)
            })
    }

    /// Whether a server answers on `path` (a plain connect: the listen
    /// backlog accepts it).
    fn live(path: &Path) -> bool {
        std::os::unix::net::UnixStream::connect(path).is_ok()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    /// The soak's failure: the old instance's socket is found, then removed by
    /// its own cleanup before the connect that tells whether it is live.
    #[test]
    fn a_stale_socket_removed_between_its_check_and_the_connect_is_gone_already() {
        let rt = runtime();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.sock");
        // A stale socket: bound, then its listener closed.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let gone = path.clone();
        hooks::set(Point::BeforeConnect, &path, move || {
            std::fs::remove_file(&gone).unwrap();
        });
        let _entered = rt.enter();
        let serving = server().serve_unix(&path).expect("a restart must start");
        assert!(live(&path));
        drop(serving);
        assert!(!path.exists());
    }

    /// The old instance's cleanup checked the path was its socket, then a new
    /// instance replaced it, then the old one unlinked what was there: the
    /// new instance's socket. The new instance must serve, and keep its
    /// socket, whatever the old one's cleanup does meanwhile.
    #[test]
    fn a_stopping_instance_never_removes_the_socket_of_the_one_that_replaced_it() {
        let rt = runtime();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.sock");
        let _entered = rt.enter();
        let old = server().serve_unix(&path).unwrap();
        let old_id = std::fs::metadata(&path)
            .map(|m| (m.dev(), m.ino()))
            .unwrap();
        let (started_tx, started_rx) = mpsc::channel();
        let (new, at) = (mpsc::channel(), path.clone());
        let handle = rt.handle().clone();
        hooks::set(Point::BeforeUnlink, &path, move || {
            // The new instance starts here, between the old one's check and
            // its unlink; the old one goes on once the new one has started,
            // or after a moment if it cannot start until the old is done.
            std::thread::spawn(move || {
                let _entered = handle.enter();
                let result = server().serve_unix(&at);
                let _ = started_tx.send(());
                let _ = new.0.send(result);
            });
            let _ = started_rx.recv_timeout(Duration::from_millis(250));
        });
        // A graceful stop: the old listener is closed, then its files removed.
        old.shutdown_handle().shutdown();
        rt.block_on(old.wait());
        let new = new.1.recv().unwrap().expect("the new instance must start");
        let new_id = std::fs::metadata(&path).map(|m| (m.dev(), m.ino()));
        assert!(
            new_id.is_ok(),
            "the old instance removed the new one's socket"
        );
        // Often the very inode the old socket had: (dev, ino) alone cannot
        // tell the two apart.
        let _reused = new_id.ok() == Some(old_id);
        assert!(live(&path), "nobody answers on the new socket");
        drop(new);
        assert!(!path.exists());
    }
}
