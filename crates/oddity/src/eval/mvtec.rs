//! The MVTec AD protocol (Bergmann et al., CVPR 2019): per category, fit on `train/good`, score
//! every image of `test/`, and report
//!
//! - image level: ROC-AUC (`roc_auc`) and average precision (`average_precision`, AUC-PR) of the
//!   model's scores against "not in test/good", for the category and for each defect type (its
//!   images against the good test images);
//! - pixel level, where `ground_truth` masks exist and the model reconstructs its input
//!   (GANomaly, deep-cluster): ROC-AUC over every pixel of the evaluated test images
//!   (`pixel_roc_auc`, anomalib's "pixel AUROC"), the pixel's score being the anomaly map
//!   `|x − G(x)|` averaged over the channels at the model's input size, its label the mask
//!   resized to that size (nearest pixel). Good test images count with all-normal masks; defect
//!   images of a type without masks are left out.
//!
//! The layout and how masks are found: [`crate::data::mvtec`]. Records carry the category, and
//! the defect type for per-defect rows (dataset `"<category> / <defect>"`).

use std::time::Instant;

use super::{Evaluation, GRID_IMAGES};
use crate::data::Dataset;
use crate::data::mvtec::{Category, GOOD, load_mask};
use crate::detector::{FitContext, Reconstruction};
use crate::error::{Error, Result};
use crate::metrics::{average_precision, roc_auc};
use crate::progress::Progress;
use crate::registry::{AnyDetector, ModelEntry, Settings};
use crate::report::HistoryRecorder;
use crate::report::images::{by_score_desc, error_maps, heat_overlay, png_base64};
use crate::results::{Detail, HistoryRecord, ImageGrid, MetricRecord, ScoresRecord};

/// What [`pixel_maps`] reconstructs with (a detector's `reconstruct`).
type Reconstructor<'a> = dyn Fn(&Dataset) -> Result<Option<Reconstruction>> + 'a;

/// Test images reconstructed at a time for the pixel maps.
const CHUNK: usize = 64;

/// Anomaly maps and masks of the test images that take part in pixel-level metrics.
struct PixelMaps {
    /// Per test image: its `h × w` map and mask, or `None` when it is not evaluated.
    maps: Vec<Option<(Vec<f32>, Vec<bool>)>>,
}

impl PixelMaps {
    /// Pixel ROC-AUC over the evaluated images among `images`; `None` without a defect pixel.
    fn roc_auc(&self, images: impl Iterator<Item = usize>) -> Result<Option<f64>> {
        let (mut labels, mut scores) = (Vec::new(), Vec::new());
        for i in images {
            if let Some((map, mask)) = &self.maps[i] {
                labels.extend_from_slice(mask);
                scores.extend_from_slice(map);
            }
        }
        let positives = labels.iter().filter(|&&l| l).count();
        if positives == 0 || positives == labels.len() {
            return Ok(None);
        }
        roc_auc(&labels, &scores).map(Some)
    }
}

/// Runs the protocol on one category with `seed` (see the module docs). `seconds` in the records
/// is fit + scoring + pixel maps.
pub fn evaluate_mvtec(
    entry: &ModelEntry,
    settings: &Settings,
    cat: &Category,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Evaluation> {
    let start = Instant::now();
    let recorder = HistoryRecorder::new(progress);
    let ctx = FitContext::new(seed, &recorder);
    let det = entry.fit(settings, &cat.train, &ctx)?;
    let scores = det.score(&cat.test)?;
    let pixels = if cat.has_masks() {
        pixel_maps(&|d: &Dataset| det.reconstruct(d), cat)?
    } else {
        None
    };
    let seconds = start.elapsed().as_secs_f64();
    let flags = cat.test.require_anomaly_flags()?.to_vec();
    let name = cat.dir.name.as_str();
    let rec = |defect: Option<&str>, metric: &str, value: f64| MetricRecord {
        dataset: match defect {
            None => name.to_string(),
            Some(d) => format!("{name} / {d}"),
        },
        model: entry.name.to_string(),
        seed,
        metric: metric.to_string(),
        value,
        seconds,
        category: Some(name.to_string()),
        defect: defect.map(str::to_string),
    };
    let mut records = Vec::new();
    let all = 0..flags.len();
    records.push(rec(None, "roc_auc", roc_auc(&flags, &scores)?));
    records.push(rec(None, "average_precision", average_precision(&flags, &scores)?));
    if let Some(p) = &pixels
        && let Some(v) = p.roc_auc(all.clone())?
    {
        records.push(rec(None, "pixel_roc_auc", v));
    }
    for defect in &cat.defect_types {
        let idx: Vec<usize> = all
            .clone()
            .filter(|&i| cat.defects[i] == GOOD || cat.defects[i] == *defect)
            .collect();
        let f: Vec<bool> = idx.iter().map(|&i| flags[i]).collect();
        let s: Vec<f32> = idx.iter().map(|&i| scores[i]).collect();
        let d = Some(defect.as_str());
        records.push(rec(d, "roc_auc", roc_auc(&f, &s)?));
        records.push(rec(d, "average_precision", average_precision(&f, &s)?));
        if let Some(p) = &pixels
            && let Some(v) = p.roc_auc(idx.iter().copied())?
        {
            records.push(rec(d, "pixel_roc_auc", v));
        }
    }

    let mut details = vec![Detail::Scores(ScoresRecord {
        dataset: name.into(),
        model: entry.name.into(),
        seed,
        threshold: det.threshold(),
        anomaly: flags.iter().map(|&f| u8::from(f)).collect(),
        files: cat.test.files().map(<[String]>::to_vec).unwrap_or_default(),
        scores: scores.clone(),
    })];
    let history = recorder.take();
    if !history.is_empty() {
        details.push(Detail::History(HistoryRecord {
            dataset: name.into(),
            model: entry.name.into(),
            seed,
            series: history,
        }));
    }
    let order = by_score_desc(&scores);
    let k = GRID_IMAGES.min(order.len() / 2);
    if k > 0 {
        for (title, picked) in [
            ("most anomalous test images", order[..k].to_vec()),
            (
                "least anomalous test images",
                order[order.len() - k..].iter().rev().copied().collect(),
            ),
        ] {
            if let Some(g) = grid(det.as_ref(), cat, name, seed, title, &picked, &scores)? {
                details.push(Detail::Images(g));
            }
        }
    }
    Ok(Evaluation {
        records,
        details,
        clusterings: Vec::new(),
    })
}

/// The anomaly maps and resized masks of the evaluated test images, or `None` when the model
/// does not reconstruct images.
fn pixel_maps(reconstruct: &Reconstructor, cat: &Category) -> Result<Option<PixelMaps>> {
    let evaluated: Vec<usize> = (0..cat.test.n()).filter(|&i| cat.pixel_evaluated(i)).collect();
    let mut maps: Vec<Option<(Vec<f32>, Vec<bool>)>> = vec![None; cat.test.n()];
    let mut any = false;
    for chunk in evaluated.chunks(CHUNK) {
        let Some(rec) = reconstruct(&cat.test.select(chunk)?)? else {
            return Ok(None);
        };
        let Some((h, w, m)) = error_maps(&rec) else {
            return Ok(None);
        };
        any = true;
        for (j, &i) in chunk.iter().enumerate() {
            let map = m
                .get(j * h * w..(j + 1) * h * w)
                .ok_or_else(|| Error::Backend(format!("{}: a reconstruction is missing", cat.dir.name)))?
                .to_vec();
            let mask = match &cat.masks[i] {
                Some(path) => load_mask(path, h, w)?,
                None => vec![false; h * w],
            };
            maps[i] = Some((map, mask));
        }
    }
    Ok(any.then_some(PixelMaps { maps }))
}

/// Rows input, reconstruction, heat map of `|x − G(x)|` over the input and ground-truth mask for
/// the test images `picked`; one colour scale for the grid (0 → the largest error in it).
fn grid(
    det: &dyn AnyDetector,
    cat: &Category,
    name: &str,
    seed: u64,
    title: &str,
    picked: &[usize],
    scores: &[f32],
) -> Result<Option<ImageGrid>> {
    let Some(rec) = det.reconstruct(&cat.test.select(picked)?)? else {
        return Ok(None);
    };
    let Some((h, w, maps)) = error_maps(&rec) else {
        return Ok(None);
    };
    let c = rec.layout.dim() / (h * w);
    let dim = c * h * w;
    let scale = maps.iter().copied().fold(0.0f32, f32::max);
    let mut rows = vec![Vec::new(); 4];
    let mut columns = Vec::new();
    let files = cat.test.files();
    for (j, &i) in picked.iter().enumerate() {
        let (Some(x), Some(y), Some(map)) = (
            rec.input.get(j * dim..(j + 1) * dim),
            rec.output.get(j * dim..(j + 1) * dim),
            maps.get(j * h * w..(j + 1) * h * w),
        ) else {
            break;
        };
        rows[0].push(png_base64(x, c, h, w)?);
        rows[1].push(png_base64(y, c, h, w)?);
        rows[2].push(heat_overlay(x, c, h, w, map, scale)?);
        rows[3].push(match &cat.masks[i] {
            Some(path) => {
                let m: Vec<f32> = load_mask(path, h, w)?
                    .into_iter()
                    .map(|b| f32::from(u8::from(b)))
                    .collect();
                png_base64(&m, 1, h, w)?
            }
            None if cat.defects[i] == GOOD => png_base64(&vec![0.0; h * w], 1, h, w)?,
            None => String::new(),
        });
        let mut caption = format!("{:.4} ({})", scores[i], cat.defects[i]);
        if let Some(f) = files.and_then(|f| f.get(i)) {
            caption = format!("{caption} {f}");
        }
        columns.push(caption);
    }
    Ok(Some(ImageGrid {
        dataset: name.into(),
        model: det.kind().into(),
        seed,
        title: title.into(),
        row_labels: vec![
            "input x".into(),
            "reconstruction G(x)".into(),
            "|x − G(x)| heat map".into(),
            "ground truth".into(),
        ],
        column_labels: columns,
        cells: rows,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_auc_pools_the_evaluated_images_and_skips_a_set_without_defect_pixels() {
        let p = PixelMaps {
            maps: vec![
                Some((vec![0.1, 0.9], vec![false, true])),
                Some((vec![0.2, 0.3], vec![false, false])),
                None,
            ],
        };
        // Pixels 0.1, 0.9 (defect), 0.2, 0.3: the defect pixel is above all three normals.
        assert_eq!(p.roc_auc(0..3).unwrap(), Some(1.0));
        assert_eq!(p.roc_auc([1, 2].into_iter()).unwrap(), None);
    }

    /// A flat grey 8×8 texture; `patch` = (x0, y0, width, height) painted white.
    fn save(path: &std::path::Path, patch: Option<(u32, u32, u32, u32)>, mask: bool) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let inside =
            |x: u32, y: u32| patch.is_some_and(|(x0, y0, w, h)| (x0..x0 + w).contains(&x) && (y0..y0 + h).contains(&y));
        image::GrayImage::from_fn(8, 8, |x, y| {
            image::Luma([match (inside(x, y), mask) {
                (true, _) => 255,
                (false, true) => 0,
                (false, false) => 128,
            }])
        })
        .save(path)
        .unwrap();
    }

    /// Maps and masks are paired image by image, row-major: with a "reconstruction" that is the
    /// flat texture, the two pasted (non-square, off-diagonal) patches are exactly the pixels with
    /// error, so pixel ROC-AUC is 1; the masks swapped between the images, it falls far below.
    #[test]
    fn maps_and_masks_line_up_image_by_image() {
        use crate::data::LoadOptions;
        use crate::data::mvtec::{categories, load_category};
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("c");
        save(&root.join("train/good/0.png"), None, false);
        save(&root.join("test/good/0.png"), None, false);
        let (a, b) = ((5, 0, 3, 1), (0, 4, 2, 3));
        save(&root.join("test/spot/0.png"), Some(a), false);
        save(&root.join("test/spot/1.png"), Some(b), false);
        let masks = |first, second| {
            save(&root.join("ground_truth/spot/0_mask.png"), Some(first), true);
            save(&root.join("ground_truth/spot/1_mask.png"), Some(second), true);
            let dir = &categories(&root).unwrap()[0];
            load_category(dir, &LoadOptions::default()).unwrap()
        };
        let flat = |d: &Dataset| -> Result<Option<Reconstruction>> {
            Ok(Some(Reconstruction {
                layout: d.layout(),
                input: d.x().to_vec(),
                output: vec![128.0 / 255.0; d.x().len()],
            }))
        };
        let cat = masks(a, b);
        let p = pixel_maps(&flat, &cat).unwrap().unwrap();
        assert_eq!(p.roc_auc(0..3).unwrap(), Some(1.0));
        let swapped = masks(b, a);
        let p = pixel_maps(&flat, &swapped).unwrap().unwrap();
        let auc = p.roc_auc(0..3).unwrap().unwrap();
        assert!(auc < 0.6, "{auc}");
        // A model that does not reconstruct: no pixel maps.
        assert!(pixel_maps(&|_: &Dataset| Ok(None), &cat).unwrap().is_none());
    }
}
