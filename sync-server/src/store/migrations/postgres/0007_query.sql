-- Schema 7 (PostgreSQL): the staff query API (issue 10, item 2; sync-server/src/query/). `rm_search` holds the
-- core tokeniser's tokens of household and resident names and addresses (Han unigrams and
-- bigrams, pinyin, words, digits): each row finds record `doc_id` of `kind` by `token`, from the
-- text of record `source_id` (a resident's name finds the resident and their household). A
-- search term is one range lookup on the primary key. The indexes serve the lists' filters by
-- area, in page (id) order.
CREATE TABLE rm_search (
    token TEXT COLLATE "C" NOT NULL, kind INTEGER NOT NULL, doc_id BYTEA NOT NULL, source_id BYTEA NOT NULL,
    PRIMARY KEY (kind, token, doc_id, source_id)
);
CREATE INDEX rm_search_source ON rm_search (source_id);
CREATE INDEX rm_households_area ON rm_households (area_key, doc_id);
CREATE INDEX rm_residents_area ON rm_residents (area_key, doc_id);
CREATE INDEX rm_residents_household ON rm_residents (household_id);
CREATE INDEX rm_visits_area ON rm_visits (area_key, visited_at);
CREATE INDEX rm_patrols_area ON rm_patrols (area_key, started_at);
CREATE INDEX rm_work_orders_area ON rm_work_orders (area_key, doc_id);
CREATE INDEX rm_tasks_area ON rm_tasks (area_key, doc_id);
CREATE INDEX rm_sensitive_resident ON rm_sensitive (resident_id);
