//! Choosing where tensors live. burn 0.22 tensors carry their backend in a runtime
//! [`Device`], so model code is backend-free; this module turns a user's `--device` string into
//! one. The default is burn's pure-Rust `flex` CPU backend; GPU backends are cargo features of
//! oddity (`cuda`, `rocm`, `wgpu`, `vulkan`, `metal`) passed through to burn.

pub use burn::tensor::Device;

use crate::error::{Error, Result};

/// The CPU (burn's `flex` backend): the default device.
pub fn cpu() -> Device {
    Device::flex()
}

/// The device names this build understands, for help texts.
pub fn available() -> Vec<&'static str> {
    let mut v = vec!["cpu"];
    if cfg!(feature = "cuda") {
        v.push("cuda[:N]");
    }
    if cfg!(feature = "rocm") {
        v.push("rocm[:N]");
    }
    if cfg!(feature = "wgpu") {
        v.push("wgpu");
    }
    if cfg!(feature = "vulkan") {
        v.push("vulkan");
    }
    if cfg!(feature = "metal") {
        v.push("metal");
    }
    v
}

/// Parses `cpu`, `cuda`, `cuda:1`, `rocm:0`, `wgpu`, `vulkan`, `metal` into a device.
/// A backend this build was compiled without is a config error that says which feature to enable.
pub fn parse_device(spec: &str) -> Result<Device> {
    let spec = spec.trim().to_ascii_lowercase();
    let (name, index) = match spec.split_once(':') {
        Some((n, i)) => {
            let idx = i
                .parse::<usize>()
                .map_err(|_| Error::config("device", format!("bad device index in `{spec}`")))?;
            (n.to_string(), idx)
        }
        None => (spec.clone(), 0),
    };
    let missing = |feature: &str| {
        Error::config(
            "device",
            format!(
                "`{spec}` needs oddity built with `--features {feature}` (this build has: {})",
                available().join(", ")
            ),
        )
    };
    let _ = index; // only read by the cuda / rocm arms
    match name.as_str() {
        "cpu" | "flex" => Ok(Device::flex()),
        "cuda" => {
            #[cfg(feature = "cuda")]
            return Ok(Device::cuda(index));
            #[cfg(not(feature = "cuda"))]
            return Err(missing("cuda"));
        }
        "rocm" => {
            #[cfg(feature = "rocm")]
            return Ok(Device::rocm(index));
            #[cfg(not(feature = "rocm"))]
            return Err(missing("rocm"));
        }
        "wgpu" => {
            #[cfg(feature = "wgpu")]
            return Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice));
            #[cfg(not(feature = "wgpu"))]
            return Err(missing("wgpu"));
        }
        "vulkan" => {
            #[cfg(feature = "vulkan")]
            return Ok(Device::vulkan(burn::tensor::DeviceKind::DefaultDevice));
            #[cfg(not(feature = "vulkan"))]
            return Err(missing("vulkan"));
        }
        "metal" => {
            #[cfg(feature = "metal")]
            return Ok(Device::metal(burn::tensor::DeviceKind::DefaultDevice));
            #[cfg(not(feature = "metal"))]
            return Err(missing("metal"));
        }
        _ => Err(Error::config(
            "device",
            format!("unknown device `{spec}` (known: {})", available().join(", ")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    #[test]
    fn cpu_device_computes() {
        let dev = parse_device("cpu").unwrap();
        let a = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &dev);
        let b = Tensor::<2>::from_floats([[5.0], [6.0]], &dev);
        let c: Vec<f32> = a.matmul(b).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(c, vec![17.0, 39.0]);
    }

    #[test]
    fn unknown_or_missing_backend_is_a_config_error() {
        assert!(matches!(parse_device("tpu"), Err(Error::InvalidConfig { .. })));
        assert!(matches!(parse_device("cuda:x"), Err(Error::InvalidConfig { .. })));
        #[cfg(not(feature = "cuda"))]
        assert!(
            parse_device("cuda:0")
                .unwrap_err()
                .to_string()
                .contains("--features cuda")
        );
    }
}
