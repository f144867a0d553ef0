import type { SftpStatvfs } from '../transfer/sftp-extensions.js';
import { fmtScaled } from './sftp-ls.js';

/** sftp 9.2's `help` text, byte for byte. */
export const SFTP_HELP = `Available commands:
bye                                Quit sftp
cd path                            Change remote directory to 'path'
chgrp [-h] grp path                Change group of file 'path' to 'grp'
chmod [-h] mode path               Change permissions of file 'path' to 'mode'
chown [-h] own path                Change owner of file 'path' to 'own'
copy oldpath newpath               Copy remote file
cp oldpath newpath                 Copy remote file
df [-hi] [path]                    Display statistics for current directory or
                                   filesystem containing 'path'
exit                               Quit sftp
get [-afpR] remote [local]         Download file
help                               Display this help text
lcd path                           Change local directory to 'path'
lls [ls-options [path]]            Display local directory listing
lmkdir path                        Create local directory
ln [-s] oldpath newpath            Link remote file (-s for symlink)
lpwd                               Print local working directory
ls [-1afhlnrSt] [path]             Display remote directory listing
lumask umask                       Set local umask to 'umask'
mkdir path                         Create remote directory
progress                           Toggle display of progress meter
put [-afpR] local [remote]         Upload file
pwd                                Display remote working directory
quit                               Quit sftp
reget [-fpR] remote [local]        Resume download file
rename oldpath newpath             Rename remote file
reput [-fpR] local [remote]        Resume upload file
rm path                            Delete remote file
rmdir path                         Remove remote directory
symlink oldpath newpath            Symlink remote file
version                            Show SFTP version
!command                           Execute 'command' in local shell
!                                  Escape to local shell
?                                  Synonym for help
`;

/** do_df's table: KiB, human-readable (-h) or inodes (-i). */
export function printDf(st: SftpStatvfs, flags: Set<string>, out: (text: string) => void): void {
  const n = (v: bigint) => Number(v);
  const pct = (total: bigint, free: bigint) =>
    total === 0n ? 'ERR' : `${String((100n * (total - free)) / total).padStart(3)}%`;
  if (flags.has('i')) {
    out('     Inodes        Used       Avail      (root)    %Capacity\n');
    const cols = [st.files, st.files - st.ffree, st.favail, st.ffree].map((v) => String(v).padStart(11));
    out(`${cols.join(' ')}         ${pct(st.files, st.ffree)}\n`);
  } else if (flags.has('h')) {
    out('    Size     Used    Avail   (root)    %Capacity\n');
    const cols = [
      st.blocks * st.frsize,
      (st.blocks - st.bfree) * st.frsize,
      st.bavail * st.frsize,
      st.bfree * st.frsize,
    ];
    out(
      `${cols.map((v) => `${fmtScaled(n(v)).padStart(7)}B`).join(' ')}         ${pct(st.blocks, st.bfree)}\n`,
    );
  } else {
    out('        Size         Used        Avail       (root)    %Capacity\n');
    const cols = [
      st.frsize * st.blocks,
      st.frsize * (st.blocks - st.bfree),
      st.frsize * st.bavail,
      st.frsize * st.bfree,
    ];
    out(`${cols.map((v) => String(v / 1024n).padStart(12)).join(' ')}         ${pct(st.blocks, st.bfree)}\n`);
  }
}
