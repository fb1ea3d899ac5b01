//! The seeded Go driver's overlay changes nothing in the runtime but where its maps draw their
//! randomness: checked against the sources of every Go toolchain installed here (PATH and
//! /usr/lib/go-*; `.ci/install-go` installs them, and CI installs the oldest and the newest).

use sim::target::go::overlay::{plan, rename_in, renames, OverlayFile};
use sim::target::go::toolchain::{installed, Toolchain};

/// The toolchains to check; the reason when there are none.
fn toolchains() -> &'static [Toolchain] {
    let found = installed();
    if found.is_empty() {
        eprintln!(
            "skipped: no Go toolchain on PATH or in /usr/lib/go-* (.ci/install-go 1.19 1.27 \
             installs the ones CI checks)"
        );
    }
    found
}

#[test]
fn each_replaced_runtime_file_differs_from_the_toolchains_only_by_the_renamed_calls() {
    for toolchain in toolchains() {
        let files = plan(toolchain).unwrap_or_else(|e| panic!("{}: {e}", toolchain.version));
        let rules = renames(toolchain).unwrap();
        let replaced: Vec<&OverlayFile> = files.iter().filter(|f| f.original.is_some()).collect();
        assert!(
            !replaced.is_empty(),
            "{}: nothing seeded",
            toolchain.version
        );
        for file in replaced {
            let original = file.original.as_deref().unwrap();
            let ours: Vec<_> = rules
                .iter()
                .filter(|r| file.path.ends_with(r.file))
                .collect();
            // Undo every rename: what is left must be the toolchain's file, byte for byte.
            let mut undone = file.text.clone();
            for rule in ours.iter().rev() {
                assert!(
                    !original.contains(rule.to),
                    "{}: {} already has `{}`, so undoing the rename would prove nothing",
                    toolchain.version,
                    file.path.display(),
                    rule.to
                );
                undone = rename_in(&undone, rule.to, rule.from).0;
            }
            assert!(
                undone == original,
                "{}: {} changes more than its renamed calls",
                toolchain.version,
                file.path.display()
            );
            // And every line that changed holds a renamed call.
            let (old, new): (Vec<_>, Vec<_>) =
                (original.lines().collect(), file.text.lines().collect());
            assert_eq!(old.len(), new.len(), "{}: lines added", file.path.display());
            for (before, after) in old.iter().zip(&new).filter(|(a, b)| a != b) {
                assert!(
                    ours.iter().any(|r| after.contains(r.to.trim_end())),
                    "{}: {}: `{before}` became `{after}`",
                    toolchain.version,
                    file.path.display()
                );
            }
        }
    }
}

/// The names a Go file declares at its top level (functions, and the entries of `var`, `const`
/// and `type` declarations, grouped or not).
fn top_level_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_group = false;
    for line in text.lines() {
        let first_word = |s: &str| {
            s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")
                .to_string()
        };
        if in_group {
            if line.starts_with(')') {
                in_group = false;
            } else if let Some(entry) = line.strip_prefix('\t') {
                if !entry.starts_with("//") && !entry.trim().is_empty() {
                    names.push(first_word(entry));
                }
            }
            continue;
        }
        for keyword in ["func ", "var ", "const ", "type "] {
            if let Some(rest) = line.strip_prefix(keyword) {
                if rest.starts_with('(') && keyword != "func " {
                    in_group = true;
                } else {
                    names.push(first_word(rest));
                }
            }
        }
    }
    names
}

#[test]
fn the_files_the_overlay_adds_declare_only_the_harnesss_own_names() {
    for toolchain in toolchains() {
        let files = plan(toolchain).unwrap();
        let added: Vec<&OverlayFile> = files.iter().filter(|f| f.original.is_none()).collect();
        assert!(
            added.len() >= 3,
            "{}: {} files added",
            toolchain.version,
            added.len()
        );
        for file in added {
            assert!(
                !file.path.exists(),
                "{} replaces a toolchain file",
                file.path.display()
            );
            let names = top_level_names(&file.text);
            assert!(
                !names.is_empty(),
                "{} declares nothing",
                file.path.display()
            );
            for name in names {
                assert!(
                    name.starts_with("sim"),
                    "{}: {} declares `{name}`, which the runtime could already use",
                    toolchain.version,
                    file.path.display()
                );
            }
        }
    }
}

#[test]
fn top_level_names_reads_grouped_and_single_declarations() {
    let text = "package p\n\nvar (\n\tsimA uint64\n\t// why\n\tsimB = 1\n)\n\nfunc simC() {}\nfunc (x T) simD() {}\nconst simE = 2\n";
    assert_eq!(top_level_names(text), ["simA", "simB", "simC", "", "simE"]);
}
