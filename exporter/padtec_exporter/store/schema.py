"""Database schema. Same tables, columns and queries with plain PostgreSQL or TimescaleDB.

measurements          (series_id, time, value)        raw samples, 30 days
series                (id, metric, nms, site, card_uid, measure, measure_key, measure_subkey,
                       port, labels)                   one row per Prometheus series
measurements_hourly   (series_id, bucket, min, max, avg, count)   1 year
measurements_daily    (series_id, bucket, min, max, avg, count)   3 years
cards                 (nms, card_uid, site, model, family, part, serial, data_provider,
                       firmware, first_seen, last_seen)
alarms                (fingerprint, starts_at, ends_at, status, alertname, severity, nms,
                       site, card_uid, summary, labels, annotations, acknowledged_by,
                       acknowledged_at, updated_at)    1 year
"""

from __future__ import annotations

from padtec_exporter.store.config import RetentionConfig

COMMON = """
CREATE TABLE IF NOT EXISTS series (
    id              bigserial PRIMARY KEY,
    fingerprint     bytea NOT NULL UNIQUE,
    metric          text NOT NULL,
    nms             text NOT NULL DEFAULT '',
    site            text NOT NULL DEFAULT '',
    card_uid        text NOT NULL DEFAULT '',
    measure         text NOT NULL DEFAULT '',
    measure_key     text NOT NULL DEFAULT '',
    measure_subkey  text NOT NULL DEFAULT '',
    port            text NOT NULL DEFAULT '',
    labels          jsonb NOT NULL,
    first_seen      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS series_card ON series (nms, card_uid);
CREATE INDEX IF NOT EXISTS series_site ON series (site, metric);

CREATE TABLE IF NOT EXISTS cards (
    nms            text NOT NULL,
    card_uid       text NOT NULL,
    site           text NOT NULL,
    model          text NOT NULL,
    family         text NOT NULL,
    part           text NOT NULL,
    serial         text NOT NULL,
    data_provider  text NOT NULL,
    firmware       text NOT NULL,
    first_seen     timestamptz NOT NULL,
    last_seen      timestamptz NOT NULL,
    PRIMARY KEY (nms, card_uid)
);

CREATE TABLE IF NOT EXISTS alarms (
    id               bigserial PRIMARY KEY,
    fingerprint      text NOT NULL,
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz,
    status           text NOT NULL CHECK (status IN ('ACTIVE', 'CLEARED', 'ACKNOWLEDGED')),
    alertname        text NOT NULL,
    severity         text NOT NULL DEFAULT '',
    nms              text NOT NULL DEFAULT '',
    site             text NOT NULL DEFAULT '',
    card_uid         text NOT NULL DEFAULT '',
    summary          text NOT NULL DEFAULT '',
    labels           jsonb NOT NULL,
    annotations      jsonb NOT NULL,
    acknowledged_by  text,
    acknowledged_at  timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (fingerprint, starts_at)
);
CREATE INDEX IF NOT EXISTS alarms_site_time ON alarms (site, starts_at);

"""

PLAIN = """
CREATE TABLE IF NOT EXISTS measurements (
    series_id  bigint NOT NULL,
    time       timestamptz NOT NULL,
    value      double precision NOT NULL,
    PRIMARY KEY (series_id, time)
) PARTITION BY RANGE (time);
CREATE TABLE IF NOT EXISTS measurements_default PARTITION OF measurements DEFAULT;
-- Samples arrive roughly in time order: a BRIN index finds an hour's rows for the aggregate
-- job at almost no cost to writes.
CREATE INDEX IF NOT EXISTS measurements_time ON measurements USING brin (time);

-- Buckets to (re)aggregate. Every statement that inserts samples notes the hours it touched,
-- in its own transaction (so a mark is visible exactly when its samples are); the job takes
-- the marks of complete hours, and adds ('day', d) marks for the daily rows.
CREATE TABLE IF NOT EXISTS aggregate_pending (
    resolution  text NOT NULL,
    bucket      timestamptz NOT NULL
);
CREATE OR REPLACE FUNCTION mark_aggregate_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO aggregate_pending (resolution, bucket)
    SELECT DISTINCT 'hour', date_trunc('hour', time, 'UTC') FROM new_rows;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS measurements_mark_pending ON measurements;
CREATE TRIGGER measurements_mark_pending AFTER INSERT ON measurements
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION mark_aggregate_pending();

CREATE TABLE IF NOT EXISTS measurements_hourly (
    series_id  bigint NOT NULL,
    bucket     timestamptz NOT NULL,
    min        double precision NOT NULL,
    max        double precision NOT NULL,
    avg        double precision NOT NULL,
    count      bigint NOT NULL,
    PRIMARY KEY (series_id, bucket)
);
CREATE TABLE IF NOT EXISTS measurements_daily (LIKE measurements_hourly INCLUDING ALL);
"""

# Validated by review, and parsed by PostgreSQL's grammar in tests/store (never executed):
# TimescaleDB cannot be installed on the machines that run our tests.
TIMESCALE = """
CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE IF NOT EXISTS measurements (
    series_id  bigint NOT NULL,
    time       timestamptz NOT NULL,
    value      double precision NOT NULL,
    PRIMARY KEY (series_id, time)
);
SELECT create_hypertable('measurements', 'time', chunk_time_interval => INTERVAL '1 day',
                         if_not_exists => TRUE);
-- Only once: TimescaleDB refuses to change compression settings once chunks are compressed.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
                   WHERE hypertable_name = 'measurements' AND compression_enabled) THEN
        ALTER TABLE measurements
            SET (timescaledb.compress, timescaledb.compress_segmentby = 'series_id');
    END IF;
END $$;
SELECT add_compression_policy('measurements', INTERVAL '2 days', if_not_exists => TRUE);
SELECT add_retention_policy('measurements', INTERVAL '{raw_days} days', if_not_exists => TRUE);

CREATE MATERIALIZED VIEW IF NOT EXISTS measurements_hourly
WITH (timescaledb.continuous) AS
SELECT series_id, time_bucket(INTERVAL '1 hour', time) AS bucket,
       min(value) AS min, max(value) AS max, avg(value) AS avg, count(*) AS count
FROM measurements GROUP BY series_id, bucket WITH NO DATA;
SELECT add_continuous_aggregate_policy('measurements_hourly', start_offset => INTERVAL '3 days',
       end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes',
       if_not_exists => TRUE);
SELECT add_retention_policy('measurements_hourly', INTERVAL '{hourly_days} days',
                            if_not_exists => TRUE);

CREATE MATERIALIZED VIEW IF NOT EXISTS measurements_daily
WITH (timescaledb.continuous) AS
SELECT series_id, time_bucket(INTERVAL '1 day', bucket) AS bucket,
       min(min) AS min, max(max) AS max,
       (sum(avg * count) / sum(count))::double precision AS avg, sum(count)::bigint AS count
FROM measurements_hourly GROUP BY series_id, time_bucket(INTERVAL '1 day', bucket)
WITH NO DATA;
SELECT add_continuous_aggregate_policy('measurements_daily', start_offset => INTERVAL '7 days',
       end_offset => INTERVAL '1 day', schedule_interval => INTERVAL '1 hour',
       if_not_exists => TRUE);
SELECT add_retention_policy('measurements_daily', INTERVAL '{daily_days} days',
                            if_not_exists => TRUE);
"""


def timescale(retention: RetentionConfig) -> str:
    return TIMESCALE.format(
        raw_days=int(retention.raw_days),
        hourly_days=int(retention.hourly_days),
        daily_days=int(retention.daily_days),
    )
