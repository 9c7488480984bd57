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
