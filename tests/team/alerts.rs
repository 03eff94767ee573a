//! Team `cost-threshold` hooks: the team's spend, one firing for the whole team.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::pg::fresh_schema;
use crate::push::Machine;

fn lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn a_team_cost_threshold_fires_exactly_once_across_three_machines() {
    let schema = fresh_schema();
    let machines: Vec<Machine> = ["kim", "lee", "max"]
        .iter()
        .map(|u| Machine::new(&schema, u))
        .collect();
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    for (i, m) in machines.iter().enumerate() {
        m.import_at(i as u64 * 100..i as u64 * 100 + 100, Some(&now));
    }
    let spends: Vec<f64> = machines
        .iter()
        .map(|m| m.usage(&[])["total"]["cost_usd"].as_f64().expect("cost"))
        .collect();
    let total: f64 = spends.iter().sum();
    // Over any two machines' spend, within the three's: only the whole team crosses it.
    let max_two = total - spends.iter().cloned().fold(f64::INFINITY, f64::min);
    let threshold = (max_two + total) / 2.0;
    assert!(threshold < total && threshold > max_two, "{spends:?}");

    let fired = machines[0].sb.root().join("team-alert.log");
    let added: Value = machines[0]
        .sb
        .run([
            "hooks",
            "add",
            "--all-profiles",
            "--on",
            "cost-threshold",
            "--period",
            "month",
            "--threshold",
            &format!("{threshold:.6}"),
            "--scope",
            "team",
            "--shell",
            &format!(
                "echo \"$RINGLET_PERIOD_KEY $RINGLET_TOTAL_USD\" >> '{}'",
                fired.display()
            ),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(added["rule"]["threshold"]["scope"], "team", "{added}");
    // The same rule (same id) on every machine, as a team shares its hooks.
    let exported = machines[0].sb.run(["hooks", "export"]).ok().stdout;
    for m in &machines[1..] {
        let file = m.sb.root().join("hooks.toml");
        std::fs::write(&file, &exported).expect("write hooks");
        m.sb.run(["hooks", "import", file.to_str().expect("utf-8")])
            .ok();
    }

    let pushes: Vec<_> = machines
        .iter()
        .map(|m| {
            m.sb.command(["usage", "push", "--json", "--batch-size", "7"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut alerts = 0;
    for p in pushes {
        let out = p.wait_with_output().expect("push");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).expect("json");
        alerts += report["team_alerts"].as_u64().expect("team_alerts");
    }
    assert_eq!(alerts, 1, "exactly one machine fires the team alert");
    let deadline = Instant::now() + Duration::from_secs(20);
    while lines(&fired) < 1 {
        assert!(Instant::now() < deadline, "the team alert never ran");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Later pushes, and the local checks every command makes, never fire it again.
    for m in &machines {
        assert_eq!(m.push(&[])["team_alerts"], 0);
        m.sb.run(["usage"]).ok();
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(lines(&fired), 1);
    let line = std::fs::read_to_string(&fired).expect("log");
    assert!(line.starts_with(&now[..7]), "{line}");
}
