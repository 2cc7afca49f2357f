-- Time travel kept for $keep_days days; older snapshots release the files only they reference.
call ducklake_expire_snapshots({catalog}, older_than => now() - to_days(cast($keep_days as integer)));
