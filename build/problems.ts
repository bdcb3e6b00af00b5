/** Build errors are data: every problem found, with where it is, reported together. */

export interface BuildProblem {
  readonly file: string;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  readonly text: string;
}

export function formatProblem(problem: BuildProblem): string {
  const where = [problem.file, problem.line, problem.column].filter((part) => part !== undefined).join(':');
  return `${where}: ${problem.text}`;
}

export class BuildFailed extends Error {
  readonly code = 'BUILD_FAILED';
  readonly problems: readonly BuildProblem[];
  constructor(problems: readonly BuildProblem[]) {
    super(`build failed with ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
    this.problems = problems;
  }
}
