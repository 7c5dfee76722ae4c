//! Placeholder: Isolation Forest is being written (replaced before merge).
