//! The HTML report: one self-contained file (charts and image grids embedded as base64 PNG),
//! plus every chart as PNG and SVG in `plots/`, and the results table as Markdown and CSV.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::error::{Error, Result};
use crate::metrics::{average_precision, pr_curve, roc_auc, roc_curve};
use crate::output::write_file as write_atomic;
use crate::plot::{CurveKind, Figure, line_chart, ranking_curves, scatter, score_histogram};
use crate::results::sensitivity::{self, Curve};
use crate::results::{Detail, EmbeddingMap, HistoryRecord, ImageGrid, Results, RunInfo, ScoresRecord};
use crate::results::{csv_table, higher_is_better, keys, markdown_table, metrics, stat};

/// Chart size in pixels.
const SIZE: (u32, u32) = (720, 480);

/// What [`build`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub html: PathBuf,
    pub markdown: PathBuf,
    pub csv: PathBuf,
    /// Charts written to `plots/` (each as `.png` and `.svg`).
    pub charts: usize,
    /// Section ids present in the report, in order.
    pub sections: Vec<&'static str>,
}

/// Builds the report for `results` into `out` (created if missing): `report.html`,
/// `results.md`, `results.csv` and `plots/`. `source` names the results file in the report.
pub fn build(results: &Results, source: &Path, out: &Path) -> Result<Written> {
    let plots = out.join("plots");
    std::fs::create_dir_all(&plots).map_err(|e| Error::io(&plots, e))?;
    let mut page = Page {
        body: String::new(),
        toc: Vec::new(),
        plots,
        charts: 0,
    };

    page.section("provenance", "What produced these results");
    provenance(&mut page, results, source);

    page.section("results", "Results");
    let md = results_tables(&mut page, results);

    let curves_ap = sensitivity::curves(&results.metrics, "average_precision");
    let curves_roc = sensitivity::curves(&results.metrics, "roc_auc");
    if !curves_ap.is_empty() || !curves_roc.is_empty() {
        page.section("sensitivity", "Sensitivity to hyperparameters");
        sensitivity_section(&mut page, &curves_ap, &curves_roc)?;
    }

    let scores: Vec<&ScoresRecord> = results.select(|d| if let Detail::Scores(s) = d { Some(s) } else { None });
    if !scores.is_empty() {
        page.section("curves", "ROC and precision–recall curves");
        curves(&mut page, &scores)?;
        page.section("histograms", "Score histograms");
        histograms(&mut page, &scores)?;
    }
    let grids: Vec<&ImageGrid> = results.select(|d| if let Detail::Images(g) = d { Some(g) } else { None });
    if !grids.is_empty() {
        page.section("images", "Images");
        for g in &grids {
            image_grid(&mut page, g);
        }
    }
    let maps: Vec<&EmbeddingMap> = results.select(|d| if let Detail::Embedding(m) = d { Some(m) } else { None });
    if !maps.is_empty() {
        page.section("embedding", "Latent space");
        for m in &maps {
            embedding(&mut page, m)?;
        }
    }
    let histories: Vec<&HistoryRecord> = results.select(|d| if let Detail::History(h) = d { Some(h) } else { None });
    if !histories.is_empty() {
        page.section("training", "Training curves");
        training(&mut page, &histories)?;
    }
    if scores.is_empty() && grids.is_empty() && maps.is_empty() && histories.is_empty() {
        page.body.push_str(
            "<p class=\"note\">This results file has metrics only (no scores, images or training curves): \
             it was written by an older oddity or without details. Re-run <code>oddity eval … --report DIR</code> \
             for the pictures.</p>\n",
        );
    }

    let (charts, sections) = (page.charts, page.toc.iter().map(|(id, _)| *id).collect());
    let html = page.finish(source);
    let html_path = out.join("report.html");
    write_atomic(&html_path, html.as_bytes())?;
    let md_path = out.join("results.md");
    write_atomic(&md_path, md.as_bytes())?;
    let csv_path = out.join("results.csv");
    write_atomic(&csv_path, csv_table(&results.metrics).as_bytes())?;
    Ok(Written {
        html: html_path,
        markdown: md_path,
        csv: csv_path,
        charts,
        sections,
    })
}

struct Page {
    body: String,
    toc: Vec<(&'static str, &'static str)>,
    plots: PathBuf,
    charts: usize,
}

impl Page {
    fn section(&mut self, id: &'static str, title: &'static str) {
        self.toc.push((id, title));
        let _ = writeln!(self.body, "<h2 id=\"{id}\">{title}</h2>");
    }

    /// Writes `fig` to `plots/<name>.{png,svg}` and embeds the PNG.
    fn figure(&mut self, name: &str, fig: &Figure, alt: &str) -> Result<()> {
        let stem = self.plots.join(slug(name));
        fig.write(&stem)?;
        self.charts += 1;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&fig.png);
        let file = stem
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            self.body,
            "<figure><img alt=\"{}\" src=\"data:image/png;base64,{b64}\"><figcaption><a href=\"plots/{}.svg\">SVG</a> · \
             <a href=\"plots/{}.png\">PNG</a></figcaption></figure>",
            esc(alt),
            esc(&file),
            esc(&file)
        );
        Ok(())
    }

    fn finish(self, source: &Path) -> String {
        let mut toc = String::new();
        for (id, title) in &self.toc {
            let _ = write!(toc, "<a href=\"#{id}\">{title}</a> ");
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>oddity report — {src}</title><style>{CSS}</style></head><body>\n\
             <h1>oddity report</h1><p class=\"src\">{src}</p><nav>{toc}</nav>\n{body}</body></html>\n",
            src = esc(&source.display().to_string()),
            body = self.body
        )
    }
}

pub(crate) const CSS: &str = "body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1500px;padding:0 16px;color:#222}\
h1{margin-bottom:0}.src{color:#666;margin-top:4px}nav a{margin-right:14px}\
h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:36px}\
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}\
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}td.best{font-weight:bold;background:#eaf4ea}\
figure{display:inline-block;margin:6px;vertical-align:top;width:calc(50% - 16px);max-width:720px}figure img{width:100%;border:1px solid #eee}\
figcaption{font-size:12px;color:#666}.grid td{padding:2px;text-align:center;font-size:11px}\
.grid img{width:64px;height:64px;image-rendering:pixelated}.note{color:#666;font-style:italic}\
.kv td{text-align:left}code{background:#f4f4f4;padding:1px 4px}";

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A file-name-safe version of `s`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn provenance(page: &mut Page, results: &Results, source: &Path) {
    let runs: Vec<&RunInfo> = results.runs();
    if runs.is_empty() {
        let _ = writeln!(
            page.body,
            "<p class=\"note\">{} has no run record (written before oddity recorded provenance).</p>",
            esc(&source.display().to_string())
        );
        return;
    }
    for (i, r) in runs.iter().enumerate() {
        let data: Vec<String> = r
            .data
            .iter()
            .map(|d| {
                format!(
                    "{} ({} bytes, sha256 <code>{}</code>)",
                    esc(&d.path),
                    d.bytes,
                    &d.sha256
                )
            })
            .collect();
        let seeds: Vec<String> = r.seeds.iter().map(u64::to_string).collect();
        let _ = writeln!(
            page.body,
            "<table class=\"kv\"><tr><th colspan=\"2\">run {}</th></tr>\
             <tr><td>command</td><td><code>{}</code></td></tr>\
             <tr><td>oddity</td><td>{} (git {})</td></tr>\
             <tr><td>seeds</td><td>{}</td></tr><tr><td>data</td><td>{}</td></tr>\
             <tr><td>machine</td><td>{} cores</td></tr>\
             <tr><td>started</td><td>{} (Unix time {})</td></tr><tr><td>wall time</td><td>{:.1} s</td></tr></table>",
            i + 1,
            esc(&r.command.join(" ")),
            esc(&r.oddity_version),
            esc(r.git_revision.as_deref().unwrap_or("unknown")),
            seeds.join(", "),
            data.join("<br>"),
            r.cores,
            super::provenance::utc_date_time(r.started_unix),
            r.started_unix,
            r.wall_seconds
        );
    }
}

/// HTML tables per metric (best per row marked) and the same as Markdown.
fn results_tables(page: &mut Page, results: &Results) -> String {
    let records = &results.metrics;
    let mut md = String::new();
    if records.is_empty() {
        page.body.push_str("<p class=\"note\">No metric records.</p>\n");
        return md;
    }
    let (datasets, models) = keys(records);
    if models.len() == 1 {
        single_model_table(page, records, &datasets, &models[0]);
    }
    for metric in metrics(records) {
        let _ = writeln!(md, "### {metric}\n\n{}", markdown_table(records, &metric));
        if models.len() == 1 {
            continue;
        }
        let _ = write!(
            page.body,
            "<h3>{}</h3><table><tr><th>dataset</th>{}</tr>",
            esc(&metric),
            models
                .iter()
                .map(|m| format!("<th>{}</th>", esc(m)))
                .collect::<String>()
        );
        for ds in &datasets {
            let stats: Vec<_> = models.iter().map(|m| stat(records, ds, m, &metric)).collect();
            if stats.iter().all(Option::is_none) {
                continue;
            }
            let best = stats.iter().flatten().map(|s| s.mean).fold(f64::NEG_INFINITY, f64::max);
            let _ = write!(page.body, "<tr><td>{}</td>", esc(ds));
            for s in &stats {
                match s {
                    None => page.body.push_str("<td>–</td>"),
                    Some(s) => {
                        let class = if s.mean == best && higher_is_better(&metric) && models.len() > 1 {
                            " class=\"best\""
                        } else {
                            ""
                        };
                        let sd = if s.n > 1 {
                            format!(" ± {:.3}", s.sd)
                        } else {
                            String::new()
                        };
                        let _ = write!(
                            page.body,
                            "<td{class} title=\"{} run(s), {:.2} s per run\">{:.3}{sd}</td>",
                            s.n, s.seconds, s.mean
                        );
                    }
                }
            }
            page.body.push_str("</tr>\n");
        }
        page.body.push_str("</table>\n");
    }
    page.body.push_str(
        "<p class=\"note\">Mean ± sample standard deviation over seeds; best mean per row highlighted \
         (scores only, not timings). Also in <a href=\"results.md\">results.md</a> and \
         <a href=\"results.csv\">results.csv</a>.</p>\n",
    );
    md
}

/// A chart per hyperparameter (a line per dataset and their mean against the value's position)
/// and a table of the means with their change from the reference value.
fn sensitivity_section(page: &mut Page, ap: &[Curve], roc: &[Curve]) -> Result<()> {
    page.body.push_str(
        "<p class=\"note\">From the model variants (<code>name[key=value]</code>): each curve goes through the \
         variant naming the most keys (the reference, <b>bold</b>) and every one-key variant of its key. A point is \
         the mean over the datasets every point has, of the mean over seeds.</p>\n",
    );
    page.body.push_str(
        "<table><tr><th>model</th><th>key</th><th>value</th><th>mean AUC-PR</th><th>Δ</th>\
         <th>mean ROC-AUC</th><th>Δ</th><th>datasets</th></tr>\n",
    );
    for c in ap {
        let r = roc
            .iter()
            .find(|r| r.base == c.base && r.key == c.key && r.values == c.values);
        for (i, v) in c.values.iter().enumerate() {
            let cell = |x: Option<(&Curve, usize)>| match x {
                Some((c, i)) => format!(
                    "<td>{:.3}</td><td>{:+.3}</td>",
                    c.mean[i],
                    c.mean[i] - c.mean[c.reference]
                ),
                None => "<td>–</td><td>–</td>".to_string(),
            };
            let value = if i == c.reference {
                format!("<b>{}</b>", esc(v))
            } else {
                esc(v)
            };
            let _ = writeln!(
                page.body,
                "<tr><td>{}</td><td>{}</td><td>{value}</td>{}{}<td>{}</td></tr>",
                esc(&c.base),
                esc(&c.key),
                cell(Some((c, i))),
                cell(r.map(|r| (r, i))),
                c.datasets.len()
            );
        }
    }
    page.body.push_str("</table>\n");
    for c in ap.iter().chain(roc) {
        let steps: Vec<u64> = (1..=c.values.len() as u64).collect();
        let mut lines: Vec<(String, Vec<u64>, Vec<f64>)> = c
            .datasets
            .iter()
            .map(|(d, v)| (d.clone(), steps.clone(), v.clone()))
            .collect();
        lines.push(("mean".to_string(), steps.clone(), c.mean.clone()));
        let legend: Vec<String> = c
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{} = {v}", i + 1))
            .collect();
        let title = format!("{} {} vs {}", c.base, c.metric, c.key);
        let Ok(fig) = line_chart(&title, &format!("{}: {}", c.key, legend.join(", ")), &lines, SIZE) else {
            continue;
        };
        page.figure(&format!("sensitivity-{}-{}-{}", c.base, c.metric, c.key), &fig, &title)?;
    }
    Ok(())
}

/// One model: a single table, datasets × metrics.
fn single_model_table(page: &mut Page, records: &[crate::results::MetricRecord], datasets: &[String], model: &str) {
    let names = metrics(records);
    let _ = write!(
        page.body,
        "<h3>{}</h3><table><tr><th>dataset</th>{}</tr>",
        esc(model),
        names.iter().map(|m| format!("<th>{}</th>", esc(m))).collect::<String>()
    );
    for ds in datasets {
        let _ = write!(page.body, "<tr><td>{}</td>", esc(ds));
        for m in &names {
            match stat(records, ds, model, m) {
                None => page.body.push_str("<td>–</td>"),
                Some(s) => {
                    let sd = if s.n > 1 {
                        format!(" ± {:.3}", s.sd)
                    } else {
                        String::new()
                    };
                    let _ = write!(page.body, "<td title=\"{} run(s)\">{:.3}{sd}</td>", s.n, s.mean);
                }
            }
        }
        page.body.push_str("</tr>\n");
    }
    page.body.push_str("</table>\n");
}

/// The first scores record of each (dataset, model), in order of appearance.
fn first_per_model<'a>(scores: &[&'a ScoresRecord]) -> Vec<(String, Vec<&'a ScoresRecord>)> {
    let mut out: Vec<(String, Vec<&ScoresRecord>)> = Vec::new();
    for s in scores {
        let i = match out.iter().position(|(d, _)| *d == s.dataset) {
            Some(i) => i,
            None => {
                out.push((s.dataset.clone(), Vec::new()));
                out.len() - 1
            }
        };
        if !out[i].1.iter().any(|o| o.model == s.model) {
            out[i].1.push(s);
        }
    }
    out
}

fn flags(s: &ScoresRecord) -> Vec<bool> {
    s.anomaly.iter().map(|&a| a != 0).collect()
}

fn curves(page: &mut Page, scores: &[&ScoresRecord]) -> Result<()> {
    for (dataset, runs) in first_per_model(scores) {
        let (mut roc, mut pr) = (Vec::new(), Vec::new());
        for s in &runs {
            let f = flags(s);
            if roc_auc(&f, &s.scores).is_err() {
                continue; // a single class: no curve
            }
            let label = |auc: f64| format!("{} seed {} (AUC {auc:.3})", s.model, s.seed);
            roc.push((label(roc_auc(&f, &s.scores)?), roc_curve(&f, &s.scores)?));
            pr.push((label(average_precision(&f, &s.scores)?), pr_curve(&f, &s.scores)?));
        }
        if roc.is_empty() {
            continue;
        }
        let fig = ranking_curves(CurveKind::Roc, &format!("ROC — {dataset}"), &roc, SIZE)?;
        page.figure(&format!("roc-{dataset}"), &fig, &format!("ROC curves on {dataset}"))?;
        let fig = ranking_curves(CurveKind::Pr, &format!("precision–recall — {dataset}"), &pr, SIZE)?;
        page.figure(
            &format!("pr-{dataset}"),
            &fig,
            &format!("precision-recall curves on {dataset}"),
        )?;
    }
    page.body.push_str(
        "<p class=\"note\">One seed per model (the first in the file); the AUC in the legend is computed from \
         the drawn points (ROC: trapezoids; precision–recall: steps = average precision).</p>\n",
    );
    Ok(())
}

fn histograms(page: &mut Page, scores: &[&ScoresRecord]) -> Result<()> {
    for (dataset, runs) in first_per_model(scores) {
        for s in runs {
            let title = format!("{} on {dataset} (seed {})", s.model, s.seed);
            let fig = score_histogram(&title, &s.scores, &flags(s), s.threshold, SIZE)?;
            page.figure(&format!("hist-{dataset}-{}", s.model), &fig, &title)?;
        }
    }
    page.body.push_str(
        "<p class=\"note\">Test scores; the threshold is the one fitted on the training scores from the \
         contamination rate (score above it → predicted anomaly).</p>\n",
    );
    Ok(())
}

fn image_grid(page: &mut Page, g: &ImageGrid) {
    let _ = write!(
        page.body,
        "<h3>{} — {} on {} (seed {})</h3><table class=\"grid\">",
        esc(&g.title),
        esc(&g.model),
        esc(&g.dataset),
        g.seed
    );
    if !g.column_labels.is_empty() {
        page.body.push_str("<tr><td></td>");
        for c in &g.column_labels {
            let _ = write!(page.body, "<td>{}</td>", esc(c));
        }
        page.body.push_str("</tr>");
    }
    for (r, row) in g.cells.iter().enumerate() {
        let label = g.row_labels.get(r).map(String::as_str).unwrap_or("");
        let _ = write!(page.body, "<tr><td>{}</td>", esc(label));
        for cell in row {
            if cell.is_empty() {
                page.body.push_str("<td></td>");
            } else {
                let _ = write!(
                    page.body,
                    "<td><img alt=\"\" src=\"data:image/png;base64,{cell}\"></td>"
                );
            }
        }
        page.body.push_str("</tr>\n");
    }
    page.body.push_str("</table>\n");
}

fn embedding(page: &mut Page, m: &EmbeddingMap) -> Result<()> {
    let base = format!("{} {} seed {}", m.dataset, m.model, m.seed);
    let fig = scatter(
        &format!("{} of the embedding, true classes — {}", m.method, m.dataset),
        &m.xy,
        &m.classes,
        &m.class_names,
        SIZE,
    )?;
    page.figure(&format!("{base}-class"), &fig, "embedding coloured by class")?;
    let names: Vec<String> = (0..=m.clusters.iter().copied().max().unwrap_or(0))
        .map(|c| format!("cluster {c}"))
        .collect();
    let fig = scatter(
        &format!("{} of the embedding, clusters — {}", m.method, m.dataset),
        &m.xy,
        &m.clusters,
        &names,
        SIZE,
    )?;
    page.figure(&format!("{base}-cluster"), &fig, "embedding coloured by cluster")
}

fn training(page: &mut Page, histories: &[&HistoryRecord]) -> Result<()> {
    // One chart per (model, series); a line per dataset (first seed), or per seed for one dataset.
    let datasets: Vec<&str> = {
        let mut d: Vec<&str> = Vec::new();
        for h in histories {
            if !d.contains(&h.dataset.as_str()) {
                d.push(&h.dataset);
            }
        }
        d
    };
    let one_dataset = datasets.len() == 1;
    let mut charts: Vec<(String, String, Vec<(String, Vec<u64>, Vec<f64>)>)> = Vec::new();
    for h in histories {
        for s in &h.series {
            let i = match charts.iter().position(|(m, n, _)| *m == h.model && *n == s.name) {
                Some(i) => i,
                None => {
                    charts.push((h.model.clone(), s.name.clone(), Vec::new()));
                    charts.len() - 1
                }
            };
            let lines = &mut charts[i].2;
            let label = if one_dataset {
                format!("seed {}", h.seed)
            } else {
                h.dataset.clone()
            };
            let prefix = format!("{} ", h.dataset);
            if one_dataset || !lines.iter().any(|(l, _, _)| l.starts_with(&prefix) || *l == h.dataset) {
                lines.push((label, s.steps.clone(), s.values.clone()));
            }
        }
    }
    for (model, name, lines) in charts {
        let unit = name.rsplit(' ').next().unwrap_or("step").to_string();
        let title = format!("{model}: {name}");
        let Ok(fig) = line_chart(&title, &unit, &lines, SIZE) else {
            continue;
        };
        page.figure(&format!("train-{model}-{name}"), &fig, &title)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_escapes() {
        assert_eq!(slug("ROC — mnist (anomaly 0)"), "roc-mnist-anomaly-0");
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
