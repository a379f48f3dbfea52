//! Output formats of check, diff and publish reports: text for a person,
//! JSON for scripts, GitHub workflow commands, JUnit XML and SARIF 2.1.0.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use serde_json::{Value, json};

use crate::report::{CheckReport, FindingOut};

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
}

/// Which command produced the reports; it words the text headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `accord check`.
    Check,
    /// `accord diff`.
    Diff,
    /// `accord publish`.
    Publish,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Check => "check",
            Kind::Diff => "diff",
            Kind::Publish => "publish",
        }
    }
}

const BREAKING: Style = AnsiColor::Red.on_default().bold();
const COMPATIBLE: Style = AnsiColor::Green.on_default();
const BUMP: Style = AnsiColor::Yellow.on_default().bold();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

/// Writes `reports` in `format`. `single` keeps the JSON output a bare report
/// object when one contract was checked from the command line.
pub fn write(
    out: &mut dyn Write,
    reports: &[CheckReport],
    format: Format,
    kind: Kind,
    single: bool,
) -> io::Result<()> {
    match format {
        Format::Text => text(out, reports, kind),
        Format::Json => {
            let value = if single && reports.len() == 1 {
                serde_json::to_value(&reports[0])
            } else {
                serde_json::to_value(ReportSet::new(reports))
            }
            .map_err(io::Error::other)?;
            serde_json::to_writer_pretty(&mut *out, &value).map_err(io::Error::from)?;
            writeln!(out)
        }
        Format::Github => github(out, reports),
        Format::Junit => junit(out, reports, kind),
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(reports)).map_err(io::Error::from)?;
            writeln!(out)
        }
    }
}

#[derive(serde::Serialize)]
struct ReportSet<'a> {
    compatible: bool,
    contracts: &'a [CheckReport],
}

impl<'a> ReportSet<'a> {
    fn new(contracts: &'a [CheckReport]) -> Self {
        Self {
            compatible: contracts.iter().all(|r| r.compatible),
            contracts,
        }
    }
}

fn text(out: &mut dyn Write, reports: &[CheckReport], kind: Kind) -> io::Result<()> {
    for (i, report) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        text_one(out, report, kind)?;
    }
    if reports.len() > 1 {
        let failed = reports.iter().filter(|r| !r.compatible).count();
        let word = if reports.iter().any(|r| r.registry.is_some()) {
            "refused"
        } else {
            "incompatible"
        };
        writeln!(out)?;
        writeln!(out, "{} contracts, {failed} {word}", reports.len())?;
    }
    Ok(())
}

fn text_one(out: &mut dyn Write, report: &CheckReport, kind: Kind) -> io::Result<()> {
    let name = match &report.schema_file {
        // A diff's name already ends with the new file.
        Some(file) if !report.contract.ends_with(file.as_str()) => {
            format!("{} ({file})", report.contract)
        }
        _ => report.contract.clone(),
    };
    // The registry decides on more than compatibility (the version asked
    // for counts too), so its answer is worded as a decision.
    let (mark, verdict_style, verdict) = match (report.compatible, report.registry.is_some()) {
        (true, false) => ("✓", COMPATIBLE, "compatible"),
        (false, false) => ("✗", BREAKING, "incompatible"),
        (true, true) => ("✓", COMPATIBLE, "accepted"),
        (false, true) => ("✗", BREAKING, "refused"),
    };
    writeln!(
        out,
        "{verdict_style}{mark} {verdict}{verdict_style:#} {BOLD}{name}{BOLD:#} under {} ({})",
        report.mode, report.policy
    )?;
    if let Some(decision) = &report.registry {
        let version = if decision.version.is_empty() {
            String::new()
        } else {
            format!(" {}", decision.version)
        };
        let after = if decision.predecessor_version.is_empty() {
            " (first version)".to_owned()
        } else {
            format!(" after {}", decision.predecessor_version)
        };
        writeln!(out, "  {}{version}{after}", decision.verdict)?;
        if !decision.explanation.is_empty() {
            writeln!(out, "  {}", decision.explanation)?;
        }
        if !report.compatible && !decision.smallest_acceptable_version.is_empty() {
            writeln!(
                out,
                "  smallest acceptable version: {BUMP}{}{BUMP:#}",
                decision.smallest_acceptable_version
            )?;
        }
    }
    let breaking: Vec<&FindingOut> = report.breaking().collect();
    let compatible: Vec<&FindingOut> = report.findings.iter().filter(|f| f.compatible).collect();
    if report.findings.is_empty() {
        let what = match kind {
            Kind::Diff => "no differences",
            Kind::Check | Kind::Publish => "no findings",
        };
        writeln!(out, "  {DIM}{what}{DIM:#}")?;
    }
    if !breaking.is_empty() {
        writeln!(out, "  {BREAKING}breaking ({}){BREAKING:#}", breaking.len())?;
        for finding in breaking {
            text_finding(out, finding, BREAKING, "✗")?;
        }
    }
    if !compatible.is_empty() {
        writeln!(
            out,
            "  {COMPATIBLE}compatible ({}){COMPATIBLE:#}",
            compatible.len()
        )?;
        for finding in compatible {
            text_finding(out, finding, COMPATIBLE, "✓")?;
        }
    }
    writeln!(out, "  required bump: {BUMP}{}{BUMP:#}", report.required_bump)
}

fn text_finding(out: &mut dyn Write, f: &FindingOut, style: Style, mark: &str) -> io::Result<()> {
    let path = if f.old_path == f.new_path {
        f.new_path.clone()
    } else {
        format!("{} → {}", f.old_path, f.new_path)
    };
    writeln!(out, "    {style}{mark} {}{style:#} {DIM}{path}{DIM:#}", f.rule)?;
    writeln!(out, "      {}", f.message)?;
    let mut context = Vec::new();
    if f.direction != "backward" {
        context.push(format!("{} direction", f.direction));
    }
    if let Some(against) = &f.against {
        context.push(format!("against {against}"));
    }
    if !context.is_empty() {
        writeln!(out, "      {DIM}{}{DIM:#}", context.join(", "))?;
    }
    match (&f.witness, f.compatible) {
        (Some(witness), _) => {
            let (accepts, rejects) = if f.direction == "forward" {
                ("new", "old")
            } else {
                ("old", "new")
            };
            writeln!(
                out,
                "      {DIM}for example, the {accepts} schema accepts and the {rejects} one rejects:{DIM:#} {witness}"
            )?;
        }
        (None, false) => writeln!(
            out,
            "      {DIM}no document could be built to show the break{DIM:#}"
        )?,
        (None, true) => {}
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

/// Escapes the data part of a workflow command.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github(out: &mut dyn Write, reports: &[CheckReport]) -> io::Result<()> {
    for report in reports {
        let file = report
            .schema_file
            .as_ref()
            .map(|f| format!("file={},", gh_property(f)))
            .unwrap_or_default();
        for f in &report.findings {
            let level = finding_level(report, f).github();
            let against = f
                .against
                .as_ref()
                .map(|a| format!(" (against {a})"))
                .unwrap_or_default();
            let line = match (&report.schema_file, f.line) {
                (Some(_), Some(line)) => format!("line={line},"),
                _ => String::new(),
            };
            writeln!(
                out,
                "::{level} {file}{line}title={}::{}{against}",
                gh_property(&format!("{} {} at {}", report.contract, f.rule, f.new_path)),
                gh_data(&f.message)
            )?;
        }
        if !report.compatible && report.breaking().next().is_none() {
            // Refused without a breaking finding (e.g. a version too low):
            // the annotation carries the registry's reason instead.
            let reason = report
                .registry
                .as_ref()
                .map(|d| d.explanation.clone())
                .unwrap_or_default();
            writeln!(
                out,
                "::error {file}title={}::{}",
                gh_property(&format!("{} refused", report.contract)),
                gh_data(&reason)
            )?;
        }
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

fn junit(out: &mut dyn Write, reports: &[CheckReport], kind: Kind) -> io::Result<()> {
    let failures = reports.iter().filter(|r| !r.compatible).count();
    let suite = format!("accord {}", kind.name());
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="accord" tests="{}" failures="{failures}" errors="0">"#,
        reports.len()
    )?;
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="0" skipped="0">"#,
        xml(&suite),
        reports.len()
    )?;
    for report in reports {
        let file = report
            .schema_file
            .as_ref()
            .map(|f| format!(r#" file="{}""#, xml(f)))
            .unwrap_or_default();
        writeln!(
            out,
            r#"    <testcase name="{}" classname="accord.{}"{file}>"#,
            xml(&report.contract),
            kind.name()
        )?;
        if !report.compatible {
            let mut summary = format!(
                "incompatible under {} ({}); required bump {}",
                report.mode, report.policy, report.required_bump
            );
            if let Some(d) = &report.registry
                && !d.explanation.is_empty()
            {
                summary = format!("{}: {summary}", d.explanation);
            }
            let body: Vec<String> = report.breaking().map(finding_line).collect();
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
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

/// The SARIF 2.1.0 log of `reports`: one run, one result per finding, and
/// the rule table entries of every rule that fired.
pub fn sarif(reports: &[CheckReport]) -> Value {
    let mut rule_ids: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.findings.iter().map(|f| f.rule.as_str()))
        .collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids.iter().map(|id| crate::rules::sarif_rule(id)).collect();
    let mut results = Vec::new();
    for report in reports {
        for f in &report.findings {
            let index = rule_ids.binary_search(&f.rule.as_str()).unwrap_or(0);
            let mut location = json!({
                "logicalLocations": [{
                    "fullyQualifiedName": format!("{}{}", report.contract, f.new_path.trim_start_matches('#')),
                    "kind": "member",
                }],
            });
            if let Some(file) = &report.schema_file {
                let mut physical = json!({ "artifactLocation": { "uri": file_uri(file) } });
                if let Some(line) = f.line {
                    physical["region"] = json!({ "startLine": line });
                }
                location["physicalLocation"] = physical;
            }
            let mut properties = json!({
                "contract": report.contract,
                "oldPath": f.old_path,
                "newPath": f.new_path,
                "compatible": f.compatible,
                "direction": f.direction,
            });
            if let Some(against) = &f.against {
                properties["against"] = json!(against);
            }
            if let Some(witness) = &f.witness {
                properties["witness"] = witness.clone();
            }
            results.push(json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": finding_level(report, f).sarif(),
                "kind": if f.compatible { "informational" } else { "fail" },
                "message": { "text": format!("{} ({})", f.message, f.new_path) },
                "locations": [location],
                "properties": properties,
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "accord",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://example.invalid/accord",
                    "rules": rules,
                }
            },
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
            line: Some(7),
        }
    }

    fn report(compatible: bool) -> CheckReport {
        CheckReport {
            contract: "orders/order-placed".into(),
            schema_file: Some("schemas/order placed.json".into()),
            compatible,
            mode: "BACKWARD".into(),
            policy: "STRICT".into(),
            required_bump: if compatible { "minor" } else { "major" }.into(),
            findings: vec![
                finding("TYPE_CHANGED", compatible),
                finding("PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", true),
            ],
            registry: None,
        }
    }

    fn render(reports: &[CheckReport], format: Format) -> String {
        let mut out = Vec::new();
        write(&mut out, reports, format, Kind::Check, false).unwrap();
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
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().nth(1).unwrap().starts_with("::notice "));
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
    fn github_reports_a_refusal_without_breaking_findings() {
        let mut r = report(false);
        r.findings.clear();
        r.registry = Some(RegistryDecision {
            verdict: "VERSION_TOO_LOW".into(),
            explanation: "1.0.0 is not above 1.2.0".into(),
            ..RegistryDecision::default()
        });
        let text = render(&[r], Format::Github);
        assert!(text.starts_with("::error "), "{text}");
        assert!(text.contains("1.0.0 is not above 1.2.0"), "{text}");
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
}
