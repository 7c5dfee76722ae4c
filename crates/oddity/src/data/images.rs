//! Folders of images (PNG, JPEG, BMP, TIFF, WebP) as `[n, c, h, w]` datasets with values in [0, 1].
//!
//! Pixels: 8- and 16-bit grayscale, grayscale + alpha, RGB and RGBA; alpha is dropped (not
//! composited). Grayscale loads as 1 channel, colour as 3; a folder mixing the two is an error
//! unless [`LoadOptions::channels`] converts every image (colour → grey by the `image` crate's
//! luma weights, grey → RGB by copying the channel).
//!
//! Listing: the folder is read recursively (hidden entries, `.name`, skipped; symbolic links
//! followed once). Images only at the top level: COIL-style names `obj<K>__<pose>.<ext>` give class
//! `objK`, other names load unlabelled. Images only in subfolders: each top-level subfolder is a
//! class (`<dir>/<class>/**/*.png`). Images at both levels: unlabelled. Order is deterministic: by
//! class, then by path relative to the folder, compared folder by folder with numbers compared
//! numerically ("img2" < "img10"); COIL-style files by pose. Each sample keeps that relative path
//! (`/`-separated) in [`Dataset::files`].

use std::cmp::Ordering;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use image::DynamicImage;
use image::imageops::FilterType;
use rayon::prelude::*;

use crate::data::{Dataset, Labels, Layout, LoadOptions};
use crate::error::{Error, Result};

/// File extensions read as images (case-insensitive).
pub const EXTENSIONS: [&str; 7] = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp"];

/// Folders nested deeper than this are not read (a guard against pathological trees).
const MAX_DEPTH: usize = 64;

/// Loads every image under `dir` (see the module docs). All images must have the same size unless
/// `opts.resize` is set (Triangle filter) and the same channel count unless `opts.channels` is.
pub fn load_image_dir(dir: &Path, opts: &LoadOptions) -> Result<Dataset> {
    if let Some((h, w)) = opts.resize
        && (h == 0 || w == 0)
    {
        return Err(Error::config(
            "resize",
            format!("must be a positive height and width, got {h}x{w}"),
        ));
    }
    if let Some(c) = opts.channels
        && c != 1
        && c != 3
    {
        return Err(Error::config("channels", format!("must be 1 or 3, got {c}")));
    }
    let listing = list(dir)?;
    if let Some((h, w)) = opts.resize {
        // Each resized image as bytes, then as f32 in the dataset (one channel at least).
        crate::budget::check(
            Some("resize"),
            || {
                format!(
                    "--resize {h}x{w} of {} images in {}",
                    listing.files.len(),
                    dir.display()
                )
            },
            crate::budget::bytes(&[listing.files.len(), h as usize, w as usize], 5),
        )?;
    }
    let images: Vec<Image> = listing
        .files
        .par_iter()
        .map(|f| decode(&f.path, opts.resize, opts.channels))
        .collect::<Result<_>>()?;
    let Some(first) = images.first() else {
        return Err(Error::format(dir, "no images in this directory"));
    };
    let (c, h, w) = (first.c, first.h, first.w);
    let first_path = &listing.files[0].path;
    let mut x = Vec::with_capacity(images.len() * c * h * w);
    for (img, f) in images.iter().zip(&listing.files) {
        if img.c != c {
            let kind = |c: usize| if c == 1 { "grayscale" } else { "colour" };
            return Err(Error::format(
                &f.path,
                format!(
                    "image is {} ({} channel(s)) but {} is {} ({c}); the folder mixes grayscale and \
                     colour images: set channels to 1 or 3 (--channels) to convert them all",
                    kind(img.c),
                    img.c,
                    first_path.display(),
                    kind(c),
                ),
            ));
        }
        if (img.h, img.w) != (h, w) {
            return Err(Error::format(
                &f.path,
                format!(
                    "image is {}x{} with {} channel(s) but {} is {h}x{w} with {c}; all images must agree \
                     (or set a resize)",
                    img.h,
                    img.w,
                    img.c,
                    first_path.display(),
                ),
            ));
        }
        x.extend_from_slice(&img.values);
    }
    let labels = match listing.classes {
        Some(names) if !opts.no_labels => Labels::Classes {
            ids: listing.files.iter().map(|f| f.class).collect(),
            names,
        },
        _ => Labels::None,
    };
    let files = listing.files.iter().map(|f| f.rel.join("/")).collect();
    Dataset::new(dir.display().to_string(), Layout::Images { c, h, w }, x, labels)?.with_files(files)
}

/// True if `dir` holds an image file at any depth (hidden entries skipped).
pub fn has_images(dir: &Path) -> bool {
    let mut found = Vec::new();
    walk(dir, &[], &mut found, &mut HashSet::new(), 0, true).is_ok() && !found.is_empty()
}

/// One decoded image, channels first.
struct Image {
    c: usize,
    h: usize,
    w: usize,
    values: Vec<f32>,
}

fn decode(path: &Path, resize: Option<(u32, u32)>, channels: Option<usize>) -> Result<Image> {
    let img = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| Error::io(path, e))?
        .decode()
        .map_err(|e| match e {
            image::ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Error::format(path, "truncated image (unexpected end of file)")
            }
            image::ImageError::IoError(e) => Error::io(path, e),
            e => Error::format(path, format!("cannot decode image: {e}")),
        })?;
    let target = |w: u32, h: u32| resize.map(|(rh, rw)| (rw, rh)).filter(|&t| t != (w, h));
    let colour = channels.map_or(img.color().has_color(), |c| c == 3);
    if colour {
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

/// An image file: its path and its path relative to the folder, one entry per component.
struct Found {
    path: PathBuf,
    rel: Vec<String>,
}

/// A listed file in load order with its class id.
struct Listed {
    path: PathBuf,
    rel: Vec<String>,
    class: u32,
}

/// The files in load order and the class names (`None`: unlabelled).
struct Listing {
    files: Vec<Listed>,
    classes: Option<Vec<String>>,
}

/// Collects the image files under `dir` (`rel`: its path below the top folder). With `first_only`
/// it stops at the first image found.
fn walk(
    dir: &Path,
    rel: &[String],
    out: &mut Vec<Found>,
    seen: &mut HashSet<PathBuf>,
    depth: usize,
    first_only: bool,
) -> Result<()> {
    // A symbolic link back up the tree would loop: each real folder is read once.
    let real = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    if depth > MAX_DEPTH || !seen.insert(real) {
        return Ok(());
    }
    let mut subdirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let name_rel = || rel.iter().cloned().chain([name.clone()]).collect::<Vec<_>>();
        if path.is_dir() {
            subdirs.push((path, name_rel()));
        } else if is_image(&path) {
            out.push(Found { path, rel: name_rel() });
            if first_only {
                return Ok(());
            }
        }
    }
    for (sub, sub_rel) in subdirs {
        walk(&sub, &sub_rel, out, seen, depth + 1, first_only)?;
        if first_only && !out.is_empty() {
            return Ok(());
        }
    }
    Ok(())
}

fn list(dir: &Path) -> Result<Listing> {
    let mut found = Vec::new();
    walk(dir, &[], &mut found, &mut HashSet::new(), 0, false)?;
    if found.is_empty() {
        return Err(Error::format(
            dir,
            format!(
                "no images ({}) in this directory or its subfolders",
                EXTENSIONS.join(", ")
            ),
        ));
    }
    found.sort_by(|a, b| path_cmp(&a.rel, &b.rel));
    let top = found.iter().filter(|f| f.rel.len() == 1).count();
    let unlabelled = |found: Vec<Found>| Listing {
        files: found
            .into_iter()
            .map(|f| Listed {
                path: f.path,
                rel: f.rel,
                class: 0,
            })
            .collect(),
        classes: None,
    };
    if top == found.len() {
        return list_flat(found, unlabelled);
    }
    if top > 0 {
        return Ok(unlabelled(found));
    }
    // Class folders: the first component; `found` is sorted, so classes come in natural order.
    let mut names: Vec<String> = Vec::new();
    let mut files = Vec::with_capacity(found.len());
    for f in found {
        if names.last() != Some(&f.rel[0]) {
            names.push(f.rel[0].clone());
        }
        files.push(Listed {
            path: f.path,
            rel: f.rel,
            class: names.len() as u32 - 1,
        });
    }
    Ok(Listing {
        files,
        classes: Some(names),
    })
}

/// Top-level files only: COIL-style names give classes, other names none, a mix is an error.
fn list_flat(found: Vec<Found>, unlabelled: impl Fn(Vec<Found>) -> Listing) -> Result<Listing> {
    let coil: Vec<Option<(u64, u64)>> = found.iter().map(|f| coil_name(&f.path)).collect();
    if coil.iter().all(Option::is_none) {
        return Ok(unlabelled(found));
    }
    if let Some(i) = coil.iter().position(Option::is_none) {
        return Err(Error::format(
            &found[i].path,
            "file name does not follow the obj<K>__<pose>.png naming of the others",
        ));
    }
    // `found` is in name order already: a stable sort by (object, pose) keeps it for ties.
    let mut files: Vec<((u64, u64), Found)> = coil.into_iter().flatten().zip(found).collect();
    files.sort_by_key(|(key, _)| *key);
    let mut objects: Vec<u64> = files.iter().map(|((o, _), _)| *o).collect();
    objects.dedup();
    let names = objects.iter().map(|o| format!("obj{o}")).collect();
    let files = files
        .into_iter()
        .map(|((o, _), f)| Listed {
            path: f.path,
            rel: f.rel,
            class: objects.iter().position(|&x| x == o).unwrap_or(0) as u32,
        })
        .collect();
    Ok(Listing {
        files,
        classes: Some(names),
    })
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// `(K, pose)` from `obj<K>__<pose>.<ext>`.
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

/// Compares relative paths folder by folder with [`natural_cmp`].
fn path_cmp(a: &[String], b: &[String]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| natural_cmp(x, y))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// Compares names with runs of digits compared as numbers ("img2" < "img10").
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compare_folder_by_folder_and_numerically() {
        let p = |s: &str| s.split('/').map(String::from).collect::<Vec<_>>();
        let mut v = vec![
            p("b/x.png"),
            p("a10/y.png"),
            p("a2/z.png"),
            p("a2.png"),
            p("a2/b/c.png"),
        ];
        v.sort_by(|a, b| path_cmp(a, b));
        let joined: Vec<String> = v.iter().map(|r| r.join("/")).collect();
        assert_eq!(joined, ["a2/b/c.png", "a2/z.png", "a2.png", "a10/y.png", "b/x.png"]);
    }
}
