//! `vigie watchlist lint|import-finess`.

use std::fs;

use anyhow::{Context, Result};
use vigie_match::{finess, lint, Level};

use crate::args::WatchlistCommand;
use crate::{shipped, Outcome};

pub fn run(command: WatchlistCommand) -> Result<Outcome> {
    match command {
        WatchlistCommand::Lint { paths } => {
            let list = shipped::load(&paths)?;
            let issues = lint(&list);
            for issue in &issues {
                println!("{issue}");
            }
            let mut errors = issues.iter().filter(|i| i.level == Level::Error).count();
            let warnings = issues.len() - errors;
            eprintln!(
                "{} entities, {errors} errors, {warnings} warnings",
                list.entities().len()
            );
            // The shipped ransomware group list and the watchlists' exclusions are data too.
            let groups = vigie_match::groups::groups();
            let group_issues = vigie_match::groups::lint_groups(groups);
            for issue in &group_issues {
                println!("ransomware_groups.toml: error: {issue}");
            }
            if let Err(e) = list.exclusions() {
                println!("error: {e}");
                errors += 1;
            }
            errors += group_issues.len();
            eprintln!(
                "{} ransomware groups, {} errors",
                groups.len(),
                group_issues.len()
            );
            // grep-like: 0 when the lists are clean, 1 when lint found errors.
            Ok(if errors == 0 {
                Outcome::Found
            } else {
                Outcome::NothingFound
            })
        }
        WatchlistCommand::ImportFiness { file, out } => {
            let import = finess::import_file(&file)?;
            let text = finess::to_toml(&import.entities);
            match out {
                Some(path) => {
                    fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?
                }
                None => print!("{text}"),
            }
            eprintln!(
                "{} establishments read: {} kept, {} dropped as duplicate names, {} as generic names, {} with an invalid FINESS",
                import.read,
                import.entities.len(),
                import.dropped_duplicate,
                import.dropped_generic,
                import.dropped_invalid
            );
            Ok(Outcome::Found)
        }
    }
}
