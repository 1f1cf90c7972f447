// Runs graphql-http's GraphQL-over-HTTP server audit against a running carecore.
// Usage: node audit.mjs <url> <ID token>; prints one JSON array of {id, name, status, reason}.
// Every request carries the token: nothing in carecore's schema is public.
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } });
const results = await auditServer({ url, fetchFn });
console.log(
  JSON.stringify(results.map(({ id, name, status, reason }) => ({ id, name, status, reason: reason ?? null }))),
);
