//! The fuzz targets: building them, replaying their committed corpora, fuzzing, and proving that
//! each target finds the injected faults of its class.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use map_core::Fault;
use sim::fuzz_input::{Target, FAULT_ENV};

use crate::libfuzzer::{self, Outcome, RunSpec};
use crate::process::{human, run_inherit};
use crate::tools::{self, FuzzMode, ToolchainChoice, CARGO_FUZZ_VERSION};
use crate::Workspace;

/// The measuring stick of `cargo xtask fuzz-speed`: `fuzz/fuzz_targets/baseline.rs`, built with
/// the targets but doing nothing with its input. It is not a [`Target`]: it has no fault class,
/// corpus or dictionary, and only `fuzz-speed` runs it.
pub const BASELINE: &str = "baseline";

/// Built fuzz targets, ready to run.
pub struct Fuzzer {
    ws: Workspace,
    mode: FuzzMode,
    faults: bool,
    /// This mode's cargo target directory: each mode (and the `faults` build) has its own.
    dir: PathBuf,
    triple: String,
}

impl Fuzzer {
    /// Installs cargo-fuzz if missing and builds every target in the best mode `choice` allows,
    /// falling back to the next mode when a build fails.
    pub fn prepare(
        ws: &Workspace,
        choice: ToolchainChoice,
        faults: bool,
    ) -> Result<Fuzzer, String> {
        tools::ensure_cargo_tool("fuzz", "cargo-fuzz", CARGO_FUZZ_VERSION)?;
        let triple = tools::host_triple()?;
        let mut failures = Vec::new();
        for mode in tools::candidate_modes(choice) {
            let features = if faults { "-faults" } else { "" };
            let dir = ws
                .target_dir
                .join("fuzz")
                .join(format!("{}{features}", mode.slug()));
            let fuzzer = Fuzzer {
                ws: ws.clone(),
                mode,
                faults,
                dir,
                triple: triple.clone(),
            };
            eprintln!("building the fuzz targets: {}", fuzzer.mode);
            match fuzzer.build() {
                Ok(()) => return Ok(fuzzer),
                Err(why) => {
                    eprintln!("build failed ({}): {why}", fuzzer.mode);
                    failures.push(format!("{}: {why}", fuzzer.mode));
                }
            }
        }
        Err(format!("no fuzz build worked: {}", failures.join("; ")))
    }

    fn build(&self) -> Result<(), String> {
        let mut cmd = self.mode.cargo_fuzz();
        cmd.arg("build").args(self.mode.sanitizer_args());
        cmd.arg("--fuzz-dir").arg(self.ws.fuzz_dir());
        cmd.arg("--target-dir").arg(&self.dir);
        if self.faults {
            cmd.args(["--features", "faults"]);
        }
        let status = run_inherit(&mut cmd).map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`cargo fuzz build` exited with {status}"))
        }
    }

    /// The mode the targets were built in.
    pub fn mode(&self) -> &FuzzMode {
        &self.mode
    }

    /// The built binary of `target`.
    pub fn binary(&self, target: &str) -> PathBuf {
        self.dir.join(&self.triple).join("release").join(target)
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{name}.log"))
    }

    /// Runs every input of the committed corpus of `target` once (`-runs=0`), injecting `fault`.
    pub fn replay_corpus(&self, target: Target, fault: Option<Fault>) -> Result<Outcome, String> {
        let target = target.name();
        let (artifacts, log) = match fault {
            Some(fault) => (
                self.dir
                    .join("artifacts-faults")
                    .join(format!("{target}-{fault}")),
                self.log(&format!("{target}-{fault}-replay")),
            ),
            None => (
                self.ws.artifacts(target),
                self.log(&format!("{target}-replay")),
            ),
        };
        let spec = RunSpec {
            corpora: vec![self.ws.committed_corpus(target)],
            artifacts,
            runs: Some(0),
            env: fault_env(fault),
            ..RunSpec::default()
        };
        libfuzzer::run(&self.binary(target), &spec, &log)
    }

    /// Fuzzes `target` as `plan` says.
    ///
    /// Without a fault, new inputs go to a corpus kept in the target directory, which grows from
    /// run to run, so the committed corpus changes only when someone means it to. With a fault,
    /// each run starts afresh (from the committed corpus, or from nothing), as a measurement of
    /// detection must.
    pub fn fuzz(&self, target: Target, plan: &RunPlan) -> Result<Outcome, String> {
        let max_len = target.max_len();
        let target = target.name();
        let (scratch, artifacts, log) = match plan.fault {
            Some(fault) => {
                let start = if plan.from_committed { "" } else { "-empty" };
                let name = format!("{target}-{fault}{start}");
                let scratch = self.dir.join("corpus-faults").join(&name);
                if scratch.exists() {
                    fs::remove_dir_all(&scratch)
                        .map_err(|e| format!("cannot clear {}: {e}", scratch.display()))?;
                }
                (
                    scratch,
                    self.dir.join("artifacts-faults").join(&name),
                    self.log(&name),
                )
            }
            None => (
                self.dir.join("corpus").join(target),
                self.ws.artifacts(target),
                self.log(target),
            ),
        };
        let env = fault_env(plan.fault);
        let mut corpora = vec![scratch];
        if plan.from_committed {
            corpora.push(self.ws.committed_corpus(target));
        }
        let dict = self
            .ws
            .fuzz_dir()
            .join("dicts")
            .join(format!("{target}.dict"));
        let spec = RunSpec {
            corpora,
            artifacts,
            max_total_time: Some(plan.time),
            runs: None,
            max_len,
            seed: plan.seed,
            dict: dict.exists().then_some(dict),
            env,
            echo: plan.echo,
        };
        libfuzzer::run(&self.binary(target), &spec, &log)
    }

    /// Fuzzes `name` (a target, or [`BASELINE`]) for `time` to measure its speed: from a fresh
    /// scratch corpus plus the committed one (the target's own inputs, as `cargo xtask fuzz`
    /// starts), with a fixed libFuzzer seed, so that two builds are compared on the same start.
    pub fn measure(&self, name: &str, time: Duration, seed: u64) -> Result<Outcome, String> {
        let target: Option<Target> = name.parse().ok();
        let scratch = self.dir.join("corpus-speed").join(name);
        if scratch.exists() {
            fs::remove_dir_all(&scratch)
                .map_err(|e| format!("cannot clear {}: {e}", scratch.display()))?;
        }
        let mut corpora = vec![scratch];
        let mut dict = None;
        if let Some(target) = target {
            corpora.push(self.ws.committed_corpus(target.name()));
            let path = self
                .ws
                .fuzz_dir()
                .join("dicts")
                .join(format!("{target}.dict"));
            dict = path.exists().then_some(path);
        }
        let spec = RunSpec {
            corpora,
            artifacts: self.dir.join("artifacts-speed").join(name),
            max_total_time: Some(time),
            runs: None,
            // The baseline gets the largest length any target allows: libFuzzer's own work per
            // input is then at least what it is for every real target.
            max_len: target.map_or_else(
                || Target::ALL.iter().map(|t| t.max_len()).max().unwrap_or(0),
                Target::max_len,
            ),
            seed: Some(seed),
            dict,
            env: Vec::new(),
            echo: false,
        };
        libfuzzer::run(
            &self.binary(name),
            &spec,
            &self.log(&format!("{name}-speed")),
        )
    }

    /// How to reproduce a failing input, as commands a person can paste.
    pub fn replay_help(&self, target: Target, artifact: &Path, fault: Option<Fault>) -> String {
        let fault_env = fault
            .map(|f| format!("{FAULT_ENV}={f} "))
            .unwrap_or_default();
        let fault_arg = fault.map(|f| format!(" --fault {f}")).unwrap_or_default();
        let features = if fault.is_some() {
            " --features faults"
        } else {
            ""
        };
        let artifact = artifact.display();
        format!(
            "  run the input again:   {fault_env}{} {artifact}\n  \
             shrink it to a trace:  cargo run -p sim{features} -- import --target {target}{fault_arg} {artifact}\n  \
             replay the trace:      cargo run -p sim{features} -- replay {artifact}.trace",
            self.binary(target.name()).display(),
        )
    }
}

/// The environment that makes a target built with `faults` inject `fault`.
fn fault_env(fault: Option<Fault>) -> Vec<(String, String)> {
    fault
        .map(|f| (FAULT_ENV.to_string(), f.name().to_string()))
        .into_iter()
        .collect()
}

/// One timed run of a target.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// How long to fuzz.
    pub time: Duration,
    /// The fault to inject (the targets must be built with `faults`).
    pub fault: Option<Fault>,
    /// libFuzzer's seed; `None` for a fresh one.
    pub seed: Option<u64>,
    /// Start from the committed corpus (else from nothing but what the run finds).
    pub from_committed: bool,
    /// Echo libFuzzer's output.
    pub echo: bool,
}

/// The targets named by `selection`, or all of them; an unknown name is a usage error.
pub fn select_targets(selection: Option<&str>) -> Result<Vec<Target>, crate::Error> {
    match selection {
        None => Ok(Target::ALL.to_vec()),
        Some(name) => name
            .parse()
            .map(|t| vec![t])
            .map_err(|e| crate::Error::Usage(format!("{e}"))),
    }
}

/// What `cargo xtask fuzz` should do.
#[derive(Debug)]
pub struct FuzzRequest {
    /// One target, or all.
    pub target: Option<String>,
    /// How long to fuzz each target; `None` to stop after the corpus replay.
    pub time: Option<Duration>,
    /// Replay the committed corpora.
    pub replay: bool,
    /// Which toolchain to build with.
    pub toolchain: ToolchainChoice,
    /// Build with `faults` and inject this fault.
    pub fault: Option<Fault>,
    /// Echo libFuzzer's output.
    pub verbose: bool,
}

/// One target's results.
#[derive(Debug, Default)]
pub struct TargetReport {
    /// The target.
    pub target: String,
    /// The corpus replay, if it ran.
    pub replay: Option<Outcome>,
    /// The timed run, if it ran.
    pub fuzz: Option<Outcome>,
}

impl TargetReport {
    /// Whether either run found a failure.
    pub fn found(&self) -> bool {
        [&self.replay, &self.fuzz]
            .into_iter()
            .flatten()
            .any(|o| !o.clean)
    }
}

/// `cargo xtask fuzz`: build, replay the committed corpora, fuzz. Returns whether all was clean.
pub fn fuzz_command(ws: &Workspace, req: &FuzzRequest) -> Result<bool, crate::Error> {
    let targets = select_targets(req.target.as_deref())?;
    let fuzzer =
        Fuzzer::prepare(ws, req.toolchain, req.fault.is_some()).map_err(crate::Error::Failed)?;
    let mut reports = Vec::new();
    for &target in &targets {
        let mut report = TargetReport {
            target: target.to_string(),
            ..TargetReport::default()
        };
        if req.replay {
            let outcome = fuzzer
                .replay_corpus(target, req.fault)
                .map_err(crate::Error::Failed)?;
            print_outcome(&fuzzer, target, "corpus replay", &outcome, req.fault);
            report.replay = Some(outcome);
        }
        if let Some(time) = req.time.filter(|_| !report.found()) {
            eprintln!("fuzzing {target} for {} ({})", human(time), fuzzer.mode());
            let plan = RunPlan {
                time,
                fault: req.fault,
                seed: None,
                from_committed: true,
                echo: req.verbose,
            };
            let outcome = fuzzer.fuzz(target, &plan).map_err(crate::Error::Failed)?;
            print_outcome(&fuzzer, target, "fuzzing", &outcome, req.fault);
            report.fuzz = Some(outcome);
        }
        reports.push(report);
    }
    print_summary(&fuzzer, &reports);
    Ok(!reports.iter().any(TargetReport::found))
}

fn print_outcome(fuzzer: &Fuzzer, target: Target, what: &str, o: &Outcome, fault: Option<Fault>) {
    if o.clean {
        let rate = o
            .exec_per_sec()
            .map(|r| format!(", {r:.0} exec/s"))
            .unwrap_or_default();
        eprintln!(
            "{target}: {what} clean: {} inputs in {}{rate}",
            o.executions.unwrap_or(0),
            human(o.elapsed)
        );
        return;
    }
    eprintln!(
        "{target}: {what} FOUND A FAILURE after {}",
        human(o.elapsed)
    );
    if let Some(text) = &o.panic_text {
        eprintln!("{text}");
    }
    match &o.artifact {
        Some(artifact) => eprintln!("{}", fuzzer.replay_help(target, artifact, fault)),
        None => eprintln!(
            "  (libFuzzer exited with {:?}; see {})",
            o.exit_code,
            o.log.display()
        ),
    }
    eprintln!("  full output: {}", o.log.display());
}

fn print_summary(fuzzer: &Fuzzer, reports: &[TargetReport]) {
    println!("fuzz summary ({}):", fuzzer.mode());
    println!("{:<16} {:<24} {:<40}", "target", "corpus replay", "fuzzing");
    for r in reports {
        let replay = match &r.replay {
            None => "-".to_string(),
            Some(o) if o.clean => format!("clean ({} inputs)", o.executions.unwrap_or(0)),
            Some(_) => "FOUND".to_string(),
        };
        let fuzz = match &r.fuzz {
            None => "-".to_string(),
            Some(o) => {
                let rate = o
                    .exec_per_sec()
                    .map(|r| format!(", {r:.0}/s"))
                    .unwrap_or_default();
                let verdict = if o.clean { "clean" } else { "FOUND" };
                format!(
                    "{verdict}: {} execs in {}{rate}",
                    o.executions.unwrap_or(0),
                    human(o.elapsed)
                )
            }
        };
        println!("{:<16} {:<24} {:<40}", r.target, replay, fuzz);
    }
}

/// What `cargo xtask fuzz-faults` should do.
#[derive(Debug)]
pub struct FaultsRequest {
    /// One target, or all that have a fault class.
    pub target: Option<String>,
    /// One fault, or the target's whole class.
    pub fault: Option<Fault>,
    /// How long each target may take to find each fault.
    pub limit: Duration,
    /// libFuzzer's seed, so a table can be reproduced on the same build.
    pub seed: u64,
    /// Start from an empty corpus instead of the committed one: what the fuzzer finds by itself.
    pub from_empty: bool,
    /// Which toolchain to build with.
    pub toolchain: ToolchainChoice,
}

/// `cargo xtask fuzz-faults`: with each fault of each target's class injected, fuzz from the
/// committed corpus until the fault is found or the limit passes. Returns whether every fault
/// was found; prints the table recorded in BENCHMARKS.md.
pub fn faults_command(ws: &Workspace, req: &FaultsRequest) -> Result<bool, crate::Error> {
    let mut plan = Vec::new();
    for target in select_targets(req.target.as_deref())? {
        let faults: Vec<Fault> = match req.fault {
            Some(f) => vec![f],
            None => target.fault_class().to_vec(),
        };
        plan.extend(faults.into_iter().map(|f| (target, f)));
    }
    if plan.is_empty() {
        return Err(crate::Error::Usage(
            "no fault to look for: name one with --fault".to_string(),
        ));
    }
    let fuzzer = Fuzzer::prepare(ws, req.toolchain, true).map_err(crate::Error::Failed)?;
    let mut rows = Vec::new();
    for (target, fault) in &plan {
        eprintln!("{target} with fault {fault}: up to {}", human(req.limit));
        let plan = RunPlan {
            time: req.limit,
            fault: Some(*fault),
            seed: Some(req.seed),
            from_committed: !req.from_empty,
            echo: false,
        };
        let o = fuzzer.fuzz(*target, &plan).map_err(crate::Error::Failed)?;
        match &o.artifact {
            Some(artifact) if !o.clean => {
                eprintln!("  found in {}: {}", human(o.elapsed), artifact.display());
                if let Some(text) = &o.panic_text {
                    let first = text.lines().nth(1).unwrap_or_default();
                    eprintln!("  {first}");
                }
            }
            _ if !o.clean => eprintln!("  stopped with {:?}: see {}", o.exit_code, o.log.display()),
            _ => eprintln!("  NOT FOUND within {}", human(req.limit)),
        }
        rows.push((*target, *fault, o));
    }
    println!(
        "fault detection ({}, from {} corpus, libFuzzer -seed={}, limit {}):",
        fuzzer.mode(),
        if req.from_empty {
            "an empty"
        } else {
            "the committed"
        },
        req.seed,
        human(req.limit)
    );
    println!("| target | fault | found | time to detection | executions | exec/s |");
    println!("|---|---|---|---|---|---|");
    for (target, fault, o) in &rows {
        let found = !o.clean && o.artifact.is_some();
        println!(
            "| {target} | {fault} | {} | {} | {} | {} |",
            if found { "yes" } else { "NO" },
            if found {
                format!("{:.1} s", o.elapsed.as_secs_f64())
            } else {
                "-".to_string()
            },
            o.executions.map_or("-".to_string(), |n| n.to_string()),
            // Over a second or two the rate is mostly start-up (loading the corpus): not shown.
            o.exec_per_sec()
                .filter(|_| o.elapsed >= Duration::from_secs(5))
                .map_or("-".to_string(), |r| format!("{r:.0}")),
        );
    }
    Ok(rows
        .iter()
        .all(|(_, _, o)| !o.clean && o.artifact.is_some()))
}

/// What `cargo xtask fuzz-speed` should do.
#[derive(Debug)]
pub struct SpeedRequest {
    /// One target, or all.
    pub target: Option<String>,
    /// How long to fuzz each.
    pub time: Duration,
    /// libFuzzer's seed.
    pub seed: u64,
    /// Which toolchain to build with.
    pub toolchain: ToolchainChoice,
}

/// `cargo xtask fuzz-speed`: fuzz [`BASELINE`] and each target for the same time and print their
/// exec/s in one table, so that the cost of libFuzzer and its instrumentation is told apart from
/// the cost of the targets' own work. Returns whether every run was clean.
pub fn speed_command(ws: &Workspace, req: &SpeedRequest) -> Result<bool, crate::Error> {
    let mut names = vec![BASELINE.to_string()];
    names.extend(
        select_targets(req.target.as_deref())?
            .iter()
            .map(|t| t.name().to_string()),
    );
    let fuzzer = Fuzzer::prepare(ws, req.toolchain, false).map_err(crate::Error::Failed)?;
    // Taken before the runs: on a shared machine, the load says how far to trust the numbers.
    let load = load_average();
    let mut rows = Vec::new();
    for name in &names {
        eprintln!("measuring {name} for {}", human(req.time));
        let cpu_before = children_cpu_time();
        let o = fuzzer
            .measure(name, req.time, req.seed)
            .map_err(crate::Error::Failed)?;
        let cpu = match (cpu_before, children_cpu_time()) {
            (Some(before), Some(after)) => after.checked_sub(before),
            _ => None,
        };
        if !o.clean {
            eprintln!("{name}: FOUND A FAILURE; see {}", o.log.display());
        }
        rows.push((name, o, cpu));
    }
    println!(
        "fuzz speed ({}, libFuzzer -seed={}, {} each, load average before the runs: {load}):",
        fuzzer.mode(),
        req.seed,
        human(req.time)
    );
    println!(
        "| target | executions | time | exec/s | µs per input | µs above the baseline | CPU time | exec per CPU second |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    // Time per input, corpus loading included: the baseline's is libFuzzer's own cost (mutation,
    // running, reading the counters), so the difference is what the target's work costs.
    let micros = |o: &Outcome| o.exec_per_sec().filter(|&r| r > 0.0).map(|r| 1e6 / r);
    let baseline = rows.first().and_then(|(_, o, _)| micros(o));
    for (name, o, cpu) in &rows {
        let above = match (micros(o), baseline) {
            (Some(t), Some(b)) if *name != BASELINE => format!("{:.1}", t - b),
            _ => "-".to_string(),
        };
        // On a shared machine the wall-clock rate falls with the load; the rate per second of CPU
        // the fuzzer got falls much less, so it is the one to compare across runs.
        let per_cpu = match (o.executions, cpu) {
            (Some(n), Some(t)) if !t.is_zero() => format!("{:.0}", n as f64 / t.as_secs_f64()),
            _ => "-".to_string(),
        };
        println!(
            "| {name}{} | {} | {:.1} s | {} | {} | {above} | {} | {per_cpu} |",
            if o.clean { "" } else { " (FOUND a failure)" },
            o.executions.map_or("-".to_string(), |n| n.to_string()),
            o.elapsed.as_secs_f64(),
            o.exec_per_sec()
                .map_or("-".to_string(), |r| format!("{r:.0}")),
            micros(o).map_or("-".to_string(), |t| format!("{t:.1}")),
            cpu.map_or("-".to_string(), |t| format!("{:.1} s", t.as_secs_f64())),
        );
    }
    Ok(rows.iter().all(|(_, o, _)| o.clean))
}

/// The CPU time (user and system) of this process's waited-for children so far, from
/// `/proc/self/stat` (Linux; `None` elsewhere). Its growth across one run of a fuzz binary is that
/// run's CPU time, at the 10 ms resolution of the kernel's clock ticks.
fn children_cpu_time() -> Option<Duration> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces and parentheses; the fields after its last `)` are numbers.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // `cutime` and `cstime` are fields 16 and 17 of proc(5); this list starts at field 3.
    let ticks = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    // USER_HZ, the unit of these fields, is 100 on every Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` gives them.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_string())
}
