//! `oddity models`: the registered models and their defaults.

use oddity::Result;
use oddity::registry::models;

use crate::table;

pub fn run() -> Result<()> {
    let mut t = table::new(&["model", "about", "default hyperparameters"]);
    for m in models() {
        t.add_row(vec![
            m.name.to_string(),
            m.about.to_string(),
            m.default_config().to_string(),
        ]);
    }
    println!("{t}");
    println!(
        "Every model also takes contamination (default {}).",
        oddity::detector::DEFAULT_CONTAMINATION
    );
    Ok(())
}
