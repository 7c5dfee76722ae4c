//! The MVTec AD folder layout (Bergmann et al., "MVTec AD — A Comprehensive Real-World Dataset for
//! Unsupervised Anomaly Detection", CVPR 2019; the layout of the published archive):
//!
//! ```text
//! <category>/train/good/*.png              normal training images
//! <category>/test/good/*.png               normal test images
//! <category>/test/<defect_type>/*.png      anomalous test images, one folder per defect type
//! <category>/ground_truth/<defect_type>/<name>_mask.png   optional pixel masks (non-zero = defect)
//! ```
//!
//! [`categories`] accepts one category folder or a folder of them (every non-hidden subfolder must
//! then be a category). [`load_category`] reads one category with the image loader
//! ([`super::images`]: any of its formats, nested folders, `resize` and `channels` honoured); the
//! test images keep their paths relative to the folder given by the user. The mask of
//! `test/<defect>/<name>.<ext>` is `ground_truth/<defect>/<name>_mask.<ext>` (any image extension;
//! `<name>.<ext>` is accepted too). A defect type without a `ground_truth/<defect>` folder has no
//! masks and is left out of pixel-level metrics; with the folder, every image needs its mask.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use super::images::{self, EXTENSIONS};
use super::{Dataset, Labels, Layout, LoadOptions};
use crate::error::{Error, Result};

/// The test folder holding normal images.
pub const GOOD: &str = "good";

/// One category folder: its name and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryDir {
    pub name: String,
    pub root: PathBuf,
    /// Prefix of file names shown to the user: empty when the user gave the category folder
    /// itself, `<name>/` when they gave the folder of categories.
    pub prefix: String,
}

/// A loaded category.
#[derive(Debug, Clone)]
pub struct Category {
    pub dir: CategoryDir,
    /// `train/good`, unlabelled; files relative to the folder given by the user.
    pub train: Dataset,
    /// `test/**`, anomaly flags (`good` = normal); files relative to the folder given by the user.
    pub test: Dataset,
    /// The defect type (test subfolder) of each test image, `good` for normals.
    pub defects: Vec<String>,
    /// Defect types in natural order, `good` left out.
    pub defect_types: Vec<String>,
    /// The mask file of each test image: `None` for good images and for defect types without a
    /// `ground_truth` folder.
    pub masks: Vec<Option<PathBuf>>,
}

impl Category {
    /// Whether pixel-level metrics can be computed: some defect image has a mask.
    pub fn has_masks(&self) -> bool {
        self.masks.iter().any(Option::is_some)
    }

    /// Whether test image `i` takes part in pixel-level metrics: a good image (all pixels
    /// normal) or a defect image with a mask.
    pub fn pixel_evaluated(&self, i: usize) -> bool {
        self.defects[i] == GOOD || self.masks[i].is_some()
    }
}

/// True when `dir` looks like one MVTec category (`train/good` and `test` folders).
pub fn is_category(dir: &Path) -> bool {
    dir.join("train").join(GOOD).is_dir() && dir.join("test").is_dir()
}

/// The categories under `dir`: `dir` itself when it is a category, else each non-hidden
/// subfolder, in natural name order; an error names a subfolder that is not a category.
pub fn categories(dir: &Path) -> Result<Vec<CategoryDir>> {
    let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
    if !meta.is_dir() {
        return Err(Error::format(dir, "the MVTec protocol needs a folder"));
    }
    if is_category(dir) {
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| dir.display().to_string());
        return Ok(vec![CategoryDir {
            name,
            root: dir.to_path_buf(),
            prefix: String::new(),
        }]);
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with('.') || !path.is_dir() {
            continue;
        }
        if !is_category(&path) {
            return Err(Error::format(
                &path,
                "not an MVTec category: expected train/good/ and test/ folders in it (the MVTec \
                 protocol takes one category folder or a folder whose subfolders are all categories)",
            ));
        }
        out.push(CategoryDir {
            prefix: format!("{name}/"),
            name,
            root: path,
        });
    }
    if out.is_empty() {
        return Err(Error::format(
            dir,
            "no MVTec categories: expected <category>/train/good/ and <category>/test/<good|defect>/ \
             (or train/good/ and test/ directly in this folder)",
        ));
    }
    out.sort_by(|a, b| images::natural_cmp(&a.name, &b.name));
    Ok(out)
}

/// Reads one category (see the module docs). `opts.resize` and `opts.channels` apply to train
/// and test alike; the test images get the training images' channel count.
pub fn load_category(dir: &CategoryDir, opts: &LoadOptions) -> Result<Category> {
    let opts = LoadOptions {
        no_labels: false,
        ..opts.clone()
    };
    let train_dir = dir.root.join("train").join(GOOD);
    let train = images::load_image_dir(&train_dir, &opts)?;
    let Layout::Images { c, .. } = train.layout() else {
        return Err(Error::format(&train_dir, "not an image folder"));
    };
    let prefixed = |files: Option<&[String]>, sub: &str| -> Vec<String> {
        files
            .unwrap_or_default()
            .iter()
            .map(|f| format!("{}{sub}/{f}", dir.prefix))
            .collect()
    };
    let train_files = prefixed(train.files(), "train/good");
    let train = train
        .with_labels(Labels::None)?
        .with_files(train_files)?
        .with_name(format!("{} (train/good)", dir.name));

    let test_dir = dir.root.join("test");
    let test_opts = LoadOptions {
        channels: opts.channels.or(Some(c)),
        ..opts.clone()
    };
    let test = images::load_image_dir(&test_dir, &test_opts)?;
    if test.layout() != train.layout() {
        return Err(Error::format(
            &test_dir,
            format!(
                "test images are {} but training images are {}; all images of a category must have \
                 one size (or set a resize, --resize HxW)",
                test.layout().describe(),
                train.layout().describe()
            ),
        ));
    }
    let rel: Vec<String> = test.files().unwrap_or_default().to_vec();
    let (ids, names) = match test.labels() {
        Labels::Classes { ids, names } => (ids.clone(), names.clone()),
        _ => {
            return Err(Error::format(
                &test_dir,
                "expected the test images in folders named good/ and <defect_type>/, not loose files",
            ));
        }
    };
    let defects: Vec<String> = ids.iter().map(|&i| names[i as usize].clone()).collect();
    if !defects.iter().any(|d| d == GOOD) {
        return Err(Error::format(
            &test_dir,
            "no test/good/ folder: the MVTec protocol needs normal test images",
        ));
    }
    let defect_types: Vec<String> = names.iter().filter(|n| *n != GOOD).cloned().collect();
    if defect_types.is_empty() {
        return Err(Error::format(
            &test_dir,
            "no defect folders next to test/good/: the MVTec protocol needs anomalous test images",
        ));
    }
    let gt = dir.root.join("ground_truth");
    let mut masks = Vec::with_capacity(rel.len());
    for (f, d) in rel.iter().zip(&defects) {
        masks.push(if d == GOOD { None } else { mask_path(&gt, f)? });
    }
    let flags: Vec<bool> = defects.iter().map(|d| d != GOOD).collect();
    let test_files = prefixed(Some(&rel), "test");
    let test = test
        .with_labels(Labels::Anomaly(flags))?
        .with_files(test_files)?
        .with_name(format!("{} (test)", dir.name));
    Ok(Category {
        dir: dir.clone(),
        train,
        test,
        defects,
        defect_types,
        masks,
    })
}

/// The mask of test image `rel` (`<defect>/…/<name>.<ext>` below `test/`), or `None` when the
/// defect type has no `ground_truth` folder.
fn mask_path(gt: &Path, rel: &str) -> Result<Option<PathBuf>> {
    let parts: Vec<&str> = rel.split('/').collect();
    let defect_dir = gt.join(parts[0]);
    if !defect_dir.is_dir() {
        return Ok(None);
    }
    let mut folder = gt.to_path_buf();
    for p in &parts[..parts.len() - 1] {
        folder.push(p);
    }
    let file = parts[parts.len() - 1];
    let stem = Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    for name in [format!("{stem}_mask"), stem.clone()] {
        for ext in EXTENSIONS {
            for e in [ext.to_string(), ext.to_ascii_uppercase()] {
                let p = folder.join(format!("{name}.{e}"));
                if p.is_file() {
                    return Ok(Some(p));
                }
            }
        }
    }
    Err(Error::format(
        folder.join(format!("{stem}_mask.png")),
        format!(
            "missing mask of test/{rel} ({} exists, so every {} image needs its mask)",
            defect_dir.display(),
            parts[0]
        ),
    ))
}

/// A mask read as `h × w` booleans (non-zero = defect), resized with the nearest pixel when its
/// size differs (as anomalib resizes masks).
pub fn load_mask(path: &Path, h: usize, w: usize) -> Result<Vec<bool>> {
    let img = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| Error::io(path, e))?
        .decode()
        .map_err(|e| Error::format(path, format!("cannot decode mask: {e}")))?
        .to_luma8();
    let img = if (img.width() as usize, img.height() as usize) != (w, h) {
        image::imageops::resize(&img, w as u32, h as u32, FilterType::Nearest)
    } else {
        img
    };
    Ok(img.into_raw().into_iter().map(|v| v > 0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(path: &Path, v: u8) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::GrayImage::from_pixel(4, 4, image::Luma([v])).save(path).unwrap();
    }

    #[test]
    fn a_category_is_read_with_defects_masks_and_file_names() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("cable");
        png(&root.join("train/good/0.png"), 10);
        png(&root.join("train/good/1.png"), 20);
        png(&root.join("test/good/0.png"), 10);
        png(&root.join("test/cut/0.png"), 200);
        png(&root.join("test/bent/2.png"), 200);
        png(&root.join("ground_truth/cut/0_mask.png"), 255);
        // One category given directly, then the folder holding it.
        let dirs = categories(&root).unwrap();
        assert_eq!((dirs[0].name.as_str(), dirs[0].prefix.as_str()), ("cable", ""));
        let dirs = categories(t.path()).unwrap();
        assert_eq!(dirs[0].prefix, "cable/");
        let cat = load_category(&dirs[0], &LoadOptions::default()).unwrap();
        assert_eq!(cat.train.n(), 2);
        assert_eq!(cat.defects, ["bent", "cut", "good"]);
        assert_eq!(cat.defect_types, ["bent", "cut"]);
        assert_eq!(cat.test.anomaly_flags().unwrap(), [true, true, false]);
        assert_eq!(
            cat.test.files().unwrap(),
            ["cable/test/bent/2.png", "cable/test/cut/0.png", "cable/test/good/0.png"]
        );
        assert_eq!(cat.train.files().unwrap()[1], "cable/train/good/1.png");
        assert!(cat.masks[0].is_none() && cat.masks[1].is_some() && cat.masks[2].is_none());
        assert!(!cat.pixel_evaluated(0) && cat.pixel_evaluated(1) && cat.pixel_evaluated(2));
        let m = load_mask(cat.masks[1].as_ref().unwrap(), 2, 2).unwrap();
        assert_eq!(m, [true; 4]);

        // A ground_truth folder for `bent` without the mask of 2.png: an error naming it.
        std::fs::create_dir_all(root.join("ground_truth/bent")).unwrap();
        let e = load_category(&dirs[0], &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("2_mask.png") && e.contains("missing mask"), "{e}");

        // A stray folder next to the categories is named.
        std::fs::create_dir_all(t.path().join("notes")).unwrap();
        let e = categories(t.path()).unwrap_err().to_string();
        assert!(e.contains("notes") && e.contains("train/good"), "{e}");
    }
}
