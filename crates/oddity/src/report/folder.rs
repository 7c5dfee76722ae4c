//! The page of a scored folder (`oddity score … --report DIR`): one self-contained HTML file
//! (images and the histogram embedded as base64 PNG) with the most and least anomalous images,
//! their reconstructions and a heat map of the reconstruction error over each, the score
//! histogram with the threshold, and a link to the scores CSV written next to it.
//!
//! Heat maps: `|x − G(x)|` averaged over the channels (GANomaly's generator output; deep-cluster's
//! autoencoder output, whose error is its score with `score=reconstruction`), coloured with
//! [`jet`](super::images::jet) on one scale for the whole page (0 → the largest error among the
//! images shown) and laid over the grey input with weight 0.4 (anomalib's
//! `superimpose_anomaly_map`). Models that do not reconstruct show the images only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine;

use super::html::{CSS, esc};
use super::images::{by_score_desc, error_maps, heat_overlay, png_base64};
use crate::data::{Dataset, Layout};
use crate::error::{Error, Result};
use crate::output::write_file;
use crate::plot::score_histogram;
use crate::registry::AnyDetector;

/// Images shown at each end of the ranking by default.
pub const DEFAULT_IMAGES: usize = 8;

/// What the page is about.
#[derive(Debug, Clone)]
pub struct FolderPage<'a> {
    /// The scored data as the user named it (`--data`).
    pub data_path: &'a str,
    /// The model folder (`--model-dir`).
    pub model_dir: &'a str,
    /// One score per sample of the data, in its order.
    pub scores: &'a [f32],
    pub threshold: f32,
    /// The scores CSV, written to `<out>/scores.csv` and linked from the page.
    pub csv: &'a str,
    /// Images shown at each end of the ranking.
    pub images: usize,
}

/// What [`build_folder`] wrote.
#[derive(Debug, Clone)]
pub struct FolderWritten {
    pub html: PathBuf,
    pub csv: PathBuf,
    /// Samples shown, most anomalous first, then the least anomalous (lowest score first).
    pub top: Vec<usize>,
    pub bottom: Vec<usize>,
    /// Whether the page has heat maps (the model reconstructs images).
    pub heat_maps: bool,
}

/// Writes `<out>/report.html` and `<out>/scores.csv` (`out` created if missing) for `data`
/// scored by `det` (see the module docs).
pub fn build_folder(det: &dyn AnyDetector, data: &Dataset, page: &FolderPage, out: &Path) -> Result<FolderWritten> {
    let n = data.n();
    if page.scores.len() != n {
        return Err(Error::shape(
            format!("{}: scores", data.name()),
            format!("{n}, one per sample"),
            page.scores.len(),
        ));
    }
    let order = by_score_desc(page.scores);
    let k_top = page.images.min(n);
    let k_bottom = page.images.min(n - k_top);
    let top = order[..k_top].to_vec();
    let bottom: Vec<usize> = order[n - k_bottom..].iter().rev().copied().collect();
    let mut shown = top.clone();
    shown.extend(&bottom);

    // Images as the model sees them, their reconstructions and error maps, one row per shown sample.
    let images = Thumbs::new(det, data, &shown)?;
    let flagged = page.scores.iter().filter(|&&s| s > page.threshold).count();

    let mut body = String::new();
    let _ = write!(
        body,
        "<table class=\"kv\"><tr><td>data</td><td>{}</td></tr><tr><td>model</td><td>{} (<code>{}</code>)</td></tr>\
         <tr><td>samples</td><td>{n} {}</td></tr><tr><td>threshold</td><td>{:.6} (fitted on the training scores); \
         {flagged} of {n} above it</td></tr><tr><td>scores</td><td><a href=\"scores.csv\">scores.csv</a> \
         (index, file, score, scaled score, prediction)</td></tr></table>\n",
        esc(page.data_path),
        esc(det.kind()),
        esc(page.model_dir),
        data.layout().describe(),
        page.threshold,
    );
    body.push_str("<h2 id=\"histogram\">Score histogram</h2>\n");
    let flags = data
        .anomaly_flags()
        .map(<[bool]>::to_vec)
        .unwrap_or_else(|| vec![false; n]);
    let title = format!("{} scores on {}", det.kind(), page.data_path);
    let fig = score_histogram(&title, page.scores, &flags, page.threshold, (720, 400))?;
    let _ = writeln!(
        body,
        "<figure><img alt=\"score histogram\" src=\"data:image/png;base64,{}\"><figcaption>Scores of the {n} \
         samples; the line is the threshold (score above it → predicted anomaly).</figcaption></figure>",
        base64::engine::general_purpose::STANDARD.encode(&fig.png)
    );
    for (id, heading, picked, offset) in [
        ("top", "Most anomalous", &top, 0),
        ("bottom", "Least anomalous", &bottom, top.len()),
    ] {
        let _ = writeln!(body, "<h2 id=\"{id}\">{heading} ({})</h2>", picked.len());
        if picked.is_empty() {
            body.push_str("<p class=\"note\">No samples left to show.</p>\n");
            continue;
        }
        rows(&mut body, data, page, &images, picked, offset)?;
    }
    if images.heat {
        body.push_str(
            "<p class=\"note\">Heat map: |x − G(x)| averaged over the channels, on one colour scale for the page \
             (blue = 0, red = the largest error among the images shown), laid over the grey input with weight 0.4. \
             Images are shown at the model's input size.</p>\n",
        );
    } else if images.cells.is_some() {
        body.push_str("<p class=\"note\">This model does not reconstruct its input: no heat maps.</p>\n");
    }

    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>oddity — {src}</title>\
         <style>{CSS}{EXTRA_CSS}</style></head><body>\n<h1>oddity: scored folder</h1><p class=\"src\">{src}</p>\
         <nav><a href=\"#histogram\">Score histogram</a> <a href=\"#top\">Most anomalous</a> \
         <a href=\"#bottom\">Least anomalous</a></nav>\n{body}</body></html>\n",
        src = esc(page.data_path),
    );
    crate::output::create_dirs(out)?;
    let html_path = out.join("report.html");
    let csv_path = out.join("scores.csv");
    write_file(&csv_path, page.csv.as_bytes())?;
    write_file(&html_path, html.as_bytes())?;
    Ok(FolderWritten {
        html: html_path,
        csv: csv_path,
        top,
        bottom,
        heat_maps: images.heat,
    })
}

const EXTRA_CSS: &str = ".ranked td{vertical-align:middle}.ranked img{width:128px;height:128px;image-rendering:pixelated;\
border:1px solid #eee}.ranked td.file{text-align:left;font-family:monospace;max-width:420px;word-break:break-all}";

/// Base64 PNGs of the shown samples: input, reconstruction and heat map (`None` cells when the
/// data are not images).
struct Thumbs {
    /// Per shown sample (in `shown` order): input, reconstruction, heat map (empty when absent).
    cells: Option<Vec<[String; 3]>>,
    heat: bool,
}

impl Thumbs {
    fn new(det: &dyn AnyDetector, data: &Dataset, shown: &[usize]) -> Result<Thumbs> {
        let Layout::Images { c, h, w } = data.layout() else {
            return Ok(Thumbs {
                cells: None,
                heat: false,
            });
        };
        if shown.is_empty() {
            return Ok(Thumbs {
                cells: Some(Vec::new()),
                heat: false,
            });
        }
        let picked = data.select(shown)?;
        let rec = det.reconstruct(&picked)?;
        let maps = rec.as_ref().and_then(error_maps);
        let (Some(rec), Some((mh, mw, maps))) = (rec.as_ref(), maps) else {
            let cells = (0..shown.len())
                .map(|j| Ok([png_base64(picked.row(j), c, h, w)?, String::new(), String::new()]))
                .collect::<Result<_>>()?;
            return Ok(Thumbs {
                cells: Some(cells),
                heat: false,
            });
        };
        let rc = rec.layout.dim() / (mh * mw);
        let dim = rc * mh * mw;
        let scale = maps.iter().copied().fold(0.0f32, f32::max);
        let mut cells = Vec::with_capacity(shown.len());
        for j in 0..shown.len() {
            let (Some(x), Some(y), Some(map)) = (
                rec.input.get(j * dim..(j + 1) * dim),
                rec.output.get(j * dim..(j + 1) * dim),
                maps.get(j * mh * mw..(j + 1) * mh * mw),
            ) else {
                return Err(Error::Backend(format!(
                    "{}: the model returned fewer reconstructions than images",
                    data.name()
                )));
            };
            cells.push([
                png_base64(x, rc, mh, mw)?,
                png_base64(y, rc, mh, mw)?,
                heat_overlay(x, rc, mh, mw, map, scale)?,
            ]);
        }
        Ok(Thumbs {
            cells: Some(cells),
            heat: true,
        })
    }
}

/// One table row per sample of `picked` (`offset`: where they start among the shown samples).
fn rows(
    body: &mut String,
    data: &Dataset,
    page: &FolderPage,
    thumbs: &Thumbs,
    picked: &[usize],
    offset: usize,
) -> Result<()> {
    let files = data.files();
    body.push_str("<table class=\"ranked\"><tr><th>rank</th><th>file</th><th>score</th><th>prediction</th>");
    if thumbs.cells.is_some() {
        body.push_str("<th>input x</th>");
        if thumbs.heat {
            body.push_str("<th>reconstruction G(x)</th><th>|x − G(x)| heat map</th>");
        }
    }
    body.push_str("</tr>\n");
    let rank_of = by_score_desc(page.scores);
    for (j, &i) in picked.iter().enumerate() {
        let rank = rank_of.iter().position(|&r| r == i).map_or(0, |p| p + 1);
        let name = files
            .and_then(|f| f.get(i))
            .cloned()
            .unwrap_or_else(|| format!("sample {i}"));
        let s = page.scores[i];
        let pred = if s > page.threshold { "anomaly" } else { "normal" };
        let _ = write!(
            body,
            "<tr><td>{rank}</td><td class=\"file\">{}</td><td>{s:.6}</td><td>{pred}</td>",
            esc(&name)
        );
        if let Some(cells) = &thumbs.cells {
            let cell = cells
                .get(offset + j)
                .ok_or_else(|| Error::shape("folder report: thumbnails", "one per shown image", "fewer"))?;
            let shown = if thumbs.heat { 3 } else { 1 };
            for (b64, alt) in cell.iter().zip(["input", "reconstruction", "heat map"]).take(shown) {
                let _ = write!(
                    body,
                    "<td><img alt=\"{alt} of {}\" src=\"data:image/png;base64,{b64}\"></td>",
                    esc(&name)
                );
            }
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</table>\n");
    Ok(())
}
