//! MNIST / Fashion-MNIST: a directory of IDX files (big-endian header, unsigned bytes), raw or gzip-compressed.
//!
//! Images: magic 2051, count, rows, cols, then `count * rows * cols` bytes. Labels: magic 2049,
//! count, then one byte per label. See <http://yann.lecun.com/exdb/mnist/>.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::data::{Dataset, Labels, Layout, Loaded};
use crate::error::{Error, Result};

const IMAGES_MAGIC: u32 = 2051;
const LABELS_MAGIC: u32 = 2049;

/// Loads `train-*` and `t10k-*` images and labels from `dir` as a train/test pair of
/// `[n, 1, rows, cols]` images in [0, 1] with digit classes.
pub fn load_dir(dir: &Path) -> Result<Loaded> {
    let (train, test) = rayon::join(|| read_split(dir, "train"), || read_split(dir, "t10k"));
    let (train, test) = (train?, test?);
    if (train.rows, train.cols) != (test.rows, test.cols) {
        return Err(Error::format(
            &test.images_path,
            format!(
                "test images are {}x{} but training images are {}x{}",
                test.rows, test.cols, train.rows, train.cols
            ),
        ));
    }
    let max = train.labels.iter().chain(&test.labels).copied().max().unwrap_or(0);
    let names: Vec<String> = (0..=max).map(|v| v.to_string()).collect();
    let name = dir.display().to_string();
    Ok(Loaded {
        train: train.into_dataset(format!("{name} (train)"), &names)?,
        test: Some(test.into_dataset(format!("{name} (test)"), &names)?),
    })
}

/// Reads an IDX image file (gzip detected by its magic bytes): `(count, rows, cols, pixels)`,
/// pixels row-major, one byte each.
pub fn read_images(path: &Path) -> Result<(usize, usize, usize, Vec<u8>)> {
    let mut bytes = read_maybe_gz(path, 16, |head| {
        let h = parse_header(path, head, IMAGES_MAGIC, 4)?;
        let (n, rows, cols) = (h[0], h[1], h[2]);
        let Some(size) = n.checked_mul(rows).and_then(|v| v.checked_mul(cols)) else {
            return Err(Error::format(
                path,
                format!("header sizes overflow: {n} images of {rows}x{cols}"),
            ));
        };
        // The pixels as bytes, then as f32 in the dataset.
        crate::budget::check(
            None,
            || format!("{}: {n} images of {rows}x{cols}", path.display()),
            crate::budget::bytes(&[n, rows, cols], 5),
        )?;
        Ok(size)
    })?;
    let header = parse_header(path, &bytes, IMAGES_MAGIC, 4)?;
    let (n, rows, cols) = (header[0], header[1], header[2]);
    if rows == 0 || cols == 0 {
        return Err(Error::format(path, format!("images of {rows}x{cols} pixels")));
    }
    let expected = n.checked_mul(rows).and_then(|v| v.checked_mul(cols));
    check_payload(path, &bytes, 16, expected, &format!("{n} images of {rows}x{cols}"))?;
    bytes.drain(..16);
    Ok((n, rows, cols, bytes))
}

/// Reads an IDX label file (gzip detected by its magic bytes): one byte per label.
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = read_maybe_gz(path, 8, |head| {
        let n = parse_header(path, head, LABELS_MAGIC, 2)?[0];
        crate::budget::check(
            None,
            || format!("{}: {n} labels", path.display()),
            crate::budget::bytes(&[n], 5),
        )?;
        Ok(n)
    })?;
    let n = parse_header(path, &bytes, LABELS_MAGIC, 2)?[0];
    check_payload(path, &bytes, 8, Some(n), &format!("{n} labels"))?;
    bytes.drain(..8);
    Ok(bytes)
}

/// One split (train or test) as read from disk.
struct Split {
    images_path: PathBuf,
    rows: usize,
    cols: usize,
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

impl Split {
    fn into_dataset(self, name: String, names: &[String]) -> Result<Dataset> {
        let x = self.pixels.iter().map(|&b| f32::from(b) / 255.0).collect();
        let layout = Layout::Images {
            c: 1,
            h: self.rows,
            w: self.cols,
        };
        let ids = self.labels.iter().map(|&l| u32::from(l)).collect();
        Dataset::new(
            name,
            layout,
            x,
            Labels::Classes {
                ids,
                names: names.to_vec(),
            },
        )
    }
}

fn read_split(dir: &Path, split: &str) -> Result<Split> {
    let images_path = find(dir, &format!("{split}-images"), "idx3-ubyte")?;
    let labels_path = find(dir, &format!("{split}-labels"), "idx1-ubyte")?;
    let (n, rows, cols, pixels) = read_images(&images_path)?;
    let labels = read_labels(&labels_path)?;
    if labels.len() != n {
        return Err(Error::format(
            &labels_path,
            format!("{} labels but {} holds {n} images", labels.len(), images_path.display()),
        ));
    }
    Ok(Split {
        images_path,
        rows,
        cols,
        pixels,
        labels,
    })
}

/// Finds `<stem>-<kind>` or `<stem>.<kind>`, raw or `.gz`, in `dir`.
fn find(dir: &Path, stem: &str, kind: &str) -> Result<PathBuf> {
    let candidates = [
        format!("{stem}-{kind}"),
        format!("{stem}-{kind}.gz"),
        format!("{stem}.{kind}"),
        format!("{stem}.{kind}.gz"),
    ];
    candidates
        .iter()
        .map(|c| dir.join(c))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::format(
                dir,
                format!("missing IDX file `{stem}-{kind}` (or `{stem}-{kind}.gz`, `{stem}.{kind}[.gz]`)"),
            )
        })
}

/// Reads a file, inflating it if it starts with the gzip magic bytes `1f 8b`. `payload` reads the
/// first `header_len` bytes (fewer in a short file), checks what they announce against the memory
/// budget and returns the payload size; reading stops one byte past it, so a lying header or a
/// gzip bomb costs no more memory than the data it claims (the size checks come after).
fn read_maybe_gz(path: &Path, header_len: usize, payload: impl Fn(&[u8]) -> Result<usize>) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        payload(&raw)?;
        return Ok(raw);
    }
    let gz_err = |e: std::io::Error| Error::format(path, format!("corrupt or truncated gzip data: {e}"));
    let mut reader = flate2::read::MultiGzDecoder::new(raw.as_slice());
    let mut out = Vec::new();
    (&mut reader)
        .take(header_len as u64)
        .read_to_end(&mut out)
        .map_err(gz_err)?;
    let more = payload(&out)?;
    reader
        .take(more.saturating_add(1) as u64)
        .read_to_end(&mut out)
        .map_err(gz_err)?;
    Ok(out)
}

/// Checks the magic number and returns the `fields - 1` big-endian u32 fields after it.
fn parse_header(path: &Path, bytes: &[u8], magic: u32, fields: usize) -> Result<Vec<usize>> {
    let what = if magic == IMAGES_MAGIC { "image" } else { "label" };
    let header_len = 4 * fields;
    let word = |i: usize| {
        bytes
            .get(4 * i..4 * i + 4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
    };
    let found = word(0).ok_or_else(|| Error::format(path, format!("empty or too short for an IDX {what} file")))?;
    if found != magic as usize {
        let hint = match found as u32 {
            IMAGES_MAGIC => " (this is an image file)",
            LABELS_MAGIC => " (this is a label file)",
            _ => "",
        };
        return Err(Error::format(
            path,
            format!("not an IDX {what} file: magic number {found}{hint}, expected {magic}"),
        ));
    }
    (1..fields).map(word).collect::<Option<Vec<_>>>().ok_or_else(|| {
        Error::format(
            path,
            format!(
                "{} bytes is too short for an IDX {what} header ({header_len} bytes)",
                bytes.len()
            ),
        )
    })
}

/// Checks that the payload after the header holds exactly `expected` bytes.
fn check_payload(path: &Path, bytes: &[u8], header_len: usize, expected: Option<usize>, what: &str) -> Result<()> {
    let have = bytes.len() - header_len;
    match expected {
        Some(0) => Err(Error::format(path, "holds no items (count 0)")),
        Some(e) if e == have => Ok(()),
        Some(e) if have < e => Err(Error::format(
            path,
            format!("truncated: header says {what} = {e} bytes, file holds {have}"),
        )),
        Some(e) => Err(Error::format(
            path,
            format!("header says {what} = {e} bytes, file holds {have} (extra data)"),
        )),
        None => Err(Error::format(path, format!("header sizes overflow: {what}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn idx_images(n: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [IMAGES_MAGIC, n, rows, cols] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        v.extend_from_slice(pixels);
        v
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut v = LABELS_MAGIC.to_be_bytes().to_vec();
        v.extend_from_slice(&(labels.len() as u32).to_be_bytes());
        v.extend_from_slice(labels);
        v
    }

    #[test]
    fn raw_files_with_dot_spelling_load() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "train-images.idx3-ubyte",
            &idx_images(2, 1, 2, &[0, 255, 51, 102]),
        );
        write(dir.path(), "train-labels.idx1-ubyte", &idx_labels(&[3, 1]));
        write(dir.path(), "t10k-images-idx3-ubyte", &idx_images(1, 1, 2, &[255, 0]));
        write(dir.path(), "t10k-labels-idx1-ubyte", &idx_labels(&[0]));
        let l = load_dir(dir.path()).unwrap();
        assert_eq!(l.train.x(), &[0.0, 1.0, 0.2, 0.4]);
        assert_eq!(l.train.layout(), Layout::Images { c: 1, h: 1, w: 2 });
        let names: Vec<String> = ["0", "1", "2", "3"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            l.train.labels(),
            &Labels::Classes {
                ids: vec![3, 1],
                names: names.clone()
            }
        );
        assert_eq!(l.test.unwrap().labels(), &Labels::Classes { ids: vec![0], names });
    }

    #[test]
    fn image_label_count_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "train-images-idx3-ubyte", &idx_images(2, 1, 1, &[0, 1]));
        write(dir.path(), "train-labels-idx1-ubyte", &idx_labels(&[3]));
        write(dir.path(), "t10k-images-idx3-ubyte", &idx_images(1, 1, 1, &[0]));
        write(dir.path(), "t10k-labels-idx1-ubyte", &idx_labels(&[0]));
        let e = load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("train-labels-idx1-ubyte") && e.contains("1 labels") && e.contains("2 images"),
            "{e}"
        );
    }

    #[test]
    fn train_test_size_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "train-images-idx3-ubyte", &idx_images(1, 1, 2, &[0, 1]));
        write(dir.path(), "train-labels-idx1-ubyte", &idx_labels(&[3]));
        write(dir.path(), "t10k-images-idx3-ubyte", &idx_images(1, 2, 1, &[0, 1]));
        write(dir.path(), "t10k-labels-idx1-ubyte", &idx_labels(&[0]));
        let e = load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("t10k-images-idx3-ubyte") && e.contains("2x1") && e.contains("1x2"),
            "{e}"
        );
    }

    #[test]
    fn header_rules() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // payload shorter / longer than the header's count
        let p = write(d, "short", &idx_images(2, 2, 2, &[0; 7]));
        let e = read_images(&p).unwrap_err().to_string();
        assert!(
            e.contains("short") && e.contains("truncated") && e.contains("8 bytes"),
            "{e}"
        );
        let p = write(d, "long", &idx_images(1, 2, 2, &[0; 5]));
        assert!(read_images(&p).unwrap_err().to_string().contains("extra data"));
        // label file given as images, and the other way round
        let p = write(d, "labels", &idx_labels(&[1, 2]));
        let e = read_images(&p).unwrap_err().to_string();
        assert!(e.contains("magic number 2049") && e.contains("label file"), "{e}");
        let p = write(d, "images", &idx_images(1, 1, 1, &[0]));
        assert!(read_labels(&p).unwrap_err().to_string().contains("magic number 2051"));
        // header cut short, zero count, zero-size images, overflowing sizes
        let p = write(d, "hdr", &IMAGES_MAGIC.to_be_bytes());
        assert!(read_images(&p).unwrap_err().to_string().contains("too short"));
        let p = write(d, "zero", &idx_images(0, 28, 28, &[]));
        assert!(read_images(&p).unwrap_err().to_string().contains("no items"));
        let p = write(d, "empty-img", &idx_images(3, 0, 28, &[]));
        assert!(read_images(&p).unwrap_err().to_string().contains("0x28"));
        let p = write(d, "ovf", &idx_images(u32::MAX, u32::MAX, u32::MAX, &[]));
        assert!(read_images(&p).unwrap_err().to_string().contains("overflow"));
        // a count no memory holds: refused before the payload is read, gzip or not
        for gz in [false, true] {
            let raw = idx_images(u32::MAX, 1000, 1000, &[0; 64]);
            let bytes = if gz {
                use std::io::Write;
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&raw).unwrap();
                e.finish().unwrap()
            } else {
                raw
            };
            let p = write(d, "huge", &bytes);
            let e = read_images(&p).unwrap_err();
            assert!(matches!(e, Error::TooLarge { key: None, .. }), "{e}");
            assert!(e.to_string().contains("4294967295 images of 1000x1000"), "{e}");
        }
    }

    #[test]
    fn missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "train-images-idx3-ubyte", &idx_images(1, 1, 1, &[0]));
        write(dir.path(), "train-labels-idx1-ubyte", &idx_labels(&[0]));
        write(dir.path(), "t10k-images-idx3-ubyte", &idx_images(1, 1, 1, &[0]));
        let e = load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("missing IDX file `t10k-labels-idx1-ubyte`"), "{e}");
    }
}
