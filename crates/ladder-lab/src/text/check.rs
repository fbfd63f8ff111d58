//! `ladder check`: each check of a fit against a baseline, and how many passed.

use ladder_fit::Outcome;

use super::line;

/// One line per check, then the count that passed.
pub fn check_text(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    line(
        &mut out,
        format!(
            "{:<34} {:>14}  {:<44} {}",
            "key", "value", "expected", "result"
        ),
    );
    for o in outcomes {
        line(
            &mut out,
            format!(
                "{:<34} {:>14.6}  {:<44} {}",
                o.key,
                o.value,
                o.criterion,
                if o.pass { "pass" } else { "FAIL" }
            ),
        );
    }
    let failed = outcomes.iter().filter(|o| !o.pass).count();
    line(
        &mut out,
        format!(
            "{} of {} checks passed",
            outcomes.len() - failed,
            outcomes.len()
        ),
    );
    out
}
