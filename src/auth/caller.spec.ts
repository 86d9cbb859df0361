import { generateKeyPairSync } from 'node:crypto';
import type { JwtConfig } from '../config/config.types.js';
import { callerFromClaims, canManageJob, canSeeJob, managedJobs, parseRoles, type Caller } from './caller.js';
import { jwtStrategyOptions } from './jwt.strategy.js';

const admin: Caller = callerFromClaims('root', ['admin']);
const alice: Caller = callerFromClaims('alice', ['user']);
const nobody: Caller = callerFromClaims('nobody', []);

describe('parseRoles', () => {
  it('keeps the known roles of an array claim and drops the rest', () => {
    expect(parseRoles(['user', 'superuser', 42, 'admin'])).toEqual(['admin', 'user']);
  });

  it('splits a string claim on spaces and commas', () => {
    expect(parseRoles('user,admin')).toEqual(['admin', 'user']);
    expect(parseRoles(' user  admin ')).toEqual(['admin', 'user']);
    expect(parseRoles('user, guest')).toEqual(['user']);
  });

  it('finds no role in a missing or oddly typed claim, or in near-miss spellings', () => {
    expect(parseRoles(undefined)).toEqual([]);
    expect(parseRoles({ admin: true })).toEqual([]);
    expect(parseRoles('Admin administrator')).toEqual([]);
  });
});

describe('callerFromClaims', () => {
  it('marks a caller holding the admin role as admin', () => {
    expect(callerFromClaims('root', 'admin user')).toEqual({ sub: 'root', roles: ['admin', 'user'], isAdmin: true });
    expect(alice.isAdmin).toBe(false);
  });
});

describe('canManageJob', () => {
  it('lets an admin manage any job, config jobs included', () => {
    expect(canManageJob(admin, { owner: 'system', source: 'config' })).toBe(true);
    expect(canManageJob(admin, { owner: 'alice', source: 'api' })).toBe(true);
  });

  it('lets a user manage only the API jobs it owns', () => {
    expect(canManageJob(alice, { owner: 'alice', source: 'api' })).toBe(true);
    expect(canManageJob(alice, { owner: 'bob', source: 'api' })).toBe(false);
    expect(canManageJob(alice, { owner: 'system', source: 'config' })).toBe(false);
    expect(canManageJob(alice, { owner: 'alice', source: 'config' })).toBe(false);
  });

  it('lets a caller without a known role manage nothing', () => {
    expect(canManageJob(nobody, { owner: 'nobody', source: 'api' })).toBe(false);
  });
});

describe('managedJobs', () => {
  it('names every job for an admin, the API jobs of its own subject for a user, and none without a known role', () => {
    expect(managedJobs(admin)).toBe('all');
    expect(managedJobs(callerFromClaims('root', ['admin', 'user']))).toBe('all');
    expect(managedJobs(alice)).toEqual({ apiJobsOf: 'alice' });
    expect(managedJobs(nobody)).toBe('none');
  });
});

describe('canSeeJob', () => {
  it('lets an admin see every job', () => {
    expect(canSeeJob(admin, { owner: 'bob' })).toBe(true);
  });

  it('lets a user see its own jobs and the system jobs, not other users\' jobs', () => {
    expect(canSeeJob(alice, { owner: 'alice' })).toBe(true);
    expect(canSeeJob(alice, { owner: 'system' })).toBe(true);
    expect(canSeeJob(alice, { owner: 'bob' })).toBe(false);
  });

  it('lets a caller without a known role see nothing', () => {
    expect(canSeeJob(nobody, { owner: 'system' })).toBe(false);
  });
});

describe('jwtStrategyOptions', () => {
  const base: JwtConfig = { secret: null, publicKey: null, algorithms: [], issuer: null, audience: null };

  it('pins a secret to the configured HS algorithms only', () => {
    const options = jwtStrategyOptions({ ...base, secret: 's', algorithms: ['HS256', 'RS256', 'none'] });
    expect(options.algorithms).toEqual(['HS256']);
  });

  it('pins a public key to the configured asymmetric algorithms only', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const options = jwtStrategyOptions({ ...base, publicKey, algorithms: ['RS256', 'HS256', 'ES256'] });
    expect(options.algorithms).toEqual(['RS256', 'ES256']);
  });

  it('passes issuer and audience through when configured, and leaves them unchecked otherwise', () => {
    expect(jwtStrategyOptions({ ...base, secret: 's', algorithms: ['HS256'], issuer: 'i', audience: 'a' }))
      .toMatchObject({ issuer: 'i', audience: 'a', ignoreExpiration: false, jsonWebTokenOptions: { clockTolerance: 30 } });
    expect(jwtStrategyOptions({ ...base, secret: 's', algorithms: ['HS256'] })).toMatchObject({ issuer: undefined, audience: undefined });
  });

  it('refuses a config with no key, or with no algorithm the key can verify', () => {
    expect(() => jwtStrategyOptions({ ...base, algorithms: ['HS256'] })).toThrow(/neither a secret/);
    expect(() => jwtStrategyOptions({ ...base, publicKey: 'PEM', algorithms: ['HS256'] })).toThrow(/public key/);
  });
});
