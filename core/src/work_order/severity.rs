//! Severity tiers of an incident (红/黄/蓝) and the deadlines they imply, as reference data.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// How severe an incident is; decides the work order's deadline through a [`DeadlinePolicy`].
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 紧急 (red): e.g. an immediate safety or fire hazard.
    Urgent,
    /// 重要 (yellow): needs handling within the day.
    Important,
    /// 一般 (blue): routine matters.
    Ordinary,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 3] = [Severity::Urgent, Severity::Important, Severity::Ordinary];

    /// The stable lowercase name (`urgent`, `important`, `ordinary`) used in documents and on the
    /// wire: never change it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Urgent => "urgent",
            Severity::Important => "important",
            Severity::Ordinary => "ordinary",
        }
    }

    /// The severity with this stable name.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `severity` when the name is unknown.
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| CoreError::invalid("severity", format!("unknown severity `{name}`")))
    }

    /// The colour that marks this tier in the UI and in reports: `red`, `yellow` or `blue`.
    pub fn colour(self) -> &'static str {
        match self {
            Severity::Urgent => "red",
            Severity::Important => "yellow",
            Severity::Ordinary => "blue",
        }
    }

    /// The Chinese colour name: 红, 黄 or 蓝.
    pub fn colour_zh(self) -> &'static str {
        match self {
            Severity::Urgent => "红",
            Severity::Important => "黄",
            Severity::Ordinary => "蓝",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long a work order of each severity may take, counted on the server's clock from when it
/// was first accepted or dispatched (a department's own time from when it signed for the order),
/// and when an overdue order is supervised and escalated. Reference data: the district
/// configures it in its reference record (`crate::reference`); [`Default`] gives the usual
/// 2 h / 24 h / 72 h and escalation to the district 24 h after the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlinePolicy {
    /// Hours allowed for an [`Severity::Urgent`] order.
    pub urgent_hours: u32,
    /// Hours allowed for an [`Severity::Important`] order.
    pub important_hours: u32,
    /// Hours allowed for an [`Severity::Ordinary`] order.
    pub ordinary_hours: u32,
    /// Hours past its deadline after which an overdue order, already supervised (督办), is
    /// escalated to the district command centre (the second automatic step).
    #[serde(default = "default_escalate_after_hours")]
    pub escalate_after_hours: u32,
}

/// Longest time a policy may allow for anything: a year, in hours.
pub const MAX_POLICY_HOURS: u32 = 24 * 366;

fn default_escalate_after_hours() -> u32 {
    DeadlinePolicy::default().escalate_after_hours
}

impl Default for DeadlinePolicy {
    /// Urgent 2 h, important 24 h, ordinary 72 h (DOMAIN.md, "Work orders").
    fn default() -> Self {
        DeadlinePolicy {
            urgent_hours: 2,
            important_hours: 24,
            ordinary_hours: 72,
            escalate_after_hours: 24,
        }
    }
}

impl DeadlinePolicy {
    /// The hours allowed for `severity`.
    pub fn hours(&self, severity: Severity) -> u32 {
        match severity {
            Severity::Urgent => self.urgent_hours,
            Severity::Important => self.important_hours,
            Severity::Ordinary => self.ordinary_hours,
        }
    }

    /// The time allowed for `severity`, as a duration.
    pub fn duration(&self, severity: Severity) -> TimeDelta {
        TimeDelta::hours(i64::from(self.hours(severity)))
    }

    /// How long past its deadline an overdue order waits before it is escalated to the
    /// district.
    pub fn escalate_after(&self) -> TimeDelta {
        TimeDelta::hours(i64::from(self.escalate_after_hours))
    }

    /// Checks every duration is positive and at most [`MAX_POLICY_HOURS`].
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `deadline_policy` and the bad entry.
    pub fn validate(&self) -> Result<(), CoreError> {
        for (name, hours) in [
            ("urgent_hours", self.urgent_hours),
            ("important_hours", self.important_hours),
            ("ordinary_hours", self.ordinary_hours),
            ("escalate_after_hours", self.escalate_after_hours),
        ] {
            if hours == 0 || hours > MAX_POLICY_HOURS {
                return Err(CoreError::invalid(
                    "deadline_policy",
                    format!("{name} must be 1–{MAX_POLICY_HOURS} hours, not {hours}"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()).unwrap(), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        assert_eq!(Severity::parse("red").unwrap_err().code(), "invalid_input");
    }

    #[test]
    fn colours() {
        assert_eq!(Severity::Urgent.colour_zh(), "红");
        assert_eq!(Severity::Important.colour(), "yellow");
        assert_eq!(Severity::Ordinary.colour_zh(), "蓝");
    }

    #[test]
    fn default_policy_is_2_24_72_hours() {
        let p = DeadlinePolicy::default();
        assert_eq!(p.duration(Severity::Urgent), TimeDelta::hours(2));
        assert_eq!(p.duration(Severity::Important), TimeDelta::hours(24));
        assert_eq!(p.duration(Severity::Ordinary), TimeDelta::hours(72));
    }

    #[test]
    fn policy_validation() {
        assert!(DeadlinePolicy::default().validate().is_ok());
        let zero = DeadlinePolicy { important_hours: 0, ..DeadlinePolicy::default() };
        let e = zero.validate().unwrap_err();
        assert!(e.to_string().contains("important_hours"), "{e}");
        let long = DeadlinePolicy { escalate_after_hours: MAX_POLICY_HOURS + 1, ..zero };
        assert!(long.validate().is_err());
        // Older JSON without the escalation threshold reads with the default one.
        let old: DeadlinePolicy =
            serde_json::from_str(r#"{"urgent_hours":1,"important_hours":2,"ordinary_hours":3}"#)
                .unwrap();
        assert_eq!(old.escalate_after_hours, 24);
        assert!(serde_json::from_str::<DeadlinePolicy>(r#"{"urgent_hours":-1}"#).is_err());
    }

    #[test]
    fn policy_is_configurable() {
        let p = DeadlinePolicy { urgent_hours: 1, ..DeadlinePolicy::default() };
        assert_eq!(p.hours(Severity::Urgent), 1);
        assert_eq!(p.hours(Severity::Ordinary), 72);
    }
}
