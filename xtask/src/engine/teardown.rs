//! What must be undone, whatever ends the run: the engines stopped, their
//! mounts unmounted, the links and the run directory removed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What must be undone, whatever ends the run. Shared with the signal
/// handler, which runs it and exits.
#[derive(Default)]
pub(super) struct Teardown {
    pub(super) links: Vec<PathBuf>,
    pub(super) children: Vec<(String, Child)>,
    pub(super) run_dir: Option<tempfile::TempDir>,
    done: bool,
}

impl Teardown {
    pub(super) fn run(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        // Engines first (they hold mounts and call the plugins), the
        // plugins last.
        for (name, child) in self.children.iter_mut().rev() {
            stop(name, child);
        }
        for link in &self.links {
            let _ = std::fs::remove_file(link);
        }
        if let Some(dir) = &self.run_dir {
            // dockerd's own containerd, in case dockerd had to be killed.
            stop_pid_file(
                &dir.path().join("exec/containerd/containerd.pid"),
                "containerd",
            );
        }
        if let Some(dir) = self.run_dir.take() {
            unmount_under(dir.path());
            let path = dir.path().to_owned();
            if let Err(e) = dir.close() {
                eprintln!("engine: cannot remove {}: {e}", path.display());
            }
        }
    }
}

/// SIGTERM, then SIGKILL after 10 s.
pub(super) fn stop(name: &str, child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("engine: {name} did not stop within 10 s; killing it");
    let _ = child.kill();
    let _ = child.wait();
}

/// Stops the process whose pid `file` holds, if it is still `name`.
fn stop_pid_file(file: &Path, name: &str) {
    let Some(pid) = std::fs::read_to_string(file)
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
    else {
        return;
    };
    let alive = |pid: u32| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(name))
    };
    if !alive(pid) {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive(pid) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

/// Unmounts everything mounted below `dir`, deepest first.
fn unmount_under(dir: &Path) {
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let prefix = dir.to_string_lossy().into_owned();
    let mut points: Vec<String> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|point| point.replace("\\040", " "))
        .filter(|point| point.starts_with(&prefix))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        let _ = Command::new("umount").args(["-l", &point]).status();
    }
}

/// `f` with the teardown, poison or not.
pub(super) fn with<T>(teardown: &Mutex<Teardown>, f: impl FnOnce(&mut Teardown) -> T) -> T {
    f(&mut teardown.lock().unwrap_or_else(PoisonError::into_inner))
}
