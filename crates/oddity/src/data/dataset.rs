//! The in-memory dataset every model consumes: tabular `[n, d]` or images `[n, c, h, w]`, f32,
//! with optional labels and feature names.

use crate::error::{Error, Result};

/// How the flat feature buffer is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Layout {
    /// `[n, d]` rows of `d` features.
    Tabular { d: usize },
    /// `[n, c, h, w]` images, channels first.
    Images { c: usize, h: usize, w: usize },
}

impl Layout {
    /// Number of f32 values per sample.
    pub fn dim(&self) -> usize {
        match *self {
            Layout::Tabular { d } => d,
            Layout::Images { c, h, w } => c * h * w,
        }
    }

    /// Human-readable shape without the sample count, e.g. `[9]` or `[1, 28, 28]`.
    pub fn describe(&self) -> String {
        match *self {
            Layout::Tabular { d } => format!("[{d}]"),
            Layout::Images { c, h, w } => format!("[{c}, {h}, {w}]"),
        }
    }
}

/// Labels attached to a dataset.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// No labels.
    None,
    /// Anomaly flags: `true` = anomaly.
    Anomaly(Vec<bool>),
    /// Class ids into `names` (e.g. MNIST digits, COIL-20 objects).
    Classes { ids: Vec<u32>, names: Vec<String> },
}

impl Labels {
    fn len(&self) -> Option<usize> {
        match self {
            Labels::None => None,
            Labels::Anomaly(v) => Some(v.len()),
            Labels::Classes { ids, .. } => Some(ids.len()),
        }
    }

    fn select(&self, idx: &[usize]) -> Labels {
        match self {
            Labels::None => Labels::None,
            Labels::Anomaly(v) => Labels::Anomaly(idx.iter().map(|&i| v[i]).collect()),
            Labels::Classes { ids, names } => Labels::Classes {
                ids: idx.iter().map(|&i| ids[i]).collect(),
                names: names.clone(),
            },
        }
    }
}

/// A dataset: `n` samples of `layout.dim()` f32 values each, row-major, all finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    name: String,
    n: usize,
    layout: Layout,
    x: Vec<f32>,
    labels: Labels,
    feature_names: Option<Vec<String>>,
    /// Source file of each sample (image folders: the path relative to the folder, `/`-separated).
    files: Option<Vec<String>>,
}

impl Dataset {
    /// Builds a dataset, checking that it is non-empty, that `x` has `n * layout.dim()` values,
    /// that every value is finite and that labels (if any) have one entry per sample.
    /// `name` (usually the source file) is used in error messages.
    pub fn new(name: impl Into<String>, layout: Layout, x: Vec<f32>, labels: Labels) -> Result<Self> {
        let name = name.into();
        let dim = layout.dim();
        if dim == 0 {
            return Err(Error::InvalidData(format!("{name}: samples have no features")));
        }
        if x.is_empty() {
            return Err(Error::InvalidData(format!("{name}: no samples (empty data)")));
        }
        if !x.len().is_multiple_of(dim) {
            return Err(Error::shape(
                format!("{name}: values"),
                format!("a multiple of {dim} features per sample"),
                x.len(),
            ));
        }
        let n = x.len() / dim;
        if let Some(pos) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                context: name,
                row: pos / dim,
                col: pos % dim,
                value: x[pos] as f64,
            });
        }
        if let Some(len) = labels.len()
            && len != n
        {
            return Err(Error::shape(
                format!("{name}: labels"),
                format!("{n}, one per sample"),
                len,
            ));
        }
        if let Labels::Classes { ids, names } = &labels
            && let Some(bad) = ids.iter().find(|&&id| id as usize >= names.len())
        {
            return Err(Error::InvalidData(format!(
                "{name}: class id {bad} has no name ({} classes)",
                names.len()
            )));
        }
        Ok(Dataset {
            name,
            n,
            layout,
            x,
            labels,
            feature_names: None,
            files: None,
        })
    }

    /// Tabular dataset from row-major `[n, d]` values.
    pub fn tabular(name: impl Into<String>, d: usize, x: Vec<f32>, labels: Labels) -> Result<Self> {
        Self::new(name, Layout::Tabular { d }, x, labels)
    }

    /// Attaches feature names (one per feature).
    pub fn with_feature_names(mut self, names: Vec<String>) -> Result<Self> {
        if names.len() != self.dim() {
            return Err(Error::shape(
                format!("{}: feature names", self.name),
                format!("{}, one per feature", self.dim()),
                names.len(),
            ));
        }
        // A map, not a scan per name: a one-hot ARFF can have millions of columns.
        let mut first = std::collections::HashMap::with_capacity(names.len());
        for (j, name) in names.iter().enumerate() {
            if let Some(&i) = first.get(name.as_str()) {
                return Err(Error::InvalidData(format!(
                    "{}: column `{name}` appears twice (features {} and {}); column names must be unique",
                    self.name,
                    i + 1,
                    j + 1
                )));
            }
            first.insert(name.as_str(), j);
        }
        drop(first);
        self.feature_names = Some(names);
        Ok(self)
    }

    /// The same samples with the columns in the order of `names` (matched by name): for data
    /// whose columns are those of a model in another order. Missing or extra columns are an error.
    pub fn reorder_columns(&self, names: &[String]) -> Result<Dataset> {
        let Some(own) = &self.feature_names else {
            return Err(Error::InvalidData(format!(
                "{}: has no column names to match by name",
                self.name
            )));
        };
        if let Some(diff) = column_difference(names, own, false) {
            return Err(columns_differ(&self.name, diff));
        }
        let at: std::collections::HashMap<&str, usize> = own.iter().enumerate().map(|(j, o)| (o.as_str(), j)).collect();
        let idx: Vec<usize> = names.iter().map(|n| at.get(n.as_str()).copied().unwrap_or(0)).collect();
        let d = self.dim();
        let mut x = Vec::with_capacity(self.x.len());
        for row in self.x.chunks_exact(d) {
            x.extend(idx.iter().map(|&j| row[j]));
        }
        let mut out = Dataset::new(self.name.clone(), self.layout, x, self.labels.clone())?;
        out.feature_names = Some(names.to_vec());
        Ok(out)
    }

    /// Checks that `data`'s columns are `expected` (the names a model was fitted on), by name and
    /// position. Data without column names (NPY, MAT) is matched by position only.
    pub fn check_columns(expected: Option<&[String]>, data: &Dataset) -> Result<()> {
        let (Some(want), Some(got)) = (expected, data.feature_names()) else {
            return Ok(());
        };
        match column_difference(want, got, true) {
            None => Ok(()),
            Some(diff) => Err(columns_differ(&data.name, diff)),
        }
    }

    /// Attaches the source file of each sample (one per sample).
    pub fn with_files(mut self, files: Vec<String>) -> Result<Self> {
        if files.len() != self.n {
            return Err(Error::shape(
                format!("{}: file names", self.name),
                format!("{}, one per sample", self.n),
                files.len(),
            ));
        }
        self.files = Some(files);
        Ok(self)
    }

    /// Replaces the labels (one per sample).
    pub fn with_labels(self, labels: Labels) -> Result<Self> {
        let (names, files) = (self.feature_names.clone(), self.files.clone());
        let mut out = Self::new(self.name, self.layout, self.x, labels)?;
        out.feature_names = names;
        out.files = files;
        Ok(out)
    }

    /// Renames the dataset (used in messages and results files).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    /// Number of samples.
    pub fn n(&self) -> usize {
        self.n
    }
    /// Values per sample.
    pub fn dim(&self) -> usize {
        self.layout.dim()
    }
    pub fn layout(&self) -> Layout {
        self.layout
    }
    /// All values, row-major.
    pub fn x(&self) -> &[f32] {
        &self.x
    }
    /// Sample `i` as a slice of `dim()` values.
    pub fn row(&self, i: usize) -> &[f32] {
        let d = self.dim();
        &self.x[i * d..(i + 1) * d]
    }
    pub fn labels(&self) -> &Labels {
        &self.labels
    }
    pub fn feature_names(&self) -> Option<&[String]> {
        self.feature_names.as_deref()
    }
    /// The source file of each sample, where the loader knows it (image folders).
    pub fn files(&self) -> Option<&[String]> {
        self.files.as_deref()
    }

    /// Anomaly flags if the labels are anomaly flags.
    pub fn anomaly_flags(&self) -> Option<&[bool]> {
        match &self.labels {
            Labels::Anomaly(v) => Some(v),
            _ => None,
        }
    }

    /// Anomaly flags, or an error saying the dataset has none.
    pub fn require_anomaly_flags(&self) -> Result<&[bool]> {
        self.anomaly_flags().ok_or_else(|| {
            Error::InvalidData(format!(
                "{}: needs anomaly labels (0 = normal, 1 = anomaly), found {}",
                self.name,
                match &self.labels {
                    Labels::None => "no labels".to_string(),
                    Labels::Classes { names, .. } => format!("{} classes", names.len()),
                    Labels::Anomaly(_) => unreachable!(),
                }
            ))
        })
    }

    /// The samples at `idx` (in that order), with their labels.
    pub fn select(&self, idx: &[usize]) -> Result<Dataset> {
        let d = self.dim();
        if let Some(&bad) = idx.iter().find(|&&i| i >= self.n) {
            return Err(Error::shape(
                format!("{}: sample index", self.name),
                format!("below {}", self.n),
                bad,
            ));
        }
        let mut x = Vec::with_capacity(idx.len() * d);
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        let mut out = Dataset::new(self.name.clone(), self.layout, x, self.labels.select(idx))?;
        out.feature_names = self.feature_names.clone();
        out.files = self.files.as_ref().map(|f| idx.iter().map(|&i| f[i].clone()).collect());
        Ok(out)
    }

    /// Appends `other` (same layout, compatible labels) after `self`.
    pub fn concat(&self, other: &Dataset) -> Result<Dataset> {
        if self.layout != other.layout {
            return Err(Error::shape(
                format!(
                    "joining {} and {}: sample shape of {}",
                    self.name, other.name, other.name
                ),
                self.layout.describe(),
                other.layout.describe(),
            ));
        }
        let labels = match (&self.labels, &other.labels) {
            (Labels::Anomaly(a), Labels::Anomaly(b)) => Labels::Anomaly([a.as_slice(), b].concat()),
            (Labels::Classes { ids: a, names: na }, Labels::Classes { ids: b, names: nb }) if na == nb => {
                Labels::Classes {
                    ids: [a.as_slice(), b].concat(),
                    names: na.clone(),
                }
            }
            _ => Labels::None,
        };
        let mut out = Dataset::new(
            self.name.clone(),
            self.layout,
            [self.x.as_slice(), &other.x].concat(),
            labels,
        )?;
        out.feature_names = self.feature_names.clone();
        out.files = match (&self.files, &other.files) {
            (Some(a), Some(b)) => Some([a.as_slice(), b].concat()),
            _ => None,
        };
        Ok(out)
    }

    /// Checks that `other` has this dataset's sample layout (e.g. scoring data vs training data).
    pub fn check_layout(expected: Layout, data: &Dataset) -> Result<()> {
        if expected != data.layout {
            return Err(Error::shape(
                format!("{}: sample shape", data.name),
                format!("{} (as fitted)", expected.describe()),
                data.layout.describe(),
            ));
        }
        Ok(())
    }
}

/// The error for data whose columns differ from the model's (`diff` from [`column_difference`]).
fn columns_differ(name: &str, diff: String) -> Error {
    Error::shape(format!("{name}: columns"), "those the model was fitted on", diff)
}

/// What differs between the model's columns `want` and the data's `got`; `None` when they are
/// the same (in the same order, or in any order unless `ordered`).
fn column_difference(want: &[String], got: &[String], ordered: bool) -> Option<String> {
    if want == got {
        return None;
    }
    let want_set: std::collections::HashSet<&str> = want.iter().map(String::as_str).collect();
    let got_set: std::collections::HashSet<&str> = got.iter().map(String::as_str).collect();
    let missing: Vec<&String> = want.iter().filter(|w| !got_set.contains(w.as_str())).collect();
    let extra: Vec<&String> = got.iter().filter(|g| !want_set.contains(g.as_str())).collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing {}", name_list(&missing)));
    }
    if !extra.is_empty() {
        parts.push(format!("not in the model {}", name_list(&extra)));
    }
    if parts.is_empty() {
        if !ordered {
            return None;
        }
        let moved: Vec<&String> = want.iter().zip(got).filter(|(w, g)| w != g).map(|(w, _)| w).collect();
        parts.push(format!(
            "same columns in another order ({} moved; the model's order: {}); \
             map them by name with --allow-reordered-columns",
            name_list(&moved),
            name_list(&want.iter().collect::<Vec<_>>())
        ));
    }
    Some(parts.join("; "))
}

/// `a, b, c` (the first 10, then how many in all).
fn name_list(names: &[&String]) -> String {
    let shown: Vec<&str> = names.iter().take(10).map(|s| s.as_str()).collect();
    let more = if names.len() > 10 {
        format!(", … ({} in all)", names.len())
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_checked_by_name_and_reordered_on_request() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ds = Dataset::tabular("t", 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], Labels::None)
            .unwrap()
            .with_feature_names(names(&["c", "b", "a"]))
            .unwrap();
        let model = names(&["a", "b", "c"]);
        let e = Dataset::check_columns(Some(&model), &ds).unwrap_err().to_string();
        assert!(e.contains("another order") && e.contains("a, c moved"), "{e}");
        let fixed = ds.reorder_columns(&model).unwrap();
        assert_eq!(fixed.x(), &[3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
        assert!(Dataset::check_columns(Some(&model), &fixed).is_ok());
        let e = Dataset::check_columns(Some(&names(&["a", "b", "x"])), &ds)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing x") && e.contains("not in the model c"), "{e}");
        assert!(ds.reorder_columns(&names(&["a", "b", "x"])).is_err());
        let dup = Dataset::tabular("t", 2, vec![1.0, 2.0], Labels::None).unwrap();
        assert!(dup.with_feature_names(names(&["a", "a"])).is_err());
    }

    use super::*;

    #[test]
    fn rejects_empty_and_ragged() {
        assert!(matches!(
            Dataset::tabular("t", 2, vec![], Labels::None),
            Err(Error::InvalidData(_))
        ));
        assert!(matches!(
            Dataset::tabular("t", 2, vec![1.0; 3], Labels::None),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            Dataset::tabular("t", 0, vec![1.0; 3], Labels::None),
            Err(Error::InvalidData(_))
        ));
    }

    #[test]
    fn non_finite_names_row_and_column() {
        let err = Dataset::tabular("f.csv", 3, vec![0.0, 1.0, 2.0, 3.0, f32::NAN, 5.0], Labels::None).unwrap_err();
        match err {
            Error::NonFinite { row, col, .. } => assert_eq!((row, col), (1, 1)),
            e => panic!("wrong error {e}"),
        }
    }

    #[test]
    fn label_count_must_match() {
        let r = Dataset::tabular("t", 1, vec![1.0, 2.0], Labels::Anomaly(vec![true]));
        assert!(matches!(r, Err(Error::Shape { .. })));
    }

    #[test]
    fn select_and_concat_keep_labels() {
        let ds = Dataset::tabular(
            "t",
            2,
            vec![0., 1., 2., 3., 4., 5.],
            Labels::Anomaly(vec![false, true, false]),
        )
        .unwrap();
        let s = ds.select(&[2, 1]).unwrap();
        assert_eq!(s.x(), &[4., 5., 2., 3.]);
        assert_eq!(s.anomaly_flags().unwrap(), &[false, true]);
        let c = ds.concat(&s).unwrap();
        assert_eq!(c.n(), 5);
        assert_eq!(c.anomaly_flags().unwrap().len(), 5);
        assert!(ds.select(&[3]).is_err());
    }

    #[test]
    fn files_follow_select_concat_and_relabelling() {
        let ds = Dataset::tabular("t", 1, vec![0., 1., 2.], Labels::None)
            .unwrap()
            .with_files(vec!["a.png".into(), "b.png".into(), "c.png".into()])
            .unwrap();
        let s = ds.select(&[2, 0]).unwrap();
        assert_eq!(s.files().unwrap(), &["c.png", "a.png"]);
        let c = ds
            .concat(&s)
            .unwrap()
            .with_labels(Labels::Anomaly(vec![false; 5]))
            .unwrap();
        assert_eq!(c.files().unwrap(), &["a.png", "b.png", "c.png", "c.png", "a.png"]);
        let plain = Dataset::tabular("p", 1, vec![9.], Labels::None).unwrap();
        assert!(ds.concat(&plain).unwrap().files().is_none());
        assert!(ds.clone().with_files(vec!["x".into()]).is_err());
    }
}
