//! Folders of PNG images (COIL-20 and similar) as `[n, c, h, w]` datasets with values in [0, 1].
//!
//! Classes come from COIL-style file names `obj<K>__<pose>.png` (class `objK`), or from class-named
//! subfolders `<dir>/<class>/*.png`; a flat folder of other PNG names loads unlabelled. Order is
//! deterministic: by class, then by pose / file name with numbers compared numerically.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use image::DynamicImage;
use image::imageops::FilterType;
use rayon::prelude::*;

use crate::data::{Dataset, Labels, Layout, LoadOptions};
use crate::error::{Error, Result};

/// Loads every PNG of `dir` (grayscale → 1 channel, colour → 3 channels, alpha dropped). All images
/// must have the same size unless `opts.resize` is set (Triangle filter); channel counts must agree.
pub fn load_png_dir(dir: &Path, opts: &LoadOptions) -> Result<Dataset> {
    if let Some((h, w)) = opts.resize
        && (h == 0 || w == 0)
    {
        return Err(Error::config(
            "resize",
            format!("must be a positive height and width, got {h}x{w}"),
        ));
    }
    let (files, names) = list(dir)?;
    if let Some((h, w)) = opts.resize {
        // Each resized image as bytes, then as f32 in the dataset (one channel at least).
        crate::budget::check(
            Some("resize"),
            || format!("--resize {h}x{w} of {} images in {}", files.len(), dir.display()),
            crate::budget::bytes(&[files.len(), h as usize, w as usize], 5),
        )?;
    }
    let images: Vec<Image> = files
        .par_iter()
        .map(|(path, _)| decode(path, opts.resize))
        .collect::<Result<_>>()?;
    let Some(first) = images.first() else {
        return Err(Error::format(dir, "no PNG images in this directory"));
    };
    let (c, h, w) = (first.c, first.h, first.w);
    let mut x = Vec::with_capacity(images.len() * c * h * w);
    for (img, (path, _)) in images.iter().zip(&files) {
        if (img.c, img.h, img.w) != (c, h, w) {
            return Err(Error::format(
                path,
                format!(
                    "image is {}x{} with {} channel(s) but {} is {h}x{w} with {c}; all images must agree{}",
                    img.h,
                    img.w,
                    img.c,
                    files[0].0.display(),
                    if img.c == c { " (or set a resize)" } else { "" }
                ),
            ));
        }
        x.extend_from_slice(&img.values);
    }
    let labels = match names {
        None => Labels::None,
        Some(names) => Labels::Classes {
            ids: files.iter().map(|(_, id)| *id).collect(),
            names,
        },
    };
    Dataset::new(dir.display().to_string(), Layout::Images { c, h, w }, x, labels)
}

/// One decoded image, channels first.
struct Image {
    c: usize,
    h: usize,
    w: usize,
    values: Vec<f32>,
}

fn decode(path: &Path, resize: Option<(u32, u32)>) -> Result<Image> {
    let img = image::open(path).map_err(|e| match e {
        image::ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::format(path, "truncated PNG (unexpected end of file)")
        }
        image::ImageError::IoError(e) => Error::io(path, e),
        e => Error::format(path, format!("cannot decode PNG: {e}")),
    })?;
    let target = |w: u32, h: u32| resize.map(|(rh, rw)| (rw, rh)).filter(|&t| t != (w, h));
    if img.color().has_color() {
        let mut buf = img.to_rgb32f();
        if let Some((w, h)) = target(buf.width(), buf.height()) {
            buf = image::imageops::resize(&buf, w, h, FilterType::Triangle);
        }
        let (w, h) = (buf.width() as usize, buf.height() as usize);
        let hwc = buf.into_raw();
        let values = (0..3 * h * w)
            .map(|k| hwc[(k % (h * w)) * 3 + k / (h * w)].clamp(0.0, 1.0))
            .collect();
        Ok(Image { c: 3, h, w, values })
    } else {
        let mut buf = DynamicImage::to_luma32f(&img);
        if let Some((w, h)) = target(buf.width(), buf.height()) {
            buf = image::imageops::resize(&buf, w, h, FilterType::Triangle);
        }
        let (w, h) = (buf.width() as usize, buf.height() as usize);
        let values = buf.into_raw().into_iter().map(|v| v.clamp(0.0, 1.0)).collect();
        Ok(Image { c: 1, h, w, values })
    }
}

/// The PNG files in load order with their class ids, and the class names (`None`: unlabelled).
type Listing = (Vec<(PathBuf, u32)>, Option<Vec<String>>);

fn list(dir: &Path) -> Result<Listing> {
    let mut pngs = Vec::new();
    let mut subdirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            subdirs.push(path);
        } else if is_png(&path) {
            pngs.push(path);
        }
    }
    if pngs.is_empty() {
        return list_class_folders(dir, subdirs);
    }
    let coil: Vec<Option<(u64, u64)>> = pngs.iter().map(|p| coil_name(p)).collect();
    if coil.iter().all(Option::is_none) {
        pngs.sort_by(|a, b| natural_cmp(&file_name(a), &file_name(b)));
        return Ok((pngs.into_iter().map(|p| (p, 0)).collect(), None));
    }
    if let Some(i) = coil.iter().position(Option::is_none) {
        return Err(Error::format(
            &pngs[i],
            "file name does not follow the obj<K>__<pose>.png naming of the others",
        ));
    }
    let mut files: Vec<((u64, u64), PathBuf)> = coil.into_iter().flatten().zip(pngs).collect();
    files.sort();
    let mut objects: Vec<u64> = files.iter().map(|((o, _), _)| *o).collect();
    objects.dedup();
    let names = objects.iter().map(|o| format!("obj{o}")).collect();
    let files = files
        .into_iter()
        .map(|((o, _), p)| (p, objects.iter().position(|&x| x == o).unwrap_or(0) as u32))
        .collect();
    Ok((files, Some(names)))
}

/// `<dir>/<class>/*.png`: classes are the subfolders holding PNGs, in natural order.
fn list_class_folders(dir: &Path, mut subdirs: Vec<PathBuf>) -> Result<Listing> {
    subdirs.sort_by(|a, b| natural_cmp(&file_name(a), &file_name(b)));
    let mut files = Vec::new();
    let mut names = Vec::new();
    for sub in subdirs {
        let mut pngs = Vec::new();
        for entry in std::fs::read_dir(&sub).map_err(|e| Error::io(&sub, e))? {
            let path = entry.map_err(|e| Error::io(&sub, e))?.path();
            if path.is_file() && is_png(&path) {
                pngs.push(path);
            }
        }
        if pngs.is_empty() {
            continue;
        }
        pngs.sort_by(|a, b| natural_cmp(&file_name(a), &file_name(b)));
        let id = names.len() as u32;
        names.push(file_name(&sub));
        files.extend(pngs.into_iter().map(|p| (p, id)));
    }
    if files.is_empty() {
        return Err(Error::format(
            dir,
            "no PNG images in this directory or its class subfolders",
        ));
    }
    Ok((files, Some(names)))
}

fn is_png(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `(K, pose)` from `obj<K>__<pose>.png`.
fn coil_name(path: &Path) -> Option<(u64, u64)> {
    let stem = path.file_stem()?.to_str()?;
    let (obj, pose) = stem.strip_prefix("obj")?.split_once("__")?;
    let digits = |s: &str| {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    Some((digits(obj)?, digits(pose)?))
}

/// Compares names with runs of digits compared as numbers ("img2" < "img10").
fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn parts(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            let digit = c.is_ascii_digit();
            let end = rest.find(|ch: char| ch.is_ascii_digit() != digit).unwrap_or(rest.len());
            out.push((digit, &rest[..end]));
            rest = &rest[end..];
        }
        out
    }
    let key = |(digit, s): (bool, &str)| {
        let n = if digit { s.trim_start_matches('0') } else { s };
        (!digit, if digit { n.len() } else { 0 }, n.to_string())
    };
    let (pa, pb) = (parts(a), parts(b));
    pa.into_iter()
        .map(key)
        .cmp(pb.into_iter().map(key))
        .then_with(|| a.cmp(b))
}
