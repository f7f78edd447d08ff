//! An error's chain of causes, as a reader (anyhow's `{:#}`, a `source()`
//! loop) sees it.

/// The error and its causes, each once: `message: cause: cause`.
///
/// ```
/// let error = std::io::Error::other("connection refused");
/// assert_eq!(plugin_test_support::errors::chain(&error), "connection refused");
/// ```
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    causes(error).join(": ")
}

/// The text of the error and of each of its causes, outermost first.
pub fn causes(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    std::iter::successors(Some(error), |e| (*e).source())
        .map(ToString::to_string)
        .collect()
}

/// Panics if one layer's text holds another's (a layer that printed its
/// source would): each layer should say its own sentence and leave the cause
/// to `source()`.
pub fn assert_each_cause_once(error: &(dyn std::error::Error + 'static)) {
    let texts = causes(error);
    for (i, outer) in texts.iter().enumerate() {
        for inner in texts.iter().skip(i + 1) {
            assert!(
                !outer.contains(inner.as_str()) && !inner.contains(outer.as_str()),
                "{outer:?} and {inner:?} say the same thing; the chain: {texts:#?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that prints its source in its own text, as a chain should not.
    #[derive(Debug)]
    struct Repeating(std::io::Error);

    impl std::fmt::Display for Repeating {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "cannot connect: {}", self.0)
        }
    }

    impl std::error::Error for Repeating {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn the_chain_lists_each_layer() {
        let error = Repeating(std::io::Error::other("refused"));
        assert_eq!(causes(&error), ["cannot connect: refused", "refused"]);
        assert_eq!(chain(&error), "cannot connect: refused: refused");
    }

    #[test]
    #[should_panic(expected = "say the same thing")]
    fn a_layer_that_prints_its_source_is_caught() {
        assert_each_cause_once(&Repeating(std::io::Error::other("refused")));
    }
}
