//! A tiny XML writer whose output is already in exclusive canonical form (exc-c14n, without
//! comments) for the documents this crate produces.
//!
//! We never canonicalise foreign XML: we only sign XML we generate. So instead of a general
//! canonicaliser, the writer obeys the c14n rules by construction:
//! - namespace declarations come first, sorted by prefix, then attributes sorted by name
//!   (every attribute we write is unqualified, so "sorted by namespace URI, then local name"
//!   is just "sorted by name"); callers place each `xmlns:p` exactly on the elements where
//!   exclusive c14n renders it (the first element on each path that visibly uses `p`);
//! - empty elements are written as start and end tag, never `<a/>`;
//! - text escapes `&`, `<`, `>`, CR; attribute values escape `&`, `<`, `"`, TAB, LF, CR;
//! - no XML declaration, comments, processing instructions or whitespace between elements.
//!
//! The tests in `tests/xmlsec.rs` check the result against libxml2's canonicaliser through
//! `xmlsec1 --verify`, which recomputes every digest with its own c14n.

/// An element under construction.
#[derive(Debug, Clone)]
pub(crate) struct El {
    name: &'static str,
    ns: Vec<(&'static str, &'static str)>,
    attrs: Vec<(&'static str, String)>,
    children: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    El(El),
    Text(String),
}

impl El {
    pub(crate) fn new(name: &'static str) -> El {
        El {
            name,
            ns: Vec::new(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Declares `xmlns:prefix="uri"` on this element.
    pub(crate) fn ns(mut self, prefix: &'static str, uri: &'static str) -> El {
        self.ns.push((prefix, uri));
        self
    }

    /// Adds an unqualified attribute.
    pub(crate) fn attr(mut self, name: &'static str, value: impl Into<String>) -> El {
        debug_assert!(
            !name.contains(':'),
            "only unqualified attributes are supported"
        );
        self.attrs.push((name, value.into()));
        self
    }

    pub(crate) fn child(mut self, child: El) -> El {
        self.children.push(Node::El(child));
        self
    }

    pub(crate) fn text(mut self, text: impl Into<String>) -> El {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// Inserts a child element at `index` among the children.
    pub(crate) fn insert_child(&mut self, index: usize, child: El) {
        let index = index.min(self.children.len());
        self.children.insert(index, Node::El(child));
    }

    /// The element in canonical form.
    pub(crate) fn to_canonical(&self) -> String {
        let mut out = String::with_capacity(1024);
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(self.name);
        let mut ns = self.ns.clone();
        ns.sort_by(|a, b| a.0.cmp(b.0));
        for (prefix, uri) in ns {
            out.push_str(" xmlns:");
            out.push_str(prefix);
            out.push_str("=\"");
            escape_attr(uri, out);
            out.push('"');
        }
        let mut attrs: Vec<&(&str, String)> = self.attrs.iter().collect();
        attrs.sort_by(|a, b| a.0.cmp(b.0));
        for (name, value) in attrs {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape_attr(value, out);
            out.push('"');
        }
        out.push('>');
        for child in &self.children {
            match child {
                Node::El(el) => el.write(out),
                Node::Text(t) => escape_text(t, out),
            }
        }
        out.push_str("</");
        out.push_str(self.name);
        out.push('>');
    }
}

/// Text node escaping per Canonical XML 1.0 §2.3.
pub(crate) fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Attribute value escaping per Canonical XML 1.0 §2.3.
pub(crate) fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// True when every character may appear in an XML 1.0 document (so what we write can be read
/// back to the same characters). Control characters other than TAB/LF/CR are not allowed.
pub(crate) fn is_xml_text(s: &str) -> bool {
    s.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_and_escaping() {
        let el = El::new("p:a")
            .attr("z", "1")
            .ns("p", "urn:p")
            .attr("B", "x\"<&\t\n\r>")
            .ns("a", "urn:a")
            .child(El::new("p:b"))
            .text("t<&>\r\"'");
        assert_eq!(
            el.to_canonical(),
            "<p:a xmlns:a=\"urn:a\" xmlns:p=\"urn:p\" B=\"x&quot;&lt;&amp;&#x9;&#xA;&#xD;>\" \
             z=\"1\"><p:b></p:b>t&lt;&amp;&gt;&#xD;\"'</p:a>"
        );
    }

    #[test]
    fn xml_text_check() {
        assert!(is_xml_text("ana.b@example.edu\t\n"));
        assert!(!is_xml_text("a\u{0}b"));
        assert!(!is_xml_text("a\u{1b}b"));
        assert!(!is_xml_text("\u{FFFF}"));
    }
}
