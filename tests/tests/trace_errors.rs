//! The trace parser on malformed input: every rejection names the physical line (comments and
//! blank lines counted) and what was expected there; no input panics.

use proptest::prelude::*;
use sim::op::{CursorId, Op};
use sim::program::{Config, Program};
use sim::trace::{self, TraceError};
use tests::strategy::{proptest_config, DEFAULT_CASES};

/// A valid trace of two ops; the header takes lines 1-12, `ops` is line 12.
fn valid() -> String {
    let c0 = CursorId::new(0).unwrap();
    trace::print(&Program::new(
        Config::default(),
        vec![
            Op::Insert { key: 1, value: 2 },
            Op::CursorStep {
                cursor: c0,
                steps: 3,
            },
        ],
    ))
}

fn rejected(text: &str) -> TraceError {
    match trace::parse(text) {
        Ok(program) => panic!("accepted:\n{text}\nas {program:?}"),
        Err(e) => e,
    }
}

fn assert_rejected(text: &str, line: usize, message: &str) {
    let e = rejected(text);
    assert_eq!(e.line, line, "{e}\nfor:\n{text}");
    assert!(e.message.contains(message), "{e} lacks {message:?}");
    assert!(e.to_string().starts_with(&format!("line {line}: ")), "{e}");
}

#[test]
fn the_valid_trace_parses() {
    let text = valid();
    assert_eq!(text.lines().nth(11), Some("ops"));
    assert_eq!(trace::parse(&text).unwrap().ops.len(), 2);
}

#[test]
fn out_of_range_numbers_are_errors_not_panics() {
    let cases = [
        ("insert 1 2", "insert 18446744073709551616 2", 13),
        ("insert 1 2", "insert 1 -2", 13),
        ("insert 1 2", "insert 1 2.0", 13),
        ("insert 1 2", "insert 0x1 2", 13),
        ("cursor-step c0 3", "cursor-step c0 65536", 14),
        ("cursor-step c0 3", "cursor-step c-1 3", 14),
        ("cursor-step c0 3", "cursor-step 0 3", 14),
        ("capacity 0", "capacity 4294967296", 5),
        ("capacity 0", "capacity 65537", 5),
        ("audit-every 1", "audit-every 0", 8),
        ("length 100", "length -1", 10),
        ("insert=1", "insert=65536", 9),
    ];
    for (from, to, line) in cases {
        let text = valid().replacen(from, to, 1);
        assert_ne!(text, valid(), "{from} not in the trace");
        let e = rejected(&text);
        assert_eq!(e.line, line, "{to}: {e}");
    }
}

#[test]
fn line_numbers_count_comments_and_blank_lines() {
    let text = valid()
        .replace("sim-trace 1\n", "# saved by hand\n\nsim-trace 1\n")
        .replace("insert 1 2\n", "\n# the bad op:\ninsert one 2\n");
    assert_rejected(&text, 17, "expected `insert <key> <value>`");
}

#[test]
fn windows_line_endings_and_tabs_are_accepted() {
    let text = valid()
        .replace('\n', "\r\n")
        .replace("insert 1 2", "insert\t1\t2");
    assert_eq!(trace::parse(&text), trace::parse(&valid()));
}

#[test]
fn header_problems_point_at_their_line() {
    assert_rejected(
        &valid().replace("seed none\n", "seed\n"),
        2,
        "seed <u64 | none>",
    );
    assert_rejected(
        &valid().replace("hasher seeded 0", "hasher seeded"),
        4,
        "hasher <seeded",
    );
    assert_rejected(
        &valid().replace("hasher seeded 0", "hasher seeded 0 1"),
        4,
        "hasher <seeded",
    );
    assert_rejected(
        &valid().replace(" from-iter=1", ""),
        9,
        "expected `weights` with 21 entries",
    );
    assert_rejected(
        &valid().replace("remove=1 get=1", "get=1 remove=1"),
        9,
        "expected `remove=<u16>`",
    );
    assert_rejected(
        &valid().replace("max-cursors 2\n", "max-cursors 2\nmax-cursors 3\n"),
        8,
        "given twice (first on line 7)",
    );
    // A field after `ops` is read as an op.
    assert_rejected(
        &valid().replace("ops\n", "ops\nseed 4\n"),
        13,
        "expected an op",
    );
}

#[test]
fn truncated_traces_point_past_the_end() {
    let text = valid();
    let header_only: String = text.lines().take(11).map(|l| format!("{l}\n")).collect();
    assert_rejected(&header_only, 12, "`ops`");
    assert_rejected("sim-trace 1\nseed 3\n", 3, "`ops`");
    assert_rejected("", 1, "empty file");
    assert_rejected("\n# only a comment\n\n", 4, "empty file");
    assert_rejected(
        &text.replace("fault none\n", ""),
        11,
        "header field `fault` missing",
    );
}

#[test]
fn a_later_version_is_refused_by_name() {
    assert_rejected(
        &valid().replace("sim-trace 1", "sim-trace 2"),
        1,
        "unsupported trace version `2`",
    );
    assert_rejected(
        &valid().replace("sim-trace 1", "sim-trace"),
        1,
        "unsupported trace version ``",
    );
}

proptest! {
    #![proptest_config(proptest_config(
        DEFAULT_CASES,
        concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/trace_errors.txt"),
    ))]

    /// Any edit of a valid trace either parses or is rejected at a line that exists (or just past
    /// the end, for a missing part); the parser never panics.
    #[test]
    fn edited_traces_parse_or_name_a_real_line(
        line in 0usize..14,
        edit in 0u8..4,
        position in any::<prop::sample::Index>(),
        byte in prop::sample::select(&b" 0179-+xc=\t#\n"[..]),
    ) {
        let mut lines: Vec<String> = valid().lines().map(str::to_string).collect();
        let target = &mut lines[line];
        let at = position.index(target.len() + 1);
        match edit {
            0 => target.insert(at, char::from(byte)),
            1 if at < target.len() => { target.remove(at); }
            2 => target.truncate(at),
            _ => { lines.remove(line); }
        }
        let text = lines.join("\n") + "\n";
        if let Err(e) = trace::parse(&text) {
            let last = text.lines().count() + 1;
            prop_assert!((1..=last).contains(&e.line), "line {} of {}: {}", e.line, last, e);
            prop_assert!(!e.message.is_empty());
        }
    }
}
