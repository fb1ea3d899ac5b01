//! The machine-readable results: `sim run --json` against docs/results.schema.json, and
//! `sim merge` of shards against one run over the whole range.

use std::path::{Path, PathBuf};

mod common;
use common::{code, sim};

use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-results-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the summary was written");
    serde_json::from_str(&text).expect("the summary is JSON")
}

/// Runs `sim ARGS --json DIR/NAME` expecting `exit`, and returns the summary.
fn run_json(dir: &Path, name: &str, args: &[&str], exit: i32) -> Value {
    let file = dir.join(name);
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--json", path_str(&file)]);
    let out = sim(&all);
    assert_eq!(code(&out), exit, "{all:?}: {}", text(&out.stderr));
    read_json(&file)
}

fn schema_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/results.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the schema file")).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

fn schema_errors(validator: &jsonschema::Validator, summary: &Value) -> Vec<String> {
    validator
        .iter_errors(summary)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn a_run_summary_matches_the_published_schema() {
    let dir = scratch("schema");
    let summary = run_json(
        &dir,
        "run.json",
        &["run", "--seeds", "0..12", "--jobs", "2"],
        0,
    );
    let validator = schema_validator();
    let errors = schema_errors(&validator, &summary);
    assert!(errors.is_empty(), "{errors:#?}");

    let shard = &summary["shards"][0];
    assert_eq!(summary["schema_version"], 2);
    assert_eq!(shard["seeds_run"], 12);
    assert_eq!(shard["target"]["name"], "map-core");
    assert_eq!(shard["coverage"]["runs"], 12);
    assert!(shard["ops"].as_u64().unwrap() > 0);
    assert_eq!(summary["targets"][0]["ops"], shard["ops"]);

    // The schema holds real constraints: these documents are rejected.
    let mut unknown_field = summary.clone();
    unknown_field["shards"][0]["coverage"]["total"]["made_up_state"] = 1.into();
    let mut missing_counter = summary.clone();
    missing_counter["shards"][0]["coverage"]["total"]
        .as_object_mut()
        .unwrap()
        .remove("relookups");
    let mut other_version = summary.clone();
    other_version["schema_version"] = 1.into();
    let mut negative_ops = summary.clone();
    negative_ops["targets"][0]["ops"] = (-1).into();
    for (what, bad) in [
        ("an unknown coverage counter", unknown_field),
        ("a missing coverage counter", missing_counter),
        ("another schema version", other_version),
        ("negative ops", negative_ops),
    ] {
        assert!(!validator.is_valid(&bad), "{what} passed the schema");
    }
}

#[test]
fn a_std_map_run_summary_matches_the_schema_and_reports_no_state() {
    let dir = scratch("std");
    let summary = run_json(
        &dir,
        "std.json",
        &["run", "--seeds", "0..8", "--target", "std-hash-map"],
        0,
    );
    let errors = schema_errors(&schema_validator(), &summary);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary["shards"][0]["state_coverage"], false);
    assert_eq!(summary["shards"][0]["target"]["version"], Value::Null);
}

/// Every failure of every shard, as (seed, check), sorted.
fn failure_list(summary: &Value) -> Vec<(u64, String)> {
    let mut failures: Vec<(u64, String)> = summary["shards"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["failures"].as_array().unwrap().iter())
        .map(|f| {
            (
                f["seed"].as_u64().unwrap(),
                f["check"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    failures.sort();
    failures
}

/// The counts a merge must keep, from a merged summary's totals of its one target.
fn merged_counts(merged: &Value) -> Value {
    let totals = &merged["targets"];
    assert_eq!(totals.as_array().unwrap().len(), 1, "{totals}");
    serde_json::json!({
        "seeds_run": totals[0]["seeds_run"],
        "ops": totals[0]["ops"],
        "cursor_steps": totals[0]["cursor_steps"],
        "failures": totals[0]["failures"],
        "failures_by_check": totals[0]["failures_by_check"],
        "coverage": totals[0]["coverage"],
        "failure_list": failure_list(merged),
    })
}

/// The same counts, from the one shard of a single run: what the runner itself reported.
fn run_counts(run: &Value) -> Value {
    let shard = &run["shards"][0];
    let failures = failure_list(run);
    let mut by_check = serde_json::Map::new();
    for (_, check) in &failures {
        let n = by_check.get(check).and_then(Value::as_u64).unwrap_or(0);
        by_check.insert(check.clone(), (n + 1).into());
    }
    serde_json::json!({
        "seeds_run": shard["seeds_run"],
        "ops": shard["ops"],
        "cursor_steps": shard["cursor_steps"],
        "failures": failures.len(),
        "failures_by_check": by_check,
        "coverage": shard["coverage"],
        "failure_list": failures,
    })
}

fn merge(dir: &Path, inputs: &[&str], exit: i32) -> (Value, String) {
    let out_file = dir.join("merged.json");
    let mut args = vec!["merge"];
    let paths: Vec<PathBuf> = inputs.iter().map(|name| dir.join(name)).collect();
    args.extend(paths.iter().map(|p| path_str(p)));
    args.extend(["--json", path_str(&out_file)]);
    let out = sim(&args);
    assert_eq!(code(&out), exit, "{}", text(&out.stderr));
    (read_json(&out_file), text(&out.stdout))
}

#[test]
fn merging_two_halves_counts_what_one_run_over_the_range_counts() {
    let dir = scratch("halves");
    let whole = run_json(&dir, "whole.json", &["run", "--seeds", "0..24"], 0);
    run_json(&dir, "lo.json", &["run", "--seeds", "0..12"], 0);
    run_json(&dir, "hi.json", &["run", "--seeds", "12..24"], 0);
    let (merged, markdown) = merge(&dir, &["lo.json", "hi.json"], 0);
    assert_eq!(merged_counts(&merged), run_counts(&whole));
    assert_eq!(merged["shards"].as_array().unwrap().len(), 2);
    let errors = schema_errors(&schema_validator(), &merged);
    assert!(errors.is_empty(), "{errors:#?}");
    let seeds = whole["targets"][0]["seeds_run"].to_string();
    assert!(markdown.contains("## map-core"), "{markdown}");
    assert!(markdown.contains(&format!("| 2 | {seeds} |")), "{markdown}");
    assert!(markdown.contains("same-size growth"), "{markdown}");

    // Shards by --shard I/N merge the same way.
    run_json(
        &dir,
        "s0.json",
        &["run", "--seeds", "0..24", "--shard", "0/2"],
        0,
    );
    run_json(
        &dir,
        "s1.json",
        &["run", "--seeds", "0..24", "--shard", "1/2"],
        0,
    );
    let (by_shard, _) = merge(&dir, &["s0.json", "s1.json"], 0);
    assert_eq!(merged_counts(&by_shard), run_counts(&whole));
    // A merged summary merges again, and a target of its own gets a table of its own.
    run_json(
        &dir,
        "std.json",
        &["run", "--seeds", "0..4", "--target", "std-hash-map"],
        0,
    );
    std::fs::copy(dir.join("merged.json"), dir.join("first.json")).unwrap();
    let (again, markdown) = merge(&dir, &["first.json", "std.json"], 0);
    assert_eq!(again["targets"].as_array().unwrap().len(), 2);
    assert_eq!(again["shards"].as_array().unwrap().len(), 3);
    assert!(markdown.contains("## std-hash-map"), "{markdown}");
    let std_part = &markdown[markdown.find("## std-hash-map").unwrap()..];
    assert!(
        std_part.contains("State coverage: the target reports no internal state."),
        "{std_part}"
    );
}

#[cfg(feature = "faults")]
#[test]
fn a_failing_run_writes_its_summary_and_shards_merge_to_its_failures() {
    let dir = scratch("failing");
    let fault = [
        "--fault",
        "skip-check-bucket",
        "--keep-going",
        "--out",
        path_str(&dir),
    ];
    let args = |seeds: &'static str| {
        let mut args = vec!["run", "--seeds", seeds];
        args.extend(fault);
        args
    };
    let whole = run_json(&dir, "whole.json", &args("0..16"), 1);
    run_json(&dir, "lo.json", &args("0..8"), 1);
    run_json(&dir, "hi.json", &args("8..16"), 1);
    let shard = &whole["shards"][0];
    assert_eq!(shard["exit_code"], 1);
    let failures = shard["failures"].as_array().unwrap();
    assert!(!failures.is_empty());
    // The lowest failing seed is the one shrunk and saved; its trace and replay say so.
    let saved = &failures[0];
    let trace = saved["trace"]
        .as_str()
        .expect("the lowest failure was saved");
    assert!(Path::new(trace).is_file(), "{trace}");
    assert!(saved["replay"].as_str().unwrap().ends_with(trace));
    assert!(failures[1..].iter().all(|f| f["trace"].is_null()
        && f["replay"]
            .as_str()
            .unwrap()
            .contains("--fault skip-check-bucket")));
    let errors = schema_errors(&schema_validator(), &whole);
    assert!(errors.is_empty(), "{errors:#?}");

    let out_file = dir.join("merged.json");
    let out = sim(&[
        "merge",
        path_str(&dir.join("lo.json")),
        path_str(&dir.join("hi.json")),
        "--json",
        path_str(&out_file),
    ]);
    assert_eq!(code(&out), 1, "a shard found a bug: {}", text(&out.stderr));
    let merged = read_json(&out_file);
    assert_eq!(merged_counts(&merged), run_counts(&whole));
    let stderr = text(&out.stderr);
    let first = failures[0]["seed"].to_string();
    assert!(
        stderr.contains(&format!(
            "seeds 0..8 fault skip-check-bucket, seed {first},"
        )),
        "{stderr}"
    );
    let markdown = text(&out.stdout);
    assert!(markdown.contains("## Failures"), "{markdown}");
    assert!(markdown.contains("`duplicate-yield`"), "{markdown}");
}

#[test]
fn merge_rejects_bad_input_with_exit_2() {
    let dir = scratch("bad");
    let good = run_json(&dir, "a.json", &["run", "--seeds", "0..4"], 0);
    run_json(&dir, "b.json", &["run", "--seeds", "2..6"], 0);
    let mut v1 = good.clone();
    v1["schema_version"] = 1.into();
    std::fs::write(dir.join("v1.json"), v1.to_string()).unwrap();
    let mut broken = good.clone();
    broken["shards"][0].as_object_mut().unwrap().remove("seeds");
    std::fs::write(dir.join("broken.json"), broken.to_string()).unwrap();
    std::fs::write(dir.join("garbage.json"), "{\"schema_version\": 2, ").unwrap();
    std::fs::write(dir.join("array.json"), "[1, 2]").unwrap();

    for (files, message) in [
        (
            &["a.json", "b.json"][..],
            "overlapping seed ranges of target map-core",
        ),
        (&["a.json", "a.json"][..], "both hold seed 0"),
        (&["a.json", "v1.json"][..], "mixed schema versions"),
        (
            &["v1.json"][..],
            "schema version 1 is not the one this sim reads (2)",
        ),
        (&["broken.json"][..], "missing field `seeds`"),
        (&["garbage.json"][..], "is not JSON"),
        (&["array.json"][..], "no integer `schema_version`"),
        (&["missing.json"][..], "cannot read results"),
    ] {
        let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
        let mut args = vec!["merge"];
        args.extend(paths.iter().map(|p| path_str(p)));
        let out = sim(&args);
        assert_eq!(code(&out), 2, "{files:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(message), "{files:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // The same seeds under different targets are not an overlap.
    run_json(
        &dir,
        "std.json",
        &["run", "--seeds", "0..4", "--target", "std-hash-map"],
        0,
    );
    merge(&dir, &["a.json", "std.json"], 0);
}
