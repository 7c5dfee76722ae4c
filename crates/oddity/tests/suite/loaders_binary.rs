//! Binary-format loaders (IDX, NumPy, MATLAB, PNG folders) on small real files in `data/`.
//!
//! Expected values were computed independently with Python (numpy / scipy.io / h5py / Pillow).

use std::path::{Path, PathBuf};

use oddity::data::{self, Dataset, Labels, Layout, LoadOptions};

fn fixture(rel: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data")).join(rel)
}

fn opts() -> LoadOptions {
    LoadOptions::default()
}

fn assert_close(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g as f64 - w).abs() <= 1e-6 * w.abs().max(1.0),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

fn column_sum(ds: &Dataset, j: usize) -> f64 {
    (0..ds.n()).map(|i| ds.row(i)[j] as f64).sum()
}

fn anomalies(ds: &Dataset) -> usize {
    ds.anomaly_flags()
        .expect("anomaly flags")
        .iter()
        .filter(|&&f| f)
        .count()
}

fn first_anomalies(ds: &Dataset, k: usize) -> Vec<usize> {
    let flags = ds.anomaly_flags().expect("anomaly flags");
    flags
        .iter()
        .enumerate()
        .filter(|(_, f)| **f)
        .map(|(i, _)| i)
        .take(k)
        .collect()
}

fn class_histogram(ds: &Dataset) -> Vec<usize> {
    match ds.labels() {
        Labels::Classes { ids, names } => {
            let mut h = vec![0; names.len()];
            for &id in ids {
                h[id as usize] += 1;
            }
            h
        }
        other => panic!("expected classes, got {other:?}"),
    }
}

/// Copies `src` to a temp dir, keeping only its first `keep` bytes.
fn truncated_copy(src: &Path, keep: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join(src.file_name().unwrap());
    let bytes = std::fs::read(src).unwrap();
    std::fs::write(&dst, &bytes[..keep.min(bytes.len())]).unwrap();
    (dir, dst)
}

fn with_bytes(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    (dir, p)
}

fn err_names_file(r: oddity::Result<impl std::fmt::Debug>, path: &Path) -> String {
    let e = r.expect_err("expected an error").to_string();
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(e.contains(name.as_ref()), "error does not name {name}: {e}");
    println!("{e}");
    e
}

/// Garbage that no format accepts (deterministic).
fn garbage(len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// IDX (MNIST)

#[test]
fn mnist_small_counts_labels_pixels() {
    let dir = fixture("mnist-small");
    let loaded = data::load(&dir, &opts()).unwrap();
    let (train, test) = (loaded.train, loaded.test.expect("test split"));
    assert_eq!(train.n(), 1000);
    assert_eq!(test.n(), 500);
    assert_eq!(train.layout(), Layout::Images { c: 1, h: 28, w: 28 });
    assert!(train.name().ends_with("mnist-small (train)") && test.name().ends_with("mnist-small (test)"));
    assert_eq!(class_histogram(&train), [97, 116, 99, 93, 105, 92, 94, 117, 87, 100]);
    assert_eq!(class_histogram(&test), [42, 67, 55, 45, 55, 50, 43, 49, 40, 54]);
    let Labels::Classes { ids, names } = train.labels() else {
        unreachable!()
    };
    assert_eq!(&ids[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert_eq!(names, &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    // pixels: image 0 has its first ink at (5, 12) = 3, and (14, 14) = 240
    let px = |ds: &Dataset, i: usize, r: usize, c: usize| ds.row(i)[r * 28 + c];
    assert_eq!(px(&train, 0, 5, 12), 3.0 / 255.0);
    assert_eq!(px(&train, 0, 5, 11), 0.0);
    assert_eq!(px(&train, 0, 14, 14), 240.0 / 255.0);
    let last: Vec<f32> = (14..18).map(|c| px(&train, 999, 14, c) * 255.0).collect();
    assert_close(&last, &[78.0, 213.0, 254.0, 228.0], "train[999] row 14");
    let sum0: f64 = train.row(0).iter().map(|&v| (v * 255.0).round() as f64).sum();
    assert_eq!(sum0, 27525.0);
    assert_eq!(px(&test, 0, 7, 6), 84.0 / 255.0);
    assert!(train.x().iter().all(|v| (0.0..=1.0).contains(v)));
    // into_all joins train then test
    let all = data::load(&dir, &opts()).unwrap().into_all().unwrap();
    assert_eq!(all.n(), 1500);
    assert_eq!(class_histogram(&all)[1], 116 + 67);
}

#[test]
fn idx_read_functions_and_gzip_detection_by_magic() {
    let dir = fixture("mnist-small");
    let (n, rows, cols, pixels) = data::idx::read_images(&dir.join("t10k-images-idx3-ubyte.gz")).unwrap();
    assert_eq!((n, rows, cols, pixels.len()), (500, 28, 28, 500 * 784));
    assert_eq!(pixels[7 * 28 + 6], 84);
    let labels = data::idx::read_labels(&dir.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    assert_eq!(&labels[..10], &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    // a gzip file without .gz in its name, and a raw file named .gz
    let tmp = tempfile::tempdir().unwrap();
    let gz_no_ext = tmp.path().join("labels");
    std::fs::copy(dir.join("t10k-labels-idx1-ubyte.gz"), &gz_no_ext).unwrap();
    assert_eq!(data::idx::read_labels(&gz_no_ext).unwrap(), labels);
    let raw_gz_name = tmp.path().join("raw.gz");
    let mut raw = vec![0, 0, 8, 1, 0, 0, 0, 2];
    raw.extend_from_slice(&[4, 2]);
    std::fs::write(&raw_gz_name, &raw).unwrap();
    assert_eq!(data::idx::read_labels(&raw_gz_name).unwrap(), vec![4, 2]);
}

#[test]
fn idx_corrupt_inputs() {
    let src = fixture("mnist-small/train-images-idx3-ubyte.gz");
    // truncated gzip stream
    let (_d, p) = truncated_copy(&src, 50_000);
    let e = err_names_file(data::idx::read_images(&p), &p);
    assert!(e.contains("gzip"), "{e}");
    // valid gzip whose payload is cut: rewrite the image count upwards
    let (_d, p) = with_bytes("train-images-idx3-ubyte", &{
        let mut raw = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&std::fs::read(&src).unwrap()[..]),
            &mut raw,
        )
        .unwrap();
        raw[7] = 0xe9; // 1000 (0x3e8) -> 1001 (0x3e9)
        raw
    });
    let e = err_names_file(data::idx::read_images(&p), &p);
    assert!(e.contains("truncated") && e.contains("1001 images"), "{e}");
    for bytes in [vec![], garbage(4096), b"\x1f\x8bnot really gzip".to_vec()] {
        let (_d, p) = with_bytes("train-images-idx3-ubyte", &bytes);
        err_names_file(data::idx::read_images(&p), &p);
        err_names_file(data::idx::read_labels(&p), &p);
    }
    // a whole directory with one truncated file
    let tmp = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(fixture("mnist-small")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, tmp.path().join(f.file_name().unwrap())).unwrap();
    }
    let (_d, cut) = truncated_copy(&fixture("mnist-small/t10k-labels-idx1-ubyte.gz"), 100);
    std::fs::copy(&cut, tmp.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let e = data::load(tmp.path(), &opts()).unwrap_err().to_string();
    assert!(e.contains("t10k-labels-idx1-ubyte.gz"), "{e}");
}

#[test]
fn fashion_mnist_from_debian_package() {
    let dir = Path::new("/usr/share/datasets/fashion-mnist");
    if !dir.is_dir() {
        println!(
            "skipped: {} absent (apt-get install dataset-fashion-mnist)",
            dir.display()
        );
        return;
    }
    let loaded = data::idx::load_dir(dir).unwrap();
    let (train, test) = (loaded.train, loaded.test.unwrap());
    assert_eq!((train.n(), test.n()), (60_000, 10_000));
    assert_eq!(class_histogram(&train), [6000; 10]);
    assert_eq!(class_histogram(&test), [1000; 10]);
    let row: Vec<f32> = (14..18).map(|c| train.row(0)[14 * 28 + c] * 255.0).collect();
    assert_close(&row, &[217.0, 223.0, 222.0, 219.0], "fashion train[0] row 14");
    let sum: f64 = test.row(9999).iter().map(|&v| (v * 255.0).round() as f64).sum();
    assert_eq!(sum, 24390.0);
}

// ---------------------------------------------------------------------------------------------
// NumPy (ADBench)

#[test]
fn adbench_breastw_uint8_fortran() {
    let ds = data::load(fixture("adbench/4_breastw.npz"), &opts())
        .unwrap()
        .into_all()
        .unwrap();
    assert_eq!((ds.n(), ds.dim(), anomalies(&ds)), (683, 9, 239));
    assert_eq!(ds.row(0), &[5., 1., 1., 1., 2., 1., 3., 1., 1.]);
    assert_eq!(ds.row(682), &[4., 8., 8., 5., 4., 5., 10., 4., 1.]);
    assert_eq!(first_anomalies(&ds, 3), [5, 12, 14]);
    assert_eq!(column_sum(&ds, 0), 3034.0);
}

#[test]
fn adbench_shuttle_int16() {
    let ds = data::npy::load_npz(&fixture("adbench/32_shuttle.npz")).unwrap();
    assert_eq!((ds.n(), ds.dim(), anomalies(&ds)), (49_097, 9, 3511));
    assert_eq!(ds.row(0), &[50., 21., 77., 0., 28., 0., 27., 48., 22.]);
    assert_eq!(ds.row(49_096), &[37., 0., 103., 0., 18., -16., 66., 85., 20.]);
    assert_eq!(first_anomalies(&ds, 3), [0, 4, 18]);
    assert_eq!([column_sum(&ds, 0), column_sum(&ds, 1)], [2_304_240.0, -3140.0]);
}

#[test]
fn adbench_cardio_float64() {
    let ds = data::npy::load_npz(&fixture("adbench/6_cardio.npz")).unwrap();
    assert_eq!((ds.n(), ds.dim(), anomalies(&ds)), (1831, 21, 176));
    assert_close(
        &ds.row(0)[..6],
        &[
            0.004912314661768384,
            0.6931907749193863,
            -0.20364048566636067,
            0.5953221321105957,
            0.353189617395401,
            -0.0614006444811821,
        ],
        "cardio row 0",
    );
    assert_close(
        &ds.row(1830)[16..],
        &[
            -4.026857376098633,
            -3.8293161392211914,
            -1.2857816219329834,
            3.584652900695801,
            -0.49329397082328796,
        ],
        "cardio last row",
    );
    assert_eq!(first_anomalies(&ds, 3), [1655, 1656, 1657]);
}

#[test]
fn adbench_cardiotocography_int32_labels() {
    let ds = data::npy::load_npz(&fixture("adbench/7_Cardiotocography.npz")).unwrap();
    assert_eq!((ds.n(), ds.dim(), anomalies(&ds)), (2114, 21, 466));
    assert_close(
        &ds.row(0)[..8],
        &[120.0, 0.0, 0.0, 0.0, 73.0, 0.5, 43.0, 2.4],
        "ctg row 0",
    );
    assert_close(&ds.row(2113)[..6], &[142.0, 1.0, 1.0, 5.0, 74.0, 0.4], "ctg last row");
    assert_eq!([column_sum(&ds, 0), column_sum(&ds, 2)], [281_783.0, 15_350.0]);
    assert_eq!(first_anomalies(&ds, 3), [0, 5, 6]);
}

#[test]
fn npy_member_of_a_real_archive_loads_as_plain_npy() {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(fixture("adbench/4_breastw.npz")).unwrap()).unwrap();
    let mut x = Vec::new();
    zip.by_name("X.npy").unwrap().read_to_end(&mut x).unwrap();
    let (_d, p) = with_bytes("X.npy", &x);
    let ds = data::load(&p, &opts()).unwrap().train;
    assert_eq!((ds.n(), ds.dim()), (683, 9));
    assert_eq!(ds.labels(), &Labels::None);
    assert_eq!(ds.row(682), &[4., 8., 8., 5., 4., 5., 10., 4., 1.]);
    // y.npy is 1-D: not a feature matrix
    let mut y = Vec::new();
    zip.by_name("y.npy").unwrap().read_to_end(&mut y).unwrap();
    let (_d, p) = with_bytes("y.npy", &y);
    let e = err_names_file(data::npy::load_npy(&p), &p);
    assert!(e.contains("1-D"), "{e}");
}

#[test]
fn npz_corrupt_inputs() {
    let src = fixture("adbench/6_cardio.npz");
    let len = std::fs::metadata(&src).unwrap().len() as usize;
    for keep in [0, 10, 100, len / 2, len - 30, len - 1] {
        let (_d, p) = truncated_copy(&src, keep);
        err_names_file(data::npy::load_npz(&p), &p);
    }
    // corrupt a byte in the middle of the deflated X member: CRC or inflate error
    let mut bytes = std::fs::read(&src).unwrap();
    bytes[len / 3] ^= 0xff;
    let (_d, p) = with_bytes("flipped.npz", &bytes);
    err_names_file(data::npy::load_npz(&p), &p);
    let (_d, p) = with_bytes("garbage.npz", &garbage(5000));
    err_names_file(data::npy::load_npz(&p), &p);
    let (_d, p) = with_bytes("garbage.npy", &garbage(5000));
    let e = err_names_file(data::npy::load_npy(&p), &p);
    assert!(e.contains("NUMPY"), "{e}");
    let (_d, p) = with_bytes("empty.npy", &[]);
    err_names_file(data::npy::load_npy(&p), &p);
}

// ---------------------------------------------------------------------------------------------
// MATLAB (ODDS)

#[test]
fn odds_wbc_octave_v5() {
    let ds = data::mat::load(&fixture("odds/wbc.mat")).unwrap();
    assert_eq!((ds.n(), ds.dim(), anomalies(&ds)), (378, 30, 21));
    assert_close(
        &ds.row(0)[..4],
        &[0.310426428132, 0.157253973622, 0.301775965725, 0.17934252321720123],
        "wbc row 0",
    );
    assert_close(
        &ds.row(377)[26..],
        &[
            0.2700479328632355,
            0.522680401802063,
            0.4111965298652649,
            0.414928505838,
        ],
        "wbc last row",
    );
    assert_eq!(first_anomalies(&ds, 3), [357, 358, 359]);
    assert!((column_sum(&ds, 0) - 96.4277).abs() < 1e-3);
}

#[test]
fn odds_cardio_and_breastw_match_adbench_copies() {
    // the same data sets, one as MATLAB v5 (column-major, zlib), one as NumPy (Fortran order)
    for (mat, npz, n, d, a) in [
        ("cardio.mat", "6_cardio.npz", 1831, 21, 176),
        ("breastw.mat", "4_breastw.npz", 683, 9, 239),
    ] {
        let m = data::load(fixture(&format!("odds/{mat}")), &opts()).unwrap().train;
        let z = data::load(fixture(&format!("adbench/{npz}")), &opts()).unwrap().train;
        assert_eq!((m.n(), m.dim(), anomalies(&m)), (n, d, a), "{mat}");
        assert_eq!(m.x(), z.x(), "{mat} vs {npz}");
        assert_eq!(m.anomaly_flags(), z.anomaly_flags(), "{mat} vs {npz}");
    }
    let b = data::mat::load(&fixture("odds/breastw.mat")).unwrap();
    assert_eq!(b.row(0), &[5., 1., 1., 1., 2., 1., 3., 1., 1.]);
}

#[test]
fn odds_smtp_v73_hdf5() {
    let ds = data::load(fixture("odds/smtp.mat"), &opts()).unwrap().train;
    assert_eq!((ds.n(), ds.dim(), anomalies(&ds)), (95_156, 3, 30));
    assert_close(
        ds.row(0),
        &[0.09531017980432493, 7.095976067707081, 5.796361655949294],
        "smtp row 0",
    );
    assert_close(
        ds.row(95_155),
        &[0.09531017980432493, 6.602723568195243, 5.802420444553201],
        "smtp last row",
    );
    assert_close(&[ds.row(1000)[1]], &[6.935467717548673], "smtp[1000, 1]");
    assert_eq!(first_anomalies(&ds, 3), [14691, 14741, 14788]);
    assert!((column_sum(&ds, 1) - 684_226.756_6).abs() < 0.5);
}

/// Every value of smtp.mat (the one MATLAB v7.3 file in ../shared/data; the same bytes as
/// data/odds/smtp.mat) equals what h5py/libhdf5 reads: SHA-256 of `X` as row-major little-endian
/// f32 and of the 0/1 anomaly flags, computed with h5py 3 (`np.array(f['X']).T.astype(np.float32)`).
#[test]
fn odds_smtp_v73_every_value_matches_h5py() {
    use sha2::{Digest, Sha256};
    let ds = data::load(fixture("odds/smtp.mat"), &opts()).unwrap().train;
    let x: Vec<u8> = ds.x().iter().flat_map(|v| v.to_le_bytes()).collect();
    let flags: Vec<u8> = ds.anomaly_flags().unwrap().iter().map(|&a| a as u8).collect();
    let hex = |b: &[u8]| format!("{:x}", Sha256::digest(b));
    assert_eq!(
        hex(&x),
        "6ebbe470d907cff1b98cca048525c581af5597b2ff846bfaa91f5a8b40910f93"
    );
    assert_eq!(
        hex(&flags),
        "bdfde47362c46df280865039721b273217992df34be415e2838335920fdbfbe1"
    );
}

/// Seeded mutations of the v7.3 file (bytes changed in the HDF5 metadata and anywhere else):
/// the pure-Rust reader returns a dataset or an error naming the file, never panics.
#[test]
fn mat_v73_mutations_never_panic() {
    let src = std::fs::read(fixture("odds/smtp.mat")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mutant.mat");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut ok, mut err) = (0, 0);
    for round in 0..300 {
        let mut bytes = src.clone();
        let flips = 1 + (next() % 8) as usize;
        for _ in 0..flips {
            // three in four mutations hit the first 8 KiB (superblock, object headers, B-trees)
            let span = if next() % 4 == 0 { bytes.len() } else { 8192 };
            let at = 512 + (next() as usize) % (span - 512);
            bytes[at] = next() as u8;
        }
        std::fs::write(&p, &bytes).unwrap();
        let r = std::panic::catch_unwind(|| data::mat::load(&p));
        match r {
            Ok(Ok(_)) => ok += 1,
            Ok(Err(e)) => {
                assert!(e.to_string().contains("mutant.mat"), "round {round}: {e}");
                err += 1;
            }
            Err(_) => panic!("round {round}: the v7.3 reader panicked"),
        }
    }
    assert!(
        err > 30,
        "mutations should break many files ({ok} loaded, {err} errors)"
    );
}

#[test]
fn mat_corrupt_inputs() {
    for name in ["wbc.mat", "breastw.mat", "smtp.mat"] {
        let src = fixture(&format!("odds/{name}"));
        let len = std::fs::metadata(&src).unwrap().len() as usize;
        for keep in [0, 50, 127, 128, 136, 600, len / 2, len - 9, len - 1] {
            let (_d, p) = truncated_copy(&src, keep);
            err_names_file(data::mat::load(&p), &p);
        }
    }
    // flip bytes inside the compressed X element of a v5 file
    let mut bytes = std::fs::read(fixture("odds/wbc.mat")).unwrap();
    for b in &mut bytes[2000..2040] {
        *b ^= 0x5a;
    }
    let (_d, p) = with_bytes("flipped.mat", &bytes);
    err_names_file(data::mat::load(&p), &p);
    // garbage with and without a MATLAB header
    let (_d, p) = with_bytes("garbage.mat", &garbage(4000));
    let e = err_names_file(data::mat::load(&p), &p);
    assert!(e.contains("endian indicator"), "{e}");
    let mut fake = std::fs::read(fixture("odds/wbc.mat")).unwrap()[..128].to_vec();
    fake.extend_from_slice(&garbage(4000));
    let (_d, p) = with_bytes("fake.mat", &fake);
    err_names_file(data::mat::load(&p), &p);
    // v7.3 header followed by garbage instead of HDF5
    let mut fake = std::fs::read(fixture("odds/smtp.mat")).unwrap()[..512].to_vec();
    fake.extend_from_slice(&garbage(4000));
    let (_d, p) = with_bytes("fake73.mat", &fake);
    let e = err_names_file(data::mat::load(&p), &p);
    assert!(e.contains("7.3"), "{e}");
}

#[test]
fn every_odds_file_loads() {
    let dir = Path::new("/work/shared/data/odds");
    if !dir.is_dir() {
        println!("skipped: {} absent", dir.display());
        return;
    }
    // (file, rows, dims, outliers) from the data README, checked with scipy / h5py
    let expected = [
        ("annthyroid.mat", 7200, 6, 534),
        ("arrhythmia.mat", 452, 274, 66),
        ("breastw.mat", 683, 9, 239),
        ("cardio.mat", 1831, 21, 176),
        ("glass.mat", 214, 9, 9),
        ("ionosphere.mat", 351, 33, 126),
        ("letter.mat", 1600, 32, 100),
        ("lympho.mat", 148, 18, 6),
        ("mammography.mat", 11183, 6, 260),
        ("mnist.mat", 7603, 100, 700),
        ("musk.mat", 3062, 166, 97),
        ("optdigits.mat", 5216, 64, 150),
        ("pendigits.mat", 6870, 16, 156),
        ("pima.mat", 768, 8, 268),
        ("satellite.mat", 6435, 36, 2036),
        ("satimage-2.mat", 5803, 36, 71),
        ("shuttle.mat", 49097, 9, 3511),
        ("smtp.mat", 95156, 3, 30),
        ("thyroid.mat", 3772, 6, 93),
        ("vertebral.mat", 240, 6, 30),
        ("vowels.mat", 1456, 12, 50),
        ("wbc.mat", 378, 30, 21),
    ];
    for (name, n, d, a) in expected {
        let ds = data::mat::load(&dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((ds.n(), ds.dim(), anomalies(&ds)), (n, d, a), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// PNG folders (COIL-20)

#[test]
fn coil20_small_order_classes_pixels() {
    let dir = fixture("coil20-small");
    let ds = data::load(&dir, &opts()).unwrap().train;
    assert_eq!(ds.n(), 12);
    assert_eq!(ds.layout(), Layout::Images { c: 1, h: 128, w: 128 });
    let Labels::Classes { ids, names } = ds.labels() else {
        panic!("no classes")
    };
    assert_eq!(names, &["obj1", "obj2", "obj10"]);
    assert_eq!(ids, &[0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    // order: obj1 poses 0, 1, 2, 10, then obj2, then obj10
    let px = |i: usize, r: usize, c: usize| ds.row(i)[r * 128 + c] * 255.0;
    let row = |i: usize| (60..66).map(|c| px(i, 64, c)).collect::<Vec<_>>();
    assert_close(&row(0), &[196., 199., 205., 206., 211., 215.], "obj1__0");
    assert_close(&row(6), &[187., 183., 182., 184., 176., 170.], "obj2__2");
    assert_close(&row(11), &[129., 132., 131., 127., 132., 129.], "obj10__10");
    assert_close(&[px(0, 0, 0)], &[4.0], "obj1__0 corner");
    let sum: f64 = ds.row(0).iter().map(|&v| (v * 255.0).round() as f64).sum();
    assert_eq!(sum, 1_474_539.0);
}

#[test]
fn png_resize_and_size_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["obj1__0.png", "obj1__1.png", "obj2__0.png"] {
        std::fs::copy(fixture(&format!("coil20-small/{name}")), tmp.path().join(name)).unwrap();
    }
    let small = image::open(fixture("coil20-small/obj2__1.png")).unwrap().resize_exact(
        64,
        48,
        image::imageops::FilterType::Nearest,
    );
    small.save(tmp.path().join("obj2__1.png")).unwrap();
    let e = err_names_file(
        data::images::load_image_dir(tmp.path(), &opts()),
        &tmp.path().join("obj2__1.png"),
    );
    assert!(e.contains("48x64") && e.contains("resize"), "{e}");

    let resized = LoadOptions {
        resize: Some((32, 40)),
        ..opts()
    };
    let ds = data::images::load_image_dir(tmp.path(), &resized).unwrap();
    assert_eq!(ds.layout(), Layout::Images { c: 1, h: 32, w: 40 });
    assert_eq!(ds.n(), 4);
    // downscaling keeps the mean brightness (obj1__0: 1474539 / 255 / 128^2)
    let mean = ds.row(0).iter().map(|&v| v as f64).sum::<f64>() / (32.0 * 40.0);
    assert!((mean - 1_474_539.0 / 255.0 / 16384.0).abs() < 0.01, "mean {mean}");
    assert!(ds.x().iter().all(|v| (0.0..=1.0).contains(v)));

    let zero = LoadOptions {
        resize: Some((0, 10)),
        ..opts()
    };
    assert!(matches!(
        data::images::load_image_dir(tmp.path(), &zero),
        Err(oddity::Error::InvalidConfig { .. })
    ));
}

#[test]
fn png_rgb_channels_first_and_channel_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    // 2x1 RGB: a red pixel then a blue one
    let rgb = image::RgbImage::from_raw(2, 1, vec![255, 0, 0, 0, 0, 51]).unwrap();
    rgb.save(tmp.path().join("a.png")).unwrap();
    rgb.save(tmp.path().join("b.png")).unwrap();
    let ds = data::images::load_image_dir(tmp.path(), &opts()).unwrap();
    assert_eq!(ds.layout(), Layout::Images { c: 3, h: 1, w: 2 });
    assert_eq!(ds.row(0), &[1.0, 0.0, 0.0, 0.0, 0.0, 0.2]);
    assert_eq!(ds.labels(), &Labels::None);
    image::GrayImage::from_raw(2, 1, vec![0, 255])
        .unwrap()
        .save(tmp.path().join("c.png"))
        .unwrap();
    let e = err_names_file(
        data::images::load_image_dir(tmp.path(), &opts()),
        &tmp.path().join("c.png"),
    );
    assert!(e.contains("1 channel"), "{e}");
}

#[test]
fn png_class_subfolders() {
    let tmp = tempfile::tempdir().unwrap();
    for (class, files) in [("cat", ["img10.png", "img2.png"]), ("ant", ["x.png", "y.png"])] {
        std::fs::create_dir(tmp.path().join(class)).unwrap();
        for (k, f) in files.iter().enumerate() {
            image::GrayImage::from_raw(1, 1, vec![k as u8 * 10 + if class == "cat" { 100 } else { 0 }])
                .unwrap()
                .save(tmp.path().join(class).join(f))
                .unwrap();
        }
    }
    let ds = data::images::load_image_dir(tmp.path(), &opts()).unwrap();
    assert_eq!(
        ds.labels(),
        &Labels::Classes {
            ids: vec![0, 0, 1, 1],
            names: vec!["ant".into(), "cat".into()]
        }
    );
    // ant/x, ant/y, cat/img2 (written second: 110), cat/img10 (100)
    let v: Vec<f32> = ds.x().iter().map(|v| (v * 255.0).round()).collect();
    assert_eq!(v, [0.0, 10.0, 110.0, 100.0]);
}

#[test]
fn png_corrupt_inputs() {
    let src = fixture("coil20-small/obj1__0.png");
    let len = std::fs::metadata(&src).unwrap().len() as usize;
    for keep in [0, 8, 33, 100, len / 2, len - 12] {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::copy(fixture("coil20-small/obj1__1.png"), tmp.path().join("obj1__1.png")).unwrap();
        let (_d, cut) = truncated_copy(&src, keep);
        let dst = tmp.path().join("obj1__0.png");
        std::fs::copy(&cut, &dst).unwrap();
        err_names_file(data::images::load_image_dir(tmp.path(), &opts()), &dst);
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("obj3__0.png"), garbage(3000)).unwrap();
    err_names_file(
        data::images::load_image_dir(tmp.path(), &opts()),
        &tmp.path().join("obj3__0.png"),
    );
    // a file that breaks the obj<K>__<pose> naming of the others
    std::fs::remove_file(tmp.path().join("obj3__0.png")).unwrap();
    std::fs::copy(&src, tmp.path().join("obj3__0.png")).unwrap();
    std::fs::copy(&src, tmp.path().join("other.png")).unwrap();
    err_names_file(
        data::images::load_image_dir(tmp.path(), &opts()),
        &tmp.path().join("other.png"),
    );
    let empty = tempfile::tempdir().unwrap();
    assert!(data::images::load_image_dir(empty.path(), &opts()).is_err());
}
