-- Many small Parquet files (one or more per short write session) merged into fewer.
call ducklake_merge_adjacent_files({catalog});
