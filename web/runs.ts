import './runs.css';
import { NO_TOKEN, TOKEN_REFUSED } from './run-pages/api.js';
import { mountRunPage } from './run-pages/detail.js';
import { h } from './run-pages/dom.js';
import { liveText, type Frame, type Page } from './run-pages/frame.js';
import { mountRunsPage } from './run-pages/list.js';
import { readToken, saveToken } from './token.js';

// One page for /runs and /runs/<id>: the server sends this file for both and the path picks the view.
const main = document.getElementById('main')!;
const notice = document.getElementById('notice')!;
const liveLine = document.getElementById('live')!;
const tokenInput = document.getElementById('token') as HTMLInputElement;
const tokenState = document.getElementById('token-state')!;

const frame: Frame = {
  main,
  notice(message, kind = 'error') {
    notice.hidden = !message;
    notice.className = kind;
    notice.textContent = message ?? '';
    if (message === TOKEN_REFUSED) tokenState.textContent = 'token refused';
  },
  live(state, detail) {
    liveLine.textContent = liveText(state, detail);
    liveLine.dataset.state = state.kind;
    if (state.kind === 'stopped' && state.message === TOKEN_REFUSED) tokenState.textContent = 'token refused';
  },
};

let page: Page | null = null;

function mount(): void {
  page?.dispose();
  page = null;
  frame.notice(null);
  liveLine.textContent = '';
  const token = readToken();
  tokenState.textContent = token ? 'token set' : 'no token';
  if (!token) {
    frame.notice(NO_TOKEN);
    main.replaceChildren(h('h1', {}, 'Runs'), h('p', {}, 'The run pages read the API with your token; nothing is shown without one.'));
    tokenInput.focus();
    return;
  }
  const detail = /^\/runs\/([^/]+)\/?$/.exec(location.pathname);
  page = detail ? mountRunPage(frame, decodeURIComponent(detail[1]!)) : mountRunsPage(frame);
}

tokenInput.value = readToken();
document.getElementById('bar')!.addEventListener('submit', (event) => {
  event.preventDefault();
  saveToken(tokenInput.value);
  mount();
});
mount();
