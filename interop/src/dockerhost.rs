//! A session with `go/dockerhost script`: Docker's own client package driven
//! one operation at a time (one JSON line in, one JSON line out).

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::{Failure, Programs};

/// Docker's client retries a connection failure for about 15 s; an operation
/// gets this long.
const OPERATION_WITHIN: Duration = Duration::from_secs(40);

/// What Docker's client made of one operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// It succeeded with this value (`null` when there is none).
    Ok(Value),
    /// It failed with this message; `not_found` is `plugins.IsNotFound`.
    Err { message: String, not_found: bool },
}

impl Outcome {
    /// The value, or the error's message as a failure of the case.
    pub(crate) fn value(self) -> Result<Value, String> {
        match self {
            Self::Ok(value) => Ok(value),
            Self::Err { message, .. } => Err(format!("Docker's client failed: {message}")),
        }
    }
}

/// A running `dockerhost script`.
#[derive(Debug)]
pub(crate) struct DockerHost {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl DockerHost {
    pub(crate) fn start(programs: &Programs) -> Result<Self, Failure> {
        let mut child = Command::new(programs.dockerhost())
            .arg("script")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", programs.dockerhost().display()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("dockerhost has no stdin or stdout".to_owned());
        };
        Ok(Self {
            _child: child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        })
    }

    /// Runs one operation (see `go/dockerhost/main.go`).
    pub(crate) async fn run(&mut self, op: Value) -> Result<Outcome, Failure> {
        let mut line = op.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| format!("cannot write to dockerhost: {e}"))?;
        let answer = match tokio::time::timeout(OPERATION_WITHIN, self.lines.next_line()).await {
            Ok(Ok(Some(answer))) => answer,
            Ok(Ok(None)) => return Err(format!("dockerhost ended during {op}")),
            Ok(Err(e)) => return Err(format!("cannot read from dockerhost: {e}")),
            Err(_) => {
                return Err(format!(
                    "dockerhost did not answer {op} within {OPERATION_WITHIN:?}"
                ));
            }
        };
        let answer: Value = serde_json::from_str(&answer)
            .map_err(|e| format!("dockerhost answered {answer:?}: {e}"))?;
        if answer.get("ok") == Some(&Value::Bool(true)) {
            Ok(Outcome::Ok(
                answer.get("value").cloned().unwrap_or(Value::Null),
            ))
        } else {
            Ok(Outcome::Err {
                message: answer
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                not_found: answer.get("not_found") == Some(&Value::Bool(true)),
            })
        }
    }
}
