-- Schema 6: the parts sub-areas completed of tasks issued for wider areas (a grid's part of a
-- town-wide task), from the task documents' `progress.<area>.*` keys, so a grid's task list
-- shows its part done.
CREATE TABLE task_area_progress (
    task_id      BLOB NOT NULL,
    area         TEXT NOT NULL,
    completed_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, area)
) WITHOUT ROWID;
