//! One module per subcommand.
pub mod bench;
pub mod demo;
pub mod eval;
pub mod fit;
pub mod info;
pub mod models;
pub mod report;
pub mod score;
