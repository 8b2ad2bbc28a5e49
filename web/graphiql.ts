import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createClient } from 'graphql-ws';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';

const TOKEN_KEY = 'spec-chain.token';
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

function render(token: string) {
  const url = new URL('/graphql', location.href).toString();
  const subscriptionUrl = url.replace(/^http/, 'ws');
  // The socket's connection_init carries the token: the server closes it without one.
  const wsClient = createClient({ url: subscriptionUrl, connectionParams: { authorization: `Bearer ${token}` }, lazy: true });
  const fetcher = createGraphiQLFetcher({ url, wsClient, headers: token ? { authorization: `Bearer ${token}` } : {} });
  state.textContent = token ? 'token set' : 'no token: requests will be refused (401)';
  root.render(createElement(GraphiQL, { fetcher, defaultQuery: DEFAULT_QUERY, key: token }));
}

input.value = localStorage.getItem(TOKEN_KEY) ?? '';
document.getElementById('bar')!.addEventListener('submit', (event) => {
  event.preventDefault();
  localStorage.setItem(TOKEN_KEY, input.value.trim());
  render(input.value.trim());
});
render(input.value.trim());
