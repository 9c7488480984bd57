//! Running one command against the device store; every command returns a [`Reply`] that `main`
//! prints as JSON or as text.

use std::sync::Mutex;

use chrono::Utc;
use gridwork_core::location::Location;
use gridwork_core::sync::attachment_client::{self, AttachmentSyncError};
use gridwork_core::sync::{CancelToken, EnrolRequest, NoProgress, SyncClient, SyncConfig};
use gridwork_core::work_order::{IncidentDetails, IncidentInput, IncidentSource, Severity};
use gridwork_core::{
    AreaPath, CoreError, HouseholdInput, HouseholdTag, RecordKind, Store, VisitInput, VisitOutcome,
};
use serde_json::{Value, json};

use crate::args::{
    Cli, Command, HouseholdCmd, IncidentCmd, PatrolCmd, ResidentCmd, TaskCmd, VisitCmd,
    WorkOrderCmd,
};
use crate::commands::{alerts, patrol, resident, task, to_json, work_order};
use crate::error::CliError;
use crate::output::Reply;

/// Opens the store named on the command line, with its key if one is given.
fn open(cli: &Cli) -> Result<Store, CliError> {
    let key = match &cli.key_file {
        None => None,
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| CliError::KeyFile(e.to_string()))?;
            let bytes = hex::decode(text.trim()).map_err(|e| CliError::KeyFile(e.to_string()))?;
            Some(bytes)
        }
    };
    Ok(Store::open(&cli.store, key.as_deref())?)
}

/// The area argument, or the signed-in user's scope.
fn area_or_scope(store: &Store, area: Option<&str>) -> Result<AreaPath, CliError> {
    match area {
        Some(a) => Ok(AreaPath::parse(a)?),
        None => Ok(store.user().ok_or(CoreError::NotSignedIn)?.scope.clone()),
    }
}

/// Runs the command and returns what to print.
pub fn run(cli: &Cli) -> Result<Reply, CliError> {
    let mut store = open(cli)?;
    // The commands for taking part in the work answer with text for people; the others with
    // JSON either way (enrolment, sync, records added and edited).
    let value: Result<Value, CliError> = match &cli.command {
        Command::WorkOrders => return work_order::list(&mut store),
        Command::WorkOrder(WorkOrderCmd::Show { id }) => return work_order::show(&mut store, *id),
        Command::WorkOrder(WorkOrderCmd::Act {
            id,
            action,
            departments,
            hours,
            satisfaction,
            note,
            photos,
        }) => {
            let args = work_order::ActArgs {
                action,
                departments,
                hours: *hours,
                satisfaction: *satisfaction,
                note: note.as_deref(),
                photos,
            };
            return work_order::act(&mut store, *id, &args);
        }
        Command::Task(TaskCmd::List { area }) => {
            let area = area_or_scope(&store, area.as_deref())?;
            return task::list(&mut store, &area);
        }
        Command::Task(TaskCmd::Complete { id, note }) => {
            return task::complete(&mut store, *id, note);
        }
        Command::Patrol(PatrolCmd::Start { area, task }) => {
            let area = area_or_scope(&store, area.as_deref())?;
            return patrol::start(&mut store, &area, *task);
        }
        Command::Patrol(PatrolCmd::CheckIn { patrol: id, name, lat, lon, note }) => {
            let args = patrol::CheckInArgs { name, lat: *lat, lon: *lon, note: note.as_deref() };
            return patrol::check_in(&mut store, *id, &args);
        }
        Command::Patrol(PatrolCmd::Stop { patrol: id }) => return patrol::stop(&mut store, *id),
        Command::Alerts { ack, all } => return alerts::run(&mut store, ack, *all),
        Command::Resident(ResidentCmd::Add {
            household,
            name,
            gender,
            relation,
            birth_year,
            phone,
            id_number,
        }) => {
            let args = resident::AddArgs {
                household: *household,
                name,
                gender,
                relation,
                birth_year: *birth_year,
                phone: phone.as_deref(),
                id_number: id_number.as_deref(),
            };
            return resident::add(&mut store, &args);
        }
        Command::Enrol { server, code, device_name } => {
            let store = Mutex::new(store);
            let client = SyncClient::new(SyncConfig::default())?;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let req = EnrolRequest {
                server_url: server.clone(),
                code: code.clone(),
                device_name: device_name.clone(),
                role: None,
            };
            let user = rt.block_on(client.enrol(&store, &req))?;
            Ok(to_json(&user))
        }
        Command::Status => {
            let state = gridwork_core::sync::sync_state(&store)?;
            Ok(json!({ "sync": to_json(&state), "user": to_json(&store.user()) }))
        }
        Command::Sync => {
            let store = Mutex::new(store);
            let client = SyncClient::new(SyncConfig::default())?;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let report = rt.block_on(client.sync(&store, &NoProgress, &CancelToken::new()))?;
            // Reference data too: renamed areas, new micro-grids, a move to another grid.
            rt.block_on(client.refresh_areas(&store))?;
            // Then the photos this device took: the server accepts them once a pushed change
            // refers to them.
            let uploads = upload_photos(&store, &rt)?;
            let mut out = to_json(&report);
            if let Some(o) = out.as_object_mut() {
                o.insert("photos_uploaded".into(), json!(uploads.completed));
                o.insert("photos_failed".into(), json!(uploads.failed));
            }
            Ok(out)
        }
        Command::Pending => Ok(json!({ "pending": store.outbox_len()? })),
        Command::Household(HouseholdCmd::Add { area, address, head, members, phone, tags }) => {
            let tags = tags.iter().map(|t| HouseholdTag::parse(t)).collect::<Result<_, _>>()?;
            let id = store.households().add(HouseholdInput {
                area: AreaPath::parse(area)?,
                address: address.clone(),
                building: None,
                unit: None,
                room: None,
                head_name: head.clone(),
                member_count: *members,
                phone: phone.clone(),
                tags,
            })?;
            Ok(json!({ "id": id }))
        }
        Command::Household(HouseholdCmd::List { area }) => {
            let area = area_or_scope(&store, area.as_deref())?;
            Ok(to_json(&store.households().in_area(&area, 1000)?))
        }
        Command::Household(HouseholdCmd::Search { query, area }) => {
            let area = area_or_scope(&store, area.as_deref())?;
            Ok(to_json(&store.households().search(&area, query, 50)?))
        }
        Command::Visit { edit: None, record } => {
            let household = record
                .household
                .ok_or_else(|| CoreError::invalid("household", "is required to record a visit"))?;
            let id = store.visits().record(VisitInput {
                situation: record.situation.clone(),
                satisfaction: record.satisfaction,
                ..VisitInput::routine(household, Utc::now(), VisitOutcome::parse(&record.outcome)?)
            })?;
            Ok(json!({ "id": id }))
        }
        Command::Visit {
            edit: Some(VisitCmd::Edit { id, outcome, situation, needs, satisfaction, knows_worker }),
            ..
        } => {
            let mut input = VisitInput::from(store.visits().get(*id)?);
            if let Some(o) = outcome {
                input.outcome = VisitOutcome::parse(o)?;
            }
            if let Some(s) = situation {
                input.situation.clone_from(s);
            }
            if let Some(n) = needs {
                input.needs.clone_from(n);
            }
            if satisfaction.is_some() {
                input.satisfaction = *satisfaction;
            }
            if knows_worker.is_some() {
                input.knows_worker = *knows_worker;
            }
            store.visits().update(*id, input)?;
            Ok(to_json(&store.visits().get(*id)?))
        }
        Command::Due { area } => {
            let area = area_or_scope(&store, area.as_deref())?;
            Ok(to_json(&store.households().due(&area, Utc::now(), 100)?))
        }
        Command::Report { area, category, severity, title, description } => {
            let id = store.work_orders().report(IncidentInput {
                area: AreaPath::parse(area)?,
                category: category.clone(),
                severity: Severity::parse(severity)?,
                title: title.clone(),
                description: description.clone(),
                location: None,
                photos: vec![],
                source: IncidentSource::GridReport,
                household_id: None,
                patrol_id: None,
                reported_at: Utc::now(),
            })?;
            Ok(json!({ "id": id }))
        }
        Command::Incident(IncidentCmd::Edit {
            id,
            title,
            description,
            category,
            severity,
            lat,
            lon,
        }) => {
            let mut details = IncidentDetails::from(&store.work_orders().get(*id)?);
            if let Some(t) = title {
                details.title.clone_from(t);
            }
            if let Some(d) = description {
                details.description.clone_from(d);
            }
            if let Some(c) = category {
                details.category.clone_from(c);
            }
            if let Some(s) = severity {
                details.severity = Severity::parse(s)?;
            }
            if let (Some(lat), Some(lon)) = (lat, lon) {
                details.location = Some(Location { lat: *lat, lon: *lon });
            }
            store.work_orders().update_incident(*id, details)?;
            Ok(to_json(&store.work_orders().get(*id)?))
        }
        Command::History { kind, id } => {
            Ok(to_json(&store.history(RecordKind::parse(kind)?, *id)?))
        }
    };
    value.map(Reply::json)
}

/// Uploads the photos waiting on this device (none when it is not enrolled).
///
/// # Errors
/// [`CliError::Attachments`] when the server refuses the device or the store fails; a photo that
/// fails on its own stays queued and is listed in the report.
fn upload_photos(
    store: &Mutex<Store>,
    rt: &tokio::runtime::Runtime,
) -> Result<attachment_client::TransferReport, CliError> {
    let enrolment = {
        let s = store.lock().map_err(|_| AttachmentSyncError::Poisoned)?;
        gridwork_core::sync::enrolment(&s)?
    };
    let Some(e) = enrolment else { return Ok(Default::default()) };
    let client = attachment_client::AttachmentClient::new(&e.server_url, &e.credential)?;
    Ok(rt.block_on(attachment_client::upload_pending(&client, store, &mut |_| {}))?)
}
