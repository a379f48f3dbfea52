//! Regular expressions as JSON Schema writes them (ECMA-262), matched with
//! the `regex` crate: many property names against many `patternProperties`
//! in about linear time, and patterns the crate cannot read (look-around,
//! back-references) known as such, never guessed.
//!
//! A pattern is first translated from ECMA-262 to the `regex` crate's
//! syntax (`\d` is ASCII digits there, as in ECMA-262). One that cannot be
//! translated or compiled is *unknown*: whether it matches a name is not
//! decided, and callers take the cautious reading.

use foldhash::{HashMap, HashMapExt};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

/// The largest compiled program of one pattern (and of one set of them).
const SIZE_LIMIT: usize = 1 << 22;
/// Patterns compiled into one `RegexSet`: bounded, so that a hostile list
/// of thousands of patterns costs sets of this size, not one huge program.
const SET_CHUNK: usize = 512;

/// `pattern` in the `regex` crate's syntax, compiled; `None` when it uses
/// what that crate lacks (look-around, back-references) or is no regular
/// expression at all.
pub(crate) fn compile(pattern: &str) -> Option<Regex> {
    let translated = jsonschema_regex::to_rust_regex(pattern).ok()?;
    RegexBuilder::new(&translated).size_limit(SIZE_LIMIT).build().ok()
}

/// Whether the `regex` crate can decide `pattern` (after translation from
/// ECMA-262): look-around and back-references it cannot. Parsed only,
/// not compiled, so it is cheap enough to ask of every pattern read.
pub(crate) fn is_decidable(pattern: &str) -> bool {
    jsonschema_regex::to_rust_regex(pattern).is_ok_and(|t| regex_syntax::Parser::new().parse(&t).is_ok())
}

/// The literal text every match of `pattern` starts with, when the pattern
/// is anchored at the start (`^abc…`) and has no top-level alternative. The
/// whole pattern is still checked on the names this prefix selects.
fn anchored_prefix(pattern: &str) -> Option<&str> {
    let rest = pattern.strip_prefix('^')?;
    let mut end = 0;
    let bytes = rest.as_bytes();
    while end < bytes.len()
        && (bytes[end].is_ascii_alphanumeric() || b"_-/: @#%&=~,;<>'\"".contains(&bytes[end]))
    {
        end += 1;
    }
    // A quantifier applies to the character before it, which may then be absent.
    if matches!(bytes.get(end), Some(b'*' | b'?' | b'{')) {
        end = end.saturating_sub(1);
    }
    if end == 0 || has_top_level_alternative(rest) {
        return None;
    }
    Some(&rest[..end])
}

/// Whether a `|` outside groups and classes splits the pattern.
fn has_top_level_alternative(pattern: &str) -> bool {
    let (mut depth, mut in_class, mut escaped) = (0usize, false, false);
    for c in pattern.chars() {
        match (escaped, in_class, c) {
            (true, _, _) => escaped = false,
            (false, _, '\\') => escaped = true,
            (false, true, ']') => in_class = false,
            (false, true, _) => {}
            (false, false, '[') => in_class = true,
            (false, false, '(') => depth += 1,
            (false, false, ')') => depth = depth.saturating_sub(1),
            (false, false, '|') if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

/// The patterns that match one name.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Matches {
    /// Indices of the patterns that match it.
    pub known: Vec<usize>,
    /// Indices of the patterns that cannot be decided: they may match.
    pub unknown: Vec<usize>,
}

/// A list of patterns prepared for matching many names: anchored patterns
/// with a literal prefix are found through that prefix, the others through
/// `RegexSet`s; each name costs about its length, not the number of
/// patterns.
#[derive(Debug)]
pub(crate) struct PatternSet {
    sources: Vec<String>,
    by_prefix: HashMap<String, Vec<usize>>,
    longest_prefix: usize,
    /// Compiled lazily: only patterns whose prefix a name has.
    single: HashMap<usize, Option<Regex>>,
    sets: Vec<(RegexSet, Vec<usize>)>,
    unknown: Vec<usize>,
}

impl PatternSet {
    pub(crate) fn new<'p>(patterns: impl IntoIterator<Item = &'p str>) -> Self {
        let mut set = PatternSet {
            sources: Vec::new(),
            by_prefix: HashMap::new(),
            longest_prefix: 0,
            single: HashMap::new(),
            sets: Vec::new(),
            unknown: Vec::new(),
        };
        let mut rest: Vec<(usize, String)> = Vec::new();
        for (i, p) in patterns.into_iter().enumerate() {
            set.sources.push(p.to_string());
            if let Some(prefix) = anchored_prefix(p) {
                set.longest_prefix = set.longest_prefix.max(prefix.len());
                set.by_prefix.entry(prefix.to_string()).or_default().push(i);
                continue;
            }
            match jsonschema_regex::to_rust_regex(p) {
                Ok(t) if RegexBuilder::new(&t).size_limit(SIZE_LIMIT).build().is_ok() => {
                    rest.push((i, t.into_owned()))
                }
                _ => set.unknown.push(i),
            }
        }
        for chunk in rest.chunks(SET_CHUNK) {
            let built = RegexSetBuilder::new(chunk.iter().map(|(_, t)| t.as_str()))
                .size_limit(SIZE_LIMIT * 4)
                .build();
            let indices: Vec<usize> = chunk.iter().map(|(i, _)| *i).collect();
            match built {
                Ok(s) => set.sets.push((s, indices)),
                // Each compiles alone, but not together: decide them one by one.
                Err(_) => {
                    for i in indices {
                        set.single.insert(i, compile(&set.sources[i]));
                        set.by_prefix.entry(String::new()).or_default().push(i);
                    }
                }
            }
        }
        set
    }

    /// Which patterns match `name`, in pattern order.
    pub(crate) fn matches(&mut self, name: &str) -> Matches {
        let mut out = Matches {
            unknown: self.unknown.clone(),
            ..Matches::default()
        };
        let mut candidates: Vec<usize> = Vec::new();
        if let Some(all) = self.by_prefix.get("") {
            candidates.extend(all);
        }
        for (k, _) in name.char_indices().skip(1).chain([(name.len(), ' ')]) {
            if k > self.longest_prefix {
                break;
            }
            if let Some(found) = self.by_prefix.get(&name[..k]) {
                candidates.extend(found);
            }
        }
        for i in candidates {
            let source = &self.sources[i];
            match self.single.entry(i).or_insert_with(|| compile(source)) {
                Some(re) if re.is_match(name) => out.known.push(i),
                Some(_) => {}
                None => out.unknown.push(i),
            }
        }
        for (set, indices) in &self.sets {
            out.known.extend(set.matches(name).iter().map(|k| indices[k]));
        }
        out.known.sort_unstable();
        out.unknown.sort_unstable();
        out.unknown.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecma_escapes_mean_what_ecma_262_says() {
        // `\d` is ASCII only in ECMA-262; the regex crate's own `\d` is Unicode.
        let digits = compile(r"^\d+$").expect("translates");
        assert!(digits.is_match("123"));
        assert!(!digits.is_match("١٢٣"));
        assert!(compile(r"^\p{L}+$").expect("translates").is_match("été"));
        assert!(compile(r"^(?=a)a").is_none());
        assert!(compile(r"(a)\1").is_none());
        assert!(compile(r"(").is_none());
        for (pattern, decidable) in [
            (r"^\d+$", true),
            (r"^\p{L}", true),
            (r"(?=a)b", false),
            (r"(?<=a)b", false),
            (r"(a)\1", false),
        ] {
            assert_eq!(is_decidable(pattern), decidable, "{pattern}");
            assert_eq!(compile(pattern).is_some(), decidable, "{pattern}");
        }
    }

    #[test]
    fn prefixes_are_literal_and_stop_before_a_quantified_character() {
        assert_eq!(anchored_prefix("^x_"), Some("x_"));
        assert_eq!(anchored_prefix("^ab*c"), Some("a"));
        assert_eq!(anchored_prefix("^a|b"), None);
        assert_eq!(anchored_prefix("^(a|b)"), None);
        assert_eq!(anchored_prefix("^p1(a|b)*$"), Some("p1"));
        assert_eq!(anchored_prefix("x"), None);
    }

    #[test]
    fn a_set_finds_every_matching_pattern_and_says_which_it_cannot_decide() {
        let mut set = PatternSet::new(["^x_", "^x_a", "a$", r"^(?!y)", "^p1(a|b)*$", "^p12$"]);
        assert_eq!(
            set.matches("x_a"),
            Matches {
                known: vec![0, 1, 2],
                unknown: vec![3]
            }
        );
        assert_eq!(set.matches("p1ab").known, vec![4]);
        assert_eq!(set.matches("p12").known, vec![5]);
        assert_eq!(set.matches("q").known, Vec::<usize>::new());
    }
}
