//! Issue 11, "Must show": the `gridwork` CLI takes part in the work as a real device against a
//! real server process on loopback, on both backends — a grid worker reports, a town operator
//! accepts and dispatches, a department handler signs, handles and feeds back, the operator
//! verifies and closes, and the reporter's device shows the whole timeline and an alert; a task
//! issued through the server's actions API reaches two grid workers' CLIs whose completions roll
//! up; patrols and residents from the terminal; a closed stdout pipe is a quiet end.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{TimeDelta, Utc};
use common::*;
use gridwork_core::Role;
use gridwork_tests::{Backend, Cli, Device, HarnessResult, cli_binary};
use serde_json::{Value, json};

fn steps(order: &Value) -> Vec<&str> {
    order["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect()
}

async fn a_work_order_goes_round_the_loop_from_the_cli(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let dir = tempfile::tempdir()?;
    let url = proxy.url.as_str();
    let (worker, _) =
        Cli::enrolled(&server, url, dir.path(), "王芳", "grid_worker", GRID_A).await?;
    let (centre, _) =
        Cli::enrolled(&server, url, dir.path(), "陈敏", "town_operator", TOWN).await?;
    let (handler, h) =
        Cli::enrolled(&server, url, dir.path(), "赵强", "department_handler", TOWN).await?;
    server.set_departments(&h, &["sanitation"]).await?;

    let id = worker
        .json(&[
            "report",
            "--area",
            MICRO_A,
            "--category",
            "sanitation",
            "--severity",
            "important",
            "--title",
            "垃圾桶满溢",
        ])
        .await?["id"]
        .as_str()
        .unwrap()
        .to_owned();
    worker.json(&["sync"]).await?;

    // The centre's list: names, not codes.
    centre.json(&["sync"]).await?;
    let open = centre.json(&["work-orders"]).await?;
    let row = open.as_array().unwrap().iter().find(|r| r["id"] == id.as_str()).unwrap().clone();
    assert_eq!(row["state"], "reported");
    assert_eq!(row["category_name"], "Environment & sanitation");
    assert!(row["area_name"].as_str().unwrap().contains("微网格"), "{row}");
    let table = centre.text(&["work-orders"]).await?;
    assert!(table.lines().next().unwrap().starts_with("SEVERITY"), "{table}");
    assert!(table.contains("垃圾桶满溢") && table.contains("Environment & sanitation"), "{table}");

    // A step the state refuses: the core's code and message, a non-zero exit, nothing written.
    let err = centre.refused(&["work-order", "act", &id, "close"]).await?;
    assert_eq!(err["code"], "illegal_transition", "{err}");
    assert!(err["message"].as_str().unwrap().contains("reported"), "{err}");
    let err = centre.refused(&["work-order", "act", &id, "dispatch"]).await?;
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("departments"), "{err}");
    assert_eq!(centre.json(&["pending"]).await?["pending"], 0);

    let accepted = centre.json(&["work-order", "act", &id, "accept"]).await?;
    assert_eq!(accepted["summary"]["state"], "accepted");
    let dispatched = centre
        .json(&[
            "work-order",
            "act",
            &id,
            "dispatch",
            "--departments",
            "sanitation",
            "--note",
            "今日清运",
        ])
        .await?;
    assert_eq!(dispatched["summary"]["departments"]["sanitation"], "dispatched");
    assert_eq!(dispatched["timeline"][2]["note"], "今日清运");
    assert_eq!(dispatched["timeline"][2]["by_name"], "陈敏");
    centre.json(&["sync"]).await?;

    handler.json(&["sync"]).await?;
    let err = handler.refused(&["work-order", "act", &id, "close"]).await?;
    assert_eq!(err["code"], "role_not_allowed", "{err}");
    handler.json(&["work-order", "act", &id, "sign", "--departments", "sanitation"]).await?;
    handler.json(&["work-order", "act", &id, "handle", "--note", "已安排清运车"]).await?;
    let err = handler.refused(&["work-order", "act", &id, "extend"]).await?;
    assert!(err["message"].as_str().unwrap().contains("hours"), "{err}");
    let asked = handler
        .json(&["work-order", "act", &id, "extend", "--hours", "24", "--note", "清运车检修"])
        .await?;
    assert_eq!(asked["summary"]["pending_extensions"][0]["hours"], 24, "{asked}");
    let fed = handler.json(&["work-order", "act", &id, "feedback", "--note", "已清运完毕"]).await?;
    assert_eq!(fed["summary"]["state"], "fed_back");
    handler.json(&["sync"]).await?;

    centre.json(&["sync"]).await?;
    let before = centre.json(&["work-order", "show", &id]).await?["summary"]["deadline"].clone();
    let approved = centre.json(&["work-order", "act", &id, "approve"]).await?;
    let deadline =
        |v: &Value| -> chrono::DateTime<Utc> { serde_json::from_value(v.clone()).unwrap() };
    assert_eq!(
        deadline(&approved["summary"]["deadline"]) - deadline(&before),
        TimeDelta::hours(24),
        "the approved extension moves the deadline"
    );
    let err = centre.refused(&["work-order", "act", &id, "verify", "--satisfaction", "9"]).await?;
    assert_eq!(err["code"], "invalid_satisfaction", "{err}");
    let verified = centre
        .json(&[
            "work-order",
            "act",
            &id,
            "verify",
            "--satisfaction",
            "5",
            "--note",
            "回访居民：满意",
        ])
        .await?;
    assert_eq!(verified["summary"]["satisfaction"], 5);
    let closed = centre.json(&["work-order", "act", &id, "close"]).await?;
    assert_eq!(closed["summary"]["state"], "closed");
    centre.json(&["sync"]).await?;

    // The reporting device, after sync, shows it closed with the whole timeline.
    worker.json(&["sync"]).await?;
    let shown = worker.json(&["work-order", "show", &id]).await?;
    assert_eq!(shown["summary"]["state"], "closed");
    assert_eq!(
        steps(&shown),
        vec![
            "report",
            "accept",
            "dispatch",
            "sign",
            "handle",
            "request_extension",
            "feedback",
            "approve_extension",
            "verify",
            "close"
        ]
    );
    let timeline = shown["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["by_name"], "王芳", "the device knows its own user's name");
    assert_eq!(timeline[6]["role"], "department_handler");
    assert_eq!(timeline[8]["satisfaction"], 5);
    assert!(timeline.iter().all(|e| e["received_at"].is_string()), "server receive times known");
    let text = worker.text(&["work-order", "show", &id]).await?;
    assert!(text.contains("Timeline (local time)") && text.contains("已清运完毕"), "{text}");
    assert!(text.contains("王芳") && text.contains("closed"), "{text}");
    assert!(text.contains("verify (5/5)") && text.contains("request_extension +24h"), "{text}");
    // Local time: the report's device time in UTC+8.
    let at: chrono::DateTime<Utc> = serde_json::from_value(timeline[0]["at"].clone())?;
    let local = (at + TimeDelta::hours(8)).format("%Y-%m-%d %H:%M").to_string();
    assert!(text.contains(&local), "{local} in {text}");

    // The reporter's alert: the centre closed their report. Seen once, it stays seen.
    let alerts = worker.json(&["alerts"]).await?;
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["kind"], "work_order_changed");
    assert_eq!(alerts[0]["record_id"], id.as_str());
    assert!(alerts[0]["text"].as_str().unwrap().contains("closed"), "{alerts:?}");
    let alert = alerts[0]["id"].as_str().unwrap().to_owned();
    let err = worker.refused(&["alerts", "--ack", "work_order_changed:nope"]).await?;
    assert_eq!(err["code"], "not_found");
    assert_eq!(worker.json(&["alerts", "--ack", &alert]).await?, json!([]));
    assert_eq!(worker.json(&["alerts"]).await?, json!([]));
    assert_eq!(worker.json(&["alerts", "--all"]).await?[0]["seen"], true);
    Ok(())
}

both!(a_work_order_goes_round_the_loop_from_the_cli);

async fn a_town_task_reaches_two_cli_workers_and_rolls_up(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let dir = tempfile::tempdir()?;
    let url = proxy.url.as_str();
    let (a, _) = Cli::enrolled(&server, url, dir.path(), "王芳", "grid_worker", GRID_A).await?;
    let (b, _) = Cli::enrolled(&server, url, dir.path(), "周强", "grid_worker", GRID_B).await?;
    let operator = Device::new()?;
    operator.enrol_new_user(&server, &proxy.url, "陈敏", "town_operator", TOWN).await?;
    let credential = operator.enrolment()?.credential;

    let due = Utc::now() + TimeDelta::hours(6);
    let body = json!({"area": TOWN, "title": "冬季消防安全排查", "instructions": "本周完成",
                      "due_at": due.to_rfc3339()});
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/tasks", proxy.url))
        .bearer_auth(&credential)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = serde_json::from_slice(&r.bytes().await?)?;
    let task = created["record"]["id"].as_str().unwrap().to_owned();

    for (cli, result) in [(&a, "第一网格已排查12户"), (&b, "第二网格已排查9户")] {
        cli.json(&["sync"]).await?;
        let listed = cli.json(&["task", "list"]).await?;
        let t = &listed[0];
        assert_eq!(t["id"], task.as_str());
        assert_eq!(t["status"], "open");
        assert!(t["progress"]["targets"].is_number(), "{t}");
        // Due within a day: an alert.
        let alerts = cli.json(&["alerts"]).await?;
        assert_eq!(alerts[0]["kind"], "task_due_soon", "{alerts}");
        let text = cli.text(&["task", "list"]).await?;
        let local = (due + TimeDelta::hours(8)).format("%Y-%m-%d %H:%M").to_string();
        assert!(text.contains("冬季消防安全排查") && text.contains(&local), "{text}");
        let done = cli.json(&["task", "complete", &task, "--note", result]).await?;
        assert!(done["progress"].as_array().unwrap().iter().any(|p| p["result"] == result));
        assert_eq!(cli.json(&["task", "list"]).await?[0]["status"], "done");
        assert_eq!(cli.json(&["alerts"]).await?, json!([]), "done: no alert");
        let err = cli.refused(&["task", "complete", &task]).await?;
        assert_eq!(err["code"], "invalid_input", "{err}");
        cli.json(&["sync"]).await?;
        assert_eq!(cli.json(&["pending"]).await?["pending"], 0, "accepted by the server");
    }

    // The roll-up: the operator sees both grids' parts.
    operator.sync().await?;
    let id: uuid::Uuid = task.parse()?;
    let rolled = operator.with(|s| s.tasks().get(id))?;
    let mut parts: Vec<(String, String)> =
        rolled.progress.iter().map(|p| (p.area.to_string(), p.result.clone())).collect();
    parts.sort();
    assert_eq!(
        parts,
        vec![
            (GRID_A.to_owned(), "第一网格已排查12户".to_owned()),
            (GRID_B.to_owned(), "第二网格已排查9户".to_owned())
        ]
    );
    Ok(())
}

both!(a_town_task_reaches_two_cli_workers_and_rolls_up);

/// A store set up as enrolment leaves it, with `role` signed in over `scope` (no server).
fn offline(dir: &Path, name: &str, role: Role, scope: &str) -> Cli {
    let store = dir.join(format!("{name}.db"));
    let mut s = gridwork_core::Store::open(&store, None).unwrap();
    s.load_areas(&gridwork_core::demo::areas(1, 1, 2, 2)).unwrap();
    s.sign_in(gridwork_core::SignedInUser {
        user_id: name.into(),
        name: name.into(),
        role,
        scope: area(scope),
    })
    .unwrap();
    Cli::new(store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patrols_and_residents_from_the_terminal() -> HarnessResult<()> {
    let dir = tempfile::tempdir()?;
    let worker = offline(dir.path(), "w1", Role::GridWorker, GRID_A);

    let started = worker.json(&["patrol", "start"]).await?;
    let patrol = started["id"].as_str().unwrap().to_owned();
    assert_eq!(started["area"], GRID_A);
    let err = worker.refused(&["patrol", "start", "--area", TOWN]).await?;
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("area"), "{err}");
    let first = worker
        .json(&[
            "patrol",
            "check-in",
            &patrol,
            "--name",
            "幸福小区3幢",
            "--lat",
            "32.0600",
            "--lon",
            "121.0700",
        ])
        .await?;
    assert!(first["check_in"].is_string() && first["observation"].is_null(), "{first}");
    // Walking pace: the track's jitter filter drops fixes implying more than 50 m/s.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let second = worker
        .json(&[
            "patrol",
            "check-in",
            &patrol,
            "--name",
            "幸福小区5幢",
            "--lat",
            "32.0601",
            "--lon",
            "121.0700",
            "--note",
            "消防通道堆物",
        ])
        .await?;
    assert!(second["observation"].is_string(), "{second}");
    let err = worker
        .refused(&["patrol", "check-in", &patrol, "--name", "x", "--lat", "95", "--lon", "121"])
        .await?;
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("lat"), "{err}");
    let stopped = worker.json(&["patrol", "stop", &patrol]).await?;
    assert!(stopped["ended_at"].is_string());
    assert_eq!(stopped["checkins"].as_array().map(Vec::len), Some(2));
    assert_eq!(stopped["observations"][0]["text"], "消防通道堆物");
    let metres = stopped["stats"]["distance_m"].as_f64().unwrap();
    assert!((10.0..12.5).contains(&metres), "0.0001° of latitude is about 11 m: {metres}");
    let err = worker.refused(&["patrol", "stop", &patrol]).await?;
    assert!(err["message"].as_str().unwrap().contains("ended"), "{err}");

    let household = worker
        .json(&[
            "household",
            "add",
            "--area",
            MICRO_A,
            "--address",
            "幸福小区3幢301室",
            "--head",
            "王芳",
        ])
        .await?["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id_card = "320612195001010012";
    let added = worker
        .json(&[
            "resident",
            "add",
            "--household",
            &household,
            "--name",
            "王建国",
            "--gender",
            "male",
            "--relation",
            "spouse",
            "--birth-year",
            "1950",
            "--id-number",
            id_card,
        ])
        .await?;
    let resident: uuid::Uuid = added["id"].as_str().unwrap().parse()?;
    assert!(added["sensitive_id"].is_string(), "the ID number went to the sensitive record");
    let text = worker
        .text(&[
            "resident",
            "add",
            "--household",
            &household,
            "--name",
            "王小明",
            "--gender",
            "male",
        ])
        .await?;
    assert!(text.contains("王小明") && text.contains("幸福小区3幢301室"), "{text}");
    for (args, field) in [
        (vec!["--gender", "x"], "gender"),
        (vec!["--gender", "female", "--relation", "cousin"], "relation"),
        (vec!["--gender", "female", "--id-number", "123"], "id_card"),
    ] {
        let mut all = vec!["resident", "add", "--household", &household, "--name", "李四"];
        all.extend(args);
        let err = worker.refused(&all).await?;
        assert_eq!(err["code"], "invalid_input", "{err}");
        assert!(err["message"].as_str().unwrap().contains(field), "{field}: {err}");
    }
    // A liaison may not hold sensitive data: refused, and the resident is not added either.
    let liaison = offline(dir.path(), "l1", Role::Liaison, MICRO_A);
    let h2 = liaison
        .json(&[
            "household",
            "add",
            "--area",
            MICRO_A,
            "--address",
            "幸福小区4幢",
            "--head",
            "赵六",
        ])
        .await?["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let err = liaison
        .refused(&[
            "resident",
            "add",
            "--household",
            &h2,
            "--name",
            "赵七",
            "--gender",
            "female",
            "--id-number",
            id_card,
        ])
        .await?;
    assert_eq!(err["code"], "forbidden", "{err}");
    assert_eq!(liaison.json(&["pending"]).await?["pending"], 1, "only the household");

    let mut s = gridwork_core::Store::open(&worker.store, None)?;
    let r = s.residents().get(resident)?.unwrap();
    assert_eq!((r.name.as_str(), r.birth_year), ("王建国", Some(1950)));
    let sensitive = s.sensitive().of_resident(resident)?.unwrap();
    assert_eq!(sensitive.id_card.as_deref(), Some(id_card));
    Ok(())
}

/// `gridwork household list | head -1`: the reader goes away early, the CLI ends quietly.
#[test]
fn a_closed_stdout_pipe_is_a_quiet_end() {
    let dir = tempfile::tempdir().unwrap();
    let cli = offline(dir.path(), "w1", Role::GridWorker, GRID_A);
    {
        let mut s = gridwork_core::Store::open(&cli.store, None).unwrap();
        s.batch(|s| {
            for seed in 0..300 {
                s.households().add(household(seed, MICRO_A))?;
            }
            Ok(())
        })
        .unwrap();
    }
    // Through a shell pipeline, as people type it: the output (hundreds of KB) is far more
    // than the pipe holds, so the CLI writes into a closed pipe.
    let script = format!(
        "set -o pipefail; {} --store {} household list | head -1",
        cli_binary().unwrap().display(),
        cli.store.display()
    );
    let out = Command::new("bash").arg("-c").arg(&script).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(stderr.is_empty(), "quiet: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[");

    // The pipe closed before anything is written, for a table too.
    for args in [&["work-orders"][..], &["--json", "household", "list"][..]] {
        let mut child = cli
            .command()
            .unwrap()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        assert!(status.success(), "{args:?}: {status:?} {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
