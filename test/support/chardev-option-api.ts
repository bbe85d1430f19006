/**
 * The `-chardev` parsers as the fuzz suite calls them: the one place that
 * names the modules they live in. (ChardevHelpRequest is a ChardevOptionError.)
 */
export { ChardevOptionError } from '../../src/chardev/option-error.js';
export { parseChardevOption } from '../../src/chardev/options.js';
export { checkChardevOption } from '../../src/chardev/check-option.js';
