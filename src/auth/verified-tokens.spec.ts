import { callerFromClaims } from './caller.js';
import { VerifiedTokens } from './verified-tokens.js';

const alice = callerFromClaims('alice', ['user']);
const T = 1_800_000_000;

describe('VerifiedTokens', () => {
  it('gives back the caller of a remembered token, and nothing for a token it was not given', () => {
    const tokens = new VerifiedTokens(10, 30);
    tokens.remember('a.b.c', { exp: T + 60 }, alice);
    expect(tokens.get('a.b.c', T)).toBe(alice);
    expect(tokens.get('a.b.x', T)).toBeUndefined();
  });

  it('stops giving a token at the second jsonwebtoken would call it expired (exp plus the tolerance), and forgets it', () => {
    const tokens = new VerifiedTokens(10, 30);
    tokens.remember('t', { exp: T }, alice);
    expect(tokens.get('t', T + 29)).toBe(alice);
    expect(tokens.get('t', T + 30)).toBeUndefined();
    expect(tokens.size).toBe(0);
    expect(tokens.get('t', T)).toBeUndefined();
  });

  it('does not give a token whose nbf is beyond the tolerance from now (a clock set back)', () => {
    const tokens = new VerifiedTokens(10, 30);
    tokens.remember('t', { exp: T + 3600, nbf: T }, alice);
    expect(tokens.get('t', T - 30)).toBe(alice);
    expect(tokens.get('t', T - 31)).toBeUndefined();
  });

  it('holds at most its size, dropping the least recently used token first', () => {
    const tokens = new VerifiedTokens(3, 30);
    for (const token of ['t1', 't2', 't3']) tokens.remember(token, { exp: T + 60 }, alice);
    expect(tokens.get('t1', T)).toBe(alice);
    tokens.remember('t4', { exp: T + 60 }, alice);
    expect(tokens.size).toBe(3);
    expect(tokens.get('t2', T)).toBeUndefined();
    expect(['t1', 't3', 't4'].map((token) => tokens.get(token, T))).toEqual([alice, alice, alice]);
    for (let i = 0; i < 1000; i++) tokens.remember(`x${i}`, { exp: T + 60 }, alice);
    expect(tokens.size).toBe(3);
  });
});
