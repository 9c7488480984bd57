//! The `gridwork` CLI as a device: enrol with a code, record, sync, errors as JSON — against a
//! real server process.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Output;

use common::*;
use gridwork_core::RecordKind;
use gridwork_tests::{Backend, Device, HarnessResult, cli_binary};
use serde_json::Value;

fn gridwork(store: &Path, args: &[&str]) -> HarnessResult<Output> {
    Ok(std::process::Command::new(cli_binary()?)
        .arg("--store")
        .arg(store)
        .arg("--json")
        .args(args)
        .output()?)
}

fn ok_json(out: &Output) -> Value {
    assert!(out.status.success(), "gridwork failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn cli_device_enrols_records_and_syncs(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let user = server.create_user("李娟", "grid_worker", GRID_A).await?;
    let code = server.enrolment_code(&user).await?;
    let dir = tempfile::tempdir()?;
    let store = dir.path().join("cli.db");
    let (store2, url) = (store.clone(), proxy.url.clone());
    // The CLI blocks; run it off the runtime's workers.
    let run_at = |store: std::path::PathBuf, args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            gridwork(&store, &args)
        })
    };
    let run = move |args: Vec<String>| run_at(store2.clone(), args);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    let enrolled = ok_json(&run(s(&["enrol", "--server", &url, "--code", &code])).await??);
    assert_eq!(enrolled["user_id"], Value::String(user.clone()));
    // The same store replaying its code completes its enrolment again: the same device (issue
    // 7 §3). Another store replaying it is refused with a JSON error and a non-zero exit.
    let again = ok_json(&run(s(&["enrol", "--server", &url, "--code", &code])).await??);
    assert_eq!(again["device_id"], enrolled["device_id"]);
    let other = dir.path().join("other.db");
    let replay = run_at(other, s(&["enrol", "--server", &url, "--code", &code])).await??;
    assert!(!replay.status.success());
    let err: Value = serde_json::from_slice(&replay.stderr)?;
    assert!(err["error"]["code"].is_string(), "{err}");

    let added = ok_json(
        &run(s(&[
            "household",
            "add",
            "--area",
            MICRO_A,
            "--address",
            "幸福小区3幢2单元301室",
            "--head",
            "王芳",
            "--members",
            "2",
            "--phone",
            "13812345678",
            "--tag",
            "elderly_alone",
        ]))
        .await??,
    );
    assert!(added["id"].is_string());
    // Bad input: a clear error naming the field, nothing recorded.
    let bad = run(s(&[
        "household",
        "add",
        "--area",
        MICRO_A,
        "--address",
        "x",
        "--head",
        "张三",
        "--phone",
        "12345",
    ]))
    .await??;
    assert!(!bad.status.success());
    let err: Value = serde_json::from_slice(&bad.stderr)?;
    assert_eq!(err["error"]["code"], "invalid_input");
    assert!(err["error"]["message"].as_str().unwrap_or("").contains("phone"), "{err}");
    assert_eq!(ok_json(&run(s(&["pending"])).await??)["pending"], 1);

    let found = ok_json(&run(s(&["household", "search", "wf"])).await??);
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    ok_json(&run(s(&["sync"])).await??);
    assert_eq!(ok_json(&run(s(&["pending"])).await??)["pending"], 0);

    // Another phone of the same grid receives the household.
    let phone = Device::new()?;
    phone.enrol_new_user(&server, &proxy.url, "周强", "grid_worker", GRID_A).await?;
    phone.sync().await?;
    assert_eq!(phone.count(RecordKind::Household)?, 1);
    let names = phone.with(|st| st.households().search(&area(GRID_A), "王芳", 10))?;
    assert_eq!(names.len(), 1);
    Ok(())
}

both!(cli_device_enrols_records_and_syncs);

/// Editing a visit and an incident's details from the command line: only the fields given
/// change, the edited record is printed, refusals are JSON errors naming the field. No server:
/// the store is set up directly, as enrolment would leave it.
#[test]
fn cli_edits_visits_and_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("edit.db");
    {
        let mut s = gridwork_core::Store::open(&store, None).unwrap();
        s.load_areas(&gridwork_core::demo::areas(1, 1, 2, 2)).unwrap();
        let user = gridwork_core::SignedInUser {
            user_id: "w1".into(),
            name: "李娟".into(),
            role: gridwork_core::Role::GridWorker,
            scope: area(GRID_A),
        };
        s.sign_in(user).unwrap();
    }
    let run = |args: &[&str]| gridwork(&store, args).unwrap();
    let id = |v: Value| v["id"].as_str().unwrap().to_owned();
    let refused = |out: Output, code: &str, field: &str| {
        assert!(!out.status.success());
        let err: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(err["error"]["code"], code, "{err}");
        assert!(err["error"]["message"].as_str().unwrap().contains(field), "{err}");
    };

    let h = id(ok_json(&run(&[
        "household",
        "add",
        "--area",
        MICRO_A,
        "--address",
        "幸福小区3幢2单元301室",
        "--head",
        "王芳",
    ])));
    let v = id(ok_json(&run(&[
        "visit",
        "--household",
        &h,
        "--situation",
        "老人身体尚好",
        "--satisfaction",
        "4",
    ])));
    let edited =
        ok_json(&run(&["visit", "edit", &v, "--needs", "希望安装扶手", "--satisfaction", "5"]));
    assert_eq!(edited["id"], Value::String(v.clone()));
    assert_eq!(edited["needs"], "希望安装扶手");
    assert_eq!(edited["satisfaction"], 5);
    assert_eq!(edited["situation"], "老人身体尚好", "fields not given are kept");
    let history = ok_json(&run(&["history", "visit", &v]));
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["op"], "update_visit");
    assert_eq!(last["fields"], serde_json::json!(["needs", "satisfaction"]));
    refused(run(&["visit", "edit", &v, "--satisfaction", "9"]), "invalid_input", "satisfaction");
    refused(run(&["visit", "edit", &h, "--needs", "x"]), "not_found", "visit");
    // Recording still needs its household.
    assert!(!run(&["visit", "--situation", "x"]).status.success());

    let w = id(ok_json(&run(&[
        "report",
        "--area",
        MICRO_A,
        "--category",
        "safety_hazard",
        "--title",
        "楼道堆物",
    ])));
    let edited = ok_json(&run(&[
        "incident",
        "edit",
        &w,
        "--title",
        "楼道电动车充电",
        "--category",
        "fire_safety",
        "--severity",
        "urgent",
        "--lat",
        "32.06",
        "--lon",
        "121.07",
    ]));
    assert_eq!(edited["title"], "楼道电动车充电");
    assert_eq!(edited["category"], "fire_safety");
    assert_eq!(edited["summary"]["severity"], "urgent");
    assert_eq!(edited["location"]["lat"], 32.06);
    assert_eq!(edited["summary"]["events"].as_array().map(Vec::len), Some(1));
    refused(run(&["incident", "edit", &w, "--category", "nope"]), "invalid_input", "category");
    refused(run(&["incident", "edit", &w, "--severity", "red"]), "invalid_input", "severity");
    refused(run(&["incident", "edit", &v, "--title", "x"]), "not_found", "work_order");
    assert_eq!(ok_json(&run(&["pending"]))["pending"], 5);
}
