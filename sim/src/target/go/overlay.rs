//! The seeded build's overlay of the Go runtime (`go build -overlay`): the toolchain's own map
//! code with its calls of the runtime's random source renamed to the harness's seeded one
//! (`drivers/go/overlay/runtime_sim.go`), the start-up draw of the hash key renamed to a fixed
//! one, and files added that only read (a map's header or shape, an iterator's table).
//!
//! Each rule names the file, the call and the family it applies to, and must match at least
//! once: a toolchain whose sources moved on fails to build with a message naming the rule,
//! rather than building a driver that is silently unseeded.

use std::path::PathBuf;

use super::toolchain::{Family, Toolchain};

/// `drivers/go/overlay/runtime_sim.go`: the seeded random source, added to package runtime.
pub const RUNTIME_SIM: &str = include_str!("../../../../drivers/go/overlay/runtime_sim.go");
/// `drivers/go/overlay/runtime_sim_classic.go`: the classic header reader.
pub const RUNTIME_SIM_CLASSIC: &str =
    include_str!("../../../../drivers/go/overlay/runtime_sim_classic.go");
/// `drivers/go/overlay/maps_sim.go`: the swiss map's shape and iterator readers.
pub const MAPS_SIM: &str = include_str!("../../../../drivers/go/overlay/maps_sim.go");

/// One file of the overlay: a runtime source replaced, or a file added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverlayFile {
    /// Where the compiler sees it: a path under the toolchain's `GOROOT/src`.
    pub path: PathBuf,
    /// What it holds.
    pub text: String,
    /// For a replaced file, the toolchain's own text.
    pub original: Option<String>,
}

/// One renaming: every call `from` (not part of a longer identifier) in `file` becomes `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rename {
    /// The file, relative to `GOROOT/src`.
    pub file: &'static str,
    /// The text renamed.
    pub from: &'static str,
    /// What it becomes.
    pub to: &'static str,
}

const fn rename(file: &'static str, from: &'static str, to: &'static str) -> Rename {
    Rename { file, from, to }
}

const MAP_FILES: [&str; 4] = [
    "runtime/map.go",
    "runtime/map_fast32.go",
    "runtime/map_fast64.go",
    "runtime/map_faststr.go",
];

/// The renamings for `toolchain`, by family and release: where each family's map code draws its
/// randomness (a map's hash seed at make, at clear and at the delete of its last entry; each
/// iterator's start; the overflow-count sampling of big classic maps) and where the start-up
/// code draws the per-process hash key.
pub fn renames(toolchain: &Toolchain) -> Result<Vec<Rename>, String> {
    let (_, minor, _) = toolchain
        .release()
        .ok_or_else(|| format!("cannot read the release of {}", toolchain.version))?;
    let mut out = Vec::new();
    match toolchain.family()? {
        // Go 1.19-1.21: fastrand and fastrand64; the hash key from getRandomData (alginit).
        Family::Classic if minor <= 21 => {
            for file in MAP_FILES {
                out.push(rename(file, "fastrand()", "simMapRand32()"));
            }
            out.push(rename("runtime/map.go", "fastrand64()", "simMapRand64()"));
            out.push(rename(
                "runtime/alg.go",
                "getRandomData(",
                "simHashKeyData(",
            ));
        }
        // Go 1.22-1.23: rand; the hash key from bootstrapRand (alginit).
        Family::Classic => {
            for file in MAP_FILES {
                out.push(rename(file, "rand()", "simMapRand()"));
            }
            out.push(rename("runtime/alg.go", "bootstrapRand()", "simHashKey()"));
        }
        // Go 1.24 and later: internal/runtime/maps pulls `rand` from the runtime by linkname;
        // it pulls the seeded source instead. The hash key moved to the maps package in 1.27.
        Family::Swiss => {
            out.push(rename(
                "internal/runtime/maps/runtime.go",
                "//go:linkname rand\n",
                "//go:linkname rand runtime.simMapRand\n",
            ));
            // sync.Map is a hash trie from Go 1.24 (internal/sync.HashTrieMap); it draws its
            // hash seed at first use from runtime.rand, pulled by linkname (hashtriemap.go,
            // `ht.seed = uintptr(runtime_rand())` in initSlow): it pulls the seeded source
            // instead. Go 1.23 and earlier's sync.Map is runtime maps inside, seeded above.
            out.push(rename(
                "internal/sync/hashtriemap.go",
                "//go:linkname runtime_rand runtime.rand\n",
                "//go:linkname runtime_rand runtime.simMapRand\n",
            ));
            if minor <= 26 {
                out.push(rename("runtime/alg.go", "bootstrapRand()", "simHashKey()"));
            } else {
                out.push(rename(
                    "internal/runtime/maps/runtime_alg.go",
                    "bootstrapRand()",
                    "simHashKey()",
                ));
            }
        }
    }
    Ok(out)
}

/// Replaces every occurrence of `from` in `text` that does not continue an identifier (or a
/// selector) before it; returns the new text and the count.
pub fn rename_in(text: &str, from: &str, to: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        // The character before the match: in `rest`, or the last one already written.
        let before = rest[..i].chars().last().or_else(|| out.chars().last());
        let joined = before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
        out.push_str(&rest[..i]);
        if joined && from.starts_with(|c: char| c.is_alphanumeric()) {
            out.push_str(from);
        } else {
            out.push_str(to);
            count += 1;
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    (out, count)
}

/// The seeded runtime's fallback before the first program is seeded: the runtime's own source,
/// by its name in this release.
fn fallback(minor: u32) -> String {
    let call = if minor <= 21 {
        "fastrand64()"
    } else {
        "rand()"
    };
    format!(
        "// Generated by sim for the seeded Go driver: before a program seeds the map randomness,\n\
         // maps draw from the runtime's own source, as in an unmodified runtime.\n\n\
         package runtime\n\nfunc simMapFallback() uint64 {{ return {call} }}\n"
    )
}

/// The whole overlay for `toolchain`: the renamed files, then the added ones.
pub fn plan(toolchain: &Toolchain) -> Result<Vec<OverlayFile>, String> {
    let src = toolchain.goroot.join("src");
    let mut files: Vec<OverlayFile> = Vec::new();
    for r in renames(toolchain)? {
        let path = src.join(r.file);
        let index = match files.iter().position(|f| f.path == path) {
            Some(i) => i,
            None => {
                let original = std::fs::read_to_string(&path).map_err(|e| {
                    format!(
                        "cannot read {} of Go {} for the seeded driver: {e}",
                        path.display(),
                        toolchain.version
                    )
                })?;
                files.push(OverlayFile {
                    path: path.clone(),
                    text: original.clone(),
                    original: Some(original),
                });
                files.len() - 1
            }
        };
        let (text, count) = rename_in(&files[index].text, r.from, r.to);
        if count == 0 {
            return Err(format!(
                "Go {}'s {} has no `{}` to seed (its map code has changed): the seeded driver \
                 cannot be built for it; use go-natural@{}",
                toolchain.version,
                r.file,
                r.from.trim(),
                toolchain.number()
            ));
        }
        files[index].text = text;
    }
    let (_, minor, _) = toolchain.release().unwrap_or_default();
    let added = |rel: &str, text: String| OverlayFile {
        path: src.join(rel),
        text,
        original: None,
    };
    files.push(added("runtime/zz_sim_random.go", RUNTIME_SIM.to_string()));
    files.push(added("runtime/zz_sim_fallback.go", fallback(minor)));
    match toolchain.family()? {
        Family::Classic => files.push(added(
            "runtime/zz_sim_classic.go",
            RUNTIME_SIM_CLASSIC.to_string(),
        )),
        Family::Swiss => files.push(added(
            "internal/runtime/maps/zz_sim_maps.go",
            MAPS_SIM.to_string(),
        )),
    }
    for f in &files {
        if f.original.is_none() && f.path.exists() {
            return Err(format!(
                "Go {} already has {}: the overlay would replace it",
                toolchain.version,
                f.path.display()
            ));
        }
    }
    Ok(files)
}

/// The `-overlay` file: JSON `{"Replace": {"<path the compiler sees>": "<file on disk>"}}`.
pub fn overlay_json(entries: &[(PathBuf, PathBuf)]) -> String {
    let quote = |p: &PathBuf| {
        let s = p.to_string_lossy();
        let mut q = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                c if (c as u32) < 0x20 => q.push_str(&format!("\\u{:04x}", c as u32)),
                c => q.push(c),
            }
        }
        q.push('"');
        q
    };
    let body: Vec<String> = entries
        .iter()
        .map(|(seen, disk)| format!("    {}: {}", quote(seen), quote(disk)))
        .collect();
    format!("{{\n  \"Replace\": {{\n{}\n  }}\n}}\n", body.join(",\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renaming_skips_longer_identifiers_and_selectors() {
        let text = "a := rand()\nb := bootstrapRand()\nc := x.rand()\nd := uint32(rand())\n";
        let (out, n) = rename_in(text, "rand()", "simMapRand()");
        assert_eq!(n, 2);
        assert_eq!(
            out,
            "a := simMapRand()\nb := bootstrapRand()\nc := x.rand()\nd := uint32(simMapRand())\n"
        );
        let (out, n) = rename_in(
            "//go:linkname rand\nfunc rand() uint64\n",
            "//go:linkname rand\n",
            "//go:linkname rand runtime.simMapRand\n",
        );
        assert_eq!(
            (out.as_str(), n),
            (
                "//go:linkname rand runtime.simMapRand\nfunc rand() uint64\n",
                1
            )
        );
    }

    #[test]
    fn overlay_json_escapes_paths() {
        let json = overlay_json(&[(PathBuf::from("/a/b\"c.go"), PathBuf::from("/t/1.go"))]);
        assert_eq!(
            json,
            "{\n  \"Replace\": {\n    \"/a/b\\\"c.go\": \"/t/1.go\"\n  }\n}\n"
        );
    }
}
