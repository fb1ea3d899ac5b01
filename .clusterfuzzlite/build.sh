#!/bin/bash -eu
# Builds the fuzz targets into $OUT the way ClusterFuzzLite runs them: per target the binary, its
# seed corpus (<target>_seed_corpus.zip, from fuzz/corpus/<target>), its dictionary
# (<target>.dict, from fuzz/dicts/) and <target>.options, which points libFuzzer at the dictionary.
#
# Runs in the builder image (SRC, OUT, WORK, SANITIZER, ... set by it; see Dockerfile) and under
# `cargo xtask cflite-check`. For SANITIZER=coverage the image's `cargo` wrapper turns
# `cargo fuzz build` into a plain instrumented `cargo build` and puts the binaries where
# cargo-fuzz would.

cd "$SRC/map-core/fuzz"

# The targets are the [[bin]] tables of fuzz/Cargo.toml. Not `cargo fuzz list`: under
# SANITIZER=coverage the image's wrapper would turn any `cargo fuzz` command into a build.
bins=$(awk '
  /^\[\[bin\]\]/ { in_bin = 1; next }
  /^\[/          { in_bin = 0 }
  in_bin && /^name[ \t]*=/ { sub(/^name[ \t]*=[ \t]*"/, ""); sub(/".*/, ""); print }
' Cargo.toml)
if [ -z "$bins" ]; then
  echo "build.sh: no [[bin]] targets in $PWD/Cargo.toml" >&2
  exit 1
fi

# A [[bin]] with a committed seed corpus is a target; one without (the `baseline` of
# `cargo xtask fuzz-speed`, which does nothing with its input) would only take fuzzing time.
targets=()
for bin in $bins; do
  if [ -d "corpus/$bin" ]; then
    targets+=("$bin")
  else
    echo "build.sh: skipping $bin: no seed corpus corpus/$bin (not a fuzz target)"
  fi
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "build.sh: no [[bin]] of Cargo.toml has a seed corpus under $PWD/corpus" >&2
  exit 1
fi

# -O: optimized, as fuzzing wants. -a: keep debug assertions (cargo-fuzz drops them with -O),
# since the harness's own consistency checks are debug assertions, as in `cargo xtask fuzz`.
cargo fuzz build -O -a

# cargo honours CARGO_TARGET_DIR (cflite-check points it at a directory that survives runs).
release="${CARGO_TARGET_DIR:-$PWD/target}/${ARCHITECTURE:-x86_64}-unknown-linux-gnu/release"
for target in "${targets[@]}"; do
  dict="dicts/$target.dict"
  if [ ! -f "$dict" ]; then
    echo "build.sh: $target has no dictionary $PWD/$dict (cargo xtask fuzz-corpus writes it)" >&2
    exit 1
  fi
  cp "$release/$target" "$OUT/$target"
  # zip adds to an existing archive: start afresh so removed seeds do not linger.
  rm -f "$OUT/${target}_seed_corpus.zip"
  (cd "corpus/$target" && zip -q -X "$OUT/${target}_seed_corpus.zip" ./*)
  cp "$dict" "$OUT/$target.dict"
  printf '[libfuzzer]\ndict = %s.dict\n' "$target" > "$OUT/$target.options"
  echo "build.sh: $target: binary, $(ls "corpus/$target" | wc -l) seeds, dictionary, options"
done
