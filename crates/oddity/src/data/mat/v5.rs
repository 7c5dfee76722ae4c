//! MATLAB Level 5 MAT-file reader (only what ODDS-style files need: numeric, real, full matrices).
//!
//! Layout (MathWorks, "MAT-File Format", Level 5): a 128-byte header (text, subsystem offset,
//! version, endian indicator `IM`/`MI`), then tagged data elements. A tag is `type: u32, bytes: u32`
//! followed by the data padded to 8 bytes, or, in the small-element format, `bytes: u16, type: u16`
//! and up to 4 data bytes in the same 8 bytes. `miCOMPRESSED` elements hold a zlib stream of further
//! elements; `miMATRIX` elements hold sub-elements: array flags, dimensions, name, real part, ...

use std::io::Read;
use std::path::Path;

use super::Matrix;
use crate::error::{Error, Result};

const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;

/// Array classes 6..=15 are the numeric ones (double, single, int8 ... uint64).
const NUMERIC_CLASSES: std::ops::RangeInclusive<u8> = 6..=15;
const FLAG_COMPLEX: u32 = 0x0800;

/// Reads variables `X` and `y` (if present) from the bytes of a Level 5 MAT-file.
pub(super) fn read_xy(path: &Path, bytes: &[u8]) -> Result<(Option<Matrix>, Option<Matrix>)> {
    let fail = |reason: String| Error::format(path, reason);
    if bytes.len() < 128 {
        return Err(fail(format!(
            "{} bytes is too short for a MAT-file header (128 bytes)",
            bytes.len()
        )));
    }
    let big = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        _ => {
            return Err(fail(
                "not a MATLAB 5/7 MAT-file (no `MI` endian indicator at byte 126)".into(),
            ));
        }
    };
    let file = Reader { bytes, big };
    let (mut x, mut y) = (None, None);
    let mut names = Vec::new();
    let mut pos = 128;
    while pos < bytes.len() {
        let el = file.element(pos).map_err(&fail)?;
        pos = el.next;
        let inflated;
        let (matrix, reader) = match el.ty {
            MI_MATRIX => (el.data, file),
            MI_COMPRESSED => {
                inflated =
                    inflate(el.data).map_err(|e| fail(format!("compressed element at byte {}: {e}", el.start)))?;
                let inner = Reader { bytes: &inflated, big };
                let el = inner
                    .element(0)
                    .map_err(|e| fail(format!("in compressed element: {e}")))?;
                if el.ty != MI_MATRIX {
                    continue;
                }
                (el.data, inner)
            }
            _ => continue,
        };
        if let Some((name, m)) = reader.matrix(matrix).map_err(&fail)? {
            match name.as_str() {
                "X" => x = m,
                "y" => y = m,
                _ => {}
            }
            names.push(name);
        }
    }
    if x.is_none() {
        if names.is_empty() {
            return Err(fail("no variables in the file (truncated?)".into()));
        }
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        return Err(fail(format!(
            "no variable `X` in the file (variables: {})",
            names.join(", ")
        )));
    }
    Ok((x, y))
}

fn inflate(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data).read_to_end(&mut out)?;
    Ok(out)
}

/// One data element: its type, its data and where the next element starts.
struct Element<'a> {
    start: usize,
    ty: u32,
    data: &'a [u8],
    next: usize,
}

#[derive(Clone, Copy)]
struct Reader<'a> {
    bytes: &'a [u8],
    big: bool,
}

impl<'a> Reader<'a> {
    fn u32_at(&self, bytes: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The element starting at `pos` in `self.bytes`.
    fn element(&self, pos: usize) -> std::result::Result<Element<'a>, String> {
        element_in(self, self.bytes, pos)
    }

    /// Parses the contents of an `miMATRIX` element: `Some((name, matrix))` with `None` for the
    /// matrix unless the variable is `X` or `y` (other variables are not decoded).
    fn matrix(&self, data: &[u8]) -> std::result::Result<Option<(String, Option<Matrix>)>, String> {
        if data.is_empty() {
            return Ok(None); // an empty placeholder matrix
        }
        let flags = element_in(self, data, 0)?;
        let dims = element_in(self, data, flags.next)?;
        let name = element_in(self, data, dims.next)?;
        let name_str = String::from_utf8_lossy(name.data).into_owned();
        if name_str != "X" && name_str != "y" {
            return Ok(Some((name_str, None)));
        }
        let what = |reason: String| format!("variable `{name_str}`: {reason}");
        let flag_word = match (flags.ty, self.u32_at(flags.data, 0)) {
            (MI_UINT32, Some(w)) => w,
            _ => return Err(what("bad array flags".into())),
        };
        let class = (flag_word & 0xff) as u8;
        if !NUMERIC_CLASSES.contains(&class) {
            return Err(what(format!(
                "is a {} array, expected a numeric matrix",
                class_name(class)
            )));
        }
        if flag_word & FLAG_COMPLEX != 0 {
            return Err(what("complex values are not supported".into()));
        }
        if dims.ty != MI_INT32 || !dims.data.len().is_multiple_of(4) || dims.data.len() < 8 {
            return Err(what("bad dimensions element".into()));
        }
        let dims: Vec<usize> = (0..dims.data.len() / 4)
            .map(|i| self.u32_at(dims.data, 4 * i).map(|d| d as i32))
            .map(|d| d.and_then(|d| usize::try_from(d).ok()))
            .collect::<Option<_>>()
            .ok_or_else(|| what("negative dimension".into()))?;
        let count = dims
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| what("dimensions overflow".into()))?;
        let real = element_in(self, data, name.next)?;
        let values = self.numbers(real.ty, real.data).map_err(&what)?;
        if values.len() != count {
            return Err(what(format!(
                "dimensions {dims:?} need {count} values, found {}",
                values.len()
            )));
        }
        Ok(Some((name_str, Some(Matrix { dims, values }))))
    }

    /// Decodes numeric data of storage type `ty` (which may be narrower than the array class).
    fn numbers(&self, ty: u32, data: &[u8]) -> std::result::Result<Vec<f64>, String> {
        fn conv<const N: usize>(data: &[u8], big: bool, f: impl Fn([u8; N], bool) -> f64) -> Vec<f64> {
            data.chunks_exact(N)
                .map(|c| f(c.try_into().unwrap_or([0; N]), big))
                .collect()
        }
        macro_rules! num {
            ($t:ty) => {
                |b, big| {
                    if big {
                        <$t>::from_be_bytes(b) as f64
                    } else {
                        <$t>::from_le_bytes(b) as f64
                    }
                }
            };
        }
        let size = match ty {
            MI_INT8 | MI_UINT8 => 1,
            MI_INT16 | MI_UINT16 => 2,
            MI_INT32 | MI_UINT32 | MI_SINGLE => 4,
            MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
            _ => return Err(format!("unsupported data type {ty} for numeric values")),
        };
        if !data.len().is_multiple_of(size) {
            return Err(format!(
                "{} data bytes is not a whole number of {size}-byte values",
                data.len()
            ));
        }
        let big = self.big;
        Ok(match ty {
            MI_INT8 => conv::<1>(data, big, num!(i8)),
            MI_UINT8 => conv::<1>(data, big, num!(u8)),
            MI_INT16 => conv::<2>(data, big, num!(i16)),
            MI_UINT16 => conv::<2>(data, big, num!(u16)),
            MI_INT32 => conv::<4>(data, big, num!(i32)),
            MI_UINT32 => conv::<4>(data, big, num!(u32)),
            MI_SINGLE => conv::<4>(data, big, num!(f32)),
            MI_INT64 => conv::<8>(data, big, num!(i64)),
            MI_UINT64 => conv::<8>(data, big, num!(u64)),
            _ => conv::<8>(data, big, num!(f64)),
        })
    }
}

/// The element at `pos` in `buf` (the file or the data of an enclosing element).
fn element_in<'a>(r: &Reader<'_>, buf: &'a [u8], pos: usize) -> std::result::Result<Element<'a>, String> {
    let tag = r
        .u32_at(buf, pos)
        .ok_or_else(|| format!("truncated: element tag at byte {pos} is cut short"))?;
    if tag >> 16 != 0 {
        // small data element: bytes in the upper half, type in the lower half, data in the next 4 bytes
        let len = (tag >> 16) as usize;
        let data = buf
            .get(pos + 4..pos + 8)
            .ok_or_else(|| format!("truncated: small element at byte {pos}"))?;
        let data = data
            .get(..len)
            .ok_or_else(|| format!("small element at byte {pos} claims {len} bytes"))?;
        return Ok(Element {
            start: pos,
            ty: tag & 0xffff,
            data,
            next: pos + 8,
        });
    }
    let len = r
        .u32_at(buf, pos + 4)
        .ok_or_else(|| format!("truncated: element tag at byte {pos} is cut short"))?;
    let start = pos + 8;
    let data = start
        .checked_add(len as usize)
        .and_then(|end| buf.get(start..end))
        .ok_or_else(|| {
            format!(
                "truncated: element at byte {pos} needs {len} bytes, {} left",
                buf.len() - start
            )
        })?;
    // compressed elements are not padded; the others are padded to 8 bytes (the last one may not be)
    let end = start + data.len();
    let next = if tag == MI_COMPRESSED {
        end
    } else {
        end.next_multiple_of(8).min(buf.len())
    };
    Ok(Element {
        start: pos,
        ty: tag,
        data,
        next,
    })
}

fn class_name(class: u8) -> &'static str {
    match class {
        1 => "cell",
        2 => "struct",
        3 => "object",
        4 => "char",
        5 => "sparse",
        _ => "unknown-class",
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::data::Labels;

    const DOUBLE: u8 = 6;
    const INT16: u8 = 10;
    const UINT8: u8 = 9;

    /// Builds Level 5 files for tests, in either byte order.
    struct Builder {
        big: bool,
    }

    impl Builder {
        fn u32(&self, v: u32) -> [u8; 4] {
            if self.big { v.to_be_bytes() } else { v.to_le_bytes() }
        }

        /// A tagged element, padded to 8 bytes; small-element format when `data` fits in 4 bytes.
        fn element(&self, ty: u32, data: &[u8]) -> Vec<u8> {
            let mut v = Vec::new();
            if data.len() <= 4 && ty != MI_MATRIX {
                v.extend_from_slice(&self.u32(((data.len() as u32) << 16) | ty));
                v.extend_from_slice(data);
                v.resize(8, 0);
                return v;
            }
            v.extend_from_slice(&self.u32(ty));
            v.extend_from_slice(&self.u32(data.len() as u32));
            v.extend_from_slice(data);
            v.resize(v.len().next_multiple_of(8), 0);
            v
        }

        /// An `miMATRIX` element; `real` is `(storage type, raw bytes in file order)`.
        fn matrix(&self, name: &str, class: u8, extra_flags: u32, dims: &[i32], real: (u32, Vec<u8>)) -> Vec<u8> {
            let mut body = self.element(MI_UINT32, &[self.u32(u32::from(class) | extra_flags), [0; 4]].concat());
            let dims: Vec<u8> = dims.iter().flat_map(|&d| self.u32(d as u32)).collect();
            body.extend(self.element(MI_INT32, &dims));
            body.extend(self.element(MI_INT8, name.as_bytes()));
            body.extend(self.element(real.0, &real.1));
            self.element(MI_MATRIX, &body)
        }

        fn compressed(&self, element: &[u8]) -> Vec<u8> {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(element).unwrap();
            let data = z.finish().unwrap();
            [self.u32(MI_COMPRESSED).as_slice(), &self.u32(data.len() as u32), &data].concat()
        }

        fn file(&self, elements: &[Vec<u8>]) -> Vec<u8> {
            let mut v = format!("MATLAB 5.0 MAT-file, test, big-endian: {}", self.big).into_bytes();
            v.resize(116, b' ');
            v.extend_from_slice(&[0; 8]);
            v.extend_from_slice(if self.big {
                &[0x01, 0x00, b'M', b'I']
            } else {
                &[0x00, 0x01, b'I', b'M']
            });
            for e in elements {
                v.extend_from_slice(e);
            }
            v
        }

        fn f64s(&self, v: &[f64]) -> (u32, Vec<u8>) {
            let bytes = v
                .iter()
                .flat_map(|x| if self.big { x.to_be_bytes() } else { x.to_le_bytes() });
            (MI_DOUBLE, bytes.collect())
        }

        fn i16s(&self, v: &[i16]) -> (u32, Vec<u8>) {
            let bytes = v
                .iter()
                .flat_map(|x| if self.big { x.to_be_bytes() } else { x.to_le_bytes() });
            (MI_INT16, bytes.collect())
        }
    }

    fn load(bytes: &[u8]) -> Result<crate::data::Dataset> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.mat");
        std::fs::write(&p, bytes).unwrap();
        super::super::load(&p)
    }

    /// X = [[1, -2], [3, 4], [5, 6]] (3 x 2), y = [0, 1, 0]
    fn sample(b: &Builder, compress: bool) -> Vec<u8> {
        let x = b.matrix("X", DOUBLE, 0, &[3, 2], b.f64s(&[1.0, 3.0, 5.0, -2.0, 4.0, 6.0]));
        // MATLAB stores small integer-valued doubles in a narrower type: y as miUINT8
        let y = b.matrix("y", DOUBLE, 0, &[3, 1], (MI_UINT8, vec![0, 1, 0]));
        let other = b.matrix("note", DOUBLE, 0, &[1, 1], b.f64s(&[7.0]));
        if compress {
            b.file(&[b.compressed(&other), b.compressed(&x), b.compressed(&y)])
        } else {
            b.file(&[other, x, y])
        }
    }

    #[test]
    fn both_byte_orders_compressed_or_not() {
        for big in [false, true] {
            for compress in [false, true] {
                let ds = load(&sample(&Builder { big }, compress)).unwrap();
                assert_eq!(
                    ds.x(),
                    &[1.0, -2.0, 3.0, 4.0, 5.0, 6.0],
                    "big {big} compress {compress}"
                );
                assert_eq!(ds.labels(), &Labels::Anomaly(vec![false, true, false]));
            }
        }
    }

    #[test]
    fn integer_classes_and_row_vector_labels() {
        let b = Builder { big: true };
        let x = b.matrix("X", INT16, 0, &[2, 2], b.i16s(&[-300, 7, 12, 0]));
        let y = b.matrix("y", UINT8, 0x0200, &[1, 2], (MI_UINT8, vec![1, 0])); // logical 1 x 2
        let ds = load(&b.file(&[x, y])).unwrap();
        assert_eq!(ds.x(), &[-300.0, 12.0, 7.0, 0.0]);
        assert_eq!(ds.anomaly_flags().unwrap(), &[true, false]);
    }

    #[test]
    fn content_rules() {
        let b = Builder { big: false };
        let y3 = || b.matrix("y", DOUBLE, 0, &[3, 1], b.f64s(&[0.0, 1.0, 0.0]));
        let x =
            |class: u8, flags: u32, dims: &[i32], n: usize| b.matrix("X", class, flags, dims, b.f64s(&vec![1.0; n]));
        let cases: Vec<(Vec<Vec<u8>>, &str)> = vec![
            (vec![x(1, 0, &[3, 1], 3), y3()], "cell array"),
            (vec![x(DOUBLE, FLAG_COMPLEX, &[3, 1], 3), y3()], "complex"),
            (vec![x(DOUBLE, 0, &[3, 1, 2], 6), y3()], "2-D matrix"),
            (vec![x(DOUBLE, 0, &[3, 2], 5), y3()], "need 6 values, found 5"),
            (vec![x(DOUBLE, 0, &[2, 1], 2), y3()], "2 rows but `y` has 3"),
            (
                vec![
                    x(DOUBLE, 0, &[3, 1], 3),
                    b.matrix("y", DOUBLE, 0, &[3, 1], b.f64s(&[0.0, 2.0, 1.0])),
                ],
                "found 2 at row 2",
            ),
            (
                vec![b.matrix("X", DOUBLE, 0, &[3, 1], b.f64s(&[1.0, 1e308, 2.0])), y3()],
                "`X` row 2, column 1: 1e308 is out of f32 range",
            ),
            (
                vec![
                    x(DOUBLE, 0, &[3, 1], 3),
                    b.matrix("y", DOUBLE, 0, &[3, 2], b.f64s(&[0.0; 6])),
                ],
                "must be a vector",
            ),
            (
                vec![b.matrix("data", DOUBLE, 0, &[1, 1], b.f64s(&[1.0])), y3()],
                "no variable `X` in the file (variables: `data`, `y`)",
            ),
            (
                vec![b.matrix("X", DOUBLE, 0, &[-1, 1], b.f64s(&[1.0]))],
                "negative dimension",
            ),
            (
                vec![b.matrix("X", DOUBLE, 0, &[1, 1], (99, vec![0; 8]))],
                "unsupported data type 99",
            ),
            (
                vec![b.matrix("X", DOUBLE, 0, &[1, 1], (MI_DOUBLE, vec![0; 12]))],
                "whole number",
            ),
        ];
        for (elements, want) in cases {
            let e = load(&b.file(&elements)).unwrap_err().to_string();
            assert!(e.contains("t.mat") && e.contains(want), "want `{want}`, got: {e}");
        }
        // a file with only the header
        let e = load(&b.file(&[])).unwrap_err().to_string();
        assert!(e.contains("no variables"), "{e}");
    }

    #[test]
    fn every_cut_and_every_flipped_byte_is_an_error_or_ok_never_a_panic() {
        for compress in [false, true] {
            let good = sample(&Builder { big: false }, compress);
            for cut in 0..good.len() {
                let _ = load(&good[..cut]);
            }
            for i in 128..good.len() {
                let mut bad = good.clone();
                bad[i] ^= 0xa5;
                let _ = load(&bad);
            }
        }
    }
}
