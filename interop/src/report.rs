//! The table of cases: one row each, what was checked and what was seen.

use std::fmt::Write as _;

/// Who calls whom.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Direction {
    /// Docker's client calls our plugins.
    DockerToOurs,
    /// Our registry, client or `pluginctl` call the Go plugin.
    OursToGo,
    /// Docker's client against the wire fixtures our tests replay.
    DockerToFixtures,
    /// Go's `encoding/json` against the decoding fixtures our tests replay.
    GoToFixtures,
}

impl Direction {
    fn label(self) -> &'static str {
        match self {
            Self::DockerToOurs => "docker -> ours",
            Self::OursToGo => "ours -> go",
            Self::DockerToFixtures => "docker -> fixtures",
            Self::GoToFixtures => "go -> fixtures",
        }
    }
}

#[derive(Debug)]
enum Verdict {
    Pass(String),
    Fail(String),
    Skip(String),
}

#[derive(Debug)]
struct Row {
    direction: Direction,
    transport: String,
    case: String,
    verdict: Verdict,
}

/// Every case run, in order.
#[derive(Debug, Default)]
pub(crate) struct Report {
    rows: Vec<Row>,
}

impl Report {
    /// Records a case: `Ok(what was seen)` or `Err(what was wrong)`.
    pub(crate) fn case(
        &mut self,
        direction: Direction,
        transport: &str,
        case: impl Into<String>,
        outcome: Result<String, String>,
    ) {
        let verdict = match outcome {
            Ok(seen) => Verdict::Pass(seen),
            Err(wrong) => Verdict::Fail(wrong),
        };
        self.rows.push(Row {
            direction,
            transport: transport.to_owned(),
            case: case.into(),
            verdict,
        });
    }

    /// Records a case that could not run here, and why.
    pub(crate) fn skip(
        &mut self,
        direction: Direction,
        transport: &str,
        case: impl Into<String>,
        why: impl Into<String>,
    ) {
        self.rows.push(Row {
            direction,
            transport: transport.to_owned(),
            case: case.into(),
            verdict: Verdict::Skip(why.into()),
        });
    }

    /// How many cases failed.
    pub(crate) fn failed(&self) -> usize {
        self.rows
            .iter()
            .filter(|row| matches!(row.verdict, Verdict::Fail(_)))
            .count()
    }

    /// The table, as Markdown.
    pub(crate) fn render(&self) -> String {
        let mut out = String::from(
            "| direction | transport | case | result | seen |\n| --- | --- | --- | --- | --- |\n",
        );
        for row in &self.rows {
            let (result, detail) = match &row.verdict {
                Verdict::Pass(seen) => ("pass", seen.as_str()),
                Verdict::Fail(wrong) => ("**FAIL**", wrong.as_str()),
                Verdict::Skip(why) => ("skip", why.as_str()),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {result} | {} |",
                row.direction.label(),
                row.transport,
                row.case,
                cell(detail)
            );
        }
        let (passed, skipped) = (
            self.rows
                .iter()
                .filter(|row| matches!(row.verdict, Verdict::Pass(_)))
                .count(),
            self.rows
                .iter()
                .filter(|row| matches!(row.verdict, Verdict::Skip(_)))
                .count(),
        );
        let _ = writeln!(
            out,
            "\n{} cases: {passed} passed, {} failed, {skipped} skipped",
            self.rows.len(),
            self.failed()
        );
        out
    }

    /// Prints the table on stdout.
    pub(crate) fn print(&self) {
        print!("{}", self.render());
    }
}

/// One line, pipes escaped, at most 160 characters.
fn cell(text: &str) -> String {
    let flat = text.replace('\n', "\\n").replace('|', "\\|");
    match flat.char_indices().nth(160) {
        Some((cut, _)) => format!("{}...", flat.get(..cut).unwrap_or_default()),
        None => flat,
    }
}

/// `Ok(())` if `seen == expected`, else a message showing both.
pub(crate) fn same<T: PartialEq + std::fmt::Debug>(seen: &T, expected: &T) -> Result<(), String> {
    if seen == expected {
        Ok(())
    } else {
        Err(format!("expected {expected:?}, saw {seen:?}"))
    }
}
