// Subscribes through subhub with the npm graphql-sse client (GraphQL over
// Server-Sent Events, distinct connections mode) and prints one JSON line per
// event. Usage: node sse-client.js URL QUERY COUNT
const { createClient } = require('graphql-sse');

const [url, query, countArg] = process.argv.slice(2);
const want = Number(countArg);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const client = createClient({ url, retryAttempts: 0, singleConnection: false });
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
      out({ error: String((err && err.message) || err) });
      client.dispose();
      process.exitCode = 1;
    },
    complete: () => {
      out({ complete: true });
      client.dispose();
    },
  },
);
