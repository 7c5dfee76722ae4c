//! Choosing where tensors live. burn 0.22 tensors carry their backend in a runtime
//! [`Device`], so model code is backend-free; this module turns a user's `--device` string into
//! one. The default is burn's pure-Rust `flex` CPU backend; GPU backends are cargo features of
//! oddity (`cuda`, `rocm`, `wgpu`, `vulkan`, `metal`) passed through to burn.
//!
//! The device is where a model is fitted or loaded, not part of the model: it is given to
//! [`crate::detector::FitContext::with_device`] and [`crate::registry::load_on`], never stored in
//! `model.json`, so a model fitted on a GPU loads on a CPU build and the other way round. Only the
//! models with burn networks (GANomaly, deep clustering) compute on it; the others always run on
//! the CPU.
//!
//! Spelling: `cpu`; `cuda[:N]` and `rocm[:N]` (card N, default 0); `wgpu`, `vulkan`, `metal` (the
//! adapter wgpu picks: a GPU first, else a software rasterizer such as Mesa's lavapipe) or
//! `wgpu:N`, `vulkan:N`, `metal:N` (the Nth adapter [`list`] shows).

pub use burn::tensor::Device;

use crate::error::{Error, Result};

/// The CPU device (burn's `flex` backend): where every model runs unless told otherwise.
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
    if cfg!(feature = "wgpu-untuned") {
        v.push("wgpu[:N]");
    }
    if cfg!(feature = "vulkan") {
        v.push("vulkan[:N]");
    }
    if cfg!(feature = "metal") {
        v.push("metal[:N]");
    }
    v
}

/// Parses `cpu`, `cuda`, `cuda:1`, `rocm:0`, `wgpu`, `vulkan:0`, `metal` into a device and checks
/// that this machine has it (opening it once).
///
/// Errors: an unknown name, a bad index, or a backend this build was compiled without is
/// [`Error::InvalidConfig`] on `device` (saying which feature to enable); a backend that is
/// compiled in but finds no such device, or a device that fails to open, is [`Error::Device`].
pub fn parse_device(spec: &str) -> Result<Device> {
    let spec = spec.trim().to_ascii_lowercase();
    let (name, index) = match spec.split_once(':') {
        Some((n, i)) => {
            let idx = i
                .parse::<usize>()
                .map_err(|_| Error::config("device", format!("bad device index in `{spec}`")))?;
            (n.to_string(), Some(idx))
        }
        None => (spec.clone(), None),
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
    let _ = index; // only read by the GPU arms
    match name.as_str() {
        "cpu" | "flex" => match index {
            None | Some(0) => Ok(cpu()),
            Some(_) => Err(Error::config(
                "device",
                format!("`{spec}`: there is one CPU device, `cpu`"),
            )),
        },
        "cuda" => {
            #[cfg(feature = "cuda")]
            return gpu::open(&spec, gpu::Api::Cuda, index);
            #[cfg(not(feature = "cuda"))]
            return Err(missing("cuda"));
        }
        "rocm" => {
            #[cfg(feature = "rocm")]
            return gpu::open(&spec, gpu::Api::Rocm, index);
            #[cfg(not(feature = "rocm"))]
            return Err(missing("rocm"));
        }
        "wgpu" => {
            #[cfg(feature = "wgpu-untuned")]
            return gpu::open(&spec, gpu::Api::Wgpu, index);
            #[cfg(not(feature = "wgpu-untuned"))]
            return Err(missing("wgpu"));
        }
        "vulkan" => {
            #[cfg(feature = "vulkan")]
            return gpu::open(&spec, gpu::Api::Vulkan, index);
            #[cfg(not(feature = "vulkan"))]
            return Err(missing("vulkan"));
        }
        "metal" => {
            #[cfg(feature = "metal")]
            return gpu::open(&spec, gpu::Api::Metal, index);
            #[cfg(not(feature = "metal"))]
            return Err(missing("metal"));
        }
        _ => Err(Error::config(
            "device",
            format!("unknown device `{spec}` (known: {})", available().join(", ")),
        )),
    }
}

/// One device this build can use, as [`list`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// What to pass to `--device` (`cpu`, `cuda:0`, `vulkan:0`).
    pub spec: String,
    /// What the device calls itself (`NVIDIA H200`, `llvmpipe (LLVM 15.0.6, 256 bits)`), or why
    /// it could not be opened.
    pub name: String,
}

/// Every device this build sees: the CPU, then each compiled-in GPU backend's devices (opening
/// each once to ask its name). A backend compiled in that finds nothing lists nothing.
pub fn list() -> Vec<DeviceInfo> {
    #[allow(unused_mut)]
    let mut out = vec![DeviceInfo {
        spec: "cpu".into(),
        name: "CPU (burn flex)".into(),
    }];
    #[cfg(any(feature = "cuda", feature = "rocm", feature = "wgpu-untuned"))]
    for api in gpu::Api::compiled() {
        for (i, device) in gpu::enumerate(api).into_iter().enumerate() {
            let name = match gpu::identity(&device) {
                Ok(name) => name,
                Err(reason) => format!("cannot be opened: {reason}"),
            };
            out.push(DeviceInfo {
                spec: format!("{}:{i}", api.name()),
                name,
            });
        }
    }
    out
}

#[cfg(any(feature = "cuda", feature = "rocm", feature = "wgpu-untuned"))]
mod gpu {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use burn::tensor::{Device, DeviceType};

    use crate::error::{Error, Result};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Api {
        #[cfg(feature = "cuda")]
        Cuda,
        #[cfg(feature = "rocm")]
        Rocm,
        #[cfg(feature = "wgpu-untuned")]
        Wgpu,
        #[cfg(feature = "vulkan")]
        Vulkan,
        #[cfg(feature = "metal")]
        Metal,
    }

    impl Api {
        pub(super) fn compiled() -> Vec<Api> {
            vec![
                #[cfg(feature = "cuda")]
                Api::Cuda,
                #[cfg(feature = "rocm")]
                Api::Rocm,
                #[cfg(feature = "wgpu-untuned")]
                Api::Wgpu,
                #[cfg(feature = "vulkan")]
                Api::Vulkan,
                #[cfg(feature = "metal")]
                Api::Metal,
            ]
        }

        pub(super) fn name(self) -> &'static str {
            match self {
                #[cfg(feature = "cuda")]
                Api::Cuda => "cuda",
                #[cfg(feature = "rocm")]
                Api::Rocm => "rocm",
                #[cfg(feature = "wgpu-untuned")]
                Api::Wgpu => "wgpu",
                #[cfg(feature = "vulkan")]
                Api::Vulkan => "vulkan",
                #[cfg(feature = "metal")]
                Api::Metal => "metal",
            }
        }

        /// What a user without such a device should check.
        fn hint(self) -> &'static str {
            match self {
                #[cfg(feature = "cuda")]
                Api::Cuda => "is the NVIDIA driver (libcuda) installed and a GPU visible?",
                #[cfg(feature = "rocm")]
                Api::Rocm => "are the ROCm runtime and an AMD GPU present?",
                #[cfg(feature = "wgpu-untuned")]
                Api::Wgpu => "is a Vulkan, Metal, DirectX 12 or OpenGL driver installed? (Debian: mesa-vulkan-drivers)",
                #[cfg(feature = "vulkan")]
                Api::Vulkan => "is a Vulkan driver installed? (Debian: mesa-vulkan-drivers; `vulkaninfo --summary`)",
                #[cfg(feature = "metal")]
                Api::Metal => "Metal needs macOS on Apple hardware",
            }
        }

        fn device_type(self) -> DeviceType {
            match self {
                #[cfg(feature = "cuda")]
                Api::Cuda => DeviceType::Cuda,
                #[cfg(feature = "rocm")]
                Api::Rocm => DeviceType::Rocm,
                #[cfg(feature = "wgpu-untuned")]
                Api::Wgpu => DeviceType::Wgpu,
                #[cfg(feature = "vulkan")]
                Api::Vulkan => DeviceType::Vulkan,
                #[cfg(feature = "metal")]
                Api::Metal => DeviceType::Metal,
            }
        }

        /// The device wgpu's heuristics pick (the first card for CUDA / ROCm).
        fn default_device(self) -> Device {
            use burn::tensor::DeviceKind;
            match self {
                #[cfg(feature = "cuda")]
                Api::Cuda => Device::cuda(0),
                #[cfg(feature = "rocm")]
                Api::Rocm => Device::rocm(0),
                #[cfg(feature = "wgpu-untuned")]
                Api::Wgpu => Device::wgpu(DeviceKind::DefaultDevice),
                #[cfg(feature = "vulkan")]
                Api::Vulkan => Device::vulkan(DeviceKind::DefaultDevice),
                #[cfg(feature = "metal")]
                Api::Metal => Device::metal(DeviceKind::DefaultDevice),
            }
        }
    }

    /// The panic message of a failed device initialisation (burn / cubecl panic there).
    fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown error".into())
    }

    /// The devices of `api` on this machine; a backend whose driver is missing lists none (and a
    /// panic while asking counts as none).
    pub(super) fn enumerate(api: Api) -> Vec<Device> {
        catch_unwind(AssertUnwindSafe(|| Device::enumerate(api.device_type()).into_vec())).unwrap_or_default()
    }

    /// Opens `device` and returns its name; a panic during initialisation becomes the error text.
    pub(super) fn identity(device: &Device) -> std::result::Result<String, String> {
        match catch_unwind(AssertUnwindSafe(|| device.identity())) {
            Ok(Some(id)) => Ok(id.name),
            Ok(None) => Ok(format!("{device:?}")),
            Err(p) => Err(panic_message(p)),
        }
    }

    /// `spec` on `api`: the Nth enumerated device, or the backend's default device when no index
    /// is given; an error naming `spec` when this machine has no such device or it fails to open.
    pub(super) fn open(spec: &str, api: Api, index: Option<usize>) -> Result<Device> {
        let found = enumerate(api);
        let no_device = |reason: String| Error::Device {
            device: spec.to_string(),
            reason,
        };
        if found.is_empty() {
            return Err(no_device(format!(
                "this build has the `{}` backend but finds no {} device on this machine ({}; \
                 `oddity info --devices` lists what it sees)",
                api.name(),
                api.name(),
                api.hint()
            )));
        }
        let device = match index {
            None => api.default_device(),
            Some(i) => found.get(i).cloned().ok_or_else(|| {
                no_device(format!(
                    "there are {} {} device(s) here, numbered from 0 (`oddity info --devices`)",
                    found.len(),
                    api.name()
                ))
            })?,
        };
        identity(&device).map_err(|reason| no_device(format!("cannot be opened: {reason}")))?;
        Ok(device)
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
        assert!(matches!(parse_device("cpu:1"), Err(Error::InvalidConfig { .. })));
        #[cfg(not(feature = "cuda"))]
        assert!(
            parse_device("cuda:0")
                .unwrap_err()
                .to_string()
                .contains("--features cuda")
        );
    }

    /// A CUDA build on a machine without the NVIDIA driver (this one, in `scripts/check-gpu-builds`)
    /// says so in a typed error instead of panicking in the first kernel launch.
    #[cfg(feature = "cuda")]
    #[test]
    fn a_compiled_in_backend_without_a_device_is_a_device_error() {
        if !list().iter().any(|d| d.spec.starts_with("cuda")) {
            let e = parse_device("cuda").unwrap_err();
            assert!(matches!(e, Error::Device { .. }), "{e}");
            assert!(e.to_string().contains("no cuda device"), "{e}");
        }
        let e = parse_device("cuda:99").unwrap_err();
        assert!(matches!(e, Error::Device { .. }), "{e}");
    }

    #[test]
    fn the_list_starts_with_the_cpu() {
        let l = list();
        assert_eq!(l[0].spec, "cpu");
        for d in &l {
            assert!(parse_device(&d.spec).is_ok(), "{d:?} is listed but does not open");
        }
    }
}
