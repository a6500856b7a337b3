/**
 * The one glob of ssh_config `Host` patterns, known_hosts names and `Include` file names: `*`
 * (any run) and `?` (one character); everything else is literal.
 */
export function globToRegExp(pattern: string, ignoreCase = true): RegExp {
  const body = pattern.replace(/[.+^${}()|\\[\]]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, ignoreCase ? 'i' : '');
}

/** Does `pattern` hold a wildcard? */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}
