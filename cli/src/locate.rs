//! Line numbers of JSON pointers in a schema file, so that annotations
//! (GitHub, SARIF) point at the line of the change, not only at the file.
//!
//! Only the pointers asked for (and their ancestors, the fallback of a
//! pointer that is not in the file) are located: the scan walks the whole
//! text once but records nothing, and allocates nothing, in the subtrees no
//! wanted pointer enters. A report has a handful of findings; a schema has
//! tens of thousands of values.

use std::borrow::Cow;
use std::collections::HashMap;

/// Deeper than serde_json accepts (128), so never reached on a file that
/// parsed; it bounds the recursion on one that did not.
const MAX_DEPTH: usize = 256;

/// The 1-based line where some values of `text` start, by JSON pointer in
/// the `#/a/b` form that findings use.
#[derive(Debug, Default)]
pub struct Lines {
    /// The pointers asked for, one segment (escaped, as in the pointer) per
    /// level; the root's only child worth having is `#`.
    root: Node,
}

#[derive(Debug, Default)]
struct Node {
    /// Where the value starts, once the scan has reached it.
    line: Option<usize>,
    children: HashMap<String, Node>,
}

impl Lines {
    /// Scans `text`, a document that parsed as JSON, for the lines of
    /// `pointers`. The parts no pointer enters are only stepped over, their
    /// strings and brackets counted, not read: on a malformed document the
    /// scan still ends, with what it read (lines past a fault in such a part
    /// may be wrong). [`Lines::line`] answers for these pointers only.
    pub fn of<'p>(text: &str, pointers: impl IntoIterator<Item = &'p str>) -> Self {
        let mut root = Node::default();
        for pointer in pointers {
            let Some(segments) = segments(pointer) else {
                continue;
            };
            let mut node = &mut root;
            for segment in segments {
                node = node.children.entry(segment.to_owned()).or_default();
            }
        }
        if let Some(top) = root.children.get_mut("#") {
            let mut scanner = Scanner {
                bytes: text.as_bytes(),
                text,
                pos: 0,
                line: 1,
            };
            let _ = scanner.value(Some(top), 0);
        }
        Self { root }
    }

    /// The line of `pointer`, or of its closest ancestor present in the file
    /// (a finding about a removed keyword points at its parent); `pointer`
    /// must be one of those given to [`Lines::of`].
    pub fn line(&self, pointer: &str) -> Option<usize> {
        let mut node = &self.root;
        let mut found = None;
        for segment in segments(pointer)? {
            let Some(child) = node.children.get(segment) else {
                break;
            };
            node = child;
            found = node.line.or(found);
        }
        found
    }
}

/// The segments of `pointer` (`#` first), trailing slashes left out; `None`
/// for an empty pointer.
fn segments(pointer: &str) -> Option<std::str::Split<'_, char>> {
    let p = pointer.trim_end_matches('/');
    (!p.is_empty()).then(|| p.split('/'))
}

/// `key` as a pointer segment: `~` written `~0` and `/` written `~1`.
fn escape(key: &str) -> Cow<'_, str> {
    if key.contains(['~', '/']) {
        Cow::Owned(key.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(key)
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.whitespace();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// Reads a string token and decodes it: borrowed from the text unless
    /// it has escapes. `None` for a token that is not a valid JSON string.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let (start, escaped) = self.token()?;
        let token = self.text.get(start..self.pos)?;
        if escaped {
            // Rare: let serde_json decode (and judge) the escapes.
            serde_json::from_str::<String>(token).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(&token[1..token.len() - 1]))
        }
    }

    /// Steps over a string token: where it starts, and whether it has
    /// escapes. `None` when there is none, or it has a raw control character.
    fn token(&mut self) -> Option<(usize, bool)> {
        /// The bytes that end a run of plain string bytes.
        const SPECIAL: [bool; 256] = {
            let mut table = [false; 256];
            let mut b = 0;
            while b < 0x20 {
                table[b] = true;
                b += 1;
            }
            table[b'"' as usize] = true;
            table[b'\\' as usize] = true;
            table
        };
        self.whitespace();
        let start = self.pos;
        if self.peek()? != b'"' {
            return None;
        }
        self.pos += 1;
        let mut escaped = false;
        loop {
            let rest = self.bytes.get(self.pos..)?;
            self.pos += rest
                .iter()
                .position(|&b| SPECIAL[b as usize])
                .unwrap_or(rest.len());
            match self.peek()? {
                b'\\' => {
                    escaped = true;
                    self.pos += 2;
                }
                b'"' => {
                    self.pos += 1;
                    return Some((start, escaped));
                }
                // JSON forbids raw control characters in strings.
                _ => return None,
            }
        }
    }

    /// Steps over one value no wanted pointer enters: only its brackets
    /// and strings are followed, and its lines counted. It stops before the
    /// `,`, `}` or `]` that ends a scalar, and after a string or container.
    fn step_over(&mut self) -> Option<()> {
        // Locals rather than fields in the loop: this is most of a scan.
        let bytes = self.bytes;
        let (mut pos, mut line, mut depth) = (self.pos, self.line, 0usize);
        let ended = 'value: loop {
            let Some(&b) = bytes.get(pos) else {
                break true;
            };
            match b {
                b'"' => {
                    // A JSON string holds no raw line break.
                    pos += 1;
                    loop {
                        let Some(&c) = bytes.get(pos) else {
                            break 'value false;
                        };
                        pos += 1;
                        match c {
                            b'"' => break,
                            b'\\' => pos += 1,
                            _ => {}
                        }
                    }
                    if depth == 0 {
                        break true;
                    }
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' | b',' if depth == 0 => break true,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        pos += 1;
                        break true;
                    }
                }
                b'\n' => line += 1,
                _ => {}
            }
            pos += 1;
        };
        self.pos = pos;
        self.line = line;
        ended.then_some(())
    }

    /// Reads one value; `node` is its place among the wanted pointers, if
    /// it has one.
    fn value(&mut self, mut node: Option<&mut Node>, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.whitespace();
        if let Some(n) = node.as_deref_mut() {
            n.line = Some(self.line);
        }
        // Values under a wanted one are looked for only if some are wanted.
        let Some(wanted) = node.filter(|n| !n.children.is_empty()) else {
            return self.step_over();
        };
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                self.whitespace();
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return Some(());
                }
                loop {
                    let key = self.string()?;
                    let child = wanted.children.get_mut(escape(&key).as_ref());
                    self.expect(b':')?;
                    self.value(child, depth + 1)?;
                    self.whitespace();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                self.whitespace();
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Some(());
                }
                let mut index = 0usize;
                loop {
                    let child = wanted.children.get_mut(index.to_string().as_str());
                    self.value(child, depth + 1)?;
                    index += 1;
                    self.whitespace();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            // A scalar has no members to look for.
            _ => self.step_over(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"a/b\": {\n      \"type\": \"string\", \"maxLength\": 3\n    },\n    \"list\": { \"items\": [\n      {\"type\": \"integer\"},\n      true\n    ] }\n  }\n}\n";

    #[test]
    fn lines_of_nested_keys_items_and_escaped_names() {
        let wanted = [
            "#",
            "#/type",
            "#/properties/a~1b",
            "#/properties/a~1b/maxLength",
            "#/properties/list/items/1",
            "#/properties/list/items/0/minimum",
            "#/properties/gone/type",
            "",
        ];
        let lines = Lines::of(TEXT, wanted);
        assert_eq!(lines.line("#"), Some(1));
        assert_eq!(lines.line("#/type"), Some(2));
        assert_eq!(lines.line("#/properties/a~1b"), Some(4));
        assert_eq!(lines.line("#/properties/a~1b/maxLength"), Some(5));
        assert_eq!(lines.line("#/properties/list/items/1"), Some(9));
        // A keyword that is not in the file: its closest ancestor.
        assert_eq!(lines.line("#/properties/list/items/0/minimum"), Some(8));
        assert_eq!(lines.line("#/properties/gone/type"), Some(3));
        assert_eq!(lines.line(""), None);
    }

    #[test]
    fn each_pointer_is_found_alone_with_a_trailing_slash_or_escapes() {
        for (pointer, line) in [
            ("#/properties/list/items/0/type", Some(8)),
            ("#/properties/list/", Some(7)),
            ("#/properties/a~1b/type", Some(5)),
            // `a/b` is one key, not `a` then `b`.
            ("#/properties/a/b", Some(3)),
            ("#/properties/a~0b", Some(3)),
            ("x/type", None),
            ("/", None),
        ] {
            assert_eq!(Lines::of(TEXT, [pointer]).line(pointer), line, "{pointer}");
        }
    }

    #[test]
    fn keys_with_escapes_tildes_and_duplicates() {
        let text = "{\"a\\u002fb\": {\n\"x\": 1},\n \"c~d\": [\n0,\n\"\\\"\"], \"e\": 1,\n\"e\": 2}";
        let lines = Lines::of(text, ["#/a~1b/x", "#/c~0d/1", "#/e"]);
        assert_eq!(lines.line("#/a~1b/x"), Some(2));
        assert_eq!(lines.line("#/c~0d/1"), Some(5));
        // The last of two equal keys, as a JSON reader keeps it.
        assert_eq!(lines.line("#/e"), Some(6));
    }

    #[test]
    fn a_malformed_document_keeps_what_was_read() {
        let text = "{\"a\": 1,\n \"b\": [1, 2";
        let lines = Lines::of(text, ["#/a", "#/b/1"]);
        assert_eq!(lines.line("#/a"), Some(1));
        assert_eq!(lines.line("#/b/1"), Some(2));
        let deep = "[".repeat(10_000);
        assert_eq!(Lines::of(&deep, ["#/0/0"]).line("#/0/0"), Some(1));
        // A fault in a part no pointer enters is stepped over, not judged
        // (the text parsed before it gets here): the scan still ends.
        for text in [
            "{\"a\": [1 2],\n \"b\": 3}",
            r#"{"a": "\x", "b": 3}"#,
            r#"{"a": [""#,
            r#"{"a": "\"#,
        ] {
            assert_eq!(Lines::of(text, ["#/a/b"]).line("#/a/b"), Some(1), "{text:?}");
        }
    }

    #[test]
    fn parts_no_pointer_enters_are_stepped_over_with_their_lines() {
        // Brackets, quotes and commas inside strings, an escaped quote and
        // backslash, and line breaks between the tokens stepped over.
        let text = r#"{
"skip": {"s": "}]{[,\"\\",
  "n": [1,
 2.5e3 ,
 true, null],
  "e": {}},
"x": 7
,
"y"
:
["a", {"z": false}]
}"#;
        let lines = Lines::of(text, ["#/x", "#/y/1/z", "#/skip/n/1"]);
        assert_eq!(lines.line("#/x"), Some(7));
        assert_eq!(lines.line("#/y/1/z"), Some(11));
        assert_eq!(lines.line("#/skip/n/1"), Some(4));
    }
}
