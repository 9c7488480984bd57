//! Issuing a task on the server (a command centre's instruction to one area and every grid in
//! it): the same validated input and document builder a phone uses (`gridwork_core::task`).

use gridwork_core::{RecordKind, TaskInput};
use uuid::Uuid;

use super::{Author, Authored, commit_and_ingest, core_error};
use crate::api::AppState;
use crate::error::ApiResult;

/// Issues `input` as `author`; returns the task's id and the change.
///
/// # Errors
/// 400 `invalid_input` naming the field; 403 `forbidden` unless one of the author's roles over
/// the area may issue tasks (district centre, town operator, grid head); the ingest's refusals.
pub async fn issue(
    st: &AppState,
    author: &Author,
    input: TaskInput,
) -> ApiResult<(Uuid, Authored)> {
    let input = input.validated().map_err(|e| core_error(&e))?;
    if !author.roles_over(&input.area).into_iter().any(gridwork_core::task::may_issue) {
        return Err(core_error(&gridwork_core::CoreError::Forbidden {
            action: format!("issue a task in {}", input.area),
        }));
    }
    let id = Uuid::now_v7();
    let user_id = author.user.id.to_string();
    let mut doc = gridwork_core::author::new_document(
        RecordKind::Task,
        &input.area,
        &user_id,
        &author.actor(),
        crate::store::now_ms(),
    )
    .map_err(|e| core_error(&e))?;
    input.write_new(&mut doc, &user_id).map_err(|e| core_error(&e))?;
    let change = commit_and_ingest(
        st,
        author,
        &mut doc,
        (id, RecordKind::Task, input.area.clone()),
        "create_task",
    )
    .await?;
    Ok((id, change))
}
