/**
 * What a cluster's primary and its workers say to each other over the IPC channel node:cluster opens. Every
 * message carries `mra` so that prom-client's own messages on the same channel are told apart; whatever else
 * arrives is ignored.
 */

/** A worker's gateway is listening. */
export interface ReadyMessage {
  mra: 'ready';
}

/** A worker could not start: its exit code and the line the command line prints for the error. */
export interface StartFailedMessage {
  mra: 'start-failed';
  code: number;
  line: string;
}

/** A worker asks for the metrics of every process, for its /metrics route. */
export interface MetricsRequest {
  mra: 'metrics?';
  id: number;
}

/** The primary's answer: the aggregate in the Prometheus text format, or why there is none. */
export interface MetricsAnswer {
  mra: 'metrics';
  id: number;
  text?: string;
  error?: string;
}

export type WorkerMessage = ReadyMessage | StartFailedMessage | MetricsRequest;

function fields(message: unknown): Record<string, unknown> | undefined {
  return typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : undefined;
}

export function workerMessage(message: unknown): WorkerMessage | undefined {
  const m = fields(message);
  if (m?.mra === 'ready') return { mra: 'ready' };
  if (m?.mra === 'start-failed' && typeof m.code === 'number' && typeof m.line === 'string')
    return { mra: 'start-failed', code: m.code, line: m.line };
  if (m?.mra === 'metrics?' && typeof m.id === 'number') return { mra: 'metrics?', id: m.id };
  return undefined;
}

export function metricsAnswer(message: unknown): MetricsAnswer | undefined {
  const m = fields(message);
  if (m?.mra !== 'metrics' || typeof m.id !== 'number') return undefined;
  return {
    mra: 'metrics',
    id: m.id,
    ...(typeof m.text === 'string' ? { text: m.text } : {}),
    ...(typeof m.error === 'string' ? { error: m.error } : {}),
  };
}
