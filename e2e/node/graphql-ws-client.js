// Subscribes through subhub with the npm graphql-ws client (graphql-transport-ws)
// and prints one JSON line per event: {"next":...}, {"error":...}, {"complete":true}.
// Usage: node graphql-ws-client.js URL QUERY COUNT [VARIABLES_JSON]
// With SUBHUB_E2E_TOKEN set, connectionParams carry
// { Authorization: 'Bearer <token>' }.
const { createClient } = require('graphql-ws');
const WebSocket = require('ws');

const [url, query, countArg, variablesArg] = process.argv.slice(2);
const want = Number(countArg);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const token = process.env.SUBHUB_E2E_TOKEN;
const client = createClient({
  url,
  connectionParams: token ? { Authorization: `Bearer ${token}` } : undefined,
  webSocketImpl: WebSocket,
  retryAttempts: 0,
  lazy: false,
  on: { connected: () => out({ connected: true }) },
});
let n = 0;
const unsubscribe = client.subscribe(
  { query, variables: variablesArg ? JSON.parse(variablesArg) : undefined },
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
      const msg = Array.isArray(err) ? err : (err && (err.message || err.reason || err.code)) || String(err);
      out(err && err.code ? { error: msg, code: err.code } : { error: msg });
      client.dispose();
      process.exitCode = 1;
    },
    complete: () => {
      out({ complete: true });
      client.dispose();
    },
  },
);
