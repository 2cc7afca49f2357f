-- Checks that guard a poll slot record which slots they evaluated: [slot_from, slot_to).
-- NULL for the whole-book checks. Idempotent, like every migration.
alter table check_results add column if not exists slot_from timestamptz;
alter table check_results add column if not exists slot_to timestamptz;
