import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** Who this daemon process is among the nodes sharing a database. */
export class NodeIdentity {
  readonly id = randomUUID();
  readonly hostname = hostname();
  readonly pid = process.pid;
  constructor(readonly version: string) {}
}

/** The environment the daemon was started with; children get only a filtered part of it. */
export class DaemonEnvironment {
  constructor(readonly variables: Readonly<Record<string, string | undefined>>) {}
}
