import { isExplorerError } from '../../src/errors'

/** The code of the ExplorerError `fn` throws, a description of anything else it throws, or undefined. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    return isExplorerError(e) ? e.code : `not an ExplorerError: ${String(e)}`
  }
  return undefined
}
