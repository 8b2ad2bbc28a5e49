import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createClient, type Client } from 'graphql-ws';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { readToken, saveToken } from './token.js';

const DEFAULT_QUERY = `# Paste your API token in the bar above, then run an operation.
# Live progress: start a run, then subscribe to runUpdated with its id.

query Runs {
  runs(first: 10) {
    totalCount
    edges { node { id status featureId repository phase { id title } outputs { pullRequestUrl } } }
  }
}
`;

const input = document.getElementById('token') as HTMLInputElement;
const state = document.getElementById('token-state')!;
const root = createRoot(document.getElementById('graphiql')!);
// Deep links such as the run page's "open in GraphiQL" put an operation (never a token) in the URL.
const linked = new URLSearchParams(location.search);
let wsClient: Client | null = null;

const NO_TOKEN = 'No API token yet: paste the token printed at start-up in the bar above and press "Use token".';

function render(token: string) {
  const url = new URL('/graphql', location.href).toString();
  const subscriptionUrl = url.replace(/^http/, 'ws');
  // The socket's connection_init carries the token: the server closes it without one.
  void wsClient?.dispose();
  wsClient = token ? createClient({ url: subscriptionUrl, connectionParams: { authorization: `Bearer ${token}` }, lazy: true }) : null;
  // Without a token nothing is sent: the server would only answer 401, so say what to do instead.
  const fetcher: Fetcher = token
    ? createGraphiQLFetcher({ url, wsClient: wsClient!, headers: { authorization: `Bearer ${token}` } })
    : async () => ({ data: null, errors: [{ message: NO_TOKEN }] }) as unknown as Awaited<ReturnType<Fetcher>>;
  state.textContent = token ? 'token set' : 'no token yet';
  root.render(
    createElement(GraphiQL, {
      fetcher,
      // No introspection until there is a token to send it with.
      ...(token ? {} : { schema: null }),
      defaultQuery: DEFAULT_QUERY,
      initialQuery: linked.get('query') ?? undefined,
      initialVariables: linked.get('variables') ?? undefined,
      key: token,
    }),
  );
}

input.value = readToken();
document.getElementById('bar')!.addEventListener('submit', (event) => {
  event.preventDefault();
  saveToken(input.value);
  render(readToken());
});
render(readToken());
