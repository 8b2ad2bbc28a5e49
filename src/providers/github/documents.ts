/**
 * Every GraphQL document the service sends to GitHub, in one place so a test can validate each one
 * against GitHub's published schema (@octokit/graphql-schema). Mutations are named `mutation …`:
 * the client spaces those out by at least a second, as GitHub asks.
 */

/** The repository, the branch we publish to and the open pull requests whose head is that branch. */
export const REPO_STATE = /* GraphQL */ `
  query RepoState($owner: String!, $name: String!, $qualifiedName: String!, $headRefName: String!) {
    repository(owner: $owner, name: $name) {
      id
      nameWithOwner
      viewerPermission
      defaultBranchRef {
        name
        target {
          oid
        }
      }
      ref(qualifiedName: $qualifiedName) {
        id
        name
        target {
          oid
        }
      }
      pullRequests(headRefName: $headRefName, states: [OPEN], first: 20) {
        nodes {
          id
          number
          url
          title
          body
          state
          isDraft
          baseRefName
          headRefName
          headRefOid
          headRepository {
            nameWithOwner
          }
        }
      }
    }
    rateLimit {
      cost
      remaining
      resetAt
    }
  }
`;

/** Whether the token is valid at all (a 401 says it is not) and whose it is. */
export const VIEWER = /* GraphQL */ `
  query Viewer {
    viewer {
      login
    }
    rateLimit {
      remaining
      resetAt
    }
  }
`;

/** Whether the token sees the repository (NOT_FOUND otherwise) and what it may do there. */
export const REPOSITORY_ACCESS = /* GraphQL */ `
  query RepositoryAccess($owner: String!, $name: String!) {
    repository(owner: $owner, name: $name) {
      nameWithOwner
      viewerPermission
    }
  }
`;

export const CREATE_PULL_REQUEST = /* GraphQL */ `
  mutation CreatePullRequest(
    $repositoryId: ID!
    $baseRefName: String!
    $headRefName: String!
    $title: String!
    $body: String
    $draft: Boolean
  ) {
    createPullRequest(
      input: {
        repositoryId: $repositoryId
        baseRefName: $baseRefName
        headRefName: $headRefName
        title: $title
        body: $body
        draft: $draft
      }
    ) {
      pullRequest {
        id
        number
        url
      }
    }
  }
`;

export const UPDATE_PULL_REQUEST = /* GraphQL */ `
  mutation UpdatePullRequest($pullRequestId: ID!, $title: String, $body: String, $baseRefName: String) {
    updatePullRequest(input: { pullRequestId: $pullRequestId, title: $title, body: $body, baseRefName: $baseRefName }) {
      pullRequest {
        id
        number
        url
      }
    }
  }
`;

export const CREATE_REF = /* GraphQL */ `
  mutation CreateRef($repositoryId: ID!, $name: String!, $oid: GitObjectID!) {
    createRef(input: { repositoryId: $repositoryId, name: $name, oid: $oid }) {
      ref {
        id
        name
        target {
          oid
        }
      }
    }
  }
`;

export const UPDATE_REF = /* GraphQL */ `
  mutation UpdateRef($refId: ID!, $oid: GitObjectID!, $force: Boolean) {
    updateRef(input: { refId: $refId, oid: $oid, force: $force }) {
      ref {
        id
        name
        target {
          oid
        }
      }
    }
  }
`;

/** What a cancelled run says on a pull request it opened, before closing it. */
export const ADD_COMMENT = /* GraphQL */ `
  mutation AddComment($subjectId: ID!, $body: String!) {
    addComment(input: { subjectId: $subjectId, body: $body }) {
      commentEdge {
        node {
          id
          url
        }
      }
    }
  }
`;

export const CLOSE_PULL_REQUEST = /* GraphQL */ `
  mutation ClosePullRequest($pullRequestId: ID!) {
    closePullRequest(input: { pullRequestId: $pullRequestId }) {
      pullRequest {
        id
        number
        url
        state
      }
    }
  }
`;

export const DELETE_REF = /* GraphQL */ `
  mutation DeleteRef($refId: ID!) {
    deleteRef(input: { refId: $refId }) {
      clientMutationId
    }
  }
`;

/** A commit's id, tree and whether GitHub signed it (shown Verified). */
const SIGNED_COMMIT = /* GraphQL */ `
  fragment SignedCommit on Commit {
    oid
    tree {
      oid
    }
    signature {
      isValid
      state
      wasSignedByGitHub
    }
  }
`;

/** A branch's head commit, its message (to find a commit of this run by its trailer) and whether GitHub verified it. */
export const BRANCH_HEAD = /* GraphQL */ `
  query BranchHead($owner: String!, $name: String!, $qualifiedName: String!) {
    repository(owner: $owner, name: $name) {
      id
      ref(qualifiedName: $qualifiedName) {
        id
        target {
          oid
          ... on Commit {
            message
            ...SignedCommit
          }
        }
      }
    }
  }
${SIGNED_COMMIT}`;

/**
 * A commit GitHub makes (and signs) from whole files on top of `expectedHeadOid`, which must be the
 * branch's head: a branch that moved is never overwritten (STALE_DATA).
 */
export const CREATE_COMMIT_ON_BRANCH = /* GraphQL */ `
  mutation CreateCommitOnBranch(
    $repositoryNameWithOwner: String!
    $branchName: String!
    $expectedHeadOid: GitObjectID!
    $headline: String!
    $body: String
    $additions: [FileAddition!]
    $deletions: [FileDeletion!]
  ) {
    createCommitOnBranch(
      input: {
        branch: { repositoryNameWithOwner: $repositoryNameWithOwner, branchName: $branchName }
        expectedHeadOid: $expectedHeadOid
        message: { headline: $headline, body: $body }
        fileChanges: { additions: $additions, deletions: $deletions }
      }
    ) {
      commit {
        url
        ...SignedCommit
      }
    }
  }
${SIGNED_COMMIT}`;

/**
 * The phase branches of a feature in one request: each branch (an alias per branch) with its head and
 * the open pull requests whose head it is. Built for the number of branches asked about.
 */
export function phaseBranchesDocument(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `, $b${i}: String!`).join('');
  const refs = Array.from(
    { length: count },
    (_, i) => `
      b${i}: ref(qualifiedName: $b${i}) {
        name
        target {
          oid
        }
        associatedPullRequests(first: 5, states: [OPEN]) {
          nodes {
            id
            number
            url
            baseRefName
            headRefName
            headRefOid
          }
        }
      }`,
  ).join('');
  return /* GraphQL */ `
  query PhaseBranches($owner: String!, $name: String!${variables}) {
    repository(owner: $owner, name: $name) {
      id${refs}
    }
  }
`;
}

/** All of the above, by operation name, for the schema test. */
export const DOCUMENTS = {
  RepoState: REPO_STATE,
  Viewer: VIEWER,
  RepositoryAccess: REPOSITORY_ACCESS,
  CreatePullRequest: CREATE_PULL_REQUEST,
  UpdatePullRequest: UPDATE_PULL_REQUEST,
  CreateRef: CREATE_REF,
  UpdateRef: UPDATE_REF,
  AddComment: ADD_COMMENT,
  ClosePullRequest: CLOSE_PULL_REQUEST,
  DeleteRef: DELETE_REF,
  BranchHead: BRANCH_HEAD,
  CreateCommitOnBranch: CREATE_COMMIT_ON_BRANCH,
  PhaseBranches: phaseBranchesDocument(2),
} as const;
