//! Issue 10, item 5: a task issued for a whole town reaches every grid worker of the town by an
//! ordinary pull (and no one outside it), on both backends.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{TimeDelta, Utc};
use common::*;
use gridwork_core::{AreaPath, TaskInput};
use gridwork_tests::{Backend, Device, HarnessResult};

/// A grid of a second town.
const OTHER_GRID: &str = "320612/002/001/01";

async fn town_task_reaches_the_grids(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    server.create_areas(&gridwork_core::demo::areas(2, 1, 2, 2)).await?;
    let operator = Device::new()?;
    operator.enrol_new_user(&server, &proxy.url, "陈敏", "town_operator", TOWN).await?;
    let in_town = Device::new()?;
    in_town.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let other_town = Device::new()?;
    other_town.enrol_new_user(&server, &proxy.url, "赵磊", "grid_worker", OTHER_GRID).await?;

    let town = AreaPath::parse(TOWN).unwrap();
    let task = operator.with(|s| {
        s.tasks().create(TaskInput {
            area: town.clone(),
            title: "冬季消防安全排查".into(),
            instructions: "全镇各网格本周完成".into(),
            households: vec![],
            due_at: Some(Utc::now() + TimeDelta::days(7)),
            assignee: None,
        })
    })?;
    operator.sync().await?;
    in_town.sync().await?;
    other_town.sync().await?;

    let grid = AreaPath::parse(GRID_A).unwrap();
    let seen = in_town.with(|s| s.tasks().in_area(&grid, 10))?;
    assert_eq!(
        seen.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![task],
        "the town's grid sees it"
    );
    assert_eq!(in_town.with(|s| s.tasks().get(task))?.title, "冬季消防安全排查");
    let other = AreaPath::parse(OTHER_GRID).unwrap();
    assert!(
        other_town.with(|s| s.tasks().in_area(&other, 10))?.is_empty(),
        "another town does not"
    );
    assert!(other_town.with(|s| s.tasks().get(task)).is_err());

    // The grid completes its part; the server accepts it and the operator sees it.
    in_town.with(|s| s.tasks().complete(task, "已排查本网格12户"))?;
    in_town.sync().await?;
    assert_eq!(in_town.with(|s| s.outbox_len())?, 0, "accepted, not set aside");
    let listed = in_town.with(|s| s.tasks().in_area(&grid, 10))?;
    assert!(listed[0].completed_here.is_some(), "the grid's list shows its part done");
    assert!(listed[0].completed_at.is_none());
    operator.sync().await?;
    let done = operator.with(|s| s.tasks().get(task))?;
    assert_eq!(done.progress.len(), 1);
    assert_eq!(done.progress[0].area, grid);
    assert_eq!(done.progress[0].result, "已排查本网格12户");
    assert!(done.completed_at.is_none(), "the town's task stays open for its other grids");
    // Twice is refused on the phone: the part is done.
    assert!(in_town.with(|s| s.tasks().complete(task, "again")).is_err());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_town_task_reaches_the_town_grids_sqlite() -> HarnessResult<()> {
    town_task_reaches_the_grids(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_town_task_reaches_the_town_grids_postgres() -> HarnessResult<()> {
    let Some(backend) = Backend::postgres().await? else { return Ok(()) };
    town_task_reaches_the_grids(backend).await
}
