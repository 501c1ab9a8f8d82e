//! The audit-action table of docs/api.md lists exactly the actions the code records.

use std::collections::BTreeSet;

use auth_domain::AuditAction;

#[test]
fn the_documented_audit_actions_are_the_recorded_ones() {
    let api = include_str!("../../../docs/api.md");
    let section = api
        .split("\n## Audit log")
        .nth(1)
        .expect("docs/api.md has an Audit log section");
    let section = section.split("\n## ").next().unwrap();
    // The first column of each table row names one or more actions in backticks.
    let documented: BTreeSet<&str> = section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .flat_map(|line| {
            line.split('|')
                .nth(1)
                .unwrap()
                .split('`')
                .skip(1)
                .step_by(2)
        })
        .collect();
    let recorded: BTreeSet<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(documented, recorded);
}
