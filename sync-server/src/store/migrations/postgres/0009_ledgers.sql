-- Migration 9, PostgreSQL: ledgers and assessment (issue 12; sync-server/src/ledger/,
-- docs/assessment.md). `ledger_tag_interval` is the core's `tag_interval` reference data (how
-- often a household of a tag or key-population category must be visited, in days; the phone's
-- `core/src/store/schema/001_init.sql`), so the server judges a household due exactly as a phone
-- does. The indexes serve the ledgers' and the assessment's filters; those marked "covering"
-- hold every column the assessment's statements read, so a district's month is answered from
-- the indexes without visiting the rows (docs/BENCHMARKS.md, "Ledger exports and assessment").
CREATE TABLE ledger_tag_interval (
    tag TEXT PRIMARY KEY,
    days INTEGER NOT NULL CHECK (days BETWEEN 1 AND 365)
);
INSERT INTO ledger_tag_interval (tag, days) VALUES
    ('elderly_alone', 7), ('difficulty', 30), ('relief', 30), ('disability', 30),
    ('community_correction', 30), ('released_prisoner', 30), ('drug_rehab', 30),
    ('mental_disorder', 30), ('rental', 90), ('group_rental', 30), ('ordinary', 365);
CREATE INDEX rm_work_orders_reported ON rm_work_orders (area_key, reported_at);
CREATE INDEX rm_sensitive_household ON rm_sensitive (household_id);
CREATE INDEX rm_sensitive_area ON rm_sensitive (area_key, doc_id);
-- Covering: a household's last met visit before a period, and whether it was met in one.
CREATE INDEX rm_visits_met ON rm_visits (household_id, outcome, deleted, visited_at);
-- Covering: the visits of an area in a period, grouped by area and visitor.
CREATE INDEX rm_visits_assess ON rm_visits
    (area_key, visited_at, visitor, outcome, satisfaction, knows_worker, deleted);
-- Covering: the live households of an area with their tags.
CREATE INDEX rm_households_assess ON rm_households (area_key, deleted, tags, doc_id);
-- Covering: a record's creation time without reading its JSON.
CREATE INDEX rm_records_created ON rm_records (doc_id, created_at);
