-- Sessions of the dashboard (src/http/dashboard-session.ts), shared by every process and replica on this
-- database so that a browser signed in on one is signed in on all. Only the session id's SHA-256 is kept: the
-- table holds no usable cookie. Expired rows are deleted at the next sign-in.
CREATE TABLE dashboard_session (
  id_sha256 text PRIMARY KEY,
  client_id text NOT NULL,
  scopes text[] NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX dashboard_session_expires_at ON dashboard_session (expires_at);
