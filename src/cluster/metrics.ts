/**
 * Metrics of a cluster: each worker counts in its own registry; the primary sums them (metrics/cluster.ts) and serves
 * the sum on `metrics.port`. A worker's `/metrics` on the API listener asks the primary for the same sum, so a
 * scrape answers the whole gateway whichever process takes it.
 */
import cluster, { type Worker } from 'node:cluster';
import type { MetricsSource } from '../http/routes/metrics.ts';
import { answerPrimaryWith, workersSum } from '../metrics/cluster.ts';
import { GatewayMetrics } from '../metrics/metrics.ts';
import { type MetricsRequest, metricsAnswer } from './messages.ts';

/** A worker waits this long for the primary's sum (prom-client gives each worker 5 s to answer it). */
const ANSWER_TIMEOUT_MS = 8_000;

/** In the primary: the sum of every worker's registry. */
export function clusterMetrics(): MetricsSource & { answer(worker: Worker, request: MetricsRequest): void } {
  const sum = workersSum();
  const render = () => sum.render();
  return {
    render,
    get contentType() {
      return sum.contentType;
    },
    answer(worker, request) {
      const reply = (fields: { text: string } | { error: string }) => {
        if (worker.isConnected()) worker.send({ mra: 'metrics', id: request.id, ...fields }, () => {});
      };
      render().then(
        (text) => reply({ text }),
        (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
      );
    },
  };
}

/** In a worker: counts in its own registry, which the primary collects; renders the primary's sum. */
export class WorkerMetrics extends GatewayMetrics {
  private nextId = 1;
  private readonly waiting = new Map<number, (answer: { text?: string; error?: string }) => void>();

  constructor() {
    super();
    if (!cluster.isWorker) throw new Error('WorkerMetrics belongs in a cluster worker');
    answerPrimaryWith(this.registry);
    process.on('message', (message: unknown) => {
      const answer = metricsAnswer(message);
      if (answer !== undefined) this.waiting.get(answer.id)?.(answer);
    });
  }

  override render(): Promise<string> {
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => settle({ error: 'the primary did not answer in time' }),
        ANSWER_TIMEOUT_MS,
      );
      const settle = (answer: { text?: string; error?: string }) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (answer.text !== undefined) resolve(answer.text);
        else reject(new Error(`metrics of the cluster: ${answer.error ?? 'no answer'}`));
      };
      this.waiting.set(id, settle);
      process.send?.({ mra: 'metrics?', id }, undefined, undefined, (error: Error | null) => {
        if (error) settle({ error: error.message });
      });
    });
  }
}
