-- Migration 5, PostgreSQL: departments (DESIGN §8, issue 10 item 4). The registry of departments a
-- work order can be dispatched to, who belongs to which, and which documents were ever
-- dispatched to which department (filled at ingest from the dispatch events, so a department
-- handler's pulls see only their departments' work orders). The defaults seed a new district;
-- a sync admin edits them (`/admin/v1/departments`).
CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    -- Incident category codes the department handles, comma-separated.
    categories TEXT NOT NULL,
    -- The area it serves (area key); NULL: the whole district.
    area_key TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE TABLE user_departments (
    user_id TEXT NOT NULL REFERENCES users(id),
    department TEXT NOT NULL REFERENCES departments(code),
    PRIMARY KEY (user_id, department)
);
CREATE TABLE doc_departments (
    doc_id BYTEA NOT NULL,
    department TEXT NOT NULL,
    PRIMARY KEY (department, doc_id)
);
CREATE INDEX doc_departments_doc ON doc_departments (doc_id);
INSERT INTO departments (code, name_zh, name_en, categories, area_key) VALUES
    ('police', '公安派出所', 'Police station', 'public_order,dispute', NULL),
    ('market_supervision', '市场监管所', 'Market supervision', 'food_drug_safety', NULL),
    ('housing', '住建局', 'Housing and construction', 'illegal_construction,safety_hazard', NULL),
    ('urban_management', '城管局', 'Urban management', 'city_appearance,illegal_construction', NULL),
    ('sanitation', '环卫所', 'Sanitation', 'sanitation', NULL),
    ('fire_rescue', '消防救援站', 'Fire and rescue', 'fire_safety', NULL),
    ('civil_affairs', '民政办', 'Civil affairs', 'livelihood_help', NULL),
    ('health', '卫生健康办', 'Health', 'epidemic_prevention', NULL),
    ('utilities', '公用事业所', 'Public utilities', 'public_facilities', NULL);
-- A log made before this migration may hold dispatches: the server fills `doc_departments` from
-- them at its next start (`departments::backfill`) and then removes this mark.
INSERT INTO log_meta (key, value)
    SELECT 'doc_departments_backfill', '\x01'::bytea WHERE EXISTS (SELECT 1 FROM changes WHERE kind = 6);
