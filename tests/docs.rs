//! The README stays short and every relative link of the README and the reference pages
//! resolves to a file or folder of the repository.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

/// The relative targets of the Markdown links `[text](target)` in `text`, without
/// anchors; web addresses and pure anchors are left out.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or("").trim();
        if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
            links.push(target.to_string());
        }
        rest = &rest[end..];
    }
    links
}

fn check_links(page: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(page).unwrap();
    let dir = page.parent().unwrap();
    relative_links(&text)
        .into_iter()
        .filter(|link| !dir.join(link).exists())
        .map(|link| format!("{}: {link}", page.display()))
        .collect()
}

#[test]
fn the_readme_is_short_and_every_link_resolves() {
    let root = common::root();
    let readme = root.join("README.md");
    let lines = std::fs::read_to_string(&readme).unwrap().lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines; reference goes to docs/"
    );
    let mut pages = vec![readme, root.join("results/README.md")];
    for dir in ["docs", "docs/labs"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    let broken: Vec<String> = pages.iter().flat_map(|p| check_links(p)).collect();
    assert!(
        broken.is_empty(),
        "links that resolve to nothing:\n{}",
        broken.join("\n")
    );
}

#[test]
fn a_broken_link_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("p.md");
    std::fs::write(dir.path().join("there.md"), "").unwrap();
    std::fs::write(
        &page,
        "[a](there.md) [b](missing.md#x) [c](https://example.org) [d](#top)",
    )
    .unwrap();
    assert_eq!(check_links(&page).len(), 1);
}
