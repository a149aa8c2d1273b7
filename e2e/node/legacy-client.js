// Subscribes through subhub with the npm subscriptions-transport-ws client
// (legacy graphql-ws subprotocol, as Apollo's WebSocketLink and StrawberryShake
// use) and prints one JSON line per event.
// Usage: node legacy-client.js URL QUERY COUNT
// With SUBHUB_E2E_TOKEN set, connectionParams carry
// { Authorization: 'Bearer <token>' }; a connection_error is printed as
// {"connectionError": message}.
const { SubscriptionClient } = require('subscriptions-transport-ws');
const WebSocket = require('ws');

const [url, query, countArg] = process.argv.slice(2);
const want = Number(countArg);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const token = process.env.SUBHUB_E2E_TOKEN;
const client = new SubscriptionClient(
  url,
  {
    reconnect: false,
    lazy: false,
    connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
    connectionCallback: (err) => {
      if (err) {
        out({ connectionError: err.message || String(err) });
        client.close();
        process.exitCode = 1;
      }
    },
  },
  WebSocket,
);
client.onConnected(() => out({ connected: true }));
client.onError((e) => out({ socketError: String((e && e.message) || e) }));
let n = 0;
const sub = client.request({ query }).subscribe({
  next: (value) => {
    out({ next: value });
    if (++n === want) {
      sub.unsubscribe();
      out({ done: true });
      client.close();
    }
  },
  error: (err) => {
    out({ error: Array.isArray(err) ? err.map((e) => e.message) : String((err && err.message) || err) });
    client.close();
    process.exitCode = 1;
  },
  complete: () => {
    out({ complete: true });
    client.close();
  },
});
