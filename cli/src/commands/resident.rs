//! `resident add`: a resident of a household; an ID-card number goes into the resident's
//! sensitive record, where the core keeps graded personal data (DESIGN §3).

use gridwork_core::resident::{Gender, Relation};
use gridwork_core::sensitive::SensitiveInput;
use gridwork_core::{ResidentInput, Store};
use serde_json::json;
use uuid::Uuid;

use crate::error::CliError;
use crate::names::Names;
use crate::output::Reply;
use crate::table::fields;

/// What `resident add` was given.
#[derive(Debug)]
pub struct AddArgs<'a> {
    /// The household.
    pub household: Uuid,
    /// Full name.
    pub name: &'a str,
    /// `male` or `female`.
    pub gender: &'a str,
    /// Relation to the head of household.
    pub relation: &'a str,
    /// Year of birth.
    pub birth_year: Option<i32>,
    /// Phone.
    pub phone: Option<&'a str>,
    /// ID-card number.
    pub id_number: Option<&'a str>,
}

/// Adds the resident and, with an ID-card number, their sensitive record: both or neither.
///
/// # Errors
/// [`gridwork_core::CoreError::Invalid`] naming the bad field (`gender`, `relation`, `name`,
/// `birth_year`, `phone`, `id_card`); [`gridwork_core::CoreError::Forbidden`] when an ID-card
/// number is given by a role that may not hold sensitive data; not found, out of scope.
pub fn add(store: &mut Store, args: &AddArgs<'_>) -> Result<Reply, CliError> {
    let input = ResidentInput {
        household_id: args.household,
        name: args.name.to_owned(),
        gender: Gender::parse(args.gender)?,
        birth_year: args.birth_year,
        relation: Relation::parse(args.relation)?,
        phone: args.phone.map(str::to_owned),
    };
    let (id, sensitive) = store.batch(|s| {
        let id = s.residents().add(input)?;
        let sensitive = match args.id_number {
            None => None,
            Some(n) => Some(s.sensitive().set(
                id,
                SensitiveInput { id_card: Some(n.to_owned()), ..SensitiveInput::default() },
            )?),
        };
        Ok((id, sensitive))
    })?;
    let household = store.households().get(args.household)?;
    let names = Names::new(store);
    let text = fields(&[
        ("Resident added", args.name.trim().to_owned()),
        ("Household", household.as_ref().map(|h| h.address.clone()).unwrap_or_default()),
        ("Area", household.as_ref().map(|h| names.area(&h.area)).unwrap_or_default()),
        (
            "ID-card number",
            if sensitive.is_some() { "recorded (sensitive)".into() } else { String::new() },
        ),
        ("ID", id.to_string()),
    ]);
    Ok(Reply::text(json!({ "id": id, "sensitive_id": sensitive }), text))
}
