// Cost of one HS256 verification, as passport-jwt does it, with the secret as a string (what the daemon
// passes today) and as a KeyObject. jsonwebtoken 9 first tries createPublicKey() on a string secret and
// catches the error, on every request.   node bench/probes/jwt-verify.mjs
import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';

const secret = 'cronwarden-bench-secret-0123456789-abcdefghijklmnop';
const token = jwt.sign({ sub: 'bench', roles: ['admin'] }, secret, { algorithm: 'HS256', expiresIn: '1h' });
const keyObject = createSecretKey(Buffer.from(secret, 'utf8'));
const rounds = 5000;

for (const [label, key] of [['string secret', secret], ['KeyObject', keyObject]]) {
  for (let i = 0; i < 500; i++) jwt.verify(token, key, { algorithms: ['HS256'] });
  const started = performance.now();
  for (let i = 0; i < rounds; i++) jwt.verify(token, key, { algorithms: ['HS256'] });
  console.log(`${label.padEnd(14)} ${(((performance.now() - started) / rounds) * 1000).toFixed(1)} µs per verify`);
}
