/**
 * Who is calling the API, and what that lets them do with a job. Pure functions: the HTTP layer
 * turns a verified token into a `Caller`, services ask `canSeeJob` / `canManageJob`.
 */

export type Role = 'admin' | 'user';

const KNOWN_ROLES: readonly Role[] = ['admin', 'user'];

/** The authenticated principal of a request, from the token's `sub` and `roles` claims. */
export interface Caller {
  sub: string;
  roles: Role[];
  isAdmin: boolean;
}

/** The owner config-file jobs carry; users may read these but not change them. */
export const SYSTEM_OWNER = 'system';

/** The part of a job the permission checks look at. */
export interface JobOwnership {
  owner: string;
  source: 'config' | 'api';
}

/**
 * Reads the `roles` claim: an array of strings, or one string separated by spaces and/or commas
 * (`"admin user"`, `"admin,user"`). Unknown roles and non-string entries are ignored.
 */
export function parseRoles(claim: unknown): Role[] {
  const names = typeof claim === 'string' ? claim.split(/[\s,]+/) : Array.isArray(claim) ? claim : [];
  return KNOWN_ROLES.filter((role) => names.includes(role));
}

/** Builds the caller from a token subject and its raw `roles` claim. */
export function callerFromClaims(sub: string, rolesClaim: unknown): Caller {
  const roles = parseRoles(rolesClaim);
  return { sub, roles, isAdmin: roles.includes('admin') };
}

/**
 * The jobs a caller may change, pause, trigger or delete: every job (admins), the API jobs of one
 * owner (users: their own), or none. `canManageJob` applies it to a job in hand; a statement can
 * apply it as its condition instead (see RunsRepository.queueManual), so no read comes first.
 */
export type ManagedJobs = 'all' | 'none' | { apiJobsOf: string };

export function managedJobs(caller: Caller): ManagedJobs {
  if (caller.isAdmin) return 'all';
  return caller.roles.includes('user') ? { apiJobsOf: caller.sub } : 'none';
}

/** Whether the caller may change, pause, trigger or delete the job: admins always, users only their own API jobs. */
export function canManageJob(caller: Caller, job: JobOwnership): boolean {
  const managed = managedJobs(caller);
  if (managed === 'all' || managed === 'none') return managed === 'all';
  return job.source === 'api' && job.owner === managed.apiJobsOf;
}

/** Whether the caller may read the job and its runs: admins all, users their own and the system's. */
export function canSeeJob(caller: Caller, job: Pick<JobOwnership, 'owner'>): boolean {
  if (caller.isAdmin) return true;
  return caller.roles.includes('user') && (job.owner === caller.sub || job.owner === SYSTEM_OWNER);
}
