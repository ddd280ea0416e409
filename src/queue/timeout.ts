import { GatewayError } from '../errors.ts';

/**
 * Bounds a Redis call. BullMQ waits for its connection to become ready before it sends anything, so with Redis
 * down `Queue.add` would otherwise wait forever however the connection is configured (docs/threats.md 53).
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new GatewayError('QUEUE_UNAVAILABLE', `${what}: Redis did not answer within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, expired]);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError('QUEUE_UNAVAILABLE', `${what}: ${messageOf(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
    // The losing promise may still reject later (a command answered after its deadline): nobody waits on it.
    work.catch(() => {});
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
