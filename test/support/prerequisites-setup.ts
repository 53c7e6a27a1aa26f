// vitest globalSetup: a run without the system tools the tests need stops before any test, with one message naming
// each missing tool and the line that installs them (`npm test` checks the same list first, in its pretest script).
import { isOnPath, missingMessage, missingPrerequisites, PREREQUISITES } from '../../scripts/prerequisites.js';

export default function checkPrerequisites(): void {
  const missing = missingPrerequisites(
    PREREQUISITES.filter((item) => item.neededBy === 'test'),
    (tool) => isOnPath(tool, process.env.PATH),
  );
  if (missing.length > 0) throw new Error(missingMessage(missing));
}
