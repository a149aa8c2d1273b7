'use strict';
// Differential oracle for hub/graphql: reads one JSON case per line on stdin
//   {"id", "sdl", "query", "operationName", "variables", "event"}
// and writes one JSON result per line on stdout
//   {"id", "errors": [{"message", "locations", "path"}], "data": <data> | absent, "request": bool}
// The subscription's root field resolves to "event" (graphql-js execute runs a
// subscription operation's selection set on the Subscription type); abstract
// types resolve through graphql-js's default type resolver (__typename).
// "request" is true when validation, variable coercion or the root field's
// arguments failed (no data), as graphql-js's subscribe reports them.
const readline = require('readline');
const { buildSchema, parse, validate, execute, createSourceEventStream } = require('graphql');

// The source stream of every root field: createSourceEventStream only
// checks that it is one.
const emptyStream = { [Symbol.asyncIterator]() { return this; }, next: () => Promise.resolve({ done: true }) };

const directives = {
  topic: 'directive @topic(subject: String!) on FIELD_DEFINITION\n',
  subhubSubject: 'directive @subhubSubject(arg: String!) on FIELD_DEFINITION\n',
};

const schemas = new Map();
function schemaFor(sdl) {
  let s = schemas.get(sdl);
  if (!s) {
    let full = sdl;
    for (const [name, decl] of Object.entries(directives)) {
      if (!new RegExp('directive\\s+@' + name + '\\b').test(sdl)) full += '\n' + decl;
    }
    s = buildSchema(full);
    schemas.set(sdl, s);
  }
  return s;
}

function formatErrors(errors) {
  return (errors || []).map((e) => ({ message: e.message, locations: e.locations, path: e.path }));
}

async function run(c) {
  const schema = schemaFor(c.sdl);
  let document;
  try {
    document = parse(c.query);
  } catch (e) {
    return { request: true, errors: formatErrors([e]) };
  }
  const verrs = validate(schema, document);
  if (verrs.length > 0) return { request: true, errors: formatErrors(verrs) };
  const variableValues = c.variables === undefined ? undefined : c.variables;
  const operationName = c.operationName || undefined;
  // subscribe() first creates the event stream, coercing the variables and
  // the root field's arguments: its errors are request errors.
  const stream = await createSourceEventStream({
    schema,
    document,
    rootValue: new Proxy({}, { get: () => emptyStream }),
    variableValues,
    operationName,
  });
  if (!(Symbol.asyncIterator in stream)) return { request: true, errors: formatErrors(stream.errors) };
  const event = c.event;
  const rootValue = new Proxy({}, { get: () => event });
  const result = execute({
    schema,
    document,
    rootValue,
    variableValues,
    operationName,
  });
  if (typeof result.then === 'function') throw new Error('unexpected async result');
  const out = { request: !('data' in result), errors: formatErrors(result.errors) };
  if ('data' in result) out.data = result.data;
  return out;
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  const c = JSON.parse(line);
  run(c)
    .catch((e) => ({ request: true, errors: [{ message: 'oracle: ' + e.message }] }))
    .then((out) => {
      out.id = c.id;
      process.stdout.write(JSON.stringify(out) + '\n');
    });
});
