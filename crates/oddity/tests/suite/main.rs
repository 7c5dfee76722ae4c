//! The library's integration tests, one module per area, linked into one test binary
//! (one link instead of ten keeps the debug build small enough for CI's disk).
mod bad_inputs;
mod deep_cluster;
mod detector_contract;
mod dplan;
mod fuzz_regressions;
mod ganomaly;
mod iforest;
mod image_folders;
mod leave_one_class_out;
mod loaders_binary;
mod loaders_tabular;
mod metrics_sklearn;
mod mvtec;
mod old_model_files;
mod report;
mod weakly_supervised;
