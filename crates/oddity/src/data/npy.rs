//! NumPy `.npy` feature arrays and ADBench-style `.npz` archives (`X` features, `y` 0/1 anomaly flags).
//! `X` is `[n, d]` (tabular), `[n, h, w]` (one-channel images) or `[n, c, h, w]` (images), values
//! as stored (the image models expect [0, 1]), as the Python package passes arrays.
//!
//! Headers are parsed by `npyz`; archives are opened with `zip`. Numeric dtypes (bool, signed and
//! unsigned 8-64 bit integers, f32, f64), either byte order and C or Fortran order are accepted.

use std::io::Read;
use std::path::Path;

use npyz::{DType, NpyFile, NpyHeader, Order, TypeChar};

use crate::data::{Dataset, Labels, Layout};
use crate::error::{Error, Result};

/// Loads an `.npz` archive holding `X` (`[n, d]`, `[n, h, w]` or `[n, c, h, w]`) and optionally
/// `y` (n 0/1 anomaly flags).
pub fn load_npz(path: &Path) -> Result<Dataset> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| {
        Error::format(
            path,
            format!("not a valid .npz (zip) archive, corrupt or truncated: {e}"),
        )
    })?;
    let x = member(&mut zip, path, "X")?.ok_or_else(|| {
        let names: Vec<String> = zip
            .file_names()
            .filter_map(|n| n.ok())
            .map(|n| format!("`{}`", n.trim_end_matches(".npy")))
            .collect();
        Error::format(
            path,
            format!("no array `X` in the archive (arrays: {})", names.join(", ")),
        )
    })?;
    let x = Array::parse(path, "X", &x)?;
    let (n, layout) = x.samples(path, "X")?;
    let labels = match member(&mut zip, path, "y")? {
        None => Labels::None,
        Some(bytes) => {
            let y = Array::parse(path, "y", &bytes)?;
            let flags = y.flags(path, "y")?;
            if flags.len() != n {
                return Err(Error::format(
                    path,
                    format!("`X` has {n} rows but `y` has {} labels", flags.len()),
                ));
            }
            Labels::Anomaly(flags)
        }
    };
    Dataset::new(path.display().to_string(), layout, x.row_major_f32(path, "X")?, labels)
}

/// Loads a `.npy` array: `[n, d]` features, `[n, h, w]` or `[n, c, h, w]` images; no labels.
pub fn load_npy(path: &Path) -> Result<Dataset> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let array = Array::parse(path, "", &bytes)?;
    let (_, layout) = array.samples(path, "")?;
    let x = array.row_major_f32(path, "")?;
    Dataset::new(path.display().to_string(), layout, x, Labels::None)
}

/// The bytes of archive member `name` (`name.npy` or `name`), if present.
fn member<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    path: &Path,
    name: &str,
) -> Result<Option<Vec<u8>>> {
    for candidate in [format!("{name}.npy"), name.to_string()] {
        let mut entry = match zip.by_name(&candidate) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => continue,
            Err(e) => {
                return Err(Error::format(
                    path,
                    format!("cannot open `{candidate}` in the archive: {e}"),
                ));
            }
        };
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| Error::format(path, format!("cannot read `{candidate}` from the archive: {e}")))?;
        return Ok(Some(bytes));
    }
    Ok(None)
}

/// A numeric array converted to f64, in file order.
struct Array {
    shape: Vec<usize>,
    order: Order,
    values: Vec<f64>,
}

impl Array {
    /// Parses one `.npy` image; `name` is the array's name inside an archive ("" for a plain file).
    fn parse(path: &Path, name: &str, bytes: &[u8]) -> Result<Array> {
        let fail = |reason: String| Error::format(path, with_name(name, reason));
        let data_start = precheck(bytes).map_err(fail)?;
        let header = NpyHeader::from_reader(bytes).map_err(|e| fail(format!("bad .npy header: {e}")))?;
        let shape: Vec<usize> = header.shape().iter().map(|&s| s as usize).collect();
        let count = header.len() as usize;
        let DType::Plain(ty) = header.dtype() else {
            return Err(fail(format!(
                "structured dtype {} is not supported",
                header.dtype().descr()
            )));
        };
        let item = ty.num_bytes().unwrap_or(0);
        let data = &bytes[data_start..];
        let needed = count
            .checked_mul(item)
            .ok_or_else(|| fail("array size overflows".into()))?;
        if data.len() < needed {
            return Err(fail(format!(
                "truncated: shape {shape:?} of {ty} needs {needed} data bytes, found {}",
                data.len()
            )));
        }
        let order = header.order();
        let npy = NpyFile::with_header(header, data);
        let values = match (ty.type_char(), item) {
            (TypeChar::Float, 8) => read::<f64>(npy, |v| v),
            (TypeChar::Float, 4) => read::<f32>(npy, f64::from),
            (TypeChar::Int, 1) => read::<i8>(npy, f64::from),
            (TypeChar::Int, 2) => read::<i16>(npy, f64::from),
            (TypeChar::Int, 4) => read::<i32>(npy, f64::from),
            (TypeChar::Int, 8) => read::<i64>(npy, |v| v as f64),
            (TypeChar::Uint, 1) => read::<u8>(npy, f64::from),
            (TypeChar::Uint, 2) => read::<u16>(npy, f64::from),
            (TypeChar::Uint, 4) => read::<u32>(npy, f64::from),
            (TypeChar::Uint, 8) => read::<u64>(npy, |v| v as f64),
            (TypeChar::Bool, 1) => read::<bool>(npy, |v| f64::from(u8::from(v))),
            _ => {
                return Err(fail(format!(
                    "unsupported dtype `{ty}` (expected a bool, integer or float type)"
                )));
            }
        }
        .map_err(|e| fail(format!("bad data: {e}")))?;
        Ok(Array { shape, order, values })
    }

    /// Sample count and layout: `[n, d]` tabular, `[n, h, w]` one-channel images, `[n, c, h, w]` images.
    fn samples(&self, path: &Path, name: &str) -> Result<(usize, Layout)> {
        match self.shape[..] {
            [n, d] => Ok((n, Layout::Tabular { d })),
            [n, h, w] => Ok((n, Layout::Images { c: 1, h, w })),
            [n, c, h, w] => Ok((n, Layout::Images { c, h, w })),
            _ => Err(Error::format(
                path,
                with_name(
                    name,
                    format!(
                        "expected a 2-D array (samples × features), 3-D [n, h, w] or 4-D [n, c, h, w] images, \
                         found {}-D shape {:?}",
                        self.shape.len(),
                        self.shape
                    ),
                ),
            )),
        }
    }

    /// 0/1 anomaly flags from a vector (`n`, `n × 1` or `1 × n`).
    fn flags(&self, path: &Path, name: &str) -> Result<Vec<bool>> {
        let vector = match self.shape[..] {
            [_] => true,
            [r, c] => r == 1 || c == 1,
            _ => false,
        };
        if !vector {
            return Err(Error::format(
                path,
                with_name(
                    name,
                    format!("expected a vector of labels, found shape {:?}", self.shape),
                ),
            ));
        }
        flags_from(&self.values).map_err(|(row, v)| {
            Error::format(
                path,
                with_name(name, format!("labels must be 0 or 1, found {v} at row {row}")),
            )
        })
    }

    /// The values in row-major (C) order as f32, whatever the file's order; a finite value that
    /// f32 cannot hold is an error naming its row and column (from 1) in `name`.
    fn row_major_f32(&self, path: &Path, name: &str) -> Result<Vec<f32>> {
        let dim: usize = self.shape.iter().skip(1).product();
        let narrow = |k: usize, v: f64| {
            crate::data::narrow_f64(v).map_err(|reason| {
                Error::format(
                    path,
                    with_name(name, format!("{}: {reason}", crate::data::row_col(k, dim))),
                )
            })
        };
        match self.order {
            Order::C => self.values.iter().enumerate().map(|(k, &v)| narrow(k, v)).collect(),
            Order::Fortran => {
                // Fortran strides: the first axis varies fastest.
                let strides: Vec<usize> = self
                    .shape
                    .iter()
                    .scan(1usize, |acc, &s| {
                        let stride = *acc;
                        *acc *= s;
                        Some(stride)
                    })
                    .collect();
                let mut index = vec![0usize; self.shape.len()];
                let mut out = Vec::with_capacity(self.values.len());
                for k in 0..self.values.len() {
                    let at: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
                    out.push(narrow(k, self.values[at])?);
                    // next C-order index: the last axis varies fastest
                    for axis in (0..index.len()).rev() {
                        index[axis] += 1;
                        if index[axis] < self.shape[axis] {
                            break;
                        }
                        index[axis] = 0;
                    }
                }
                Ok(out)
            }
        }
    }
}

/// Turns 0/1 values into flags; `Err((row, value))` for the first other value, its row counted
/// from 1 as in every message.
pub(crate) fn flags_from(values: &[f64]) -> std::result::Result<Vec<bool>, (usize, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v == 0.0 {
                Ok(false)
            } else if v == 1.0 {
                Ok(true)
            } else {
                Err((i + 1, v))
            }
        })
        .collect()
}

fn with_name(name: &str, reason: String) -> String {
    if name.is_empty() {
        reason
    } else {
        format!("array `{name}`: {reason}")
    }
}

fn read<T: npyz::Deserialize>(npy: NpyFile<&[u8]>, to_f64: impl Fn(T) -> f64) -> std::io::Result<Vec<f64>> {
    npy.data::<T>()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?
        .map(|v| v.map(&to_f64))
        .collect()
}

/// Longest header accepted, as in numpy's own reader (`max_header_size`).
const MAX_HEADER: usize = 10_000;

/// Checks what `npyz` trusts without checking (header length, nesting, shape product) so that a
/// corrupt header cannot make it overflow, over-allocate or recurse deeply; returns the data offset.
fn precheck(bytes: &[u8]) -> std::result::Result<usize, String> {
    if bytes.len() < 10 || !bytes.starts_with(b"\x93NUMPY") {
        return Err("not a .npy array (missing \\x93NUMPY magic)".into());
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let text = start
        .checked_add(len)
        .and_then(|end| bytes.get(start..end))
        .ok_or("header is truncated")?;
    if len > MAX_HEADER {
        return Err(format!("header of {len} bytes is longer than {MAX_HEADER} (corrupt?)"));
    }
    let text = String::from_utf8_lossy(text);
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > 16 {
            return Err("header nests brackets too deeply (corrupt?)".into());
        }
    }
    // `shape` is the last key numpy writes; a structured dtype may have a field called "shape" before it.
    let shape = ["'shape'", "\"shape\""]
        .iter()
        .filter_map(|key| text.rfind(key))
        .max()
        .and_then(|at| {
            let rest = &text[at..];
            let open = rest.find('(')? + 1;
            let close = open + rest[open..].find(')')?;
            Some(&rest[open..close])
        })
        .ok_or("header has no shape tuple")?;
    let mut total: u64 = 1;
    for dim in shape
        .split(',')
        .map(|s| s.trim().trim_end_matches('L'))
        .filter(|s| !s.is_empty())
    {
        let dim: u64 = dim.parse().map_err(|_| format!("bad dimension `{dim}` in the shape"))?;
        total = total
            .checked_mul(dim.max(1))
            .filter(|&t| t <= isize::MAX as u64)
            .ok_or("shape is too large")?;
    }
    Ok(start + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.npy` file: `descr` like `<f8`, shape, raw data bytes.
    fn npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
        let dims: Vec<String> = shape.iter().map(|s| s.to_string()).collect();
        let shape = if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        let fortran = if fortran { "True" } else { "False" };
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(header.len() as u16).to_le_bytes());
        v.extend_from_slice(header.as_bytes());
        v.extend_from_slice(data);
        v
    }

    fn npz(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in members {
            zw.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            std::io::Write::write_all(&mut zw, bytes).unwrap();
        }
        zw.finish().unwrap().into_inner()
    }

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn load(bytes: &[u8]) -> Result<Dataset> {
        let dir = tempfile::tempdir().unwrap();
        load_npy(&write(&dir, "a.npy", bytes))
    }

    fn le<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
        v.iter().flat_map(|&x| f(x)).collect()
    }

    #[test]
    fn every_dtype_and_byte_order() {
        // the 2 x 3 matrix [[1, 2, 3], [4, 5, 0]] in C order
        let want = [1.0, 2.0, 3.0, 4.0, 5.0, 0.0];
        let ints = [1i64, 2, 3, 4, 5, 0];
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("<f8", le(&want, f64::to_le_bytes)),
            (">f8", le(&want, f64::to_be_bytes)),
            ("<f4", le(&want.map(|v| v as f32), f32::to_le_bytes)),
            (">f4", le(&want.map(|v| v as f32), f32::to_be_bytes)),
            ("|u1", ints.map(|v| v as u8).to_vec()),
            ("|i1", le(&ints.map(|v| v as i8), i8::to_le_bytes)),
            ("<i2", le(&ints.map(|v| v as i16), i16::to_le_bytes)),
            (">i2", le(&ints.map(|v| v as i16), i16::to_be_bytes)),
            ("<u2", le(&ints.map(|v| v as u16), u16::to_le_bytes)),
            (">u2", le(&ints.map(|v| v as u16), u16::to_be_bytes)),
            ("<i4", le(&ints.map(|v| v as i32), i32::to_le_bytes)),
            (">i4", le(&ints.map(|v| v as i32), i32::to_be_bytes)),
            ("<u4", le(&ints.map(|v| v as u32), u32::to_le_bytes)),
            (">u4", le(&ints.map(|v| v as u32), u32::to_be_bytes)),
            ("<i8", le(&ints, i64::to_le_bytes)),
            (">i8", le(&ints, i64::to_be_bytes)),
            ("<u8", le(&ints.map(|v| v as u64), u64::to_le_bytes)),
            (">u8", le(&ints.map(|v| v as u64), u64::to_be_bytes)),
        ];
        for (descr, data) in cases {
            let ds = load(&npy(descr, false, &[2, 3], &data)).unwrap_or_else(|e| panic!("{descr}: {e}"));
            assert_eq!(ds.n(), 2, "{descr}");
            assert_eq!(ds.x(), &want.map(|v| v as f32), "{descr}");
            assert_eq!(ds.labels(), &Labels::None);
        }
        let ds = load(&npy("|b1", false, &[2, 2], &[1, 0, 0, 1])).unwrap();
        assert_eq!(ds.x(), &[1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn fortran_order_is_transposed() {
        // column-major storage of [[1, 2, 3], [4, 5, 6]]
        let data = le(&[1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0], f64::to_le_bytes);
        let ds = load(&npy("<f8", true, &[2, 3], &data)).unwrap();
        assert_eq!(ds.x(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(ds.dim(), 3);
    }

    #[test]
    fn one_d_and_five_d_are_rejected() {
        let e = load(&npy("<f8", false, &[3], &[0; 24])).unwrap_err().to_string();
        assert!(e.contains("a.npy") && e.contains("1-D"), "{e}");
        let e = load(&npy("<f8", false, &[1, 1, 1, 1, 1], &[0; 8]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("5-D") && e.contains("[n, c, h, w]"), "{e}");
    }

    #[test]
    fn three_and_four_d_arrays_are_images() {
        // 2 one-channel 2 x 3 images: values 0..12 in C order
        let v: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let ds = load(&npy("<f4", false, &[2, 2, 3], &le(&v, f32::to_le_bytes))).unwrap();
        assert_eq!(ds.layout(), Layout::Images { c: 1, h: 2, w: 3 });
        assert_eq!((ds.n(), ds.x()), (2, &v[..]));
        // [n=2, c=3, h=1, w=2] stored in Fortran order: element (i, c, h, w) at i + 2c + 6h + 6w
        let c_order: Vec<f64> = (0..12).map(f64::from).collect();
        let mut fortran = vec![0.0f64; 12];
        for (k, &value) in c_order.iter().enumerate() {
            let (i, c, w) = (k / 6, (k / 2) % 3, k % 2);
            fortran[i + 2 * c + 6 * w] = value;
        }
        let ds = load(&npy("<f8", true, &[2, 3, 1, 2], &le(&fortran, f64::to_le_bytes))).unwrap();
        assert_eq!(ds.layout(), Layout::Images { c: 3, h: 1, w: 2 });
        assert_eq!(ds.x(), &c_order.iter().map(|&v| v as f32).collect::<Vec<_>>()[..]);
        // in an archive, with labels
        let dir = tempfile::tempdir().unwrap();
        let y = npy("|u1", false, &[2], &[0, 1]);
        let p = write(
            &dir,
            "img.npz",
            &npz(&[
                ("X.npy", npy("<f4", false, &[2, 2, 3], &le(&v, f32::to_le_bytes))),
                ("y.npy", y),
            ]),
        );
        let ds = load_npz(&p).unwrap();
        assert_eq!(ds.layout(), Layout::Images { c: 1, h: 2, w: 3 });
        assert_eq!(ds.anomaly_flags().unwrap(), &[false, true]);
    }

    #[test]
    fn unsupported_dtypes() {
        let e = load(&npy("<c16", false, &[1, 1], &[0; 16])).unwrap_err().to_string();
        assert!(e.contains("unsupported dtype"), "{e}");
        let e = load(&npy("|O", false, &[1, 1], &[0; 8])).unwrap_err().to_string();
        assert!(e.contains("a.npy"), "{e}");
        // invalid bool byte
        let e = load(&npy("|b1", false, &[1, 1], &[2])).unwrap_err().to_string();
        assert!(e.contains("bad data"), "{e}");
    }

    #[test]
    fn corrupt_headers_are_errors_not_panics() {
        let good = npy("<f8", false, &[2, 3], &[0; 48]);
        // huge shape that would overflow a u64 product
        let e = load(&npy("<f8", false, &[1 << 40, 1 << 40], &[0; 8]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("too large"), "{e}");
        // shape larger than the data
        let e = load(&npy("<f8", false, &[1000, 3], &[0; 48])).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        // header length pointing past the end of the file
        let mut bad = good.clone();
        bad[8] = 0xff;
        bad[9] = 0xff;
        assert!(load(&bad).unwrap_err().to_string().contains("header is truncated"));
        // garbage header text
        let mut bad = good.clone();
        bad[10..20].copy_from_slice(b"garbage!!!");
        assert!(load(&bad).unwrap_err().to_string().contains("a.npy"));
        // absurdly nested header text
        let mut bad = good.clone();
        bad[10..40].copy_from_slice(&[b'('; 30]);
        assert!(load(&bad).unwrap_err().to_string().contains("too deeply"));
        // unknown version
        let mut bad = good.clone();
        bad[6] = 9;
        assert!(load(&bad).unwrap_err().to_string().contains("version 9"));
        // every cut of a valid file
        for cut in 0..good.len() {
            let r = load(&good[..cut]);
            assert!(r.is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn npz_members_and_label_rules() {
        let dir = tempfile::tempdir().unwrap();
        let x = npy("<f4", false, &[3, 1], &le(&[0.5f32, 1.5, 2.5], f32::to_le_bytes));
        let y = |v: &[i64]| npy("<i8", false, &[v.len()], &le(v, i64::to_le_bytes));
        let ok = write(&dir, "ok.npz", &npz(&[("X.npy", x.clone()), ("y.npy", y(&[0, 1, 0]))]));
        let ds = load_npz(&ok).unwrap();
        assert_eq!(ds.x(), &[0.5, 1.5, 2.5]);
        assert_eq!(ds.anomaly_flags().unwrap(), &[false, true, false]);

        let p = write(&dir, "nolabels.npz", &npz(&[("X.npy", x.clone())]));
        assert_eq!(load_npz(&p).unwrap().labels(), &Labels::None);

        let p = write(
            &dir,
            "noX.npz",
            &npz(&[("data.npy", x.clone()), ("y.npy", y(&[0, 1, 0]))]),
        );
        let e = load_npz(&p).unwrap_err().to_string();
        assert!(
            e.contains("noX.npz") && e.contains("no array `X`") && e.contains("`data`"),
            "{e}"
        );

        let p = write(&dir, "two.npz", &npz(&[("X.npy", x.clone()), ("y.npy", y(&[0, 2, 0]))]));
        let e = load_npz(&p).unwrap_err().to_string();
        assert!(e.contains("two.npz") && e.contains("found 2 at row 2"), "{e}");

        let p = write(&dir, "rows.npz", &npz(&[("X.npy", x.clone()), ("y.npy", y(&[0, 1]))]));
        let e = load_npz(&p).unwrap_err().to_string();
        assert!(e.contains("3 rows") && e.contains("2 labels"), "{e}");

        let p = write(
            &dir,
            "ymat.npz",
            &npz(&[("X.npy", x.clone()), ("y.npy", npy("<i8", false, &[3, 2], &[0; 48]))]),
        );
        assert!(load_npz(&p).unwrap_err().to_string().contains("vector of labels"));

        let p = write(&dir, "x1d.npz", &npz(&[("X.npy", y(&[0, 1, 0]))]));
        assert!(
            load_npz(&p)
                .unwrap_err()
                .to_string()
                .contains("array `X`: expected a 2-D array")
        );
    }
}
