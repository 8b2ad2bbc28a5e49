import { FailureCode } from '../../interfaces.js';
import { permanent } from '../errors.js';

/** GitHub's rules for an owner and a repository name; also keeps `..` and `/` out of cache paths. */
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;

export interface RepositoryName {
  owner: string;
  name: string;
}

/** Splits `owner/name`; anything else is a PERMANENT REPOSITORY_UNAVAILABLE. */
export function parseRepository(repository: string): RepositoryName {
  const [owner, name, ...rest] = repository.split('/');
  const plain = name?.replace(/\.git$/, '');
  if (rest.length || !owner || !plain || !OWNER.test(owner) || !NAME.test(plain) || plain === '.' || plain === '..') {
    throw permanent(FailureCode.REPOSITORY_UNAVAILABLE, `"${repository}" is not a GitHub repository name (owner/name).`);
  }
  return { owner, name: plain };
}

/** `https://github.com/owner/name.git`, or `file:///root/owner/name.git` for a local git root. */
export function remoteUrl(gitBaseUrl: string, repository: string): string {
  const { owner, name } = parseRepository(repository);
  return `${gitBaseUrl.replace(/\/+$/, '')}/${owner}/${name}.git`;
}
