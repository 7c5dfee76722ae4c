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
mod module_cycles;
mod mvtec;
mod old_model_files;
mod report;
mod weakly_supervised;

/// `entry` with `settings` on `data` under `plan`, seed `seed`, silently.
fn evaluate(
    entry: &oddity::registry::ModelEntry,
    settings: &oddity::registry::Settings,
    data: &oddity::data::Loaded,
    name: &str,
    seed: u64,
    plan: &oddity::eval::Plan,
) -> oddity::Result<oddity::eval::Evaluation> {
    let job = oddity::eval::Job {
        entry,
        settings,
        dataset: data,
        name,
        seed,
        progress: &oddity::progress::Silent,
    };
    oddity::eval::run(&job, plan)
}
