//! The labels of coded values in ledgers, in Chinese and English. Household tags and incident
//! categories take their names from the core ([`HouseholdTag::name_zh`],
//! [`CategoryList::default`]); the codes the core names only in doc comments (visit outcomes,
//! severities, work-order states and steps, incident sources) are named here. An unknown code
//! (a newer phone's) is shown as itself.

use std::sync::OnceLock;

use gridwork_core::HouseholdTag;
use gridwork_core::work_order::CategoryList;

use super::{Lang, Value};

/// `(code, zh, en)` of visit outcomes.
const OUTCOMES: &[(&str, &str, &str)] =
    &[("met", "见面", "Met"), ("not_home", "不在家", "Not home"), ("refused", "拒访", "Refused")];

/// `(code, zh, en)` of severities.
const SEVERITIES: &[(&str, &str, &str)] = &[
    ("urgent", "紧急", "Urgent"),
    ("important", "重要", "Important"),
    ("ordinary", "一般", "Ordinary"),
];

/// `(code, zh, en)` of work-order states.
const STATES: &[(&str, &str, &str)] = &[
    ("reported", "已上报", "Reported"),
    ("accepted", "已受理", "Accepted"),
    ("dispatched", "已派单", "Dispatched"),
    ("signed", "已签收", "Signed"),
    ("handling", "处置中", "Handling"),
    ("fed_back", "已反馈", "Fed back"),
    ("verified", "已核查", "Verified"),
    ("closed", "已办结", "Closed"),
    ("returned", "已退单", "Returned"),
    ("unknown", "未知", "Unknown"),
];

/// `(code, zh, en)` of incident sources.
const SOURCES: &[(&str, &str, &str)] = &[
    ("grid_report", "网格上报", "Grid report"),
    ("patrol", "巡查发现", "Patrol"),
    ("visit", "走访发现", "Visit"),
    ("hotline_12345", "12345热线", "12345 hotline"),
    ("other", "其他渠道", "Other"),
];

fn find(table: &[(&str, &'static str, &'static str)], code: &str, lang: Lang) -> Option<String> {
    table.iter().find(|(c, _, _)| *c == code).map(|(_, zh, en)| {
        match lang {
            Lang::Zh => *zh,
            Lang::En => *en,
        }
        .to_owned()
    })
}

fn label(code: &str, text: Option<String>) -> Value {
    Value::Label { text: text.unwrap_or_else(|| code.to_owned()), code: code.to_owned() }
}

/// A visit outcome.
pub fn outcome(code: &str, lang: Lang) -> Value {
    label(code, find(OUTCOMES, code, lang))
}

/// A severity.
pub fn severity(code: &str, lang: Lang) -> Value {
    label(code, find(SEVERITIES, code, lang))
}

/// A work-order state.
pub fn state(code: &str, lang: Lang) -> Value {
    label(code, find(STATES, code, lang))
}

/// An incident source.
pub fn source(code: &str, lang: Lang) -> Value {
    label(code, find(SOURCES, code, lang))
}

/// An incident category (the core's standard list).
pub fn category(code: &str, lang: Lang) -> Value {
    static LIST: OnceLock<CategoryList> = OnceLock::new();
    let c = LIST.get_or_init(CategoryList::default).get(code);
    label(
        code,
        c.map(|c| match lang {
            Lang::Zh => c.name_zh.clone(),
            Lang::En => c.name_en.clone(),
        }),
    )
}

/// One household tag's (or key-population category's) name.
pub fn tag_name(code: &str, lang: Lang) -> String {
    match HouseholdTag::parse(code) {
        Ok(t) => match lang {
            Lang::Zh => t.name_zh().to_owned(),
            Lang::En => code.replace('_', " "),
        },
        Err(_) => code.to_owned(),
    }
}

/// Comma-separated tag codes as one label: the codes as stored, the names joined with `、`
/// (Chinese) or `, ` (English).
pub fn tags(codes: &str, lang: Lang) -> Value {
    let sep = if lang == Lang::Zh { "、" } else { ", " };
    let names: Vec<String> =
        codes.split(',').filter(|c| !c.is_empty()).map(|c| tag_name(c, lang)).collect();
    Value::Label { code: codes.to_owned(), text: names.join(sep) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_unknown_codes() {
        assert_eq!(
            outcome("met", Lang::Zh),
            Value::Label { code: "met".into(), text: "见面".into() }
        );
        assert_eq!(
            severity("urgent", Lang::En),
            Value::Label { code: "urgent".into(), text: "Urgent".into() }
        );
        assert_eq!(
            state("x_new", Lang::Zh),
            Value::Label { code: "x_new".into(), text: "x_new".into() }
        );
        assert_eq!(
            tags("elderly_alone,rental", Lang::Zh),
            Value::Label {
                code: "elderly_alone,rental".into(), text: "独居老人、出租房".into()
            }
        );
        assert!(
            matches!(category("fire_safety", Lang::Zh), Value::Label { text, .. } if text == "消防安全")
        );
    }
}
