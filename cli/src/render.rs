//! Output formats of check, diff and publish runs: text for a person, JSON
//! for scripts, GitHub workflow commands, JUnit XML and SARIF 2.1.0. Every
//! format carries every outcome, errors included, so that a CI step that
//! reads the report never gets an empty file.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use serde_json::{Value, json};

use crate::report::{CheckReport, ConsumerOut, ErrorOut, FindingOut, ImpactOut, Pin, RunReport, Summary};

/// An output format chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For a person: grouped findings, breaking ones marked; coloured on a terminal.
    Text,
    /// One JSON object, stable and documented.
    Json,
    /// GitHub Actions workflow commands (`::error file=…`), one per finding.
    Github,
    /// JUnit XML: one test case per contract checked.
    Junit,
    /// SARIF 2.1.0: one result per finding, with the rule table.
    Sarif,
}

impl Format {
    /// The name given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Github => "github",
            Format::Junit => "junit",
            Format::Sarif => "sarif",
        }
    }

    /// Whether the format gives each finding's line in the schema file (so
    /// that the file has to be scanned for them).
    pub fn shows_lines(self) -> bool {
        match self {
            Format::Json | Format::Github | Format::Sarif => true,
            Format::Text | Format::Junit => false,
        }
    }
}

/// Which command produced the reports; it words the text and names the
/// JUnit suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `accord check`.
    Check,
    /// `accord diff`.
    Diff,
    /// `accord publish`.
    Publish,
    /// `accord can-i-deploy`.
    CanIDeploy,
    /// `accord consumer register`.
    Register,
    /// Any other command (its errors only are rendered here).
    Other,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Check => "check",
            Kind::Diff => "diff",
            Kind::Publish => "publish",
            Kind::CanIDeploy => "can-i-deploy",
            Kind::Register => "register",
            Kind::Other => "run",
        }
    }
}

/// The styles of the text report. Without colour they are all plain and
/// write nothing, so that no adapter has to strip them from the output again.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    breaking: Style,
    compatible: Style,
    bump: Style,
    dim: Style,
    bold: Style,
}

impl Palette {
    /// Styles for a terminal.
    pub const COLOUR: Palette = Palette {
        breaking: AnsiColor::Red.on_default().bold(),
        compatible: AnsiColor::Green.on_default(),
        bump: AnsiColor::Yellow.on_default().bold(),
        dim: Style::new().dimmed(),
        bold: Style::new().bold(),
    };
    /// No styles at all.
    pub const PLAIN: Palette = Palette {
        breaking: Style::new(),
        compatible: Style::new(),
        bump: Style::new(),
        dim: Style::new(),
        bold: Style::new(),
    };
}

/// Writes `run` in `format`.
pub fn write(
    out: &mut dyn Write,
    run: &RunReport,
    format: Format,
    kind: Kind,
    palette: &Palette,
) -> io::Result<()> {
    match format {
        Format::Text => text(out, run, kind, palette),
        Format::Json => {
            let value = match (&run.reports[..], &run.error) {
                ([report], None) if run.single => serde_json::to_value(report),
                ([], Some(error)) if run.single => Ok(json!({ "error": error })),
                _ => Ok(json!({
                    "compatible": run.exit_code() == 0,
                    "summary": run.summary(),
                    "contracts": run.reports,
                    "error": run.error,
                })),
            }
            .map_err(io::Error::other)?;
            serde_json::to_writer_pretty(&mut *out, &value).map_err(io::Error::from)?;
            writeln!(out)
        }
        Format::Github => github(out, run),
        Format::Junit => junit(out, run, kind),
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(run)).map_err(io::Error::from)?;
            writeln!(out)
        }
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// "3 contracts: 1 accepted, 1 refused, 1 error" ("entries" when the run
/// has readings of other contracts too).
pub fn summary_line(summary: Summary, readings: bool) -> String {
    let counted = match (readings, summary.contracts) {
        (false, _) => plural(summary.contracts, "contract"),
        (true, 1) => "1 entry".to_owned(),
        (true, n) => format!("{n} entries"),
    };
    format!(
        "{counted}: {} accepted, {} refused, {}",
        summary.accepted,
        summary.refused,
        plural(summary.errors, "error")
    )
}

/// Whether the run has readings of other contracts (`[[consumes]]`).
fn has_readings(run: &RunReport) -> bool {
    run.reports.iter().any(|r| r.consumer.is_some())
}

fn text(out: &mut dyn Write, run: &RunReport, kind: Kind, p: &Palette) -> io::Result<()> {
    // From the command line an error goes to stderr alone, as with any
    // other command; a manifest run lists it with the other contracts.
    let shown: Vec<&CheckReport> = run
        .reports
        .iter()
        .filter(|r| !run.single || r.error.is_none())
        .collect();
    for (i, report) in shown.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        text_one(out, report, kind, p)?;
    }
    if !run.single && !run.reports.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", summary_line(run.summary(), has_readings(run)))?;
    }
    Ok(())
}

fn name_and_file(report: &CheckReport) -> String {
    match &report.schema_file {
        // A diff's name already ends with the new file.
        Some(file) if !report.contract.ends_with(file.as_str()) => {
            format!("{} ({file})", report.contract)
        }
        _ => report.contract.clone(),
    }
}

/// The registry's verdict in words: "accepted as 1.3.0", "refused: needs a
/// major version".
fn verdict_words(report: &CheckReport, kind: Kind) -> String {
    if let Some(c) = &report.consumer {
        return match (c.registered, report.compatible) {
            (Some(true), _) => format!("{} registered as a reader", c.consumer),
            (Some(false), _) => format!("{} was registered already", c.consumer),
            (None, true) => format!("{} can deploy", c.consumer),
            (None, false) => format!("{} cannot deploy", c.consumer),
        };
    }
    let Some(d) = &report.registry else {
        return if report.compatible {
            "compatible".into()
        } else {
            "incompatible".into()
        };
    };
    let version = d.version.as_deref().unwrap_or("the version");
    match d.verdict.as_str() {
        "accepted" if kind == Kind::Publish => format!("published as {version}"),
        "accepted" => format!("accepted as {version}"),
        "already_published" => format!("already published as {version}"),
        // Compatible version to version, refused for the consumers it breaks.
        "incompatible"
            if report.breaking().next().is_none() && report.broken_consumers().any(|i| i.refuses) =>
        {
            let names: Vec<&str> = report
                .broken_consumers()
                .filter(|i| i.refuses)
                .map(|i| i.consumer.as_str())
                .collect();
            format!("refused: breaks registered consumer(s) {}", names.join(", "))
        }
        "incompatible" => "refused: needs a major version".into(),
        "version_too_low" => format!("refused: {version} is too low"),
        "version_exists" => format!("refused: {version} is already taken by other content"),
        other => format!("refused ({other})"),
    }
}

/// What to do about a refusal: the version that will be accepted, and
/// where to write it.
fn advice(report: &CheckReport) -> Option<String> {
    if report.compatible {
        return None;
    }
    let version = report.registry.as_ref()?.smallest_acceptable_version.as_ref()?;
    Some(match report.pin {
        Pin::Manifest => {
            format!("smallest acceptable version: {version} (set version = \"{version}\" in accord.toml)")
        }
        Pin::Flag => format!("smallest acceptable version: {version} (publish with --version {version})"),
    })
}

/// How to get LENIENT's verdict for this report's contract.
fn lenient_flag(report: &CheckReport) -> String {
    if report.registry.is_some() {
        format!("accord config set {} --policy lenient", report.contract)
    } else {
        "--policy lenient".into()
    }
}

/// The registry's sentence explaining a report's verdict.
fn explanation(report: &CheckReport) -> Option<String> {
    match (&report.registry, &report.consumer) {
        (Some(d), _) => d.explanation.clone(),
        (None, Some(c)) => c.explanation.clone(),
        (None, None) => None,
    }
}

/// "billing reads orders/placed ^1", for a reading.
fn reading_name(report: &CheckReport, c: &ConsumerOut) -> String {
    format!("{} reads {} {}", c.consumer, report.contract, c.requirement)
}

/// A consumer's reading checked (can-i-deploy) or registered.
fn text_reading(
    out: &mut dyn Write,
    report: &CheckReport,
    c: &ConsumerOut,
    kind: Kind,
    p: &Palette,
) -> io::Result<()> {
    let Palette {
        breaking,
        compatible,
        dim,
        bold,
        ..
    } = *p;
    let (mark, style) = if report.compatible {
        ("✓", compatible)
    } else {
        ("✗", breaking)
    };
    let reader = match &report.schema_file {
        Some(file) => format!("with reader {file}"),
        None => "without a reader schema".to_owned(),
    };
    writeln!(
        out,
        "{style}{mark}{style:#} {bold}{}{bold:#} {reader}: {style}{}{style:#}",
        reading_name(report, c),
        verdict_words(report, kind)
    )?;
    if let Some(explanation) = &c.explanation {
        writeln!(out, "  {dim}{explanation}{dim:#}")?;
    }
    if !c.versions.is_empty() {
        let versions: Vec<String> = c
            .versions
            .iter()
            .map(|v| format!("{} {}", v.version, v.outcome))
            .collect();
        let resolves = c
            .resolves_to
            .as_ref()
            .map(|v| format!(" (resolves to {v})"))
            .unwrap_or_default();
        writeln!(out, "  live versions it reads{resolves}: {}", versions.join(", "))?;
    }
    let breaks: Vec<&FindingOut> = report.breaking().collect();
    if !breaks.is_empty() {
        writeln!(out, "  {breaking}rejects ({}){breaking:#}", breaks.len())?;
        for finding in breaks {
            text_finding(out, report, finding, breaking, "✗", p)?;
        }
    }
    Ok(())
}

/// The table of what a version does to each registered consumer.
fn text_impacts(out: &mut dyn Write, impacts: &[ImpactOut], p: &Palette) -> io::Result<()> {
    let Palette {
        breaking,
        compatible,
        bump,
        dim,
        ..
    } = *p;
    if impacts.is_empty() {
        return Ok(());
    }
    writeln!(out, "  consumers ({})", impacts.len())?;
    let rows: Vec<[String; 4]> = impacts
        .iter()
        .map(|i| {
            let reads = match (&i.against_version, i.reader) {
                (_, true) => "its reader".to_owned(),
                (Some(v), false) => v.clone(),
                (None, false) => "-".to_owned(),
            };
            let mut note = match i.outcome {
                "BREAKS" if i.refuses => "refuses the publish".to_owned(),
                "BREAKS" => "warns (the contract's setting)".to_owned(),
                _ => String::new(),
            };
            if !i.waivers.is_empty() {
                let waivers: Vec<String> = i
                    .waivers
                    .iter()
                    .map(|w| format!("{} until {}", w.id, w.expires_at.as_deref().unwrap_or("-")))
                    .collect();
                note = format!("by waiver {}", waivers.join(", "));
            }
            [
                i.consumer.clone(),
                i.requirement.clone(),
                format!("{} {reads}", i.outcome),
                note,
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..3)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for (i, row) in impacts.iter().zip(&rows) {
        let style = match i.outcome {
            "BREAKS" if i.refuses => breaking,
            "BREAKS" | "WAIVED" => bump,
            _ => compatible,
        };
        let line = format!(
            "{:<w0$}  {:<w1$}  {style}{:<w2$}{style:#}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        writeln!(out, "    {}", line.trim_end())?;
    }
    for i in impacts.iter().filter(|i| !i.findings.is_empty()) {
        for f in &i.findings {
            let witness = f
                .witness
                .as_ref()
                .map(|w| format!("; e.g. {}", short(w)))
                .unwrap_or_default();
            writeln!(
                out,
                "    {dim}{}: {} at {}: {}{witness}{dim:#}",
                i.consumer, f.rule, f.old_path, f.message
            )?;
        }
    }
    Ok(())
}

fn text_one(out: &mut dyn Write, report: &CheckReport, kind: Kind, p: &Palette) -> io::Result<()> {
    let Palette {
        breaking,
        compatible,
        bump,
        dim,
        bold,
    } = *p;
    let name = name_and_file(report);
    if let Some(error) = &report.error {
        return writeln!(
            out,
            "{breaking}✗{breaking:#} {bold}{name}{bold:#}: {breaking}error:{breaking:#} {}",
            error.message
        );
    }
    if let Some(c) = &report.consumer {
        return text_reading(out, report, c, kind, p);
    }
    let (mark, style) = if report.compatible {
        ("✓", compatible)
    } else {
        ("✗", breaking)
    };
    let words = verdict_words(report, kind);
    let settings = format!(
        "{} ({})",
        report.mode.as_deref().unwrap_or("-"),
        report.policy.as_deref().unwrap_or("-")
    );
    match &report.registry {
        None => writeln!(
            out,
            "{style}{mark} {words}{style:#} {bold}{name}{bold:#} under {settings}"
        )?,
        Some(d) => {
            writeln!(
                out,
                "{style}{mark}{style:#} {bold}{name}{bold:#}: {style}{words}{style:#}"
            )?;
            let compared = if !d.checked_against.is_empty() {
                format!(", compared with {}", d.checked_against.join(", "))
            } else if d.verdict == "accepted" && d.predecessor_version.is_none() {
                " (first version)".into()
            } else {
                String::new()
            };
            writeln!(out, "  under {settings}{compared}")?;
            if let Some(explanation) = &d.explanation {
                writeln!(out, "  {dim}{explanation}{dim:#}")?;
            }
            if let Some(advice) = advice(report) {
                writeln!(out, "  {bump}{advice}{bump:#}")?;
            }
            text_impacts(out, report.consumer_impacts.as_deref().unwrap_or_default(), p)?;
        }
    }
    let breaks: Vec<&FindingOut> = report.breaking().collect();
    let compatibles: Vec<&FindingOut> = report.findings.iter().filter(|f| f.compatible).collect();
    if report.findings.is_empty() {
        let what = match kind {
            Kind::Diff => "no differences",
            _ => "no findings",
        };
        writeln!(out, "  {dim}{what}{dim:#}")?;
    }
    if !breaks.is_empty() {
        writeln!(out, "  {breaking}breaking ({}){breaking:#}", breaks.len())?;
        for finding in breaks {
            text_finding(out, report, finding, breaking, "✗", p)?;
        }
    }
    if !compatibles.is_empty() {
        writeln!(
            out,
            "  {compatible}compatible ({}){compatible:#}",
            compatibles.len()
        )?;
        for finding in compatibles {
            text_finding(out, report, finding, compatible, "✓", p)?;
        }
    }
    writeln!(
        out,
        "  required bump: {bump}{}{bump:#}",
        report.required_bump.as_deref().unwrap_or("-")
    )
}

fn text_finding(
    out: &mut dyn Write,
    report: &CheckReport,
    f: &FindingOut,
    style: Style,
    mark: &str,
    p: &Palette,
) -> io::Result<()> {
    let Palette { bump, dim, .. } = *p;
    let path = if f.old_path == f.new_path {
        f.new_path.clone()
    } else {
        format!("{} → {}", f.old_path, f.new_path)
    };
    writeln!(out, "    {style}{mark} {}{style:#} {dim}{path}{dim:#}", f.rule)?;
    writeln!(out, "      {}", f.message)?;
    let mut context = Vec::new();
    if f.is_forward() {
        context.push("forward: about old readers of new data".to_owned());
    }
    if let Some(against) = &f.against {
        context.push(format!("against {against}"));
    }
    if !context.is_empty() {
        writeln!(out, "      {dim}{}{dim:#}", context.join(", "))?;
    }
    match (&f.witness, f.compatible) {
        (Some(witness), _) if report.consumer.is_some() => {
            let version = f.against.as_deref().unwrap_or("the version");
            writeln!(
                out,
                "      {dim}for example, {version} accepts and the reader rejects:{dim:#} {witness}"
            )?;
        }
        (Some(witness), _) => {
            let (accepts, rejects) = if f.is_forward() {
                ("new", "old")
            } else {
                ("old", "new")
            };
            writeln!(
                out,
                "      {dim}for example, the {accepts} schema accepts and the {rejects} one rejects:{dim:#} {witness}"
            )?;
        }
        (None, false) => match &f.witness_note {
            Some(note) => writeln!(out, "      {dim}{note}{dim:#}")?,
            None => writeln!(
                out,
                "      {dim}no document could be built to show the break{dim:#}"
            )?,
        },
        (None, true) => {}
    }
    if let (Some(_), Some(note)) = (&f.witness, &f.witness_note) {
        writeln!(out, "      {dim}{note}{dim:#}")?;
    }
    if f.lenient_accepts {
        writeln!(
            out,
            "      {bump}LENIENT accepts this change:{bump:#} {}",
            lenient_flag(report)
        )?;
    }
    Ok(())
}

/// How loudly a finding is annotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// A breaking finding that makes the check fail.
    Error,
    /// A breaking finding in an accepted change (a new major version
    /// announces it): worth seeing, not a failure.
    Warning,
    /// A compatible difference.
    Note,
}

impl Level {
    fn github(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        }
    }

    fn sarif(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

fn finding_level(report: &CheckReport, f: &FindingOut) -> Level {
    match (f.compatible, report.compatible) {
        (true, _) => Level::Note,
        (false, false) => Level::Error,
        (false, true) => Level::Warning,
    }
}

/// A witness in short: compact JSON, cut to about 60 characters.
fn short(witness: &Value) -> String {
    const MAX: usize = 60;
    let text = witness.to_string();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// A finding as an annotation says it: what changed, a document that shows
/// it and whom it hurts, and, when it fails the check, what to do.
fn annotation(report: &CheckReport, f: &FindingOut, level: Level) -> String {
    let mut text = f.message.clone();
    if let Some(against) = &f.against {
        text.push_str(&format!(" (against {against})"));
    }
    text.push('.');
    match (&f.witness, f.is_forward()) {
        (Some(w), _) if report.consumer.is_some() => text.push_str(&format!(
            " The reader rejects documents {} accepts, e.g. {}.",
            f.against.as_deref().unwrap_or("the version"),
            short(w)
        )),
        (Some(w), true) => text.push_str(&format!(" Old readers reject new data, e.g. {}.", short(w))),
        (Some(w), false) => text.push_str(&format!(" New readers reject old data, e.g. {}.", short(w))),
        (None, true) if !f.compatible => text.push_str(" It affects old readers of new data."),
        (None, _) => {}
    }
    if f.lenient_accepts {
        text.push_str(&format!(
            " LENIENT accepts this change: {}.",
            lenient_flag(report)
        ));
    }
    match level {
        Level::Error if report.consumer.is_some() => text.push_str(&format!(
            " {}.",
            capitalised(&verdict_words(report, Kind::CanIDeploy))
        )),
        Level::Error => text.push_str(&refusal_sentence(report)),
        Level::Warning => {
            if let Some(version) = report.registry.as_ref().and_then(|d| d.version.as_ref()) {
                text.push_str(&format!(" Accepted: {version} announces the break."));
            }
        }
        Level::Note => {}
    }
    text
}

/// " Refused: needs a major version; smallest acceptable version: 2.0.0
/// (…)." for a refused report; for an offline check, the bump it needs.
fn refusal_sentence(report: &CheckReport) -> String {
    let mut text = String::new();
    if report.registry.is_some() {
        text.push_str(&format!(" {}", capitalised(&verdict_words(report, Kind::Check))));
        if let Some(advice) = advice(report) {
            text.push_str(&format!("; {advice}"));
        }
        text.push('.');
    } else if let Some(bump) = &report.required_bump {
        text.push_str(&format!(" The change needs a {bump} version."));
    }
    text
}

fn capitalised(words: &str) -> String {
    let mut words = words.to_owned();
    if let Some(first) = words.get(..1) {
        let upper = first.to_uppercase();
        words.replace_range(..1, &upper);
    }
    words
}

/// What a break of a registered consumer says in an annotation: who, how,
/// with a document, and what to do.
fn consumer_annotation(report: &CheckReport, i: &ImpactOut) -> String {
    let reads = if i.reader {
        "its reader".to_owned()
    } else {
        i.against_version.as_deref().map_or_else(
            || "what it reads".to_owned(),
            |v| format!("{v} (the version it reads)"),
        )
    };
    let mut text = format!(
        "The version breaks registered consumer {} ({}): {reads} rejects documents it accepts",
        i.consumer, i.requirement
    );
    if let Some(f) = i.findings.first() {
        text.push_str(&format!(" ({} at {}: {})", f.rule, f.old_path, f.message));
        if let Some(w) = &f.witness {
            text.push_str(&format!(", e.g. {}", short(w)));
        }
    }
    text.push('.');
    if i.refuses {
        text.push_str(&refusal_sentence(report));
        text.push_str(" Or an admin waives the break: accord waiver create.");
    } else {
        text.push_str(" Accepted: the contract's setting makes consumer breaks warn.");
    }
    text
}

/// The line of a consumer's break in the schema file: its first finding's
/// place in the schema checked.
fn impact_line(i: &ImpactOut) -> Option<usize> {
    i.findings.iter().find_map(|f| f.line)
}

/// Escapes the data part of a workflow command.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn gh_file(file: Option<&String>) -> String {
    file.map(|f| format!("file={},", gh_property(f)))
        .unwrap_or_default()
}

fn github(out: &mut dyn Write, run: &RunReport) -> io::Result<()> {
    if let Some(error) = &run.error {
        writeln!(
            out,
            "::error {}title=accord::{}",
            gh_file(run.file.as_ref()),
            gh_data(&error.message)
        )?;
    }
    for report in &run.reports {
        let file = gh_file(report.schema_file.as_ref());
        if let Some(error) = &report.error {
            writeln!(
                out,
                "::error {file}title={}::{}",
                gh_property(&format!("{}: not checked", report.contract)),
                gh_data(&error.message)
            )?;
            continue;
        }
        // A workflow command at `line` of the report's file.
        let command =
            |out: &mut dyn Write, level: Level, line: Option<usize>, title: String, text: String| {
                let line = match (&report.schema_file, line) {
                    (Some(_), Some(line)) => format!("line={line},"),
                    _ => String::new(),
                };
                writeln!(
                    out,
                    "::{} {file}{line}title={}::{}",
                    level.github(),
                    gh_property(&title),
                    gh_data(&text)
                )
            };
        for f in &report.findings {
            let level = finding_level(report, f);
            let title = format!("{}: {} at {}", report.contract, f.rule, f.new_path);
            command(out, level, f.line, title, annotation(report, f, level))?;
        }
        for i in report.broken_consumers() {
            let level = if i.refuses { Level::Error } else { Level::Warning };
            let title = format!("{}: breaks consumer {}", report.contract, i.consumer);
            command(out, level, impact_line(i), title, consumer_annotation(report, i))?;
        }
        if !report.compatible
            && report.breaking().next().is_none()
            && report.broken_consumers().next().is_none()
        {
            // Refused without a breaking finding (a version too low or
            // taken, a requirement that resolves to nothing): the
            // annotation carries the registry's reason.
            let reason = explanation(report).unwrap_or_default();
            let title = match &report.consumer {
                Some(c) => format!("{}: cannot deploy", reading_name(report, c)),
                None => format!("{}: refused", report.contract),
            };
            let sentence = if report.consumer.is_some() {
                String::new()
            } else {
                refusal_sentence(report)
            };
            writeln!(
                out,
                "::error {file}title={}::{}",
                gh_property(&title),
                gh_data(format!("{reason}{sentence}").trim_start())
            )?;
        }
    }
    if !run.single && !run.reports.is_empty() {
        // Not a command: a line of the log.
        writeln!(out, "{}", summary_line(run.summary(), has_readings(run)))?;
    }
    Ok(())
}

/// Escapes text for XML content and attributes, dropping the control
/// characters that XML 1.0 cannot carry at all.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn finding_line(f: &FindingOut) -> String {
    let mut line = format!("{} at {}: {}", f.rule, f.new_path, f.message);
    if let Some(against) = &f.against {
        line.push_str(&format!(" (against {against})"));
    }
    line
}

fn junit_error(out: &mut dyn Write, error: &ErrorOut) -> io::Result<()> {
    writeln!(
        out,
        r#"      <error message="{}" type="{}">{}</error>"#,
        xml(&error.message),
        error.kind,
        xml(&error.message)
    )
}

fn junit(out: &mut dyn Write, run: &RunReport, kind: Kind) -> io::Result<()> {
    let summary = run.summary();
    let run_error = usize::from(run.error.is_some());
    // Each broken consumer is a test case of its own: a failure when it
    // refuses the publish.
    let broken: Vec<(&CheckReport, &ImpactOut)> = run
        .reports
        .iter()
        .filter(|r| r.error.is_none())
        .flat_map(|r| r.broken_consumers().map(move |i| (r, i)))
        .collect();
    let (tests, errors) = (
        summary.contracts + run_error + broken.len(),
        summary.errors + run_error,
    );
    let failures = summary.refused + broken.iter().filter(|(_, i)| i.refuses).count();
    let suite = format!("accord {}", kind.name());
    let classname = format!("accord.{}", kind.name());
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="accord" tests="{tests}" failures="{failures}" errors="{errors}">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{tests}" failures="{failures}" errors="{errors}" skipped="0">"#,
        xml(&suite)
    )?;
    let testcase = |out: &mut dyn Write, name: &str, file: Option<&String>| {
        let file = file.map(|f| format!(r#" file="{}""#, xml(f))).unwrap_or_default();
        writeln!(
            out,
            r#"    <testcase name="{}" classname="{classname}"{file}>"#,
            xml(name)
        )
    };
    if let Some(error) = &run.error {
        testcase(out, run.file.as_deref().unwrap_or("accord"), run.file.as_ref())?;
        junit_error(out, error)?;
        writeln!(out, "    </testcase>")?;
    }
    for report in &run.reports {
        let name = match &report.consumer {
            Some(c) => reading_name(report, c),
            None => report.contract.clone(),
        };
        testcase(out, &name, report.schema_file.as_ref())?;
        if let Some(error) = &report.error {
            junit_error(out, error)?;
        } else if let Some(c) = report.consumer.as_ref().filter(|_| !report.compatible) {
            let mut body: Vec<String> = c.explanation.iter().cloned().collect();
            body.extend(report.breaking().map(finding_line));
            writeln!(
                out,
                r#"      <failure message="{}" type="CONSUMER_CANNOT_READ">{}</failure>"#,
                xml(&verdict_words(report, kind)),
                xml(&body.join("\n"))
            )?;
        } else if !report.compatible {
            let mut summary = format!(
                "{} under {} ({}); required bump {}",
                verdict_words(report, kind),
                report.mode.as_deref().unwrap_or("-"),
                report.policy.as_deref().unwrap_or("-"),
                report.required_bump.as_deref().unwrap_or("-")
            );
            if let Some(advice) = advice(report) {
                summary.push_str(&format!("; {advice}"));
            }
            let mut body: Vec<String> = report
                .registry
                .iter()
                .filter_map(|d| d.explanation.clone())
                .collect();
            body.extend(report.breaking().map(finding_line));
            writeln!(
                out,
                r#"      <failure message="{}" type="INCOMPATIBLE">{}</failure>"#,
                xml(&summary),
                xml(&body.join("\n"))
            )?;
        }
        let compatible: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.compatible)
            .map(finding_line)
            .collect();
        if !compatible.is_empty() {
            writeln!(
                out,
                "      <system-out>{}</system-out>",
                xml(&compatible.join("\n"))
            )?;
        }
        writeln!(out, "    </testcase>")?;
    }
    for (report, i) in broken {
        testcase(
            out,
            &format!("{} → consumer {}", report.contract, i.consumer),
            report.schema_file.as_ref(),
        )?;
        let text = consumer_annotation(report, i);
        if i.refuses {
            writeln!(
                out,
                r#"      <failure message="{}" type="CONSUMER_BREAKS">{}</failure>"#,
                xml(&format!("breaks consumer {} ({})", i.consumer, i.requirement)),
                xml(&text)
            )?;
        } else {
            writeln!(out, "      <system-out>{}</system-out>", xml(&text))?;
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

/// The rule id of a SARIF result for a break of a registered consumer.
const CONSUMER_RULE: &str = "CONSUMER_BREAKS";

/// The rule id of a SARIF result for a refusal without a breaking finding.
const REFUSED_RULE: &str = "VERSION_REFUSED";

/// The project's home for SARIF's `informationUri`, when the workspace
/// names a real one (never the `.invalid` placeholder).
fn information_uri() -> Option<&'static str> {
    let home = env!("CARGO_PKG_REPOSITORY");
    let host = home
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .unwrap_or("");
    (home.starts_with("https://") && !host.is_empty() && !host.ends_with(".invalid")).then_some(home)
}

fn sarif_location(report: &CheckReport, pointer: &str, line: Option<usize>) -> Value {
    let mut location = json!({
        "logicalLocations": [{
            "fullyQualifiedName": format!("{}{}", report.contract, pointer.trim_start_matches('#')),
            "kind": "member",
        }],
    });
    if let Some(file) = &report.schema_file {
        let mut physical = json!({ "artifactLocation": { "uri": file_uri(file) } });
        if let Some(line) = line {
            physical["region"] = json!({ "startLine": line });
        }
        location["physicalLocation"] = physical;
    }
    location
}

/// The SARIF 2.1.0 log of `run`: one run, one result per finding (and one
/// per refusal without a breaking finding), the rule table entries of every
/// rule that fired, and the invocation with the errors that kept contracts
/// from being checked.
pub fn sarif(run: &RunReport) -> Value {
    let checked = || run.reports.iter().filter(|r| r.error.is_none());
    let mut rule_ids: Vec<&str> = checked()
        .flat_map(|r| r.findings.iter().map(|f| f.rule.as_str()))
        .collect();
    let refused_alone = |r: &CheckReport| {
        !r.compatible && r.breaking().next().is_none() && r.broken_consumers().next().is_none()
    };
    if checked().any(refused_alone) {
        rule_ids.push(REFUSED_RULE);
    }
    if checked().any(|r| r.broken_consumers().next().is_some()) {
        rule_ids.push(CONSUMER_RULE);
    }
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids.iter().map(|id| crate::rules::sarif_rule(id)).collect();
    let index = |id: &str| rule_ids.binary_search(&id).unwrap_or(0);
    let mut results = Vec::new();
    for report in checked() {
        for f in &report.findings {
            let level = finding_level(report, f);
            let mut properties = json!({
                "contract": report.contract,
                "oldPath": f.old_path,
                "newPath": f.new_path,
                "compatible": f.compatible,
                "direction": f.direction,
                "lenientAccepts": f.lenient_accepts,
            });
            if let Some(against) = &f.against {
                properties["against"] = json!(against);
            }
            if let Some(witness) = &f.witness {
                properties["witness"] = witness.clone();
            }
            results.push(json!({
                "ruleId": f.rule,
                "ruleIndex": index(&f.rule),
                "level": level.sarif(),
                "kind": if f.compatible { "informational" } else { "fail" },
                "message": { "text": format!("{} ({})", annotation(report, f, level), f.new_path) },
                "locations": [sarif_location(report, &f.new_path, f.line)],
                "properties": properties,
            }));
        }
        for i in report.broken_consumers() {
            let level = if i.refuses { Level::Error } else { Level::Warning };
            let first = i.findings.first();
            let mut properties = json!({
                "contract": report.contract,
                "consumer": i.consumer,
                "requirement": i.requirement,
                "refuses": i.refuses,
                "rules": i.findings.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
            });
            if let Some(witness) = first.and_then(|f| f.witness.as_ref()) {
                properties["witness"] = witness.clone();
            }
            results.push(json!({
                "ruleId": CONSUMER_RULE,
                "ruleIndex": index(CONSUMER_RULE),
                "level": level.sarif(),
                "kind": "fail",
                "message": { "text": consumer_annotation(report, i) },
                "locations": [sarif_location(report, first.map_or("#", |f| f.old_path.as_str()), impact_line(i))],
                "properties": properties,
            }));
        }
        if refused_alone(report) {
            let reason = explanation(report).unwrap_or_default();
            results.push(json!({
                "ruleId": REFUSED_RULE,
                "ruleIndex": index(REFUSED_RULE),
                "level": "error",
                "kind": "fail",
                "message": { "text": format!("{reason}{}", refusal_sentence(report)).trim_start() },
                "locations": [sarif_location(report, "#", None)],
                "properties": { "contract": report.contract },
            }));
        }
    }
    let notifications: Vec<Value> = run
        .errors()
        .map(|(report, error)| {
            let subject = report.map_or("accord", |r| r.contract.as_str());
            let mut notification = json!({
                "level": "error",
                "message": { "text": format!("{subject}: {}", error.message) },
                "properties": { "kind": error.kind },
            });
            let file = report.and_then(|r| r.schema_file.as_ref()).or(run.file.as_ref());
            if let Some(file) = file {
                notification["locations"] =
                    json!([{ "physicalLocation": { "artifactLocation": { "uri": file_uri(file) } } }]);
            }
            notification
        })
        .collect();
    let mut invocation = json!({ "executionSuccessful": notifications.is_empty() });
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = json!(notifications);
    }
    let mut driver = json!({
        "name": "accord",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if let Some(home) = information_uri() {
        driver["informationUri"] = json!(home);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// A relative URI reference for a file path: SARIF wants `/` separators and
/// percent-escapes for characters a URI cannot hold.
fn file_uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::RegistryDecision;

    fn finding(rule: &str, compatible: bool) -> FindingOut {
        FindingOut {
            rule: rule.into(),
            old_path: "#/properties/a".into(),
            new_path: "#/properties/a".into(),
            message: "type changed from \"string\" to <\"integer\"> & more".into(),
            compatible,
            direction: "backward".into(),
            against: Some("old.json".into()),
            witness: Some(json!({"a": "x"})),
            witness_note: None,
            line: Some(7),
            lenient_accepts: false,
        }
    }

    fn report(compatible: bool) -> CheckReport {
        CheckReport {
            contract: "orders/order-placed".into(),
            schema_file: Some("schemas/order placed.json".into()),
            compatible,
            mode: Some("BACKWARD".into()),
            policy: Some("STRICT".into()),
            required_bump: Some(if compatible { "minor" } else { "major" }.into()),
            findings: vec![
                finding("TYPE_CHANGED", compatible),
                finding("PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", true),
            ],
            registry: None,
            consumer_impacts: None,
            consumer: None,
            error: None,
            pin: Pin::default(),
        }
    }

    fn run_of(reports: Vec<CheckReport>) -> RunReport {
        RunReport {
            reports,
            error: None,
            single: false,
            file: None,
        }
    }

    fn render(reports: &[CheckReport], format: Format) -> String {
        render_run(&run_of(reports.to_vec()), format)
    }

    fn render_run(run: &RunReport, format: Format) -> String {
        let mut out = Vec::new();
        write(&mut out, run, format, Kind::Check, &Palette::COLOUR).unwrap();
        anstream::adapter::strip_str(&String::from_utf8(out).unwrap()).to_string()
    }

    #[test]
    fn sarif_log_deserializes_into_the_typed_sarif_model() {
        let text = render(&[report(false), report(true)], Format::Sarif);
        let log: serde_sarif::sarif::Sarif = serde_json::from_str(&text).unwrap();
        assert_eq!(log.runs.len(), 1);
        let run = &log.runs[0];
        let results = run.results.as_ref().unwrap();
        assert_eq!(results.len(), 4);
        let rules = run.tool.driver.rules.as_ref().unwrap();
        assert_eq!(rules.len(), 2);
        let raw: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(raw["version"], "2.1.0");
        let first = &raw["runs"][0]["results"][0];
        assert_eq!(first["level"], "error");
        let index = first["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            raw["runs"][0]["tool"]["driver"]["rules"][index]["id"],
            first["ruleId"]
        );
        assert_eq!(
            first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "schemas/order%20placed.json"
        );
        assert_eq!(
            first["locations"][0]["physicalLocation"]["region"]["startLine"],
            7
        );
        assert_eq!(raw["runs"][0]["invocations"][0]["executionSuccessful"], true);
        // The workspace's placeholder home is never published as the tool's.
        assert!(
            raw["runs"][0]["tool"]["driver"].get("informationUri").is_none(),
            "{raw}"
        );
        // The typed model does refuse a log that breaks the schema: a result
        // message must be an object, not a bare string.
        let mut broken = raw.clone();
        broken["runs"][0]["results"][0]["message"] = json!("plain text");
        assert!(serde_json::from_value::<serde_sarif::sarif::Sarif>(broken).is_err());
    }

    #[test]
    fn junit_is_well_formed_with_one_case_per_contract() {
        let mut bad = report(false);
        bad.contract = "a\u{1}<b>".into();
        let text = render(&[bad, report(true)], Format::Junit);
        let mut reader = quick_xml::Reader::from_str(&text);
        let mut cases = 0;
        let mut failures = 0;
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                    match e.name().as_ref() {
                        b"testcase" => cases += 1,
                        b"failure" => failures += 1,
                        _ => {}
                    }
                }
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!((cases, failures), (2, 1));
    }

    #[test]
    fn github_commands_escape_their_properties_and_data() {
        let mut r = report(false);
        r.schema_file = Some("a,b:c.json".into());
        r.findings[0].message = "line one\nline two 100%".into();
        let text = render(&[r], Format::Github);
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with("::error file=a%2Cb%3Ac.json,line=7,title="),
            "{first}"
        );
        assert!(first.contains("::line one%0Aline two 100%25"), "{first}");
        let commands: Vec<&str> = text.lines().filter(|l| l.starts_with("::")).collect();
        assert_eq!(commands.len(), 2);
        assert!(commands[1].starts_with("::notice "));
    }

    #[test]
    fn breaking_findings_of_an_accepted_change_are_warnings() {
        let mut r = report(true);
        r.findings[0].compatible = false;
        let text = render(std::slice::from_ref(&r), Format::Github);
        assert!(text.starts_with("::warning "), "{text}");
        let log: Value = serde_json::from_str(&render(&[r], Format::Sarif)).unwrap();
        assert_eq!(log["runs"][0]["results"][0]["level"], "warning");
    }

    #[test]
    fn a_refusal_without_breaking_findings_is_an_error_in_every_ci_format() {
        let mut r = report(false);
        r.findings.clear();
        r.registry = Some(RegistryDecision {
            verdict: "version_too_low".into(),
            explanation: Some("1.0.0 is not above 1.2.0".into()),
            version: Some("1.0.0".into()),
            smallest_acceptable_version: Some("1.2.1".into()),
            ..RegistryDecision::default()
        });
        let text = render(std::slice::from_ref(&r), Format::Github);
        assert!(text.starts_with("::error "), "{text}");
        assert!(text.contains("1.0.0 is not above 1.2.0"), "{text}");
        assert!(text.contains("--version 1.2.1"), "{text}");
        let log: Value = serde_json::from_str(&render(&[r], Format::Sarif)).unwrap();
        let result = &log["runs"][0]["results"][0];
        assert_eq!(result["level"], "error");
        assert_eq!(result["ruleId"], REFUSED_RULE);
    }

    #[test]
    fn text_groups_breaking_before_compatible_and_names_the_bump() {
        let text = render(&[report(false)], Format::Text);
        let breaking = text.find("breaking (1)").unwrap();
        let compatible = text.find("compatible (1)").unwrap();
        assert!(breaking < compatible, "{text}");
        assert!(text.contains("required bump: major"), "{text}");
        assert!(text.contains("against old.json"), "{text}");
    }

    #[test]
    fn the_plain_palette_writes_the_coloured_text_without_its_styles() {
        let run = run_of(vec![report(false), report(true)]);
        let mut coloured = Vec::new();
        write(&mut coloured, &run, Format::Text, Kind::Check, &Palette::COLOUR).unwrap();
        let coloured = String::from_utf8(coloured).unwrap();
        assert!(coloured.contains('\u{1b}'), "{coloured}");
        let mut plain = Vec::new();
        write(&mut plain, &run, Format::Text, Kind::Check, &Palette::PLAIN).unwrap();
        let plain = String::from_utf8(plain).unwrap();
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert_eq!(plain, anstream::adapter::strip_str(&coloured).to_string());
    }

    #[test]
    fn witnesses_are_cut_short_in_annotations() {
        let long = json!({ "a": "x".repeat(200) });
        let cut = short(&long);
        assert!(cut.ends_with('…'), "{cut}");
        assert_eq!(cut.chars().count(), 61);
        assert_eq!(short(&json!({"a": 1})), r#"{"a":1}"#);
    }

    #[test]
    fn errors_are_reported_in_every_format() {
        let error = ErrorOut {
            kind: "unreachable",
            message: "cannot reach the registry at http://x: refused".into(),
        };
        let failed = CheckReport::failed("orders/x".into(), Some("x.json".into()), error.clone());
        let run = run_of(vec![failed, report(true)]);
        let json: Value = serde_json::from_str(&render_run(&run, Format::Json)).unwrap();
        assert_eq!(json["contracts"][0]["error"]["kind"], "unreachable");
        assert_eq!(json["summary"]["errors"], 1);
        assert_eq!(json["compatible"], false);
        let github = render_run(&run, Format::Github);
        assert!(
            github.starts_with("::error file=x.json,title=orders/x%3A not checked::cannot reach"),
            "{github}"
        );
        let junit = render_run(&run, Format::Junit);
        assert!(junit.contains(r#"<error message="cannot reach"#), "{junit}");
        assert!(junit.contains(r#"errors="1""#), "{junit}");
        let sarif: Value = serde_json::from_str(&render_run(&run, Format::Sarif)).unwrap();
        let invocation = &sarif["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        assert!(
            invocation["toolExecutionNotifications"][0]["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("orders/x: cannot reach"),
            "{invocation}"
        );
        // A run that stopped before any contract.
        let stopped = RunReport::failed(error, true);
        let json: Value = serde_json::from_str(&render_run(&stopped, Format::Json)).unwrap();
        assert_eq!(
            json,
            json!({"error": {"kind": "unreachable", "message": "cannot reach the registry at http://x: refused"}})
        );
    }
}
