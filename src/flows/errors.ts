/** The flow part's named errors (STYLE.md §6): a library that cannot load, a flow that breaks mid-turn. */

/** One problem found in the script library, with where it is (file:line path). */
export interface LibraryProblem {
  where: string;
  message: string;
}

/** The library was refused; every problem found is listed, each with its place. */
export class LibraryError extends Error {
  constructor(readonly problems: LibraryProblem[]) {
    super(`script library refused:\n${problems.map((p) => `  ${p.where}: ${p.message}`).join('\n')}`);
    this.name = 'LibraryError';
  }
}

/** A flow could not go on (unknown step, action result of the wrong shape). */
export class FlowError extends Error {
  constructor(readonly flowId: string, readonly stepId: string, message: string) {
    super(`flow ${flowId}, step ${stepId}: ${message}`);
    this.name = 'FlowError';
  }
}
