//! Weka ARFF files, read line by line (no crate for ARFF is maintained).
//!
//! Supported: `@relation`, `@attribute NAME numeric|real|integer|{v1,v2,...}` (names and values may
//! be quoted with `'` or `"`), `@data` with dense rows or sparse rows (`{index value, ...}`; absent
//! entries are 0 / the first declared nominal value, as in Weka), `%` comments, keywords in any case.
//! Numeric attributes become one feature; nominal attributes are one-hot encoded, one feature per
//! declared value, named `attr=value`. A missing nominal feature (`?`) is encoded as all zeros in its
//! one-hot block (no category; the census set of DPLAN/DevNet has them); a missing numeric value
//! or label is an error: imputing it is not the loader's call. The label attribute ([`LoadOptions::label_column`], default the last one) may be
//! of any type and goes through [`parse_labels`]; `string`, `date` and `relational` attributes are
//! rejected as features.

use std::borrow::Cow;
use std::io::BufRead;
use std::path::Path;

use super::csv::{label_index, list_columns};
use crate::data::{Dataset, Labels, LoadOptions, parse_labels};
use crate::error::{Error, Result};

/// Loads an ARFF file (see the module docs).
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    from_reader(std::io::BufReader::with_capacity(1 << 20, file), path, opts)
}

/// Reads ARFF text from `reader`, streaming the data section; `source` names it in the dataset and
/// in error messages.
pub fn from_reader<R: BufRead>(reader: R, source: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let mut lines = Lines {
        reader,
        buf: Vec::new(),
        line: 0,
        source,
    };
    let attrs = read_header(&mut lines)?;
    let names: Vec<String> = attrs.iter().map(|a| a.name.clone()).collect();
    let label = label_index(source, &names, opts)?;

    // Feature offsets and names; `None` for the label attribute.
    let mut offsets = Vec::with_capacity(attrs.len());
    let mut feature_names = Vec::new();
    for (i, a) in attrs.iter().enumerate() {
        if Some(i) == label {
            offsets.push(None);
            continue;
        }
        offsets.push(Some(feature_names.len()));
        match &a.kind {
            Kind::Numeric => feature_names.push(a.name.clone()),
            Kind::Nominal { values, .. } => feature_names.extend(values.iter().map(|v| format!("{}={v}", a.name))),
            Kind::Other(t) => {
                return Err(Error::format(
                    source,
                    format!(
                        "attribute `{}` is of type {t}: only numeric and nominal attributes can be features \
                         (choose it as the label column or drop it)",
                        a.name
                    ),
                ));
            }
        }
    }
    let width = feature_names.len();
    if width == 0 {
        return Err(Error::format(
            source,
            "no feature attributes (the only attribute is the label)",
        ));
    }

    let mut rows = Rows {
        attrs: &attrs,
        offsets: &offsets,
        label,
        width,
        x: Vec::new(),
        labels: Vec::new(),
        n: 0,
    };
    while let Some((line_no, text)) = lines.next_line()? {
        let t = text.trim();
        if t.is_empty() || t.starts_with('%') {
            continue;
        }
        let row = rows.n + 1;
        // One-hot rows can be wide (a nominal attribute declaring millions of values): 8 bytes a
        // value leaves room for the buffer's growth.
        crate::budget::check(
            None,
            || format!("{}: {row} rows of {width} features", source.display()),
            crate::budget::bytes(&[row, width], 8),
        )?;
        let at = |reason: String| Error::format(source, format!("row {row} (line {line_no}): {reason}"));
        if let Some(body) = t.strip_prefix('{') {
            rows.push_sparse(body).map_err(at)?;
        } else {
            rows.push_dense(t).map_err(at)?;
        }
    }
    if rows.n == 0 {
        return Err(Error::format(source, "no data rows after @data"));
    }

    let labels = match label {
        Some(i) => parse_labels(source, &attrs[i].name, &rows.labels, opts.anomaly_label.as_deref())?,
        None => Labels::None,
    };
    Dataset::tabular(source.display().to_string(), width, rows.x, labels)?.with_feature_names(feature_names)
}

/// An attribute's declared type.
enum Kind {
    Numeric,
    Nominal {
        values: Vec<String>,
        /// Positions in `values`, sorted by value (binary search; 4 bytes a value, where a map of
        /// strings doubled the memory of a declaration with millions of values).
        index: Vec<u32>,
    },
    /// `string` or `date`: allowed only as the label.
    Other(&'static str),
}

struct Attribute {
    name: String,
    kind: Kind,
}

/// Line reader with a reused buffer; text that is not UTF-8 is read as Latin-1 (older Weka files).
struct Lines<'p, R> {
    reader: R,
    buf: Vec<u8>,
    line: usize,
    source: &'p Path,
}

impl<R: BufRead> Lines<'_, R> {
    /// The next line (without its end-of-line characters) and its 1-based number.
    fn next_line(&mut self) -> Result<Option<(usize, Cow<'_, str>)>> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| Error::io(self.source, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        let text = match std::str::from_utf8(&self.buf) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => Cow::Owned(self.buf.iter().map(|&b| b as char).collect()),
        };
        Ok(Some((self.line, text)))
    }
}

fn read_header<R: BufRead>(lines: &mut Lines<'_, R>) -> Result<Vec<Attribute>> {
    let source = lines.source;
    let mut attrs: Vec<Attribute> = Vec::new();
    // Names seen (a scan of `attrs` per declaration was quadratic: a header of a million
    // attributes took minutes).
    let mut names: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut any_line = false;
    loop {
        let Some((line_no, text)) = lines.next_line()? else {
            let reason = if any_line {
                "no @data section"
            } else {
                "empty file: expected an ARFF header"
            };
            return Err(Error::format(source, reason));
        };
        let t = text.trim();
        if t.is_empty() || t.starts_with('%') {
            continue;
        }
        any_line = true;
        let (keyword, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        let at = |reason: String| Error::format(source, format!("line {line_no}: {reason}"));
        match keyword.to_ascii_lowercase().as_str() {
            "@relation" => {}
            "@attribute" => {
                let a = parse_attribute(rest).map_err(at)?;
                if !names.insert(a.name.clone()) {
                    return Err(at(format!("attribute `{}` is declared twice", a.name)));
                }
                attrs.push(a);
            }
            "@data" => break,
            _ => {
                let shown: String = t.chars().take(40).collect();
                return Err(at(format!(
                    "expected @relation, @attribute or @data, found `{}`",
                    shown.escape_debug()
                )));
            }
        }
    }
    if attrs.is_empty() {
        return Err(Error::format(source, "no @attribute declarations before @data"));
    }
    Ok(attrs)
}

fn parse_attribute(rest: &str) -> Result<Attribute, String> {
    let mut sc = Scanner::new(rest);
    sc.skip_ws();
    let name = if matches!(sc.peek(), Some('\'' | '"')) {
        sc.quoted()?.into_owned()
    } else {
        sc.take_while(|c| !c.is_whitespace() && c != '{').to_string()
    };
    if name.is_empty() {
        return Err("@attribute without a name".into());
    }
    sc.skip_ws();
    let kind = if sc.eat('{') {
        let mut values: Vec<String> = Vec::new();
        loop {
            sc.skip_ws();
            if sc.eat('}') {
                break;
            }
            let (v, _) = sc.value(b",}")?;
            if v.is_empty() {
                return Err(format!("attribute `{name}`: empty nominal value"));
            }
            values.push(v.into_owned());
            sc.skip_ws();
            if !sc.eat(',') && sc.peek() != Some('}') {
                return Err(format!("attribute `{name}`: unterminated value list (missing `}}`)"));
            }
        }
        if values.is_empty() {
            return Err(format!("nominal attribute `{name}` declares no values"));
        }
        let n =
            u32::try_from(values.len()).map_err(|_| format!("attribute `{name}` declares more than 2^32 values"))?;
        let mut index: Vec<u32> = (0..n).collect();
        index.sort_unstable_by(|&a, &b| values[a as usize].cmp(&values[b as usize]).then(a.cmp(&b)));
        // The first value declared a second time, in declaration order.
        let twice = index
            .windows(2)
            .filter(|w| values[w[0] as usize] == values[w[1] as usize])
            .map(|w| w[1])
            .min();
        if let Some(i) = twice {
            return Err(format!(
                "attribute `{name}` declares the value `{}` twice",
                values[i as usize]
            ));
        }
        Kind::Nominal { values, index }
    } else {
        let ty = sc.take_while(|c| !c.is_whitespace()).to_ascii_lowercase();
        match ty.as_str() {
            "numeric" | "real" | "integer" => Kind::Numeric,
            "string" => Kind::Other("string"),
            "date" => Kind::Other("date"),
            "relational" => return Err(format!("attribute `{name}`: relational attributes are not supported")),
            "" => return Err(format!("attribute `{name}` has no type")),
            other => return Err(format!("attribute `{name}` has unknown type `{other}`")),
        }
    };
    sc.skip_ws();
    if !matches!(sc.peek(), None | Some('%')) && !matches!(kind, Kind::Other("date")) {
        return Err(format!(
            "attribute `{name}`: unexpected text `{}` after the type",
            sc.rest()
        ));
    }
    Ok(Attribute { name, kind })
}

/// Accumulates data rows into the feature matrix and label strings.
struct Rows<'a> {
    attrs: &'a [Attribute],
    offsets: &'a [Option<usize>],
    label: Option<usize>,
    width: usize,
    x: Vec<f32>,
    labels: Vec<String>,
    n: usize,
}

impl Rows<'_> {
    fn push_dense(&mut self, line: &str) -> Result<(), String> {
        let start = self.x.len();
        self.x.resize(start + self.width, 0.0);
        let mut sc = Scanner::new(line);
        let mut i = 0;
        loop {
            let (v, quoted) = sc.value(b",")?;
            if i < self.attrs.len() {
                self.set(start, i, &v, quoted)?;
            }
            i += 1;
            sc.skip_ws();
            match sc.peek() {
                None => break,
                Some(',') => sc.advance(1),
                Some(c) => return Err(format!("unexpected `{c}` after value {i}")),
            }
        }
        if i != self.attrs.len() {
            return Err(format!("{i} values but {} attributes are declared", self.attrs.len()));
        }
        self.n += 1;
        Ok(())
    }

    /// `body` is a sparse row without its opening `{`.
    fn push_sparse(&mut self, body: &str) -> Result<(), String> {
        let start = self.x.len();
        self.x.resize(start + self.width, 0.0);
        // Defaults: 0 for numeric attributes, the first declared value for nominal ones.
        let mut label_value: Option<String> = None;
        for (i, a) in self.attrs.iter().enumerate() {
            if let Kind::Nominal { values, .. } = &a.kind {
                match self.offsets[i] {
                    Some(off) => self.x[start + off] = 1.0,
                    None => label_value = values.first().cloned(),
                }
            } else if Some(i) == self.label && matches!(a.kind, Kind::Numeric) {
                label_value = Some("0".into());
            }
        }
        let mut sc = Scanner::new(body);
        loop {
            sc.skip_ws();
            if sc.eat('}') {
                break;
            }
            let idx_text = sc.take_while(|c| c.is_ascii_digit());
            let i: usize = idx_text
                .parse()
                .map_err(|_| format!("bad sparse entry at `{}`", sc.rest()))?;
            if i >= self.attrs.len() {
                return Err(format!(
                    "sparse index {i} but only {} attributes are declared",
                    self.attrs.len()
                ));
            }
            sc.skip_ws();
            let (v, quoted) = sc.value(b",}")?;
            if Some(i) == self.label {
                label_value = Some(self.label_text(i, &v, quoted)?);
            } else {
                if let (Kind::Nominal { values, .. }, Some(off)) = (&self.attrs[i].kind, self.offsets[i]) {
                    self.x[start + off..start + off + values.len()].fill(0.0);
                }
                self.set(start, i, &v, quoted)?;
            }
            sc.skip_ws();
            if !sc.eat(',') && sc.peek() != Some('}') {
                return Err("unterminated sparse row (missing `}`)".into());
            }
        }
        if let Some(v) = label_value {
            self.labels.push(v);
        } else if self.label.is_some() {
            return Err("sparse row leaves the label attribute unset".into());
        }
        self.n += 1;
        Ok(())
    }

    fn check_missing(&self, i: usize, v: &str, quoted: bool) -> Result<(), String> {
        if !quoted && v == "?" {
            return Err(format!("missing value `?` for attribute `{}`", self.attrs[i].name));
        }
        if !quoted && v.is_empty() {
            return Err(format!("empty value for attribute `{}`", self.attrs[i].name));
        }
        Ok(())
    }

    /// The label string for value `v` of the label attribute `i`.
    fn label_text(&self, i: usize, v: &str, quoted: bool) -> Result<String, String> {
        self.check_missing(i, v, quoted)?;
        let a = &self.attrs[i];
        if let Kind::Nominal { values, index } = &a.kind
            && position(values, index, v).is_none()
        {
            return Err(format!("label attribute `{}`: value `{v}` is not declared", a.name));
        }
        Ok(v.to_string())
    }

    /// Stores value `v` of attribute `i` for the row whose features start at `start`.
    fn set(&mut self, start: usize, i: usize, v: &str, quoted: bool) -> Result<(), String> {
        if !quoted && v == "?" && self.offsets[i].is_some() && matches!(self.attrs[i].kind, Kind::Nominal { .. }) {
            return Ok(()); // missing category: the one-hot block stays zero
        }
        self.check_missing(i, v, quoted)?;
        let a = &self.attrs[i];
        let Some(off) = self.offsets[i] else {
            let text = self.label_text(i, v, quoted)?;
            self.labels.push(text);
            return Ok(());
        };
        match &a.kind {
            Kind::Numeric => {
                self.x[start + off] =
                    crate::data::parse_f32(v).map_err(|reason| format!("attribute `{}`: {reason}", a.name))?;
            }
            Kind::Nominal { values, index } => match position(values, index, v) {
                Some(k) => self.x[start + off + k] = 1.0,
                None => {
                    return Err(format!(
                        "attribute `{}`: value `{v}` is not declared (declared: {})",
                        a.name,
                        list_columns(values)
                    ));
                }
            },
            Kind::Other(t) => return Err(format!("attribute `{}` of type {t} cannot be a feature", a.name)),
        }
        Ok(())
    }
}

/// Index of nominal value `v`: a scan for short lists (faster than hashing), else the map.
fn position(values: &[String], index: &[u32], v: &str) -> Option<usize> {
    if values.len() <= 8 {
        values.iter().position(|x| x == v)
    } else {
        index
            .binary_search_by(|&i| values[i as usize].as_str().cmp(v))
            .ok()
            .map(|k| index[k] as usize)
    }
}

/// Tokenizer for one header or data line.
struct Scanner<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(s: &'a str) -> Self {
        Scanner { s, pos: 0 }
    }
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn advance(&mut self, bytes: usize) {
        self.pos += bytes;
    }
    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.advance(c.len_utf8());
        }
        hit
    }
    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.advance(rest.len() - rest.trim_start().len());
    }
    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let end = rest.find(|c: char| !f(c)).unwrap_or(rest.len());
        self.advance(end);
        &rest[..end]
    }

    /// One value: quoted (returned unescaped, `true`) or bare up to a `stops` character (trimmed).
    /// `stops` are ASCII, so a byte search cannot split a character.
    fn value(&mut self, stops: &[u8]) -> Result<(Cow<'a, str>, bool), String> {
        self.skip_ws();
        if matches!(self.peek(), Some('\'' | '"')) {
            return Ok((self.quoted()?, true));
        }
        let rest = self.rest();
        let end = rest.bytes().position(|b| stops.contains(&b)).unwrap_or(rest.len());
        self.advance(end);
        Ok((Cow::Borrowed(rest[..end].trim_end()), false))
    }

    /// A `'...'` or `"..."` token with backslash escapes; the scanner is at the opening quote.
    fn quoted(&mut self) -> Result<Cow<'a, str>, String> {
        let rest = self.rest();
        let mut chars = rest.char_indices();
        let Some((_, q)) = chars.next() else {
            return Err("expected a quoted value".into());
        };
        let mut owned: Option<String> = None;
        let mut seg_start = q.len_utf8();
        while let Some((i, c)) = chars.next() {
            if c == q {
                self.advance(i + c.len_utf8());
                return Ok(match owned {
                    Some(mut s) => {
                        s.push_str(&rest[seg_start..i]);
                        Cow::Owned(s)
                    }
                    None => Cow::Borrowed(&rest[seg_start..i]),
                });
            }
            if c == '\\' {
                let s = owned.get_or_insert_with(String::new);
                s.push_str(&rest[seg_start..i]);
                let Some((j, e)) = chars.next() else { break };
                s.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
                seg_start = j + e.len_utf8();
            }
        }
        Err(format!(
            "unterminated quote in `{}`",
            rest.chars().take(40).collect::<String>()
        ))
    }
}
