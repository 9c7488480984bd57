-- Schema 5: how many photos each record references, so the download scan reads only the
-- documents that can hold some, of any kind that carries photos (visits, patrol observations,
-- work orders: the scan once missed work orders' photos). Written with the projection.
ALTER TABLE doc ADD COLUMN photos INTEGER NOT NULL DEFAULT 0;
-- Stores written before schema 5: every document that may reference a photo is scanned once.
UPDATE doc SET photos = 1
 WHERE id IN (SELECT id FROM visit WHERE photo_count > 0)
    OR id IN (SELECT id FROM patrol WHERE observations > 0)
    OR kind = 6;
