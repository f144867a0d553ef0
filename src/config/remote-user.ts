/** ssh's ssh_valid_ruser(): no quote, `;&<>|(){}`, no leading `-` (also after a blank), no trailing `\`. */
export function validRemoteUser(user: string): boolean {
  if (user.startsWith('-')) return false;
  for (let i = 0; i < user.length; i++) {
    const c = user[i]!;
    if ('\'`";&<>|(){}'.includes(c)) return false;
    if (/\s/.test(c) && user[i + 1] === '-') return false;
    if (c === '\\' && i === user.length - 1) return false;
  }
  return true;
}
