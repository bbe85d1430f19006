import { ChardevdError } from '../base/error.js';

/** A `-chardev` value QEMU would refuse; the message is QEMU's text without the "-chardev TEXT: " location prefix. */
export class ChardevOptionError extends ChardevdError {
  override readonly name: string = 'ChardevOptionError';
  readonly code: string = 'CHARDEV_OPTION_INVALID';

  constructor(
    message: string,
    /** Warnings QEMU prints before the error, as in ParsedChardevOption.warnings. */
    readonly warnings: readonly string[] = [],
  ) {
    super(message);
  }
}

/**
 * `-chardev help` (the backend list) or `-chardev BACKEND,help` (the
 * option list). QEMU prints the text on standard output and exits, with
 * status 0 for the backend list and 1 for the option list.
 */
export class ChardevHelpRequest extends ChardevOptionError {
  override readonly name: string = 'ChardevHelpRequest';
  override readonly code: string = 'CHARDEV_HELP_REQUESTED';

  constructor(
    readonly topic: 'backends' | 'options',
    /** What to print: for 'backends' the kinds this parser knows; a caller that creates fewer prints chardevBackendHelp(itsKinds). */
    text: string,
    warnings: readonly string[],
  ) {
    super(text, warnings);
  }

  get exitStatus(): number {
    return this.topic === 'backends' ? 0 : 1;
  }
}
