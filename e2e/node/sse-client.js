// Subscribes through subhub with the npm graphql-sse client (GraphQL over
// Server-Sent Events, distinct connections mode) and prints one JSON line per
// event. Usage: node sse-client.js URL QUERY COUNT
// With SUBHUB_E2E_TOKEN set, requests carry Authorization: Bearer <token>.
const { createClient } = require('graphql-sse');

const [url, query, countArg] = process.argv.slice(2);
const want = Number(countArg);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const token = process.env.SUBHUB_E2E_TOKEN;
const client = createClient({
  url,
  retryAttempts: 0,
  singleConnection: false,
  headers: token ? { Authorization: `Bearer ${token}` } : {},
});
let n = 0;
out({ started: true });
const unsubscribe = client.subscribe(
  { query },
  {
    next: (value) => {
      out({ next: value });
      if (++n === want) {
        unsubscribe();
        out({ done: true });
        client.dispose();
      }
    },
    error: (err) => {
      const status = err && err.response && err.response.status;
      out(status ? { error: String((err && err.message) || err), status } : { error: String((err && err.message) || err) });
      client.dispose();
      process.exitCode = 1;
    },
    complete: () => {
      out({ complete: true });
      client.dispose();
    },
  },
);
