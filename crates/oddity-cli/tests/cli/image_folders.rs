//! `fit` and `score` on folders of images as people have them: JPEGs and RGB PNGs with arbitrary
//! names, nested folders; the score file names every image.

use std::path::Path;

use super::common::{assert_error, oddity, stderr};
use image::{Rgb, RgbImage};

/// A smooth 24×24 RGB image, varied by `k`; `odd` paints a bright square on it.
fn picture(k: u32, odd: bool) -> RgbImage {
    RgbImage::from_fn(24, 24, |x, y| {
        if odd && (8..16).contains(&x) && (8..16).contains(&y) {
            Rgb([255, 255, 0])
        } else {
            Rgb([(x * 8 + k) as u8, (y * 8) as u8, 120])
        }
    })
}

fn save(img: &RgbImage, path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    img.save(path).unwrap();
}

fn run(args: &[&str]) {
    let o = oddity(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
}

/// The CSV's rows split into fields, honouring quotes.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let mut fields = vec![String::new()];
            let mut quoted = false;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '"' if quoted && chars.peek() == Some(&'"') => {
                        chars.next();
                        fields.last_mut().unwrap().push('"');
                    }
                    '"' => quoted = !quoted,
                    ',' if !quoted => fields.push(String::new()),
                    c => fields.last_mut().unwrap().push(c),
                }
            }
            fields
        })
        .collect()
}

#[test]
fn a_jpeg_folder_fits_and_scoring_names_every_file() {
    let tmp = tempfile::tempdir().unwrap();
    let normal = tmp.path().join("normal");
    for k in 0..12 {
        let name = match k {
            0 => "good image.jpg".to_string(),
            1 => "a,b \"quoted\".jpeg".to_string(),
            k => format!("part_{k:04}.jpg"),
        };
        save(&picture(k * 3, false), &normal.join(name));
    }
    let model = tmp.path().join("gm");
    let s = |s: &'static str| ["--set", s];
    let mut args = vec!["fit", "--model", "ganomaly", "--no-labels", "--out"];
    let (normal_s, model_s) = (normal.to_str().unwrap(), model.to_str().unwrap());
    args.extend([model_s, "--data", normal_s]);
    for kv in ["epochs=2", "ngf=4", "ndf=4", "nz=8", "batch_size=4"] {
        args.extend(s(kv));
    }
    run(&args);
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(model.join("model.json")).unwrap()).unwrap();
    let text = config.to_string();
    assert!(text.contains("\"nc\":3") && text.contains("\"isize\":32"), "{text}");

    // New images in class folders, one of them 48×48 and one grayscale: the model's size and
    // channel count apply without --resize / --channels.
    let test = tmp.path().join("test");
    save(&picture(7, false), &test.join("good/img2.jpg"));
    save(&picture(5, false), &test.join("good/img10.jpg"));
    save(&picture(4, true), &test.join("odd/x.jpg"));
    image::imageops::resize(&picture(9, true), 48, 48, image::imageops::FilterType::Triangle)
        .save(test.join("odd/big.png"))
        .unwrap();
    image::DynamicImage::ImageRgb8(picture(1, false))
        .to_luma8()
        .save(test.join("good/grey.png"))
        .unwrap();
    let csv = tmp.path().join("s.csv");
    run(&[
        "score",
        "--model-dir",
        model_s,
        "--data",
        test.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    let rows = csv_rows(&std::fs::read_to_string(&csv).unwrap());
    assert_eq!(
        rows[0],
        ["index", "file", "score", "scaled_score", "prediction", "label"]
    );
    let files: Vec<&str> = rows[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        files,
        [
            "good/grey.png",
            "good/img2.jpg",
            "good/img10.jpg",
            "odd/big.png",
            "odd/x.jpg"
        ]
    );
    let labels: Vec<&str> = rows[1..].iter().map(|r| r[5].as_str()).collect();
    assert_eq!(labels, ["good", "good", "good", "odd", "odd"]);

    // The training folder scored: names with spaces, commas and quotes come back intact.
    let o = oddity(&["score", "--model-dir", model_s, "--data", normal_s, "--no-labels"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = csv_rows(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(rows[0], ["index", "file", "score", "scaled_score", "prediction"]);
    let files: Vec<&str> = rows[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(files.len(), 12);
    assert_eq!(files[0], "a,b \"quoted\".jpeg");
    assert_eq!(files[1], "good image.jpg");
    assert_eq!(files[2], "part_0002.jpg");
    assert!(rows[1..].iter().all(|r| r.len() == 5 && r[2].parse::<f32>().is_ok()));
}

#[test]
fn an_rgb_png_folder_fits_and_scores_and_mixed_channels_need_a_choice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pngs");
    for k in 0..20 {
        save(&picture(k, k == 13), &dir.join(format!("sub{}/p{k}.png", k % 2)));
    }
    let model = tmp.path().join("if");
    let (dir_s, model_s) = (dir.to_str().unwrap(), model.to_str().unwrap());
    run(&[
        "fit",
        "--model",
        "iforest",
        "--data",
        dir_s,
        "--out",
        model_s,
        "--set",
        "contamination=0.05",
    ]);
    let o = oddity(&["score", "--model-dir", model_s, "--data", dir_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = csv_rows(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(rows.len(), 21);
    // The image with the painted square scores highest.
    let top = rows[1..]
        .iter()
        .max_by(|a, b| a[2].parse::<f32>().unwrap().total_cmp(&b[2].parse().unwrap()))
        .unwrap();
    assert_eq!(top[1], "sub1/p13.png");

    // A grayscale image among colour ones: an error naming it, unless --channels chooses.
    image::DynamicImage::ImageRgb8(picture(0, false))
        .to_luma8()
        .save(dir.join("sub0/grey.png"))
        .unwrap();
    let o = oddity(&["fit", "--model", "iforest", "--data", dir_s, "--out", model_s]);
    assert_error(&o, 1, "grey.png");
    assert!(stderr(&o).contains("--channels"), "{}", stderr(&o));
    run(&[
        "fit",
        "--model",
        "iforest",
        "--data",
        dir_s,
        "--out",
        model_s,
        "--channels",
        "3",
    ]);
    let o = oddity(&[
        "fit",
        "--model",
        "iforest",
        "--data",
        dir_s,
        "--out",
        model_s,
        "--channels",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
