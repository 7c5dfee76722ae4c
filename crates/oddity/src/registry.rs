//! Placeholder: model registry (being written).
