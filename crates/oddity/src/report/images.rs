//! Image grids for the report: inputs, reconstructions and their differences for the most and
//! least anomalous test images, and sample images per cluster. Cells are small PNGs in base64.

use base64::Engine;

use crate::data::{Dataset, Layout};
use crate::detector::Reconstruction;
use crate::error::Result;
use crate::plot::encode_png;
use crate::results::{ImageGrid, RunKey};

/// One image (`c × h × w`, values in [0, 1]) as a base64 PNG: grey for one channel, RGB for three,
/// the first channel otherwise.
pub fn png_base64(img: &[f32], c: usize, h: usize, w: usize) -> Result<String> {
    let px = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let (bytes, color) = if c == 3 {
        let mut b = Vec::with_capacity(h * w * 3);
        for i in 0..h * w {
            b.extend((0..3).map(|ch| px(img[ch * h * w + i])));
        }
        (b, image::ExtendedColorType::Rgb8)
    } else {
        (
            img[..h * w].iter().map(|&v| px(v)).collect(),
            image::ExtendedColorType::L8,
        )
    };
    let png = encode_png(&bytes, w as u32, h as u32, color)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(png))
}

/// Per-pixel anomaly maps of reconstructions: `|x − G(x)|` averaged over the channels, one
/// `h × w` map per image (`n × h × w`, row-major). `None` when `rec` is not of images.
pub fn error_maps(rec: &Reconstruction) -> Option<(usize, usize, Vec<f32>)> {
    let Layout::Images { c, h, w } = rec.layout else {
        return None;
    };
    let plane = h * w;
    let n = rec.input.len().min(rec.output.len()) / (c * plane).max(1);
    let mut maps = vec![0.0f32; n * plane];
    for i in 0..n {
        let (x, y) = (&rec.input[i * c * plane..], &rec.output[i * c * plane..]);
        let map = &mut maps[i * plane..(i + 1) * plane];
        for ch in 0..c {
            for (p, m) in map.iter_mut().enumerate() {
                *m += (x[ch * plane + p] - y[ch * plane + p]).abs() / c as f32;
            }
        }
    }
    Some((h, w, maps))
}

/// The "jet" colour map (blue → cyan → yellow → red) at `v` in [0, 1], as OpenCV's
/// `COLORMAP_JET` that anomalib's visualizer uses (piecewise linear).
pub fn jet(v: f32) -> [u8; 3] {
    let v = v.clamp(0.0, 1.0);
    let ch = |centre: f32| ((1.5 - (4.0 * v - centre).abs()).clamp(0.0, 1.0) * 255.0).round() as u8;
    [ch(3.0), ch(2.0), ch(1.0)]
}

/// Weight of the heat map in [`heat_overlay`]: anomalib's `superimpose_anomaly_map` default (0.4).
pub const OVERLAY_ALPHA: f32 = 0.4;

/// `img` (`c × h × w` in [0, 1], shown in grey) with `map` (`h × w`) coloured by [`jet`] on the
/// scale 0 → `scale` laid over it with weight [`OVERLAY_ALPHA`], as a base64 RGB PNG.
pub fn heat_overlay(img: &[f32], c: usize, h: usize, w: usize, map: &[f32], scale: f32) -> Result<String> {
    let plane = h * w;
    let scale = if scale > 0.0 && scale.is_finite() { scale } else { 1.0 };
    let mut bytes = Vec::with_capacity(plane * 3);
    for p in 0..plane {
        let grey = (0..c).map(|ch| img[ch * plane + p]).sum::<f32>() / c as f32;
        let heat = jet(map[p] / scale);
        for &hc in &heat {
            let v = (1.0 - OVERLAY_ALPHA) * grey.clamp(0.0, 1.0) * 255.0 + OVERLAY_ALPHA * hc as f32;
            bytes.push(v.round().clamp(0.0, 255.0) as u8);
        }
    }
    let png = encode_png(&bytes, w as u32, h as u32, image::ExtendedColorType::Rgb8)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(png))
}

/// Test sample indices ordered from the highest score to the lowest (ties by index).
pub fn by_score_desc(scores: &[f32]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    idx
}

/// A grid of `rec` (the reconstructions of samples `picked`, in that order): rows input,
/// reconstruction and |input − reconstruction|, one column per sample captioned with its score,
/// true label and, where `files` names the samples, its file.
pub fn reconstruction_grid(
    key: RunKey,
    title: &str,
    rec: &Reconstruction,
    picked: &[usize],
    scores: &[f32],
    anomaly: &[bool],
    files: Option<&[String]>,
) -> Result<Option<ImageGrid>> {
    let Layout::Images { c, h, w } = rec.layout else {
        return Ok(None);
    };
    let dim = c * h * w;
    let mut rows = vec![Vec::new(), Vec::new(), Vec::new()];
    let mut columns = Vec::new();
    for (j, &i) in picked.iter().enumerate() {
        let (Some(x), Some(y)) = (
            rec.input.get(j * dim..(j + 1) * dim),
            rec.output.get(j * dim..(j + 1) * dim),
        ) else {
            break;
        };
        let diff: Vec<f32> = x.iter().zip(y).map(|(a, b)| (a - b).abs()).collect();
        rows[0].push(png_base64(x, c, h, w)?);
        rows[1].push(png_base64(y, c, h, w)?);
        rows[2].push(png_base64(&diff, c, h, w)?);
        let truth = if anomaly.get(i).copied().unwrap_or(false) {
            "anomaly"
        } else {
            "normal"
        };
        let mut caption = format!("{:.4} ({truth})", scores.get(i).copied().unwrap_or(f32::NAN));
        if let Some(f) = files.and_then(|f| f.get(i)) {
            caption = format!("{caption} {f}");
        }
        columns.push(caption);
    }
    Ok(Some(ImageGrid {
        dataset: key.dataset.into(),
        model: key.model.into(),
        seed: key.seed,
        title: title.into(),
        row_labels: vec!["input x".into(), "reconstruction G(x)".into(), "|x − G(x)|".into()],
        column_labels: columns,
        cells: rows,
    }))
}

/// Up to `per` images of each cluster (the first members in sample order), one row per cluster.
pub fn cluster_grid(key: RunKey, data: &Dataset, clusters: &[u32], per: usize) -> Result<Option<ImageGrid>> {
    let Layout::Images { c, h, w } = data.layout() else {
        return Ok(None);
    };
    let k = clusters.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut rows = vec![Vec::new(); k];
    let mut sizes = vec![0usize; k];
    for (i, &g) in clusters.iter().enumerate().take(data.n()) {
        sizes[g as usize] += 1;
        if rows[g as usize].len() < per {
            rows[g as usize].push(png_base64(data.row(i), c, h, w)?);
        }
    }
    Ok(Some(ImageGrid {
        dataset: key.dataset.into(),
        model: key.model.into(),
        seed: key.seed,
        title: "sample images per cluster".into(),
        row_labels: (0..k).map(|g| format!("cluster {g} ({} samples)", sizes[g])).collect(),
        column_labels: Vec::new(),
        cells: rows,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Labels;

    fn decode(b64: &str) -> image::DynamicImage {
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        image::load_from_memory(&bytes).unwrap()
    }

    #[test]
    fn grey_and_rgb_images_keep_size_and_values() {
        let img = decode(&png_base64(&[0.0, 1.0, 0.5, 0.25], 1, 2, 2).unwrap()).to_luma8();
        assert_eq!(img.dimensions(), (2, 2));
        assert_eq!(img.into_raw(), vec![0, 255, 128, 64]);
        let rgb = decode(&png_base64(&[1.0, 0.0, 0.0, 1.0, 0.0, 0.0], 3, 1, 2).unwrap()).to_rgb8();
        assert_eq!(rgb.into_raw(), vec![255, 0, 0, 0, 255, 0]);
    }

    #[test]
    fn error_maps_average_the_channels_and_jet_runs_blue_to_red() {
        let rec = Reconstruction {
            layout: Layout::Images { c: 2, h: 1, w: 2 },
            input: vec![1.0, 0.0, 0.5, 0.5],
            output: vec![0.0, 0.0, 0.0, 1.0],
        };
        let (h, w, maps) = error_maps(&rec).unwrap();
        assert_eq!((h, w), (1, 2));
        assert_eq!(maps, vec![0.75, 0.25]);
        assert_eq!(jet(0.0), [0, 0, 128]);
        assert_eq!(jet(0.5), [128, 255, 128]);
        assert_eq!(jet(1.0), [128, 0, 0]);
        // Black image, full error on the second pixel: blue-ish then red-ish, weighted 0.4.
        let o = decode(&heat_overlay(&[0.0, 0.0], 1, 1, 2, &[0.0, 2.0], 2.0).unwrap()).to_rgb8();
        assert_eq!(o.into_raw(), vec![0, 0, 51, 51, 0, 0]);
    }

    #[test]
    fn order_is_most_anomalous_first() {
        assert_eq!(by_score_desc(&[0.2, 0.9, 0.5, 0.9]), vec![1, 3, 2, 0]);
    }

    #[test]
    fn reconstruction_grid_has_three_rows_and_a_column_per_sample() {
        let rec = Reconstruction {
            layout: Layout::Images { c: 1, h: 2, w: 2 },
            input: vec![0.0, 1.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.5],
            output: vec![0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5],
        };
        let key = RunKey {
            dataset: "d",
            model: "m",
            seed: 0,
        };
        let g = reconstruction_grid(
            key,
            "t",
            &rec,
            &[3, 0],
            &[0.1, 0.0, 0.0, 0.9],
            &[false, false, false, true],
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(g.cells.len(), 3);
        assert!(g.cells.iter().all(|r| r.len() == 2));
        assert_eq!(g.column_labels, vec!["0.9000 (anomaly)", "0.1000 (normal)"]);
        let files: Vec<String> = ["a.png", "b.png", "c.png", "d/e.png"].map(String::from).into();
        let named = reconstruction_grid(
            key,
            "t",
            &rec,
            &[3, 0],
            &[0.1, 0.0, 0.0, 0.9],
            &[false; 4],
            Some(&files),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            named.column_labels,
            vec!["0.9000 (normal) d/e.png", "0.1000 (normal) a.png"]
        );
        assert_eq!(decode(&g.cells[2][0]).to_luma8().into_raw(), vec![0, 255, 0, 255]);
    }

    #[test]
    fn cluster_grid_rows_follow_clusters() {
        let data = Dataset::new(
            "img",
            Layout::Images { c: 1, h: 1, w: 1 },
            vec![0.1, 0.2, 0.3],
            Labels::None,
        )
        .unwrap();
        let g = cluster_grid(
            RunKey {
                dataset: "d",
                model: "m",
                seed: 0,
            },
            &data,
            &[1, 0, 1],
            1,
        )
        .unwrap()
        .unwrap();
        assert_eq!(g.row_labels, vec!["cluster 0 (1 samples)", "cluster 1 (2 samples)"]);
        assert_eq!(g.cells.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 1]);
    }
}
