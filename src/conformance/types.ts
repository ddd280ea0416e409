/** What the conformance kit reports: one result per check, grouped by section of the protocol. */
import type { Signer } from '../config/types.ts';
import type { Partner } from '../mra/types.ts';
import type { AeoStatusRecord } from '../protocol/record.ts';
import type { Wire } from './wire.ts';

export type CheckStatus = 'PASS' | 'FAIL' | 'SKIP';

export interface CheckResult {
  section: string;
  /** `section.name`, stable across releases: what `--only` and scripts select on. */
  id: string;
  status: CheckStatus;
  /** What the kit sent, what the protocol expects back, what came back; for people. */
  sent: string;
  expected: string;
  got: string;
}

/** The kit acting as the partner `home` of the target gateway. */
export interface Kit {
  home: string;
  signer: Signer;
  /** The target as the kit's configuration knows it: adminId, anchors, MRA; `endpoint` is the URL checked. */
  target: Partner;
  wire: Wire;
  /** Upper-case hexadecimal, new for every run: it makes this run's operators and summaries its own. */
  runId: string;
  /** Prefix of every operator id the kit sends (`CONFTEST-<runId>-`). */
  namespace: string;
  /** The newest record of each kit operator the target accepted: withdrawn again at the end of the run. */
  held: Map<string, AeoStatusRecord>;
}

export interface Section {
  name: string;
  /** One line on what the section covers, for `--help` and the documentation. */
  about: string;
  run(kit: Kit): Promise<CheckResult[]>;
}

/** Collects the results of one section, each check named once. */
export class Results {
  readonly list: CheckResult[] = [];
  private readonly section: string;
  constructor(section: string) {
    this.section = section;
  }

  add(name: string, status: CheckStatus, sent: string, expected: string, got: string): void {
    this.list.push({ section: this.section, id: `${this.section}.${name}`, status, sent, expected, got });
  }

  /** PASS when `problem` is undefined, FAIL with it as what came back otherwise. */
  judge(
    name: string,
    sent: string,
    expected: string,
    problem: string | undefined,
    got = 'as expected',
  ): void {
    this.add(name, problem === undefined ? 'PASS' : 'FAIL', sent, expected, problem ?? got);
  }
}
