//! Placeholder: model directories (being written).
