//! CSV, ARFF, `.tar.xz` and Parquet loaders on real files from `data/` and on small bad inputs.
//!
//! Expected values were checked independently with pandas / scipy.io.arff / pyarrow.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oddity::data::{self, Dataset, Labels, LoadOptions};
use oddity::error::Error;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data");

fn fixture(rel: &str) -> PathBuf {
    Path::new(DATA).join(rel)
}

fn opts() -> LoadOptions {
    LoadOptions::default()
}

fn with_label(name: &str) -> LoadOptions {
    LoadOptions {
        label_column: Some(name.into()),
        ..Default::default()
    }
}

fn anomalies(ds: &Dataset) -> usize {
    ds.anomaly_flags()
        .expect("anomaly labels")
        .iter()
        .filter(|&&f| f)
        .count()
}

/// The error of loading `path`, with a check that its message names the file.
fn load_err(path: &Path, o: &LoadOptions) -> String {
    let err = match data::load(path, o) {
        Ok(_) => panic!("{} loaded but should not", path.display()),
        Err(e) => e.to_string(),
    };
    let file = path.file_name().unwrap().to_string_lossy();
    assert!(err.contains(file.as_ref()), "error does not name {file}: {err}");
    err
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn one_hot_row(ds: &Dataset, i: usize) -> String {
    ds.row(i).iter().map(|&v| if v == 1.0 { '1' } else { '0' }).collect()
}

// ---------------------------------------------------------------- CSV

#[test]
fn csv_annthyroid_shape_labels_names_values() {
    let ds = data::csv::load(&fixture("adrepository/annthyroid_21feat_normalised.csv"), &opts()).unwrap();
    assert_eq!((ds.n(), ds.dim()), (7200, 21));
    assert_eq!(anomalies(&ds), 534);
    let names = ds.feature_names().unwrap();
    assert_eq!(
        (names[0].as_str(), names[1].as_str(), names[20].as_str()),
        ("Dim_0", "Dim_1=0", "Dim_20")
    );
    assert_eq!(ds.row(0)[0], 0.75);
    assert_eq!(ds.row(0)[16], 0.001132);
    assert_eq!(ds.row(3)[17], 0.091922);
    assert_eq!(ds.row(7199)[20], 0.1375);
    let sum: f64 = ds.x().iter().map(|&v| v as f64).sum();
    assert!((sum - 112351.4054).abs() < 0.05, "{sum}");
}

#[test]
fn csv_label_column_by_name_and_no_labels() {
    let path = fixture("adrepository/annthyroid_21feat_normalised.csv");
    let ds = data::csv::load(&path, &with_label("Dim_1=0")).unwrap();
    assert_eq!(ds.dim(), 21);
    assert_eq!(anomalies(&ds), 5009);
    assert_eq!(ds.feature_names().unwrap()[20], "class");
    assert!(!ds.feature_names().unwrap().iter().any(|n| n == "Dim_1=0"));

    let ds = data::csv::load(
        &path,
        &LoadOptions {
            no_labels: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((ds.n(), ds.dim()), (7200, 22));
    assert_eq!(ds.labels(), &Labels::None);
}

#[test]
fn csv_unknown_label_column_lists_columns() {
    let err = load_err(
        &fixture("adrepository/annthyroid_21feat_normalised.csv"),
        &with_label("target"),
    );
    assert!(
        err.contains("`target`") && err.contains("Dim_0") && err.contains("class"),
        "{err}"
    );
}

#[test]
fn csv_non_numeric_cell_names_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "bad.csv", b"a,b,class\n1,2,0\n3,abc,1\n");
    let err = load_err(&p, &opts());
    assert!(
        err.contains("row 2") && err.contains("`b`") && err.contains("abc"),
        "{err}"
    );
}

#[test]
fn csv_empty_cell_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "gap.csv", b"a,b,class\n1,2,0\n3,,1\n");
    let err = load_err(&p, &opts());
    assert!(err.contains("row 2") && err.contains("empty"), "{err}");
}

#[test]
fn csv_ragged_row_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "ragged.csv", b"a,b,class\n1,2,0\n3,4\n");
    let err = load_err(&p, &opts());
    assert!(
        err.contains("row 2") && err.contains("2 fields") && err.contains("3 columns"),
        "{err}"
    );
}

#[test]
fn csv_empty_and_header_only_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(load_err(&write(&dir, "empty.csv", b""), &opts()).contains("empty file"));
    assert!(load_err(&write(&dir, "head.csv", b"a,b,class\n"), &opts()).contains("no data rows"));
}

#[test]
fn csv_garbage_bytes_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    load_err(&write(&dir, "garbage.csv", &garbage), &opts());
}

#[test]
fn csv_truncated_file_is_an_error() {
    let bytes = std::fs::read(fixture("adrepository/annthyroid_21feat_normalised.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Cut in the middle of a row: the last row has too few fields.
    let p = write(&dir, "cut.csv", &bytes[..bytes.len() / 2 + 7]);
    load_err(&p, &opts());
}

// ---------------------------------------------------------------- ARFF

#[test]
fn arff_cmc_one_hot() {
    let ds = data::arff::load(&fixture("adrepository/cmc-nominal.arff"), &opts()).unwrap();
    // 8 nominal attributes with 4+4+2+2+4+4+2+3 declared values.
    assert_eq!((ds.n(), ds.dim()), (1473, 25));
    assert_eq!(anomalies(&ds), 29);
    let names = ds.feature_names().unwrap();
    assert_eq!(names[0], "Wifes_education=1");
    assert_eq!(names[10], "Wifes_now_working?=0");
    assert_eq!(names[24], "Contraceptive_method_used=3");
    assert_eq!(one_hot_row(&ds, 0), "0100001001010100001010100");
    assert_eq!(one_hot_row(&ds, 1472), "0010001001010100000110001");
    assert_eq!(ds.x().iter().sum::<f32>(), 1473.0 * 8.0);
}

#[test]
fn arff_solar_flare_one_hot() {
    let ds = data::arff::load(&fixture("adrepository/solar-flare_FvsAll-cleaned.arff"), &opts()).unwrap();
    // 11 nominal attributes: 6+4+2+3+3+2+2+2+8+6+3 declared values.
    assert_eq!((ds.n(), ds.dim()), (1066, 41));
    assert_eq!(anomalies(&ds), 43);
    assert_eq!(ds.feature_names().unwrap()[2], "largest_spot_size=K");
    assert_eq!(
        ds.feature_names().unwrap()[40],
        "X-class_flares_production_by_this_region=2"
    );
    assert_eq!(one_hot_row(&ds, 0), "00010000101001010010011010000000100000100");
    assert_eq!(one_hot_row(&ds, 1065), "00001000011010010010011010000000100000100");
}

const SYNTAX: &str = "% a comment\n\
@RELATION 'odd relation'\n\
\n\
@Attribute 'first value' NUMERIC\n\
@attribute \"colour name\" {red, 'dark blue', \"x,y\"} % trailing comment\n\
@ATTRIBUTE count integer\n\
@attribute kind {normal,outlier}\n\
@attribute w real\n\
@DATA\n\
% rows\n\
1.5, red, 3, normal, -2\n\
  -0.25 ,'dark blue',4,outlier,1e-3\n\
{0 7, 1 \"x,y\", 3 outlier}\n\
{2 9}\n";

#[test]
fn arff_syntax_quotes_case_comments_sparse() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "syntax.arff", SYNTAX.as_bytes());
    let ds = data::load(&p, &with_label("kind")).unwrap().train;
    assert_eq!((ds.n(), ds.dim()), (4, 6));
    let names: Vec<&str> = ds.feature_names().unwrap().iter().map(|s| s.as_str()).collect();
    assert_eq!(
        names,
        [
            "first value",
            "colour name=red",
            "colour name=dark blue",
            "colour name=x,y",
            "count",
            "w"
        ]
    );
    assert_eq!(ds.row(0), &[1.5, 1.0, 0.0, 0.0, 3.0, -2.0]);
    assert_eq!(ds.row(1), &[-0.25, 0.0, 1.0, 0.0, 4.0, 1e-3]);
    // Sparse rows: unset numeric = 0, unset nominal = first declared value.
    assert_eq!(ds.row(2), &[7.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    assert_eq!(ds.row(3), &[0.0, 1.0, 0.0, 0.0, 9.0, 0.0]);
    assert_eq!(ds.anomaly_flags().unwrap(), &[false, true, true, false]);

    // Default label = last attribute (`w`, numeric; 0 in both sparse rows): three classes.
    let ds = data::arff::load(&p, &opts()).unwrap();
    let expected = Labels::Classes {
        ids: vec![0, 2, 1, 1],
        names: vec!["-2".into(), "0".into(), "1e-3".into()],
    };
    assert_eq!(ds.labels(), &expected);
    assert_eq!(ds.dim(), 1 + 3 + 1 + 2);
}

fn arff_with(rows: &str, decl: &str) -> String {
    format!("@relation t\n@attribute a numeric\n@attribute b {{x,y}}\n{decl}@attribute class {{0,1}}\n@data\n{rows}")
}

#[test]
fn arff_missing_value_names_row_and_attribute() {
    let dir = tempfile::tempdir().unwrap();
    // A missing nominal feature: an all-zero one-hot block.
    let p = write(&dir, "miss_nominal.arff", arff_with("1,x,0\n2,?,1\n", "").as_bytes());
    let ds = data::load(&p, &opts()).unwrap().into_all().unwrap();
    assert_eq!(ds.x(), &[1.0, 1.0, 0.0, 2.0, 0.0, 0.0]);
    // A missing numeric value is an error naming row and attribute.
    let p = write(&dir, "miss.arff", arff_with("1,x,0\n?,y,1\n", "").as_bytes());
    let err = load_err(&p, &opts());
    assert!(
        err.contains("row 2") && err.contains("`?`") && err.contains("`a`"),
        "{err}"
    );
    let p = write(&dir, "miss_label.arff", arff_with("1,x,0\n2,y,?\n", "").as_bytes());
    let err = load_err(&p, &opts());
    assert!(err.contains("row 2") && err.contains("`class`"), "{err}");
}

#[test]
fn arff_bad_values_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "undeclared.arff", arff_with("1,z,0\n", "").as_bytes());
    let err = load_err(&p, &opts());
    assert!(
        err.contains("row 1") && err.contains("`z`") && err.contains("x, y"),
        "{err}"
    );
    let p = write(&dir, "nan.arff", arff_with("1,x,0\nfoo,y,1\n", "").as_bytes());
    let err = load_err(&p, &opts());
    assert!(
        err.contains("row 2") && err.contains("`a`") && err.contains("foo"),
        "{err}"
    );
}

#[test]
fn arff_ragged_row_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "ragged.arff", arff_with("1,x,0\n2,y\n", "").as_bytes());
    let err = load_err(&p, &opts());
    assert!(
        err.contains("row 2") && err.contains("2 values but 3 attributes"),
        "{err}"
    );
    let p = write(&dir, "long.arff", arff_with("1,x,0,5\n", "").as_bytes());
    assert!(load_err(&p, &opts()).contains("4 values but 3"));
}

#[test]
fn arff_string_and_date_features_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "str.arff",
        arff_with("1,x,'hello',0\n", "@attribute note string\n").as_bytes(),
    );
    let err = load_err(&p, &opts());
    assert!(err.contains("`note`") && err.contains("string"), "{err}");
    let p = write(
        &dir,
        "date.arff",
        arff_with("1,x,2020-01-01,0\n", "@attribute d date yyyy-MM-dd\n").as_bytes(),
    );
    assert!(load_err(&p, &opts()).contains("date"));
    // A string attribute is fine as the label.
    let p = write(
        &dir,
        "strlabel.arff",
        arff_with("1,x,'a b',0\n2,y,c,1\n3,y,c,1\n", "@attribute note string\n").as_bytes(),
    );
    let ds = data::arff::load(&p, &with_label("note")).unwrap();
    assert_eq!(ds.anomaly_flags().unwrap(), &[true, false, false]);
    assert_eq!(ds.dim(), 1 + 2 + 2);
}

#[test]
fn arff_unknown_label_column_lists_attributes() {
    let err = load_err(&fixture("adrepository/cmc-nominal.arff"), &with_label("children"));
    assert!(err.contains("`children`") && err.contains("Wifes_education"), "{err}");
}

#[test]
fn arff_empty_truncated_and_garbage_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(load_err(&write(&dir, "empty.arff", b""), &opts()).contains("empty file"));
    let text = std::fs::read(fixture("adrepository/cmc-nominal.arff")).unwrap();
    // Cut inside the header: in the middle of a value list, or before @data.
    let err = load_err(&write(&dir, "cut_list.arff", &text[..202]), &opts());
    assert!(err.contains("line 6") && err.contains("missing `}`"), "{err}");
    let data_at = text.windows(5).position(|w| w == b"@data").unwrap();
    assert!(load_err(&write(&dir, "cut_head.arff", &text[..data_at]), &opts()).contains("no @data"));
    // Cut in the middle of data row 700, after its third value.
    let row_700 = data_at
        + text[data_at..]
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(699)
            .unwrap()
            .0
        + 1;
    let err = load_err(&write(&dir, "cut_data.arff", &text[..row_700 + 5]), &opts());
    assert!(err.contains("row 700") && err.contains("3 values but 9"), "{err}");
    let header_only = arff_with("", "");
    assert!(load_err(&write(&dir, "nodata.arff", header_only.as_bytes()), &opts()).contains("no data rows"));
    let garbage: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    load_err(&write(&dir, "garbage.arff", &garbage), &opts());
    let unterminated = "@relation r\n@attribute 'a numeric\n@data\n1\n";
    assert!(load_err(&write(&dir, "quote.arff", unterminated.as_bytes()), &opts()).contains("unterminated"));
}

// ---------------------------------------------------------------- tar.xz

fn tar_xz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(liblzma::write::XzEncoder::new(Vec::new(), 6));
    for (name, bytes) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *bytes).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn tar_xz_cmc_matches_plain_arff() {
    let archive = fixture("adrepository/cmc-nominal.tar.xz");
    let ds = data::load(&archive, &opts()).unwrap().train;
    let plain = data::arff::load(&fixture("adrepository/cmc-nominal.arff"), &opts()).unwrap();
    assert_eq!((ds.n(), ds.dim()), (1473, 25));
    assert_eq!(ds.x(), plain.x());
    assert_eq!(ds.labels(), plain.labels());
    assert_eq!(ds.feature_names(), plain.feature_names());
    assert!(
        ds.name().ends_with("cmc-nominal.tar.xz/cmc-nominal.arff"),
        "{}",
        ds.name()
    );
}

#[test]
fn tar_xz_csv_inside_and_errors_name_the_inner_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        &dir,
        "good.tar.xz",
        &tar_xz(&[("sub/t.csv", b"a,class\n1,0\n2,1\n3,0\n"), ("README", b"hi")]),
    );
    let ds = data::load(&good, &opts()).unwrap().train;
    assert_eq!(ds.x(), &[1.0, 2.0, 3.0]);
    assert_eq!(ds.anomaly_flags().unwrap(), &[false, true, false]);

    let bad = write(&dir, "bad.tar.xz", &tar_xz(&[("t.csv", b"a,class\n1,0\nx,1\n")]));
    let err = load_err(&bad, &opts());
    assert!(err.contains("bad.tar.xz/t.csv") && err.contains("row 2"), "{err}");
}

#[test]
fn tar_xz_with_two_or_zero_data_files_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let csv: &[u8] = b"a,class\n1,0\n2,1\n";
    let two = write(
        &dir,
        "two.tar.xz",
        &tar_xz(&[("one.csv", csv), ("two.arff", b"@relation r\n")]),
    );
    let err = load_err(&two, &opts());
    assert!(
        err.contains("found 2") && err.contains("one.csv") && err.contains("two.arff"),
        "{err}"
    );
    let none = write(
        &dir,
        "none.tar.xz",
        &tar_xz(&[("notes.txt", b"nothing"), ("._t.csv", csv)]),
    );
    let err = load_err(&none, &opts());
    assert!(err.contains("found 0") && err.contains("notes.txt"), "{err}");
}

#[test]
fn tar_xz_corrupt_truncated_or_not_xz_is_an_error() {
    let bytes = std::fs::read(fixture("adrepository/cmc-nominal.tar.xz")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut flipped = bytes.clone();
    for b in &mut flipped[bytes.len() / 3..bytes.len() / 3 + 16] {
        *b ^= 0x5a;
    }
    let err = load_err(&write(&dir, "flipped.tar.xz", &flipped), &opts());
    assert!(err.contains("flipped.tar.xz"), "{err}");
    load_err(&write(&dir, "cut.tar.xz", &bytes[..bytes.len() / 2]), &opts());
    load_err(&write(&dir, "empty.tar.xz", b""), &opts());
    let err = load_err(&write(&dir, "plain.tar.xz", b"a,class\n1,0\n"), &opts());
    assert!(err.contains("xz"), "{err}");
}

/// The real, large ADRepository archives; skipped when the shared data folder is absent.
/// Run with `--release --nocapture` to see the load times.
#[test]
fn tar_xz_real_adrepository_archives() {
    let root = std::env::var("ODDITY_ADREPOSITORY").unwrap_or_else(|_| "/work/shared/data/adrepository".into());
    let root = Path::new(&root);
    if !root.is_dir() {
        println!("skipped: {} is absent (set ODDITY_ADREPOSITORY to run)", root.display());
        return;
    }
    let cases = [
        // w7a: 300 binary nominal attributes {0,1}, one-hot encoded = 600 features.
        ("categorical/w7a-libsvm-nonsparse.tar.xz", 49_749, 600, 1_479),
        ("numerical/UNSW_NB15_traintest_backdoor.tar.xz", 95_329, 196, 2_329),
    ];
    for (rel, n, d, anomalies_expected) in cases {
        let t = std::time::Instant::now();
        let ds = data::load(root.join(rel), &opts()).unwrap().train;
        println!("{rel}: {} x {} in {:.2?}", ds.n(), ds.dim(), t.elapsed());
        assert_eq!((ds.n(), ds.dim()), (n, d), "{rel}");
        assert_eq!(anomalies(&ds), anomalies_expected, "{rel}");
    }
}

// ---------------------------------------------------------------- Parquet

#[test]
fn parquet_cardio_from_pyarrow() {
    let ds = data::load(fixture("parquet/cardio.parquet"), &opts()).unwrap().train;
    assert_eq!((ds.n(), ds.dim()), (1831, 21));
    assert_eq!(anomalies(&ds), 176);
    let names = ds.feature_names().unwrap();
    assert_eq!(
        (names[0].as_str(), names[7].as_str(), names[20].as_str()),
        ("LB", "ASTV", "Tendency")
    );
    assert_eq!(ds.row(0)[0], 0.004_912_314_5);
    assert_eq!(ds.row(5)[7], -0.992_364_3);
    assert_eq!(ds.row(1830)[19], 3.584_653);
    // Tendency is int8 with 150 x -1, 978 x 0, 703 x 1.
    let tendency: f32 = (0..ds.n()).map(|i| ds.row(i)[20]).sum();
    assert_eq!(tendency, 553.0);
    assert!((0..ds.n()).all(|i| [-1.0, 0.0, 1.0].contains(&ds.row(i)[20])));
}

#[test]
fn parquet_string_feature_column_is_an_error() {
    // With `Tendency` as the label, the string column `label` would be a feature.
    let err = load_err(&fixture("parquet/cardio.parquet"), &with_label("Tendency"));
    assert!(err.contains("`label`") && err.contains("strings"), "{err}");
}

#[test]
fn parquet_unknown_label_column_lists_columns() {
    let err = load_err(&fixture("parquet/cardio.parquet"), &with_label("y"));
    assert!(
        err.contains("`y`") && err.contains("Tendency") && err.contains("label"),
        "{err}"
    );
}

fn write_parquet(path: &Path, columns: Vec<(&str, arrow_array::ArrayRef)>) {
    let batch = arrow_array::RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn parquet_bool_uint_features_and_int_label() {
    use arrow_array::{ArrayRef, BooleanArray, Int64Array, UInt16Array};
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mixed.parquet");
    write_parquet(
        &p,
        vec![
            (
                "flag",
                Arc::new(BooleanArray::from(vec![true, false, true])) as ArrayRef,
            ),
            ("count", Arc::new(UInt16Array::from(vec![7u16, 0, 65535])) as ArrayRef),
            ("y", Arc::new(Int64Array::from(vec![0i64, 1, 0])) as ArrayRef),
        ],
    );
    let ds = data::load(&p, &opts()).unwrap().train;
    assert_eq!(ds.x(), &[1.0, 7.0, 0.0, 0.0, 1.0, 65535.0]);
    assert_eq!(ds.anomaly_flags().unwrap(), &[false, true, false]);
    let ds = data::load(&p, &with_label("flag")).unwrap().train;
    assert_eq!(ds.anomaly_flags().unwrap(), &[true, false, true]);
    assert_eq!(ds.feature_names().unwrap(), &["count".to_string(), "y".to_string()]);
}

#[test]
fn parquet_null_feature_names_row_and_column() {
    use arrow_array::{ArrayRef, Float64Array, StringArray};
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nulls.parquet");
    write_parquet(
        &p,
        vec![
            (
                "a",
                Arc::new(Float64Array::from(vec![Some(1.0), Some(2.0), None])) as ArrayRef,
            ),
            (
                "label",
                Arc::new(StringArray::from(vec!["normal", "anomaly", "normal"])) as ArrayRef,
            ),
        ],
    );
    let err = load_err(&p, &opts());
    assert!(
        err.contains("row 3") && err.contains("`a`") && err.contains("null"),
        "{err}"
    );
}

#[test]
fn parquet_empty_truncated_and_garbage_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    load_err(&write(&dir, "empty.parquet", b""), &opts());
    let bytes = std::fs::read(fixture("parquet/cardio.parquet")).unwrap();
    load_err(&write(&dir, "cut.parquet", &bytes[..bytes.len() / 2]), &opts());
    // Damage the footer metadata (data pages carry no checksum: flipped values there go unnoticed).
    let mut damaged = bytes.clone();
    let len = bytes.len();
    for b in &mut damaged[len - 3000..len - 8] {
        *b = !*b;
    }
    load_err(&write(&dir, "damaged.parquet", &damaged), &opts());
    load_err(&write(&dir, "text.parquet", b"a,b\n1,2\n"), &opts());
}

/// One byte changed in a data page makes the parquet 60 decoder panic (found by fuzzing): the
/// loader must turn that into an error.
#[test]
fn parquet_decoder_panic_becomes_an_error() {
    let mut bytes = std::fs::read(fixture("parquet/cardio.parquet")).unwrap();
    assert_eq!(bytes[57_569], 0xe8);
    bytes[57_569] = 0xb9;
    let dir = tempfile::tempdir().unwrap();
    let err = load_err(&write(&dir, "one_byte.parquet", &bytes), &opts());
    assert!(err.contains("damaged Parquet file"), "{err}");
}

#[test]
fn errors_are_format_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "x.csv", b"a,class\n1,0\nq,1\n");
    assert!(matches!(data::csv::load(&p, &opts()), Err(Error::Format { .. })));
    let mut f = std::fs::File::create(dir.path().join("y.arff")).unwrap();
    f.write_all(b"@relation r\n@attribute a numeric\n@attribute c {0,1}\n@data\n?,1\n")
        .unwrap();
    assert!(matches!(
        data::arff::load(&dir.path().join("y.arff"), &opts()),
        Err(Error::Format { .. })
    ));
}

/// A finite value f32 cannot hold (1e308) is reported as out of range with the value as written,
/// its row (from 1) and column — not as the `inf` it would become (issue 18). Infinity itself is
/// still a non-finite value, and f32's own extremes load.
#[test]
fn values_beyond_f32_are_out_of_range_not_infinite_in_every_format() {
    use arrow_array::{ArrayRef, Float64Array, Int64Array};
    let dir = tempfile::tempdir().unwrap();
    let csv = write(&dir, "big.csv", b"a,b,label\n1,2,0\n3,1e308,1\n");
    let err = load_err(&csv, &opts());
    assert!(err.contains("row 2, column `b`: 1e308 is out of f32 range"), "{err}");
    let csv = write(&dir, "neg.csv", b"a,b,label\n-3.5E+39,2,0\n3,1,1\n");
    let err = load_err(&csv, &opts());
    assert!(err.contains("row 1, column `a`: -3.5E+39 is out of f32 range"), "{err}");
    let csv = write(&dir, "inf.csv", b"a,b,label\n1,2,0\n3,-Infinity,1\n");
    assert!(matches!(
        data::load(&csv, &opts()),
        Err(Error::NonFinite { row: 1, col: 1, .. })
    ));
    let csv = write(&dir, "max.csv", b"a,b,label\n3.4028235e38,-3.4028235e38,0\n1,1,1\n");
    assert_eq!(data::load(&csv, &opts()).unwrap().train.row(0), &[f32::MAX, -f32::MAX]);

    let arff = write(&dir, "big.arff", arff_with("1,x,0\n1e39,y,1\n", "").as_bytes());
    let err = load_err(&arff, &opts());
    assert!(
        err.contains("row 2") && err.contains("attribute `a`: 1e39 is out of f32 range"),
        "{err}"
    );

    let p = dir.path().join("big.parquet");
    write_parquet(
        &p,
        vec![
            ("a", Arc::new(Float64Array::from(vec![1.0, 2.0, -1e300])) as ArrayRef),
            ("y", Arc::new(Int64Array::from(vec![0i64, 1, 0])) as ArrayRef),
        ],
    );
    let err = load_err(&p, &opts());
    assert!(err.contains("row 3, column `a`: -1e300 is out of f32 range"), "{err}");
}
