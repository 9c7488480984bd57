//! `work-orders`, `work-order show` and `work-order act`: the open list, one order with its
//! timeline, and the steps a phone takes on it (the core's own check and event).

use chrono::Utc;
use gridwork_core::work_order::{
    EventType, WorkOrder, WorkOrderAction, WorkOrderEvent, WorkOrderRow, WorkOrderSummary,
};
use gridwork_core::{CoreError, Store};
use serde_json::{Value, json};
use uuid::Uuid;

use super::to_json;
use crate::error::CliError;
use crate::names::{Names, local, local_opt};
use crate::output::Reply;
use crate::table::{Table, fields};

/// Open work orders in the signed-in user's scope, with area, category and reporter names.
///
/// # Errors
/// [`CoreError::NotSignedIn`]; storage errors.
pub fn list(store: &mut Store) -> Result<Reply, CliError> {
    let scope = store.user().ok_or(CoreError::NotSignedIn)?.scope.clone();
    let rows = store.work_orders().open(&scope, Utc::now(), 200)?;
    let names = Names::new(store);
    let json: Vec<Value> = rows.iter().map(|r| row_json(&names, r)).collect();
    let mut table = Table::new(&[
        "SEVERITY", "STATE", "TITLE", "AREA", "CATEGORY", "REPORTER", "DEADLINE", "ID",
    ]);
    for r in &rows {
        let mut state = r.state.clone();
        if r.overdue {
            state.push_str(" (overdue)");
        }
        if r.escalated {
            state.push_str(" (supervised)");
        }
        table.row(vec![
            r.severity.to_string(),
            state,
            r.title.clone(),
            names.area(&r.area),
            names.category(&r.category),
            names.person(&r.reporter),
            local_opt(r.deadline),
            r.id.to_string(),
        ]);
    }
    Ok(Reply::text(Value::Array(json), table.render_or("No open work orders.")))
}

fn row_json(names: &Names<'_>, r: &WorkOrderRow) -> Value {
    let mut v = to_json(r);
    v["area_name"] = json!(names.area(&r.area));
    v["category_name"] = json!(names.category(&r.category));
    v["reporter_name"] = json!(names.person_known(&r.reporter));
    v
}

/// One work order with its details and whole timeline.
///
/// # Errors
/// [`CoreError::NotFound`]; storage errors.
pub fn show(store: &mut Store, id: Uuid) -> Result<Reply, CliError> {
    let order = store.work_orders().get(id)?;
    Ok(describe(&Names::new(store), &order))
}

/// The order as JSON (the core's work order, plus names and a timeline) and as text.
fn describe(names: &Names<'_>, order: &WorkOrder) -> Reply {
    let s = &order.summary;
    let mut json = to_json(order);
    json["area_name"] = json!(names.area(&order.area));
    json["category_name"] = json!(names.category(&order.category));
    json["reporter_name"] = json!(s.reporter.as_deref().and_then(|r| names.person_known(r)));
    json["timeline"] = s.events.iter().map(|e| event_json(names, e)).collect();

    let departments: Vec<String> =
        s.departments.iter().map(|(d, p)| format!("{d} ({p})")).collect();
    let pending: Vec<String> = s
        .pending_extensions
        .iter()
        .map(|p| format!("{} asks +{}h (waiting)", p.department, p.hours))
        .collect();
    let location = order.location.map(|l| format!("{:.6}, {:.6}", l.lat, l.lon));
    let mut text = fields(&[
        ("Work order", order.title.clone()),
        ("ID", order.id.to_string()),
        ("State", state_line(s)),
        ("Severity", format!("{} ({})", s.severity, s.severity.colour())),
        ("Category", names.category(&order.category)),
        ("Area", names.area(&order.area)),
        ("Source", order.source.as_str().to_owned()),
        ("Reported", local_opt(s.reported_at)),
        ("Reporter", s.reporter.as_deref().map(|r| names.person(r)).unwrap_or_default()),
        ("Deadline", local_opt(s.deadline)),
        ("Departments", departments.join(", ")),
        ("Extensions", pending.join(", ")),
        ("Satisfaction", s.satisfaction.map(|v| format!("{v}/5")).unwrap_or_default()),
        ("Location", location.unwrap_or_default()),
        (
            "Photos",
            if order.photos.is_empty() { String::new() } else { order.photos.len().to_string() },
        ),
        ("Description", order.description.clone()),
    ]);
    let mut timeline =
        Table::new(&["DEVICE TIME", "RECEIVED", "STEP", "BY", "ROLE", "DEPARTMENT", "NOTE"]);
    for e in &s.events {
        timeline.row(vec![
            local(e.at),
            local_opt(e.received_at),
            step_name(e),
            names.person(&e.by),
            e.role.as_str().to_owned(),
            e.department.clone().unwrap_or_default(),
            e.note.clone().unwrap_or_default(),
        ]);
    }
    text.push_str("\nTimeline (local time):\n");
    text.push_str(&timeline.render_or("(no events)\n"));
    if !s.conflicts.is_empty() {
        let mut conflicts = Table::new(&["TIME", "STEP", "BY", "ROLE", "CODE", "REASON"]);
        for c in &s.conflicts {
            conflicts.row(vec![
                local(c.at),
                c.event_type.as_str().to_owned(),
                names.person(&c.by),
                c.role.as_str().to_owned(),
                c.code.clone(),
                c.reason.clone(),
            ]);
        }
        text.push_str("\nConflicting steps to review:\n");
        text.push_str(&conflicts.render_or(""));
    }
    Reply::text(json, text)
}

fn state_line(s: &WorkOrderSummary) -> String {
    let mut line = s.state.map_or("unknown", |st| st.as_str()).to_owned();
    if s.overdue {
        line.push_str(", overdue");
    }
    if s.escalated {
        line.push_str(", supervised");
    }
    line
}

fn step_name(e: &WorkOrderEvent) -> String {
    match (e.extension_hours, e.satisfaction) {
        (Some(h), _) if e.event_type == EventType::RequestExtension => {
            format!("{} +{h}h", e.event_type)
        }
        (_, Some(score)) => format!("{} ({score}/5)", e.event_type),
        _ => e.event_type.as_str().to_owned(),
    }
}

fn event_json(names: &Names<'_>, e: &WorkOrderEvent) -> Value {
    let mut v = to_json(e);
    v["by_name"] = json!(names.person_known(&e.by));
    v
}

/// What `work-order act` was asked to do.
#[derive(Debug)]
pub struct ActArgs<'a> {
    /// The action's name (or an alias).
    pub action: &'a str,
    /// Departments named.
    pub departments: &'a [String],
    /// Extension hours.
    pub hours: Option<u32>,
    /// The resident's satisfaction (verify).
    pub satisfaction: Option<u8>,
    /// Note.
    pub note: Option<&'a str>,
    /// Photo files of the step.
    pub photos: &'a [std::path::PathBuf],
}

/// The event type an action name stands for: the core's names, and `supervise` for escalate,
/// `extend` for request_extension, `approve` / `decline` for deciding an extension request,
/// `review` for review_conflicts.
///
/// # Errors
/// [`CoreError::Invalid`] naming `action` for an unknown name or `report` (a separate command).
pub fn parse_action(name: &str) -> Result<EventType, CoreError> {
    let t = match name.trim() {
        "supervise" => EventType::Escalate,
        "extend" | "extension" => EventType::RequestExtension,
        "approve" => EventType::ApproveExtension,
        "decline" => EventType::DeclineExtension,
        "review" => EventType::ReviewConflicts,
        other => EventType::parse(other).map_err(|_| {
            CoreError::invalid(
                "action",
                format!(
                    "unknown action `{other}`: use accept, dispatch, sign, handle, feedback, \
                     return, request_extension, approve_extension, decline_extension, escalate, \
                     verify, close, reopen or review_conflicts"
                ),
            )
        })?,
    };
    if t == EventType::Report {
        return Err(CoreError::invalid("action", "report an incident with `gridwork report`"));
    }
    Ok(t)
}

/// The steps an action makes: one per department named (dispatch needs at least one), else one.
///
/// # Errors
/// [`CoreError::Invalid`] naming `departments` or `hours` when they do not fit the action.
pub fn steps(args: &ActArgs<'_>) -> Result<Vec<WorkOrderAction>, CoreError> {
    let event_type = parse_action(args.action)?;
    let departments: Vec<&str> =
        args.departments.iter().map(|d| d.trim()).filter(|d| !d.is_empty()).collect();
    let names_departments = event_type.is_departmental()
        || matches!(
            event_type,
            EventType::Dispatch | EventType::ApproveExtension | EventType::DeclineExtension
        );
    if event_type == EventType::Dispatch && departments.is_empty() {
        return Err(CoreError::invalid("departments", "dispatch needs --departments"));
    }
    if !names_departments && !departments.is_empty() {
        return Err(CoreError::invalid(
            "departments",
            format!("{event_type} does not name departments"),
        ));
    }
    match (event_type == EventType::RequestExtension, args.hours) {
        (true, None) => {
            return Err(CoreError::invalid("hours", "request_extension needs --hours"));
        }
        (false, Some(_)) => {
            return Err(CoreError::invalid("hours", "only request_extension takes --hours"));
        }
        _ => {}
    }
    let at = Utc::now();
    let step = |department: Option<&str>| WorkOrderAction {
        event_type,
        department: department.map(str::to_owned),
        note: args.note.map(str::to_owned),
        extension_hours: args.hours,
        satisfaction: args.satisfaction,
        photos: Vec::new(),
        at,
    };
    if departments.is_empty() {
        Ok(vec![step(None)])
    } else {
        Ok(departments.into_iter().map(|d| step(Some(d))).collect())
    }
}

/// Takes a step on a work order as the signed-in user — all its departments' steps or none —
/// and shows the order after it.
///
/// # Errors
/// The core's refusal (its work-order error code: `illegal_transition`, `role_not_allowed`…);
/// [`CoreError::Invalid`] for arguments that do not fit the action. Nothing is written on error.
pub fn act(store: &mut Store, id: Uuid, args: &ActArgs<'_>) -> Result<Reply, CliError> {
    let steps = steps(args)?;
    let files = args.photos.iter().map(|p| photo_file(p)).collect::<Result<Vec<_>, _>>()?;
    store.batch(|s| {
        // Stored with the steps: a refused step leaves no photo behind to upload.
        let photos = files
            .iter()
            .map(|(bytes, mime)| s.add_attachment(bytes, mime))
            .collect::<Result<Vec<_>, _>>()?;
        for mut step in steps {
            step.photos.clone_from(&photos);
            s.work_orders().act(id, step)?;
        }
        Ok(())
    })?;
    show(store, id)
}

/// A photo file's bytes and image MIME type, told from its first bytes (not its name).
///
/// # Errors
/// [`CliError::File`] when it cannot be read; [`CoreError::Invalid`] naming `photos` when it is
/// not an image.
fn photo_file(path: &std::path::Path) -> Result<(Vec<u8>, String), CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::File { path: path.display().to_string(), reason: e.to_string() })?;
    match infer::get(&bytes) {
        Some(t) if t.matcher_type() == infer::MatcherType::Image => {
            Ok((bytes, t.mime_type().to_owned()))
        }
        _ => Err(CoreError::invalid(
            "photos",
            format!("{} is not a photo (JPEG, PNG, WebP, GIF or HEIF)", path.display()),
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_files_are_told_by_their_bytes() {
        let dir = std::env::temp_dir().join(format!("gridwork-cli-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let (png, text) = (dir.join("done.dat"), dir.join("photo.jpg"));
        std::fs::write(&png, [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])
            .unwrap();
        std::fs::write(&text, "not a picture, whatever the name says").unwrap();
        let (bytes, mime) = photo_file(&png).unwrap();
        assert_eq!((bytes.len(), mime.as_str()), (12, "image/png"), "a PNG named .dat");
        let err = photo_file(&text).unwrap_err();
        assert_eq!(err.code(), "invalid_input", "{err}");
        assert!(err.to_string().contains("photos"), "{err}");
        let err = photo_file(&dir.join("missing.jpg")).unwrap_err();
        assert_eq!(err.code(), "file_unreadable", "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn args<'a>(action: &'a str, departments: &'a [String], hours: Option<u32>) -> ActArgs<'a> {
        ActArgs { action, departments, hours, satisfaction: None, note: None, photos: &[] }
    }

    #[test]
    fn actions_and_their_arguments() {
        assert_eq!(parse_action("supervise").unwrap(), EventType::Escalate);
        assert_eq!(parse_action("extend").unwrap(), EventType::RequestExtension);
        assert_eq!(parse_action("sign").unwrap(), EventType::Sign);
        assert!(parse_action("report").unwrap_err().to_string().contains("gridwork report"));
        assert!(parse_action("teleport").unwrap_err().to_string().contains("action"));

        let two = vec!["sanitation".to_owned(), " housing ".to_owned()];
        let dispatch = steps(&args("dispatch", &two, None)).unwrap();
        let named: Vec<_> = dispatch.iter().map(|s| s.department.as_deref()).collect();
        assert_eq!(named, vec![Some("sanitation"), Some("housing")]);
        let err = steps(&args("dispatch", &[], None)).unwrap_err();
        assert!(err.to_string().contains("departments"), "{err}");
        let err = steps(&args("close", &two, None)).unwrap_err();
        assert!(err.to_string().contains("departments"), "{err}");
        assert_eq!(steps(&args("sign", &[], None)).unwrap()[0].department, None);
        let err = steps(&args("request_extension", &[], None)).unwrap_err();
        assert!(err.to_string().contains("hours"), "{err}");
        let err = steps(&args("accept", &[], Some(4))).unwrap_err();
        assert!(err.to_string().contains("hours"), "{err}");
        assert_eq!(steps(&args("extend", &[], Some(4))).unwrap()[0].extension_hours, Some(4));
        let approve = steps(&args("approve", &two[..1], None)).unwrap();
        assert_eq!(approve[0].event_type, EventType::ApproveExtension);
        assert_eq!(approve[0].department.as_deref(), Some("sanitation"));
        assert_eq!(parse_action("decline").unwrap(), EventType::DeclineExtension);
        assert_eq!(parse_action("review").unwrap(), EventType::ReviewConflicts);
    }
}
