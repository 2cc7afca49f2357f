"""A lake whose data files live on S3: a real S3 API (moto's server on loopback), credentials
from the AWS credential chain only, the endpoint recorded for analysts' read-only attaches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import psycopg2
import pytest
from moto.server import ThreadedMotoServer
from pg import LakeFixture
from test_lake import CONTRACT_TABLES, VIEWS, _rows_equal

from pipeline.settings import ConfigurationError, Settings
from pipeline.store import Database, connect
from pipeline.store.lake import close_lakes, copy_from_file

SECRET_KEY = "s3cr3t-only-in-the-environment"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An S3 endpoint on loopback with a bucket `lake`; AWS credentials in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "pipeline-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="lake")
    try:
        yield endpoint
    finally:
        close_lakes()
        server.stop()


@pytest.mark.slow
def test_a_lake_on_s3_is_written_and_read_like_a_folder_one(
    lake: LakeFixture, s3: str, demo_db_template: Path, tmp_path: Path
) -> None:
    db = Database(Path(lake.url), lake_data_path="s3://lake/history/", s3_endpoint=s3)
    with db.writer() as store:
        copy_from_file(store.con, demo_db_template, CONTRACT_TABLES)
    close_lakes()  # the analyst's process knows only the URL: the endpoint comes from the lake

    reader = connect(lake.url, read_only=True)
    file_con = connect(demo_db_template, read_only=True)
    try:
        differing = [
            view
            for view in VIEWS
            if not _rows_equal(
                reader.execute(f"select * from {view} order by all").fetchall(),
                file_con.execute(f"select * from {view} order by all").fetchall(),
            )
        ]
        assert differing == []
    finally:
        reader.close()
        file_con.close()

    objects = boto3.client("s3", endpoint_url=s3, region_name="us-east-1").list_objects_v2(
        Bucket="lake", Prefix="history/"
    )
    assert any(o["Key"].endswith(".parquet") for o in objects.get("Contents", []))
    assert not (tmp_path / "lake_data").exists()  # nothing went to a local folder
    # The catalog holds the endpoint, never a credential.
    with psycopg2.connect(lake.conninfo) as session, session.cursor() as cur:
        cur.execute("select endpoint from pipeline_object_store")
        assert cur.fetchall() == [(s3,)]
    session.close()


def test_an_s3_endpoint_setting_is_checked_and_never_carries_a_key() -> None:
    ok = Settings.from_env({"PIPELINE_S3_ENDPOINT": "https://minio.internal:9000"})
    assert ok.s3_endpoint == "https://minio.internal:9000"
    for bad, message in {
        "minio:9000": "must be http",
        "https://key:s3cr3t@minio:9000": "must not carry credentials",
        "https://minio:9000/bucket": "must be http",
    }.items():
        with pytest.raises(ConfigurationError, match=message) as caught:
            Settings.from_env({"PIPELINE_S3_ENDPOINT": bad})
        assert "s3cr3t" not in str(caught.value)
