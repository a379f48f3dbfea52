//! Line numbers of JSON pointers in a schema file, so that annotations
//! (GitHub, SARIF) point at the line of the change, not only at the file.

use std::collections::HashMap;

/// Deeper than serde_json accepts (128), so never reached on a file that
/// parsed; it bounds the recursion on one that did not.
const MAX_DEPTH: usize = 256;

/// The 1-based line where each value of `text` starts, by JSON pointer in
/// the `#/a/b` form that findings use.
#[derive(Debug, Default)]
pub struct Lines {
    by_pointer: HashMap<String, usize>,
}

impl Lines {
    /// Scans `text`; a malformed document yields what was read before the fault.
    pub fn of(text: &str) -> Self {
        let mut scanner = Scanner {
            bytes: text.as_bytes(),
            text,
            pos: 0,
            line: 1,
            out: HashMap::new(),
        };
        let mut path = String::from("#");
        let _ = scanner.value(&mut path, 0);
        Self {
            by_pointer: scanner.out,
        }
    }

    /// The line of `pointer`, or of its closest ancestor present in the file
    /// (a finding about a removed keyword points at its parent).
    pub fn line(&self, pointer: &str) -> Option<usize> {
        let mut p = pointer.trim_end_matches('/');
        if p.is_empty() {
            return None;
        }
        loop {
            if let Some(line) = self.by_pointer.get(p) {
                return Some(*line);
            }
            p = &p[..p.rfind('/')?];
        }
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    line: usize,
    out: HashMap<String, usize>,
}

impl Scanner<'_> {
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

    /// Reads a string token and decodes its escapes.
    fn string(&mut self) -> Option<String> {
        self.whitespace();
        let start = self.pos;
        if self.peek()? != b'"' {
            return None;
        }
        self.pos += 1;
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    break;
                }
                _ => self.pos += 1,
            }
        }
        serde_json::from_str(self.text.get(start..self.pos)?).ok()
    }

    fn value(&mut self, path: &mut String, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.whitespace();
        self.out.insert(path.clone(), self.line);
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
                    self.expect(b':')?;
                    let len = path.len();
                    path.push('/');
                    path.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    self.value(path, depth + 1)?;
                    path.truncate(len);
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
                    let len = path.len();
                    path.push('/');
                    path.push_str(&index.to_string());
                    self.value(path, depth + 1)?;
                    path.truncate(len);
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
            b'"' => self.string().map(|_| ()),
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    self.pos += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_nested_keys_items_and_escaped_names() {
        let text = "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"a/b\": {\n      \"type\": \"string\", \"maxLength\": 3\n    },\n    \"list\": { \"items\": [\n      {\"type\": \"integer\"},\n      true\n    ] }\n  }\n}\n";
        let lines = Lines::of(text);
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
    fn a_malformed_document_keeps_what_was_read() {
        let lines = Lines::of("{\"a\": 1,\n \"b\": [1, 2");
        assert_eq!(lines.line("#/a"), Some(1));
        assert_eq!(lines.line("#/b/1"), Some(2));
        let deep = "[".repeat(10_000);
        assert_eq!(Lines::of(&deep).line("#/0/0"), Some(1));
    }
}
