/** What a lookup asks and answers (answer.ts writes the answers; answer-schema.ts is their JSON Schema). */
import type { NotRecognisedReason } from '../mra/recognition.ts';
import type { AeoStatus, Role } from '../protocol/record.ts';

// The reasons are the recognition rule's (src/mra/recognition.ts); the schema and the writer read them here.
export { NOT_RECOGNISED_REASONS, type NotRecognisedReason } from '../mra/recognition.ts';

/** The forms of a manifest's answer: full (each item whole, the default) or compact (answer-compact.ts). */
export const ANSWER_FORMS = ['full', 'compact'] as const;
export type AnswerForm = (typeof ANSWER_FORMS)[number];

export type OperatorQuery =
  | { issuer: string; aeoId: string }
  | { scheme: string; value: string; country?: string | undefined };

export interface LookupAnswer {
  query: OperatorQuery;
  asOf: string;
  recognised: boolean;
  reason?: NotRecognisedReason;
  operator?: {
    issuer: string;
    aeoId: string;
    version: number;
    status: AeoStatus;
    statusSince: string;
    programme: string;
    roles: Role[];
  };
  /** An identifier that names several operators: each of them, and the answer is not recognised. */
  matches?: {
    issuer: string;
    aeoId: string;
    version: number;
    status: AeoStatus;
    statusSince: string;
    recognised: boolean;
    reason?: NotRecognisedReason;
  }[];
  mra?: { id: string; partner: string; status: string; inForce: boolean };
  benefits: { id: string; description: string; roles: Role[] }[];
  evidence?: { recordId: string; digest: string; receivedAt: string };
  freshness: { partnerLastReceivedAt: string | null; readModelLastChangeAt: string | null };
}

export interface Answerer {
  /** One answer, as the bytes of the JSON text the API sends. */
  answerJson(query: OperatorQuery, at: Date): Buffer;
  /**
   * A manifest: `{ asOf, answers }` with one answer per item, in order, all as of the same instant; in the
   * compact form the parts items share are given once, in tables (answer-compact.ts).
   */
  batchJson(queries: readonly OperatorQuery[], at: Date, form?: AnswerForm): Buffer;
  /** One answer as an object: answerJson parsed. */
  answer(query: OperatorQuery, at: Date): LookupAnswer;
}
