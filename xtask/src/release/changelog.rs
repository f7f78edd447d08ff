//! A crate's `CHANGELOG.md`: the lines under `## Unreleased`, and moving them
//! under a dated version heading.

use semver::Version;

const UNRELEASED: &str = "## Unreleased";

/// Where the Unreleased section's lines are: (heading line, first line after
/// the section).
fn section(lines: &[&str]) -> Option<(usize, usize)> {
    let heading = lines.iter().position(|l| l.trim_end() == UNRELEASED)?;
    let end = lines
        .iter()
        .enumerate()
        .skip(heading + 1)
        .find(|(_, l)| l.starts_with("## "))
        .map_or(lines.len(), |(i, _)| i);
    Some((heading, end))
}

/// The lines under `## Unreleased`, without blank lines at either end;
/// `None` when there is no such section.
pub(crate) fn unreleased(text: &str) -> Option<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let (heading, end) = section(&lines)?;
    let body = lines.get(heading + 1..end).unwrap_or_default();
    let first = body.iter().position(|l| !l.trim().is_empty());
    let last = body.iter().rposition(|l| !l.trim().is_empty());
    Some(match (first, last) {
        (Some(first), Some(last)) => body
            .get(first..=last)
            .unwrap_or_default()
            .iter()
            .map(|l| (*l).to_owned())
            .collect(),
        _ => Vec::new(),
    })
}

/// `text` with the Unreleased lines moved under `## <version> - <date>`,
/// below a new, empty `## Unreleased`.
pub(crate) fn release(text: &str, version: &Version, date: &str) -> Option<String> {
    let notes = unreleased(text)?;
    let lines: Vec<&str> = text.lines().collect();
    let (heading, end) = section(&lines)?;
    let mut out: Vec<String> = lines
        .get(..heading)
        .unwrap_or_default()
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
    out.push(UNRELEASED.to_owned());
    out.push(String::new());
    out.push(format!("## {version} - {date}"));
    out.push(String::new());
    out.extend(notes);
    let rest = lines.get(end..).unwrap_or_default();
    if !rest.is_empty() {
        out.push(String::new());
        out.extend(rest.iter().map(|l| (*l).to_owned()));
    }
    let mut text = out.join("\n");
    text.push('\n');
    Some(text)
}

/// `text` with `line` added at the end of the Unreleased section (which is
/// created under the title if missing).
pub(crate) fn add_line(text: &str, line: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    match section(&lines) {
        Some((heading, end)) => {
            let body = lines.get(heading + 1..end).unwrap_or_default();
            let at = heading
                + 1
                + body
                    .iter()
                    .rposition(|l| !l.trim().is_empty())
                    .map_or(0, |i| i + 1);
            let mut insert = vec![line.to_owned()];
            if at == heading + 1 {
                insert.insert(0, String::new());
            }
            if end == at && end < lines.len() {
                insert.push(String::new());
            }
            out.splice(at..at, insert);
        }
        None => {
            let at = usize::from(lines.first().is_some_and(|l| l.starts_with("# ")));
            out.splice(
                at..at,
                [
                    String::new(),
                    UNRELEASED.to_owned(),
                    String::new(),
                    line.to_owned(),
                ],
            );
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "# Changelog\n\n## Unreleased\n\n- one\n  more\n- two\n\n## 0.1.0 - 2026-01-02\n\n- first\n";

    #[test]
    fn unreleased_lines_are_read_without_blank_ends() {
        assert_eq!(
            unreleased(LOG),
            Some(vec![
                "- one".to_owned(),
                "  more".to_owned(),
                "- two".to_owned()
            ])
        );
        assert_eq!(
            unreleased("# Changelog\n\n## Unreleased\n\n\n"),
            Some(vec![])
        );
        assert_eq!(unreleased("# Changelog\n"), None);
    }

    #[test]
    fn release_moves_the_lines_under_a_dated_heading() {
        let released = release(LOG, &Version::new(0, 2, 0), "2026-11-25").unwrap();
        assert_eq!(
            released,
            "# Changelog\n\n## Unreleased\n\n## 0.2.0 - 2026-11-25\n\n- one\n  more\n- two\n\n## 0.1.0 - 2026-01-02\n\n- first\n"
        );
        assert_eq!(unreleased(&released), Some(vec![]));
    }

    #[test]
    fn a_line_is_added_at_the_end_of_the_section() {
        assert_eq!(
            add_line(LOG, "- three"),
            "# Changelog\n\n## Unreleased\n\n- one\n  more\n- two\n- three\n\n## 0.1.0 - 2026-01-02\n\n- first\n"
        );
        assert_eq!(
            add_line("# Changelog\n\n## Unreleased\n\n## 0.1.0\n", "- new"),
            "# Changelog\n\n## Unreleased\n\n- new\n\n## 0.1.0\n"
        );
        assert_eq!(
            add_line("# Changelog\n", "- new"),
            "# Changelog\n\n## Unreleased\n\n- new\n"
        );
    }
}
