//! Tasks: issuing (role-gated), targets, progress derived from linked visits and patrols,
//! completion by the assignee, bad input and merging of concurrent edits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::*;
use gridwork_core::{RecordKind, Role, Store, TaskInput, VisitInput, VisitKind, VisitOutcome};
use uuid::Uuid;

fn task(area_path: &str, title: &str, households: Vec<Uuid>) -> TaskInput {
    TaskInput {
        area: area(area_path),
        title: title.into(),
        instructions: "逐户核实独居老人安全情况".into(),
        households,
        due_at: Some(Utc::now() + Duration::days(3)),
        assignee: Some("w1".into()),
    }
}

fn visit(s: &mut Store, h: Uuid, task_id: Uuid, outcome: VisitOutcome) -> Uuid {
    s.visits()
        .record(VisitInput {
            kind: VisitKind::Task,
            task_id: Some(task_id),
            ..VisitInput::routine(h, Utc::now(), outcome)
        })
        .unwrap()
}

#[test]
fn a_task_is_issued_carried_out_and_completed() {
    let mut head = store_as("g1", Role::GridHead, GRID);
    let mut worker = store_at(None, "w1");
    let h1 = worker.households().add(household(1)).unwrap();
    let h2 = worker.households().add(household(2)).unwrap();
    let h3 = worker.households().add(household(3)).unwrap();
    exchange(&mut worker, &mut head);

    let t = head.tasks().create(task(GRID, "独居老人安全排查", vec![h2, h1, h1])).unwrap();
    let area_task = head
        .tasks()
        .create(TaskInput {
            households: vec![], due_at: None, ..task(MICRO, "全覆盖走访", vec![])
        })
        .unwrap();
    exchange(&mut worker, &mut head);

    let whole = worker.tasks().get(t).unwrap();
    assert_eq!(whole.households, {
        let mut v = vec![h1, h2];
        v.sort();
        v
    });
    assert_eq!(whole.issued_by, "g1");
    assert!(whole.completed_at.is_none());
    // A grid-wide task concerns the micro-grid too; open tasks with a due date come first.
    let listed: Vec<Uuid> =
        worker.tasks().in_area(&area(MICRO), 10).unwrap().iter().map(|t| t.id).collect();
    assert_eq!(listed, vec![t, area_task]);

    let v1 = visit(&mut worker, h1, t, VisitOutcome::Met);
    let v2 = visit(&mut worker, h2, t, VisitOutcome::NotHome);
    visit(&mut worker, h3, t, VisitOutcome::Met); // not a target of `t`
    let p = worker.patrols().start(&area(GRID), Utc::now(), Some(t)).unwrap();
    let prog = worker.tasks().progress(t).unwrap();
    assert_eq!((prog.targets, prog.visited, prog.visits, prog.patrols), (2, 1, 3, 1));
    assert!((prog.ratio() - 0.5).abs() < 1e-9);
    let links = worker.tasks().records(t).unwrap();
    assert_eq!(links.patrols, vec![p]);
    assert!(links.visits.contains(&v1) && links.visits.contains(&v2));
    visit(&mut worker, h2, t, VisitOutcome::Met);
    assert_eq!(worker.tasks().progress(t).unwrap().visited, 2);

    // The area task's targets are every household of the micro-grid.
    let prog = worker.tasks().progress(area_task).unwrap();
    assert_eq!((prog.targets, prog.visited), (3, 0));
    visit(&mut worker, h3, area_task, VisitOutcome::Met);
    assert_eq!(worker.tasks().progress(area_task).unwrap().visited, 1);

    worker.tasks().complete(t, "已全部走访，情况正常").unwrap();
    refused(&mut worker, "completed_at", |s| s.tasks().complete(t, "again"));
    exchange(&mut worker, &mut head);
    let done = head.tasks().get(t).unwrap();
    assert_eq!(done.completed_by.as_deref(), Some("w1"));
    assert_eq!(done.result, "已全部走访，情况正常");
    // Completed tasks go after open ones.
    let listed: Vec<Uuid> =
        head.tasks().in_area(&area(GRID), 10).unwrap().iter().map(|t| t.id).collect();
    assert_eq!(listed, vec![area_task, t]);
    assert_eq!(head.tasks().progress(t).unwrap(), worker.tasks().progress(t).unwrap());

    head.tasks().delete(area_task).unwrap();
    assert_eq!(head.tasks().in_area(&area(GRID), 10).unwrap().len(), 1);
    assert!(head.tasks().get(area_task).unwrap().deleted);
}

#[test]
fn only_command_roles_issue_tasks_and_only_the_assignee_completes() {
    let mut worker = store_at(None, "w2");
    refused(&mut worker, "forbidden", |s| s.tasks().create(task(GRID, "x", vec![])));
    let mut head = store_as("g1", Role::GridHead, GRID);
    let t = head.tasks().create(task(GRID, "消防检查", vec![])).unwrap();
    worker.apply_changes(&head.outbox(usize::MAX).unwrap()).unwrap();
    // Assigned to w1, not w2.
    refused(&mut worker, "forbidden", |s| s.tasks().complete(t, "done"));
    refused(&mut worker, "forbidden", |s| s.tasks().update(t, task(GRID, "改", vec![])));
    refused(&mut worker, "forbidden", |s| s.tasks().delete(t));
    let mut admin = store_as("a1", Role::SyncAdmin, GRID);
    admin.apply_changes(&head.outbox(usize::MAX).unwrap()).unwrap();
    refused(&mut admin, "forbidden", |s| s.tasks().complete(t, "done"));
    // Town operators and the district centre issue tasks too.
    for (role, scope) in [(Role::TownOperator, "320612/001"), (Role::DistrictCentre, "320612")] {
        let mut s = store_as("c1", role, scope);
        s.tasks().create(task(scope, "防汛检查", vec![])).unwrap();
    }
}

#[test]
fn bad_task_input_is_refused_and_nothing_written() {
    let mut head = store_as("g1", Role::GridHead, GRID);
    let h = head.households().add(household(5)).unwrap();
    let other_micro = "320612/001/001/01/02";
    let mut elsewhere = household(6);
    elsewhere.area = area(other_micro);
    let h_other = head.households().add(elsewhere).unwrap();

    refused(&mut head, "title", |s| s.tasks().create(task(GRID, "  ", vec![])));
    refused(&mut head, "title", |s| s.tasks().create(task(GRID, &"题".repeat(121), vec![])));
    refused(&mut head, "instructions", |s| {
        s.tasks().create(TaskInput { instructions: "字".repeat(4001), ..task(GRID, "t", vec![]) })
    });
    refused(&mut head, "households", |s| s.tasks().create(task(MICRO, "t", vec![h_other])));
    refused(&mut head, "not_found", |s| s.tasks().create(task(GRID, "t", vec![Uuid::now_v7()])));
    refused(&mut head, "not_found", |s| s.tasks().create(task("320612/001/001/09", "t", vec![])));
    refused(&mut head, "out_of_scope", |s| s.tasks().create(task("320612/002", "t", vec![])));
    let t = head.tasks().create(task(MICRO, "t", vec![h])).unwrap();
    refused(&mut head, "households", |s| s.tasks().add_households(t, &[h_other]));
    refused(&mut head, "not_found", |s| s.tasks().complete(Uuid::now_v7(), ""));
    refused(&mut head, "not_found", |s| s.tasks().progress(Uuid::now_v7()));
    refused(&mut head, "result", |s| s.tasks().complete(t, &"果".repeat(4001)));
}

#[test]
fn concurrent_target_additions_merge() {
    let mut a = store_as("g1", Role::GridHead, GRID);
    let mut b = store_as("g2", Role::GridHead, GRID);
    let hs: Vec<Uuid> = (0..4).map(|i| a.households().add(household(10 + i)).unwrap()).collect();
    let t = a.tasks().create(task(GRID, "入户核查", vec![hs[0]])).unwrap();
    exchange(&mut a, &mut b);

    a.tasks().add_households(t, &[hs[1]]).unwrap();
    b.tasks().add_households(t, &[hs[2], hs[3]]).unwrap();
    // b also changes the title; a the due date.
    let tb = b.tasks().get(t).unwrap();
    b.tasks()
        .update(
            t,
            TaskInput {
                area: tb.area.clone(),
                title: "入户核查（加急）".into(),
                instructions: tb.instructions.clone(),
                households: tb.households.clone(),
                due_at: tb.due_at,
                assignee: tb.assignee.clone(),
            },
        )
        .unwrap();
    let ta = a.tasks().get(t).unwrap();
    let due = Utc::now() + Duration::days(1);
    a.tasks()
        .update(
            t,
            TaskInput {
                area: ta.area.clone(),
                title: ta.title.clone(),
                instructions: ta.instructions.clone(),
                households: ta.households.clone(),
                due_at: Some(due),
                assignee: ta.assignee.clone(),
            },
        )
        .unwrap();
    exchange(&mut a, &mut b);

    let (ta, tb) = (a.tasks().get(t).unwrap(), b.tasks().get(t).unwrap());
    assert_eq!(ta, tb);
    let mut all = hs.clone();
    all.sort();
    assert_eq!(ta.households, all, "additions from both sides are kept");
    assert_eq!(ta.title, "入户核查（加急）");
    assert_eq!(ta.due_at.map(|d| d.timestamp_millis()), Some(due.timestamp_millis()));
    assert_eq!(
        a.tasks().in_area(&area(GRID), 10).unwrap(),
        b.tasks().in_area(&area(GRID), 10).unwrap()
    );
    assert_eq!(a.tasks().progress(t).unwrap(), b.tasks().progress(t).unwrap());
    assert_eq!(a.tasks().progress(t).unwrap().targets, 4);
    assert_eq!(a.history(RecordKind::Task, t).unwrap().len(), 5);
}

/// Two grids complete their parts of a town-wide task on their own phones, offline at the same
/// time: both parts survive the merge on every phone, each grid's list shows its own part done,
/// and the town's task stays open.
#[test]
fn grids_complete_their_parts_of_a_town_task_and_both_parts_merge() {
    const TOWN: &str = "320612/001";
    const GRID_2: &str = "320612/001/001/02";
    let mut operator = store_as("t1", Role::TownOperator, TOWN);
    let id = operator
        .tasks()
        .create(TaskInput { assignee: None, ..task(TOWN, "全镇燃气安全排查", vec![]) })
        .unwrap();
    let mut a = store_as("w1", Role::GridWorker, GRID);
    let mut b = store_as("w2", Role::GridWorker, GRID_2);
    let issued = operator.outbox(usize::MAX).unwrap();
    a.apply_changes(&issued).unwrap();
    b.apply_changes(&issued).unwrap();

    a.tasks().complete(id, "一网格完成").unwrap();
    b.tasks().complete(id, "二网格完成").unwrap();
    assert!(a.tasks().complete(id, "again").is_err(), "a part is completed once");
    let (from_a, from_b) = (a.outbox(usize::MAX).unwrap(), b.outbox(usize::MAX).unwrap());
    for s in [&mut a, &mut b, &mut operator] {
        s.apply_changes(&from_a).unwrap();
        s.apply_changes(&from_b).unwrap();
    }
    for s in [&mut a, &mut b, &mut operator] {
        let t = s.tasks().get(id).unwrap();
        let parts: Vec<(&str, &str)> =
            t.progress.iter().map(|p| (p.area.as_str(), p.result.as_str())).collect();
        assert_eq!(parts, vec![(GRID, "一网格完成"), (GRID_2, "二网格完成")]);
        assert!(t.completed_at.is_none(), "the town's task stays open");
    }
    let listed = a.tasks().in_area(&area(GRID), 10).unwrap();
    assert!(listed.iter().any(|t| t.id == id && t.completed_here.is_some()));
}
