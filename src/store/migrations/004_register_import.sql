-- Bulk imports of the national register (POST /api/v1/register/imports). One row per import, written after
-- every chunk, so that another request can follow a large import while it runs. `errors` keeps the first
-- rejected lines only ({ line, code, detail }); the counts cover all of them. A re-run of the same import id
-- starts the counts again (`runs` says how often it ran); its lines replay rather than publish twice.
CREATE TABLE register_import (
  import_id uuid PRIMARY KEY,
  format text NOT NULL CHECK (format IN ('ndjson', 'csv')),
  state text NOT NULL CHECK (state IN ('running', 'finished', 'failed')),
  runs integer NOT NULL DEFAULT 1,
  started_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  finished_at timestamptz,
  lines_read bigint NOT NULL DEFAULT 0,
  applied bigint NOT NULL DEFAULT 0,
  replayed bigint NOT NULL DEFAULT 0,
  published bigint NOT NULL DEFAULT 0,
  rejected bigint NOT NULL DEFAULT 0,
  errors jsonb NOT NULL DEFAULT '[]',
  failure text
);
CREATE INDEX register_import_recent ON register_import (started_at DESC);

-- Every published record looks up which partners held earlier versions of its operator (outbox joined to
-- home_record by record_seq); without this index that is a scan of the whole outbox per record, which a bulk
-- import of the register turns into quadratic time.
CREATE INDEX outbox_by_record ON outbox (record_seq);
