import { Initial1764000000000 } from './1764000000000-initial.js';
import { Vocabulary1764100000000 } from './1764100000000-vocabulary.js';
import { Capacity1764200000000 } from './1764200000000-capacity.js';
import { Review1764300000000 } from './1764300000000-review.js';
import { ArtifactContents1764400000000 } from './1764400000000-artifact-contents.js';
import { SpecTooComplex1764410000000 } from './1764410000000-spec-too-complex.js';
import { GitHubApp1764420000000 } from './1764420000000-github-app.js';

/** Every migration, in order. Listed explicitly so compiled and test runs load the same set. */
export const MIGRATIONS = [
  Initial1764000000000,
  Vocabulary1764100000000,
  Capacity1764200000000,
  Review1764300000000,
  ArtifactContents1764400000000,
  SpecTooComplex1764410000000,
  GitHubApp1764420000000,
];
