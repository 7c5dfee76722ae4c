//! Image folders: every format the loader reads, bit depths, colour types, nested folders, file
//! names and the channel rules. Fixtures are written by each test with the `image` crate.

use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageBuffer, Luma, LumaA, Rgb, RgbImage, Rgba};
use oddity::data::{self, Labels, Layout, LoadOptions};

fn opts() -> LoadOptions {
    LoadOptions::default()
}

/// A 6×4 RGB image with every pixel different.
fn rgb() -> RgbImage {
    RgbImage::from_fn(6, 4, |x, y| {
        Rgb([(x * 40) as u8, (y * 60) as u8, (255 - x * 20 - y * 10) as u8])
    })
}

/// `img`'s values channels first in [0, 1], as the loader should give them.
fn planes(img: &RgbImage) -> Vec<f32> {
    (0..3)
        .flat_map(|c| img.pixels().map(move |p| p[c] as f32 / 255.0))
        .collect()
}

fn mkdir(p: PathBuf) -> PathBuf {
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn load(dir: &Path, opts: &LoadOptions) -> oddity::data::Dataset {
    data::load(dir, opts).unwrap_or_else(|e| panic!("{e}")).train
}

#[test]
fn png_bmp_tiff_webp_decode_exactly_and_jpeg_closely() {
    let tmp = tempfile::tempdir().unwrap();
    let img = rgb();
    let want = planes(&img);
    for ext in ["png", "bmp", "tif", "tiff", "webp", "PNG"] {
        let dir = mkdir(tmp.path().join(ext));
        img.save(dir.join(format!("a.{ext}"))).unwrap();
        img.save(dir.join(format!("b.{ext}"))).unwrap();
        let ds = load(&dir, &opts());
        assert_eq!(ds.layout(), Layout::Images { c: 3, h: 4, w: 6 }, "{ext}");
        assert_eq!(ds.row(0), &want[..], "{ext}");
        assert_eq!(ds.files().unwrap(), [format!("a.{ext}"), format!("b.{ext}")], "{ext}");
    }
    // JPEG is lossy: close, not equal.
    let dir = mkdir(tmp.path().join("jpeg"));
    for name in ["x.jpg", "y.jpeg"] {
        img.save(dir.join(name)).unwrap();
    }
    let ds = load(&dir, &opts());
    assert_eq!(ds.layout(), Layout::Images { c: 3, h: 4, w: 6 });
    let err: f32 = ds.row(1).iter().zip(&want).map(|(a, b)| (a - b).abs()).sum::<f32>() / want.len() as f32;
    assert!(err < 0.06, "mean JPEG error {err}");
    // A file whose extension lies is read by its content.
    let lying = mkdir(tmp.path().join("lying"));
    img.save_with_format(lying.join("a.jpg"), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(load(&lying, &opts()).row(0), &want[..]);
}

#[test]
fn sixteen_bit_grey_and_rgb_scale_to_unit_range() {
    let tmp = tempfile::tempdir().unwrap();
    let grey: ImageBuffer<Luma<u16>, Vec<u16>> = ImageBuffer::from_raw(3, 1, vec![0, 32768, 65535]).unwrap();
    let dir = mkdir(tmp.path().join("grey16"));
    grey.save(dir.join("a.png")).unwrap();
    grey.save(dir.join("b.tiff")).unwrap();
    let ds = load(&dir, &opts());
    assert_eq!(ds.layout(), Layout::Images { c: 1, h: 1, w: 3 });
    for i in 0..2 {
        let r = ds.row(i);
        assert_eq!((r[0], r[2]), (0.0, 1.0), "{:?}", ds.files().unwrap()[i]);
        assert!((r[1] - 32768.0 / 65535.0).abs() < 1e-6, "{r:?}");
    }
    let rgb16: ImageBuffer<Rgb<u16>, Vec<u16>> =
        ImageBuffer::from_raw(2, 1, vec![65535, 0, 257, 0, 65535, 13107]).unwrap();
    let dir = mkdir(tmp.path().join("rgb16"));
    DynamicImage::ImageRgb16(rgb16).save(dir.join("c.png")).unwrap();
    let ds = load(&dir, &opts());
    assert_eq!(ds.layout(), Layout::Images { c: 3, h: 1, w: 2 });
    let want = [1.0, 0.0, 0.0, 1.0, 257.0 / 65535.0, 0.2];
    for (g, w) in ds.row(0).iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{:?}", ds.row(0));
    }
}

#[test]
fn alpha_is_dropped_not_composited() {
    let tmp = tempfile::tempdir().unwrap();
    let rgba: ImageBuffer<Rgba<u8>, Vec<u8>> =
        ImageBuffer::from_raw(2, 1, vec![255, 0, 0, 0, 0, 51, 255, 128]).unwrap();
    let dir = mkdir(tmp.path().join("rgba"));
    rgba.save(dir.join("a.png")).unwrap();
    rgba.save(dir.join("b.webp")).unwrap();
    let ds = load(&dir, &opts());
    assert_eq!(ds.layout(), Layout::Images { c: 3, h: 1, w: 2 });
    // Fully transparent red stays red: alpha is ignored.
    assert_eq!(ds.row(0), &[1.0, 0.0, 0.0, 0.2, 0.0, 1.0]);
    assert_eq!(ds.row(1), ds.row(0));
    let la: ImageBuffer<LumaA<u8>, Vec<u8>> = ImageBuffer::from_raw(2, 1, vec![255, 0, 51, 255]).unwrap();
    let dir = mkdir(tmp.path().join("la"));
    la.save(dir.join("a.png")).unwrap();
    let ds = load(&dir, &opts());
    assert_eq!(ds.layout(), Layout::Images { c: 1, h: 1, w: 2 });
    assert_eq!(ds.row(0), &[1.0, 0.2]);
}

/// Writes a 1×1 grey image of value `v`.
fn dot(path: &Path, v: u8) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    image::GrayImage::from_raw(1, 1, vec![v]).unwrap().save(path).unwrap();
}

fn values(ds: &oddity::data::Dataset) -> Vec<u8> {
    ds.x().iter().map(|v| (v * 255.0).round() as u8).collect()
}

#[test]
fn nested_folders_are_read_recursively_in_a_stable_order() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("classes");
    dot(&root.join("good/x10.png"), 1);
    dot(&root.join("good/x9.png"), 2);
    dot(&root.join("good/2024/jan/y.png"), 3);
    dot(&root.join("bad/z.png"), 4);
    dot(&root.join("bad/.thumbs/z.png"), 99); // hidden: skipped
    dot(&root.join(".cache/q.png"), 98);
    std::fs::write(root.join("good/notes.txt"), "not an image").unwrap();
    let ds = load(&root, &opts());
    assert_eq!(
        ds.files().unwrap(),
        ["bad/z.png", "good/2024/jan/y.png", "good/x9.png", "good/x10.png"]
    );
    assert_eq!(values(&ds), [4, 3, 2, 1]);
    assert_eq!(
        ds.labels(),
        &Labels::Classes {
            ids: vec![0, 1, 1, 1],
            names: vec!["bad".into(), "good".into()]
        }
    );
    // Listing twice gives the same order (no dependence on the directory's order).
    assert_eq!(load(&root, &opts()).files(), ds.files());
    // --no-labels drops the classes, keeps the order.
    let plain = load(
        &root,
        &LoadOptions {
            no_labels: true,
            ..opts()
        },
    );
    assert_eq!((plain.labels(), plain.files()), (&Labels::None, ds.files()));

    // Images at the top level and below: unlabelled, every file.
    dot(&root.join("top.png"), 5);
    let mixed = load(&root, &opts());
    assert_eq!(mixed.labels(), &Labels::None);
    assert_eq!(
        mixed.files().unwrap(),
        [
            "bad/z.png",
            "good/2024/jan/y.png",
            "good/x9.png",
            "good/x10.png",
            "top.png"
        ]
    );

    // Only a nested folder holds images: still found.
    let deep = tmp.path().join("deep");
    dot(&deep.join("a/b/c/only.png"), 7);
    let ds = load(&deep, &opts());
    assert_eq!(ds.files().unwrap(), ["a/b/c/only.png"]);

    // No image anywhere: an error naming the folder and the formats.
    let none = mkdir(tmp.path().join("none"));
    std::fs::write(mkdir(none.join("sub")).join("a.txt"), "x").unwrap();
    let e = data::load(&none, &opts()).unwrap_err().to_string();
    assert!(e.contains("none") && e.contains("jpg"), "{e}");
}

#[test]
fn coil_names_keep_classes_poses_and_file_names() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/coil20-small"));
    let ds = load(dir, &opts());
    let files = ds.files().unwrap();
    assert_eq!(files.len(), 12);
    assert_eq!(
        &files[..5],
        [
            "obj1__0.png",
            "obj1__1.png",
            "obj1__2.png",
            "obj1__10.png",
            "obj2__0.png"
        ]
    );
    assert_eq!(files[11], "obj10__10.png");
}

#[test]
fn mixed_channel_counts_need_a_channels_choice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Grey 128 and an RGB pixel of the same grey, then a red one.
    dot(&dir.join("a.png"), 128);
    RgbImage::from_raw(1, 1, vec![128, 128, 128])
        .unwrap()
        .save(dir.join("b.jpg"))
        .unwrap();
    RgbImage::from_raw(1, 1, vec![255, 0, 0])
        .unwrap()
        .save(dir.join("c.png"))
        .unwrap();
    let e = data::load(dir, &opts()).unwrap_err().to_string();
    assert!(
        e.contains("b.jpg") && e.contains("a.png") && e.contains("channels"),
        "{e}"
    );

    let grey = load(
        dir,
        &LoadOptions {
            channels: Some(1),
            ..opts()
        },
    );
    assert_eq!(grey.layout(), Layout::Images { c: 1, h: 1, w: 1 });
    let g = grey.x();
    assert!(
        (g[0] - 128.0 / 255.0).abs() < 1e-6 && (g[1] - g[0]).abs() < 0.02,
        "{g:?}"
    );
    assert!(g[2] > 0.05 && g[2] < 0.5, "red as grey: {}", g[2]);

    let colour = load(
        dir,
        &LoadOptions {
            channels: Some(3),
            ..opts()
        },
    );
    assert_eq!(colour.layout(), Layout::Images { c: 3, h: 1, w: 1 });
    assert_eq!(colour.row(0), &[128.0 / 255.0; 3]);
    assert_eq!(colour.row(2), &[1.0, 0.0, 0.0]);

    let bad = data::load(
        dir,
        &LoadOptions {
            channels: Some(2),
            ..opts()
        },
    )
    .unwrap_err();
    assert!(matches!(bad, oddity::Error::InvalidConfig { .. }), "{bad}");
}
